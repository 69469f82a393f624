"""The fault catalogue per product line: symptoms and failed parts, managed by the technical
department and supervisors, deactivated rather than deleted; the fixed cause categories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.events import CauseCategory

from ..domain import ALL_LINES, CAUSE_LABELS, KIND_ZH, CatalogueKind, applies_to, product_line
from ..models import FaultCatalogueRow
from . import quality_audit


@dataclass(frozen=True)
class NewEntry:
    code: str
    product_line: str
    name: str
    description: str | None = None


@dataclass(frozen=True)
class EntryChanges:
    """Only the fields given change (`description_cleared`: set to none)."""

    name: str | None = None
    description: str | None = None
    description_cleared: bool = False
    active: bool | None = None


@dataclass(frozen=True)
class EntryFilters:
    product_line: str | None = None
    model: str | None = None  # the entries a ticket of this model may use (its line and '*')
    active: bool | None = None
    q: str | None = None


def cause_categories() -> list[tuple[CauseCategory, str, str]]:
    return [(c, *CAUSE_LABELS[c]) for c in CauseCategory]


def _not_found(kind: CatalogueKind, code: str) -> NotFound:
    return NotFound(
        f"{KIND_ZH[kind]}{code}不在目录中 ({kind.value} {code} is not in the catalogue)"
    )


async def get_entry(
    session: AsyncSession, kind: CatalogueKind, code: str, lock: bool = False
) -> FaultCatalogueRow:
    query = select(FaultCatalogueRow).where(
        FaultCatalogueRow.kind == kind.value, FaultCatalogueRow.code == code.upper()
    )
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise _not_found(kind, code)
    return row


async def create_entry(
    session: AsyncSession, kind: CatalogueKind, entry: NewEntry, who: str, now: datetime
) -> FaultCatalogueRow:
    row = FaultCatalogueRow(
        kind=kind.value,
        code=entry.code.upper(),
        product_line=entry.product_line.upper(),
        name=entry.name,
        description=entry.description,
        active=True,
        created_at=now,
        created_by=who,
        updated_at=now,
        updated_by=who,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            f"{KIND_ZH[kind]}代码{row.code}已存在 ({kind.value} code {row.code} exists already; "
            "codes are unique across product lines)"
        ) from None
    quality_audit.record(
        session,
        kind.value,
        row.code,
        "created",
        who,
        now,
        product_line=row.product_line,
        name=row.name,
    )
    return row


async def change_entry(
    session: AsyncSession,
    kind: CatalogueKind,
    code: str,
    changes: EntryChanges,
    who: str,
    now: datetime,
) -> FaultCatalogueRow:
    row = await get_entry(session, kind, code, lock=True)
    before = {"name": row.name, "description": row.description, "active": row.active}
    if changes.name is not None:
        row.name = changes.name
    if changes.description is not None or changes.description_cleared:
        row.description = changes.description
    if changes.active is not None:
        row.active = changes.active
    after = {"name": row.name, "description": row.description, "active": row.active}
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changed:
        row.updated_at, row.updated_by = now, who
        action = (
            "deactivated"
            if "active" in changed and not row.active
            else "reactivated"
            if "active" in changed
            else "changed"
        )
        quality_audit.record(session, kind.value, row.code, action, who, now, changes=changed)
    await session.flush()
    return row


async def list_entries(
    session: AsyncSession, kind: CatalogueKind, f: EntryFilters, limit: int, offset: int
) -> tuple[list[FaultCatalogueRow], int]:
    query = select(FaultCatalogueRow).where(FaultCatalogueRow.kind == kind.value)
    if f.product_line:
        query = query.where(FaultCatalogueRow.product_line == f.product_line.upper())
    if f.model is not None:
        line = product_line(f.model)
        lines = [ALL_LINES, line] if line else [ALL_LINES]
        query = query.where(FaultCatalogueRow.product_line.in_(lines))
    if f.active is not None:
        query = query.where(FaultCatalogueRow.active.is_(f.active))
    if f.q:
        pattern = f"%{f.q.replace('%', '').replace('_', '')}%"
        query = query.where(
            or_(FaultCatalogueRow.name.ilike(pattern), FaultCatalogueRow.code.ilike(pattern))
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(FaultCatalogueRow.product_line, FaultCatalogueRow.code)
        .limit(limit)
        .offset(offset)
    )
    return list(rows.all()), total


async def usable(
    session: AsyncSession, kind: CatalogueKind, code: str, line: str | None
) -> FaultCatalogueRow:
    """The entry a ticket of product line `line` may name: known, active, of its line or generic
    (422 naming the problem otherwise)."""
    row = await session.scalar(
        select(FaultCatalogueRow).where(
            FaultCatalogueRow.kind == kind.value, FaultCatalogueRow.code == code.upper()
        )
    )
    what = KIND_ZH[kind]
    if row is None:
        raise DomainError(
            f"{what}{code}不在目录中 ({kind.value} {code} is not in the catalogue: "
            f"GET /fault-catalogue/{kind.value}s lists them)",
            code="unknown_catalogue_entry",
        )
    if not row.active:
        raise DomainError(
            f"{what}{row.code}已停用 ({kind.value} {row.code} is deactivated)",
            code="inactive_catalogue_entry",
        )
    if not applies_to(row.product_line, line):
        raise DomainError(
            f"{what}{row.code}属于产品线{row.product_line}，不适用于产品线{line or '（未知）'} "
            f"({kind.value} {row.code} belongs to product line {row.product_line}, not to "
            f"{line or 'a ticket without a product model'})",
            code="other_product_line",
        )
    return row


async def names(session: AsyncSession, kind: CatalogueKind, codes: set[str]) -> dict[str, str]:
    """code → name for the given codes (one query)."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    rows = await session.execute(
        select(FaultCatalogueRow.code, FaultCatalogueRow.name).where(
            FaultCatalogueRow.kind == kind.value, FaultCatalogueRow.code.in_(codes)
        )
    )
    return {code: name for code, name in rows.all()}
