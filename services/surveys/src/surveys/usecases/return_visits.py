"""Return visits (回访): a completed critical ticket, complaint or sampled service gets a call
within working days of completion; each call is recorded; an unreached customer is called again up
to the allowed attempts; a persisting problem reopens the work (ReturnVisitRecorded → tickets); a
visit not ended by its due time is overdue once (ReturnVisitOverdue → the supervisors)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.calendars import load_calendar
from aftersales_shared.errors import NotFound
from aftersales_shared.events import Envelope, ReturnVisitOverdueV1, ReturnVisitRecordedV1
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule

from .. import domain
from ..domain import Policy, VisitOutcome, VisitStatus
from ..models import ReturnVisitRow
from .invitations import CompletedService

log = structlog.get_logger(__name__)

VISIT_DUE_JOB = "surveys.return_visit_due"


@dataclass(frozen=True)
class VisitCall:
    """One call of a return visit: what it found, when (now when not given), what was said."""

    outcome: VisitOutcome
    note: str | None = None
    called_at: datetime | None = None


@dataclass(frozen=True)
class VisitFilter:
    status: str | None = None
    reason: str | None = None
    ticket_no: str | None = None
    customer_id: str | None = None
    dealer_id: str | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    engineer_id: str | None = None


async def plan_return_visit(
    session: AsyncSession, cmd: CompletedService, policy: Policy, now: datetime
) -> ReturnVisitRow | None:
    """One return visit per ticket that gets one, due within the working days after completion."""
    reason = domain.visit_reason(
        cmd.request_type, cmd.urgency, cmd.ticket_no, policy.return_visit_sample_percent
    )
    if reason is None:
        return None
    if await session.scalar(
        select(ReturnVisitRow.id).where(ReturnVisitRow.ticket_id == cmd.ticket_id)
    ):
        return None
    calendar = await load_calendar(session, policy.office_calendar_id, policy.timezone)
    due = calendar.add_working_days(cmd.completed_at, policy.return_visit_within_working_days)
    row = ReturnVisitRow(
        id=str(uuid.uuid4()),
        ticket_id=cmd.ticket_id,
        ticket_no=cmd.ticket_no,
        reason=reason.value,
        customer_id=cmd.customer_id,
        customer_name=cmd.customer_name,
        contact=dict(cmd.contact),
        engineer_id=cmd.engineer_id,
        dealer_id=cmd.dealer_id,
        product_model=cmd.product_model,
        request_type=cmd.request_type,
        urgency=cmd.urgency,
        completed_at=cmd.completed_at,
        due_at=due,
        due_provisional=calendar.is_provisional(cmd.completed_at, due),
        status=VisitStatus.OPEN.value,
        calls=[],
        created_at=now,
        source_event_id=cmd.event_id,
    )
    session.add(row)
    await session.flush()
    await schedule(session, VISIT_DUE_JOB, row.id, due)
    log.info("surveys.return_visit_planned", ticket_no=cmd.ticket_no, reason=reason, due_at=due)
    return row


async def record_call(
    session: AsyncSession,
    visit_id: str,
    cmd: VisitCall,
    actor: Principal,
    policy: Policy,
    now: datetime,
) -> ReturnVisitRow:
    """Record one call; the visit ends when the customer was reached or could not be after the
    allowed attempts, and then ReturnVisitRecorded goes out."""
    row = await session.get(ReturnVisitRow, visit_id, with_for_update=True)
    if row is None:
        raise NotFound(f"回访{visit_id}不存在 (return visit not found)")
    if row.status != VisitStatus.OPEN:
        raise domain.VisitClosed(
            f"回访{row.ticket_no}已结束（{row.status}），不能再记录 (the return visit is closed)"
        )
    called_at = cmd.called_at or now
    domain.check_visit_call(cmd.outcome, cmd.note, called_at, row.completed_at, now)
    call = {
        "at": called_at.isoformat(),
        "by": actor.subject,
        "outcome": cmd.outcome.value,
        "note": cmd.note,
    }
    row.calls = [*row.calls, call]
    status = domain.visit_result(cmd.outcome, len(row.calls), policy.return_visit_max_attempts)
    row.status = status.value
    if status is VisitStatus.OPEN:
        return row
    row.outcome = "unreachable" if status is VisitStatus.UNREACHABLE else cmd.outcome.value
    row.note, row.closed_at, row.closed_by = cmd.note, called_at, actor.subject
    await cancel(session, VISIT_DUE_JOB, row.id)
    await enqueue(
        session,
        Envelope(
            subject=row.ticket_no,
            data=ReturnVisitRecordedV1(
                visit_id=row.id,
                ticket_id=row.ticket_id,
                ticket_no=row.ticket_no,
                reason=row.reason,
                outcome=row.outcome,
                note=row.note,
                visited_at=called_at,
                visited_by=actor.subject,
                attempts=len(row.calls),
                on_time=called_at <= row.due_at,
                customer_id=row.customer_id,
                customer_name=row.customer_name,
                dealer_id=row.dealer_id,
                engineer_id=row.engineer_id,
                product_model=row.product_model,
            ),
        ),
    )
    return row


async def fire_visit_due(session: AsyncSession, visit_id: str, now: datetime) -> None:
    """The due time passed: an open visit is overdue, once."""
    row = await session.get(ReturnVisitRow, visit_id, with_for_update=True)
    if row is None or row.status != VisitStatus.OPEN or row.overdue_at is not None:
        return
    row.overdue_at = now
    await enqueue(
        session,
        Envelope(
            subject=row.ticket_no,
            data=ReturnVisitOverdueV1(
                visit_id=row.id,
                ticket_id=row.ticket_id,
                ticket_no=row.ticket_no,
                reason=row.reason,
                due_at=row.due_at,
                due_provisional=row.due_provisional,
                attempts=len(row.calls),
                customer_id=row.customer_id,
                customer_name=row.customer_name,
                dealer_id=row.dealer_id,
            ),
        ),
    )


async def get_visit(
    session: AsyncSession, visit_id: str, dealer_id: str | None = None
) -> ReturnVisitRow:
    """One visit; for a dealer's caller (`dealer_id`) only one of that dealer's tickets, 404 for
    any other as for none."""
    row = await session.get(ReturnVisitRow, visit_id)
    if row is None or (dealer_id is not None and row.dealer_id != dealer_id):
        raise NotFound(f"回访{visit_id}不存在 (return visit not found)")
    return row


async def list_visits(
    session: AsyncSession, f: VisitFilter, limit: int, offset: int
) -> tuple[list[ReturnVisitRow], int]:
    query = select(ReturnVisitRow)
    for column, value in (
        (ReturnVisitRow.status, f.status),
        (ReturnVisitRow.reason, f.reason),
        (ReturnVisitRow.ticket_no, f.ticket_no),
        (ReturnVisitRow.customer_id, f.customer_id),
        (ReturnVisitRow.dealer_id, f.dealer_id),
        (ReturnVisitRow.engineer_id, f.engineer_id),
    ):
        if value:
            query = query.where(column == value)
    if f.overdue is not None:
        query = query.where(
            ReturnVisitRow.overdue_at.is_not(None)
            if f.overdue
            else ReturnVisitRow.overdue_at.is_(None)
        )
    if f.due_before is not None:
        query = query.where(ReturnVisitRow.due_at < f.due_before)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(ReturnVisitRow.due_at, ReturnVisitRow.id).limit(limit).offset(offset)
    )
    return list(rows), total
