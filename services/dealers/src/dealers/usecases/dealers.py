"""Dealers and their regional agency agreements; delivery-truck visits (old parts ride back)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import Contact, DealerContactsChangedV1, Envelope
from aftersales_shared.outbox import enqueue

from ..models import DealerRow, GradeChangeRow, TruckVisitRow
from .common import Ctx, audit, flush, owned, page_of, scoped

ReturnMode = Literal["fixed_dates", "truck"]


@dataclass(frozen=True)
class NewDealer:
    """A dealer and its regional agency agreement (its term is checked when the request is read)."""

    dealer_id: str
    name: str
    region: str
    agreement_no: str
    agreement_start: date
    agreement_end: date
    contacts: list[dict[str, Any]] = field(default_factory=list)
    grade: str = "B"
    calendar_id: str = "default"
    return_mode: ReturnMode = "fixed_dates"


@dataclass(frozen=True)
class DealerChanges:
    """What a manager changes on a dealer; None leaves a field as it is."""

    contacts: list[dict[str, Any]] | None = None
    agreement_end: date | None = None
    calendar_id: str | None = None
    return_mode: ReturnMode | None = None


async def create_dealer(session: AsyncSession, cmd: NewDealer, ctx: Ctx) -> DealerRow:
    if await session.get(DealerRow, cmd.dealer_id):
        raise Conflict(f"经销商编号{cmd.dealer_id}已存在 (dealer id already exists)")
    row = DealerRow(
        **{k: v for k, v in asdict(cmd).items() if k != "contacts"},
        contacts=[dict(c) for c in cmd.contacts],
        created_at=ctx.now,
        created_by=ctx.who,
    )
    session.add(row)
    session.add(
        GradeChangeRow(
            dealer_id=row.dealer_id,
            from_grade=None,
            to_grade=row.grade,
            reason="签约初始等级 (initial grade)",
            changed_by=ctx.who,
            changed_at=ctx.now,
        )
    )
    await flush(session, f"经销商编号{cmd.dealer_id}已存在 (dealer id already exists)")
    await audit(session, ctx, row.dealer_id, "dealer", row.dealer_id, "created", **asdict(cmd))
    await _contacts_changed(session, row, ctx)
    return row


async def _contacts_changed(session: AsyncSession, row: DealerRow, ctx: Ctx) -> None:
    """The people to tell about this dealer's units and deadlines, for notifications."""
    contacts = [
        Contact.model_validate({k: c.get(k) for k in ("name", "phone", "email", "role")})
        for c in row.contacts or []
    ]
    data = DealerContactsChangedV1(
        dealer_id=row.dealer_id,
        name=row.name,
        region=row.region,
        contacts=contacts,
        changed_at=ctx.now,
    )
    await enqueue(session, Envelope(data=data, subject=row.dealer_id))


async def update_dealer(
    session: AsyncSession, dealer_id: str, cmd: DealerChanges, ctx: Ctx
) -> DealerRow:
    row = await owned(session, DealerRow, dealer_id, ctx.scope, "经销商")
    changes = {k: v for k, v in asdict(cmd).items() if v is not None}
    if "agreement_end" in changes and changes["agreement_end"] <= row.agreement_start:
        raise DomainError("协议终止日须晚于起始日 (agreement_end must be after agreement_start)")
    before = {k: getattr(row, k) for k in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    await audit(
        session,
        ctx,
        row.dealer_id,
        "dealer",
        row.dealer_id,
        "updated",
        before=before,
        after=changes,
    )
    if "contacts" in changes:
        await _contacts_changed(session, row, ctx)
    return row


async def get_dealer(session: AsyncSession, dealer_id: str, scope: str | None) -> DealerRow:
    return await owned(session, DealerRow, dealer_id, scope, "经销商")


async def list_dealers(
    session: AsyncSession,
    scope: str | None,
    *,
    region: str | None,
    grade: str | None,
    limit: int,
    offset: int,
) -> tuple[list[DealerRow], int]:
    q = scoped(select(DealerRow), DealerRow, scope)
    if region:
        q = q.where(DealerRow.region == region)
    if grade:
        q = q.where(DealerRow.grade == grade)
    return await page_of(session, q, [DealerRow.dealer_id], limit, offset)


async def add_truck_visit(
    session: AsyncSession, dealer_id: str, visit: date, ctx: Ctx
) -> TruckVisitRow:
    await owned(session, DealerRow, dealer_id, ctx.scope, "经销商")
    if visit < ctx.today:
        raise DomainError("送货车日期不能早于今天 (a truck visit cannot be in the past)")
    row = TruckVisitRow(
        dealer_id=dealer_id, visit_date=visit, created_by=ctx.who, created_at=ctx.now
    )
    session.add(row)
    await flush(session, f"{visit}已安排送货车 (a truck visit on that day exists already)")
    await audit(session, ctx, dealer_id, "truck_visit", str(row.id), "created", visit_date=visit)
    return row


async def list_truck_visits(
    session: AsyncSession, dealer_id: str, scope: str | None
) -> list[TruckVisitRow]:
    await owned(session, DealerRow, dealer_id, scope, "经销商")
    return list(
        (
            await session.scalars(
                select(TruckVisitRow)
                .where(TruckVisitRow.dealer_id == dealer_id)
                .order_by(TruckVisitRow.visit_date)
            )
        ).all()
    )
