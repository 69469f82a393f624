"""Warranty repair records (三包维修记录) and paid service: request, arrangement, completion."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.calendars import load_calendar
from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import Envelope
from aftersales_shared.events.dealers import WarrantyServiceOverdueV1
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule

from .. import domain as d
from ..models import (
    DealerRow,
    RepairPartRow,
    RepairRecordRow,
    SoldUnitRow,
    TruckVisitRow,
    WarrantyCardRow,
)
from .common import (
    ARRANGE_DUE,
    LATE_ARRANGEMENT,
    RETURN_DUE,
    Ctx,
    acting_dealer,
    audit,
    measure,
    not_future,
    number,
    owned,
    page_of,
    scoped,
)


@dataclass(frozen=True)
class RepairRequest:
    """A user's service request reaching a dealer: warranty (三包) or paid service."""

    serial_no: str
    kind: d.RepairKind
    fault_description: str
    dealer_id: str | None = None
    model: str | None = None
    ticket_no: str | None = None
    requested_at: datetime | None = None  # when the request reached the dealer; now when not given


@dataclass(frozen=True)
class Arrangement:
    """The service arranged: who comes when, the user told, the technical department informed."""

    engineer: str
    appointment_at: datetime
    user_informed: bool
    reported_to_technical: bool
    arranged_at: datetime | None = None


@dataclass(frozen=True)
class UsedPart:
    part_no: str
    name: str
    quantity: int
    unit_cost: Decimal


@dataclass(frozen=True)
class UserConfirmation:
    """The end user's confirmation of the repair: who, when, how."""

    confirmed_by: str
    confirmed_at: datetime
    method: str


@dataclass(frozen=True)
class Completion:
    repair_description: str
    parts: tuple[UsedPart, ...]
    labour_fee: Decimal
    travel_fee: Decimal
    confirmation: UserConfirmation


async def open_repair(session: AsyncSession, cmd: RepairRequest, ctx: Ctx) -> RepairRecordRow:
    unit = await session.get(SoldUnitRow, cmd.serial_no)
    requested = cmd.dealer_id or (
        unit.dealer_id if unit is not None and ctx.scope is None else None
    )
    dealer = await acting_dealer(session, ctx, requested)
    requested_at = cmd.requested_at or ctx.now
    not_future(requested_at, ctx, "报修时间")
    kind = d.RepairKind(cmd.kind)
    if kind is d.RepairKind.WARRANTY:
        if unit is None or unit.dealer_id != dealer.dealer_id:
            raise DomainError(
                f"设备{cmd.serial_no}不是本经销商售出的设备，不能按三包登记 "
                "(unit was not sold through this dealer: warranty cannot be claimed)",
                code="unknown_serial",
            )
        if d.local_date(requested_at, ctx.tz) < unit.sale_date:
            raise DomainError(
                f"报修时间早于销售日期{unit.sale_date} (request dated before the sale)"
            )
        card = await session.scalar(
            select(WarrantyCardRow).where(WarrantyCardRow.serial_no == unit.serial_no)
        )
        d.check_warranty_repair(
            d.UnitWarranty(
                unit.serial_no,
                unit.warranty_end,
                card is not None,
                bool(card and card.warranty_recognised),
                card.reason if card else None,
            ),
            d.local_date(requested_at, ctx.tz),
        )
    calendar = await load_calendar(session, dealer.calendar_id, ctx.cfg.business_timezone)
    due = calendar.add_working_time(requested_at, d.ARRANGE_WITHIN)
    row = RepairRecordRow(
        id=str(uuid.uuid4()),
        record_no=number("WX", ctx),
        dealer_id=dealer.dealer_id,
        serial_no=cmd.serial_no,
        model=cmd.model or (unit.model if unit else None),
        kind=kind,
        ticket_no=cmd.ticket_no,
        fault_description=cmd.fault_description,
        status="requested",
        requested_at=requested_at,
        arrange_due=due,
        arrange_due_provisional=calendar.is_provisional(requested_at, due),
        claim_status=d.ClaimStatus.NONE,
        created_at=ctx.now,
        created_by=ctx.who,
        parts=[],
    )
    session.add(row)
    await session.flush()
    if kind is d.RepairKind.WARRANTY:
        await schedule(session, ARRANGE_DUE, row.id, due)
    await audit(
        session, ctx, row.dealer_id, "repair", row.id, "requested", kind=kind, arrange_due=due
    )
    return row


async def arrange_repair(
    session: AsyncSession, record_id: str, cmd: Arrangement, ctx: Ctx
) -> RepairRecordRow:
    row = await owned(session, RepairRecordRow, record_id, ctx.scope, "维修记录", lock=True)
    if row.status != "requested":
        raise Conflict(f"维修记录{row.record_no}已安排服务 (service already arranged)")
    if not cmd.user_informed:
        raise DomainError("安排三包服务时须告知用户 (the user must be told who comes and when)")
    arranged_at = cmd.arranged_at or ctx.now
    not_future(arranged_at, ctx, "安排时间")
    if arranged_at < row.requested_at:
        raise DomainError("安排时间早于报修时间 (arranged before the request)")
    row.status, row.arranged_at, row.engineer = "arranged", arranged_at, cmd.engineer
    row.appointment_at, row.reported_to_technical = cmd.appointment_at, cmd.reported_to_technical
    row.arranged_late = d.arrange_breached(row.arrange_due, arranged_at, ctx.now)
    await cancel(session, ARRANGE_DUE, row.id)
    if row.arranged_late and row.kind == d.RepairKind.WARRANTY:
        await measure(session, row.dealer_id, LATE_ARRANGEMENT, row.id, arranged_at)
    await audit(
        session,
        ctx,
        row.dealer_id,
        "repair",
        row.id,
        "arranged",
        late=row.arranged_late,
        engineer=cmd.engineer,
    )
    return row


async def _truck_dates(session: AsyncSession, dealer: DealerRow, after: date) -> list[date]:
    if dealer.return_mode != "truck":
        return []
    return list(
        (
            await session.scalars(
                select(TruckVisitRow.visit_date).where(
                    TruckVisitRow.dealer_id == dealer.dealer_id, TruckVisitRow.visit_date > after
                )
            )
        ).all()
    )


async def complete_repair(
    session: AsyncSession, record_id: str, cmd: Completion, ctx: Ctx
) -> RepairRecordRow:
    """The end user confirms; warranty parts become owed back, the claim waits for them (or is
    approved)."""
    row = await owned(session, RepairRecordRow, record_id, ctx.scope, "维修记录", lock=True)
    if row.status == "requested":
        raise Conflict(f"维修记录{row.record_no}尚未安排服务 (arrange the service first)")
    if row.status == "completed":
        raise Conflict(
            f"维修记录{row.record_no}已完成，记录不可修改 (record already completed; it is "
            "evidence)"
        )
    conf = cmd.confirmation
    not_future(conf.confirmed_at, ctx, "用户确认时间")
    if conf.confirmed_at < row.requested_at:
        raise DomainError("用户确认时间早于报修时间 (confirmation before the request)")
    kind = d.RepairKind(row.kind)
    charges = d.repair_charges(
        kind, [(p.quantity, p.unit_cost) for p in cmd.parts], cmd.labour_fee, cmd.travel_fee
    )
    done_on = d.local_date(conf.confirmed_at, ctx.tz)
    due: date | None = None
    if kind is d.RepairKind.WARRANTY and cmd.parts:
        dealer = await owned(session, DealerRow, row.dealer_id, None, "经销商")
        due = d.return_due_date(
            done_on, ctx.cfg.return_dates(), await _truck_dates(session, dealer, done_on)
        )
    _add_parts(row, cmd, due)
    row.status, row.repair_description, row.completed_at = (
        "completed",
        cmd.repair_description,
        ctx.now,
    )
    row.confirmed_by, row.confirmed_at, row.confirmation_method = (
        conf.confirmed_by,
        conf.confirmed_at,
        conf.method,
    )
    row.parts_cost, row.labour_fee, row.travel_fee = (
        charges.parts_cost,
        charges.labour_fee,
        charges.travel_fee,
    )
    row.claim_amount, row.customer_charge = charges.claim_amount, charges.customer_charge
    if kind is d.RepairKind.WARRANTY:
        row.claim_status = d.ClaimStatus.AWAITING_RETURN if due else d.ClaimStatus.APPROVED
        row.claim_decided_at = None if due else ctx.now
    await session.flush()
    if due:
        await schedule(
            session,
            RETURN_DUE,
            f"{row.dealer_id}:{due.isoformat()}",
            d.end_of_local_day(due, ctx.tz),
            {"dealer_id": row.dealer_id, "due": due.isoformat()},
        )
    await audit(
        session,
        ctx,
        row.dealer_id,
        "repair",
        row.id,
        "completed",
        confirmed_by=conf.confirmed_by,
        claim_amount=charges.claim_amount,
        customer_charge=charges.customer_charge,
        return_due=due,
    )
    return row


def _add_parts(row: RepairRecordRow, cmd: Completion, due: date | None) -> None:
    """The replaced parts; under warranty each is owed back by `due`."""
    for p in cmd.parts:
        row.parts.append(
            RepairPartRow(
                dealer_id=row.dealer_id,
                part_no=p.part_no,
                name=p.name,
                quantity=p.quantity,
                unit_cost=d.money(p.unit_cost, "单价"),
                line_cost=d.line_cost(p.quantity, p.unit_cost),
                status=d.PartStatus.OWED if due else d.PartStatus.NOT_OWED,
                return_due=due,
            )
        )


async def fire_arrange_due(session: AsyncSession, record_id: str, now: datetime) -> None:
    row = await session.get(RepairRecordRow, record_id)
    if row is None or row.status != "requested":
        return
    await measure(
        session,
        row.dealer_id,
        LATE_ARRANGEMENT,
        row.id,
        now,
        detail="not arranged within 2 working hours",
    )
    await enqueue(
        session,
        Envelope(
            data=WarrantyServiceOverdueV1(
                record_id=row.id,
                record_no=row.record_no,
                dealer_id=row.dealer_id,
                serial_no=row.serial_no,
                requested_at=row.requested_at,
                arrange_due=row.arrange_due,
                ticket_no=row.ticket_no,
                due_provisional=row.arrange_due_provisional,
            ),
            subject=row.record_no,
        ),
    )


async def get_repair(session: AsyncSession, record_id: str, scope: str | None) -> RepairRecordRow:
    return await owned(session, RepairRecordRow, record_id, scope, "维修记录")


async def list_repairs(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    kind: str | None,
    status: str | None,
    claim_status: str | None,
    serial_no: str | None,
    ticket_no: str | None,
    limit: int,
    offset: int,
    parts_owed: bool | None = None,
) -> tuple[list[RepairRecordRow], int]:
    q = scoped(select(RepairRecordRow), RepairRecordRow, scope)
    if parts_owed is not None:  # old parts still to ship back (owed or overdue), on any page
        owes = (
            select(RepairPartRow.id)
            .where(RepairPartRow.record_id == RepairRecordRow.id)
            .where(RepairPartRow.status.in_(d.RETURNABLE))
            .exists()
        )
        q = q.where(owes if parts_owed else ~owes)
    for col, value in (
        (RepairRecordRow.dealer_id, dealer_id),
        (RepairRecordRow.kind, kind),
        (RepairRecordRow.status, status),
        (RepairRecordRow.claim_status, claim_status),
        (RepairRecordRow.serial_no, serial_no),
        (RepairRecordRow.ticket_no, ticket_no),
    ):
        if value:
            q = q.where(col == value)
    return await page_of(session, q, [RepairRecordRow.requested_at.desc()], limit, offset)
