"""Training: a session recorded with its sign-in sheet; the follow-up call within 3 working days
(培训后回访: does the customer master the equipment, questions left?), called again when not
reached, overdue once (TrainingFollowUpOverdue), its end published (TrainingFollowUpRecorded)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.events import (
    Envelope,
    TrainingFollowUpOverdueV1,
    TrainingFollowUpRecordedV1,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule

from .. import domain
from ..domain import OrderStatus, TrainingFollowUpOutcome
from ..models import OrderRow, TrainingRow
from .audit import audit
from .orders import get_order, order_calendar

FOLLOW_UP_JOB = "contracts.training_follow_up_due"


@dataclass(frozen=True)
class Training:
    """A training session with its sign-in sheet (attendees: name, role, signed)."""

    held_at: datetime
    trainer: str
    topics: list[str]
    attendees: list[dict[str, Any]]


@dataclass(frozen=True)
class FollowUpCall:
    """One follow-up call after a training: what it found, when (now when not given)."""

    outcome: TrainingFollowUpOutcome
    note: str | None = None
    called_at: datetime | None = None


async def record_training(
    session: AsyncSession,
    order_no: str,
    cmd: Training,
    actor: Principal,
    now: datetime,
    office_calendar: str = "default",
) -> OrderRow:
    row = await get_order(session, order_no)
    domain.ensure_order_step(
        row.status,
        order_no,
        [OrderStatus.INSTALLATION_BOOKED, OrderStatus.INSTALLED],
        "记录培训 (record training)",
    )
    if cmd.held_at > now:
        raise DomainError("培训尚未举行，签到表只能在培训后登记 (held_at cannot be in the future)")
    calendar = await order_calendar(session, row, office_calendar)
    due = calendar.add_working_days(cmd.held_at, domain.TRAINING_FOLLOW_UP_WORKING_DAYS)
    session_row = TrainingRow(
        held_at=cmd.held_at,
        trainer=cmd.trainer,
        topics=list(cmd.topics),
        attendees=[dict(a) for a in cmd.attendees],
        recorded_by=actor.subject,
        recorded_at=now,
        follow_up_due_at=due,
        follow_up_due_provisional=calendar.is_provisional(cmd.held_at, due),
        follow_up_calls=[],
    )
    row.trainings.append(session_row)
    await session.flush()
    await schedule(
        session, FOLLOW_UP_JOB, f"{order_no}/{session_row.id}", due, {"training_id": session_row.id}
    )
    await audit(
        session,
        actor,
        "order",
        order_no,
        "training_recorded",
        now,
        held_at=cmd.held_at,
        trainer=cmd.trainer,
        attendees=len(cmd.attendees),
        follow_up_due_at=due,
    )
    return row


async def _training(session: AsyncSession, order_no: str, training_id: int) -> TrainingRow:
    row = await session.get(TrainingRow, training_id, with_for_update=True)
    if row is None or row.order_no != order_no:
        raise NotFound(
            f"订单{order_no}没有编号为{training_id}的培训 (training not found on this order)"
        )
    return row


async def record_follow_up(
    session: AsyncSession,
    order_no: str,
    training_id: int,
    cmd: FollowUpCall,
    actor: Principal,
    now: datetime,
) -> TrainingRow:
    """Record one follow-up call; it ends when the customer was reached or could not be after the
    allowed calls, and then TrainingFollowUpRecorded goes out."""
    row = await _training(session, order_no, training_id)
    if row.follow_up_outcome is not None:
        raise Conflict(
            f"培训{training_id}的回访已结束（{row.follow_up_outcome}），不能再记录 (the follow-up "
            "is closed)"
        )
    called_at = cmd.called_at or now
    domain.check_follow_up_call(cmd.outcome, cmd.note, called_at, row.held_at, now)
    call = {"at": called_at.isoformat(), "by": actor.subject, "outcome": cmd.outcome.value}
    row.follow_up_calls = [*row.follow_up_calls, call | {"note": cmd.note}]
    outcome = domain.follow_up_result(cmd.outcome, len(row.follow_up_calls))
    await audit(
        session,
        actor,
        "order",
        order_no,
        "training_follow_up_call",
        now,
        training_id=training_id,
        outcome=cmd.outcome.value,
        note=cmd.note,
    )
    if outcome is None:
        return row
    row.follow_up_outcome, row.follow_up_at, row.follow_up_by = outcome, called_at, actor.subject
    await cancel(session, FOLLOW_UP_JOB, f"{order_no}/{training_id}")
    order = await get_order(session, order_no)
    await enqueue(
        session,
        Envelope(
            subject=order_no,
            data=TrainingFollowUpRecordedV1(
                contract_no=order.contract_no,
                order_no=order_no,
                training_id=training_id,
                customer_name=order.customer_name,
                outcome=outcome,
                note=cmd.note,
                called_at=called_at,
                called_by=actor.subject,
                attempts=len(row.follow_up_calls),
                on_time=row.follow_up_due_at is None or called_at <= row.follow_up_due_at,
            ),
        ),
    )
    return row


async def follow_up_overdue(session: AsyncSession, training_id: int, now: datetime) -> None:
    """The due time passed with the follow-up still open: overdue, once."""
    row = await session.get(TrainingRow, training_id, with_for_update=True)
    if row is None or row.follow_up_outcome is not None or row.follow_up_overdue_at is not None:
        return
    row.follow_up_overdue_at = now
    order = await get_order(session, row.order_no)
    await enqueue(
        session,
        Envelope(
            subject=row.order_no,
            data=TrainingFollowUpOverdueV1(
                contract_no=order.contract_no,
                order_no=row.order_no,
                training_id=row.id,
                customer_name=order.customer_name,
                held_at=row.held_at,
                trainer=row.trainer,
                due_at=row.follow_up_due_at or now,
                due_provisional=row.follow_up_due_provisional,
                attempts=len(row.follow_up_calls),
            ),
        ),
    )


async def list_follow_ups(
    session: AsyncSession, open_only: bool | None, overdue: bool | None, limit: int, offset: int
) -> tuple[list[TrainingRow], int]:
    """The follow-up calls to make (or made), soonest due first."""
    query = select(TrainingRow)
    if open_only is not None:
        done = TrainingRow.follow_up_outcome
        query = query.where(done.is_(None) if open_only else done.is_not(None))
    if overdue is not None:
        late = TrainingRow.follow_up_overdue_at
        query = query.where(late.is_not(None) if overdue else late.is_(None))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(TrainingRow.follow_up_due_at, TrainingRow.id).limit(limit).offset(offset)
    )
    return list(rows), total
