"""The part master and the locations: create, change, list, read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, dealer_scope
from aftersales_shared.db import paged as page  # noqa: F401 (re-exported: the services' one pager)
from aftersales_shared.errors import Conflict, NotFound

from .. import domain as d
from ..models import LocationRow, PartRow


@dataclass(frozen=True)
class NewPart:
    part_no: str
    name: str
    unit_price: Decimal
    unit: str = "件"
    warranty_part: bool = False
    compatible_models: list[str] = field(default_factory=list)
    reorder_point: int = 0
    reorder_quantity: int = 1


@dataclass(frozen=True)
class NewLocation:
    location_id: str
    name: str
    kind: d.LocationKind
    engineer_id: str | None = None
    dealer_id: str | None = None
    region: str | None = None


def part_not_found(part_no: str) -> NotFound:
    return NotFound(f"备件{part_no}不存在 (part {part_no} not found)")


def location_not_found(location_id: str) -> NotFound:
    return NotFound(f"库位{location_id}不存在 (location {location_id} not found)")


def _models(values: list[str]) -> list[str]:
    return sorted({v.strip() for v in values if v.strip()})


async def create_part(
    session: AsyncSession, cmd: NewPart, user: Principal, now: datetime
) -> PartRow:
    no = d.check_part_no(cmd.part_no)
    if await session.get(PartRow, no):
        raise Conflict(f"备件{no}已存在 (part {no} already exists)")
    row = PartRow(
        part_no=no,
        name=cmd.name,
        unit=cmd.unit,
        unit_price=d.money(cmd.unit_price),
        warranty_part=cmd.warranty_part,
        compatible_models=_models(cmd.compatible_models),
        reorder_point=cmd.reorder_point,
        reorder_quantity=cmd.reorder_quantity,
        below_reorder=False,
        created_at=now,
        created_by=user.subject,
        updated_at=now,
        updated_by=user.subject,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"备件{no}已存在 (part {no} already exists)") from exc
    return row


async def update_part(
    session: AsyncSession, part_no: str, changes: dict[str, Any], user: Principal, now: datetime
) -> PartRow:
    """Change the master; a new price applies to later issues (earlier ones keep theirs)."""
    row = await session.get(PartRow, part_no.upper(), with_for_update={"key_share": True})
    if row is None:
        raise part_not_found(part_no)
    for key, value in changes.items():
        if value is None:
            continue
        if key == "unit_price":
            value = d.money(value)
        if key == "compatible_models":
            value = _models(value)
        setattr(row, key, value)
    row.updated_at, row.updated_by = now, user.subject
    await session.flush()
    return row


async def get_part(session: AsyncSession, part_no: str) -> PartRow:
    row = await session.get(PartRow, part_no.upper())
    if row is None:
        raise part_not_found(part_no)
    return row


async def list_parts(
    session: AsyncSession,
    *,
    q: str | None,
    model: str | None,
    warranty_part: bool | None,
    below_reorder: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[PartRow], int]:
    query = select(PartRow)
    if q:
        like = f"%{q}%"
        query = query.where(or_(PartRow.part_no.ilike(like), PartRow.name.ilike(like)))
    if model:
        # JSON list of model names: matched as the quoted element in its text
        query = query.where(cast(PartRow.compatible_models, String).like(f'%"{model}"%'))
    if warranty_part is not None:
        query = query.where(PartRow.warranty_part.is_(warranty_part))
    if below_reorder is not None:
        query = query.where(PartRow.below_reorder.is_(below_reorder))
    return await page(session, query, [PartRow.part_no], limit, offset)


async def create_location(
    session: AsyncSession, cmd: NewLocation, user: Principal, now: datetime
) -> LocationRow:
    d.check_location(cmd.kind, cmd.engineer_id, cmd.dealer_id)
    if await session.get(LocationRow, cmd.location_id):
        raise Conflict(f"库位{cmd.location_id}已存在 (location already exists)")
    row = LocationRow(
        location_id=cmd.location_id,
        name=cmd.name,
        kind=cmd.kind.value,
        engineer_id=cmd.engineer_id,
        dealer_id=cmd.dealer_id,
        region=cmd.region,
        created_at=now,
        created_by=user.subject,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"库位{cmd.location_id}已存在 (location already exists)") from exc
    return row


def place(row: LocationRow) -> d.Place:
    return d.Place(row.location_id, d.LocationKind(row.kind), row.engineer_id, row.dealer_id)


async def visible_location(session: AsyncSession, location_id: str, user: Principal) -> LocationRow:
    """The location if the caller may see it; another dealer's store answers like a missing one."""
    row = await session.get(LocationRow, location_id)
    if row is None or not d.may_see(place(row), user):
        raise location_not_found(location_id)
    return row


def scoped_locations(query: Select[Any], column: Any, user: Principal) -> Select[Any]:
    """Confine a query on location ids to the dealer's own store(s) for a dealer's users."""
    scope = dealer_scope(user)
    if scope is None:
        return query
    own = select(LocationRow.location_id).where(
        LocationRow.kind == d.LocationKind.DEALER.value, LocationRow.dealer_id == scope
    )
    return query.where(column.in_(own))


async def list_locations(
    session: AsyncSession,
    user: Principal,
    *,
    kind: d.LocationKind | None,
    engineer_id: str | None,
    dealer_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[LocationRow], int]:
    query = scoped_locations(select(LocationRow), LocationRow.location_id, user)
    if kind:
        query = query.where(LocationRow.kind == kind.value)
    if engineer_id:
        query = query.where(LocationRow.engineer_id == engineer_id)
    if dealer_id:
        query = query.where(LocationRow.dealer_id == dealer_id)
    return await page(session, query, [LocationRow.location_id], limit, offset)
