"""The step clocks of a complaint: each clocked step of a round is due by its level's clock
(COMPLAINT_CLOCKS, working time from the start of the round) and has a scheduled job (STEP_DUE);
a step done in time cancels it, a missed one is announced once (ComplaintOverdue)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.events import (
    ComplaintLevel,
    ComplaintOverdueV1,
    ComplaintStep,
    Envelope,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule
from aftersales_shared.workcalendar import WorkCalendar

from ...domain import (
    COMPLAINT_CLOCKS,
    ComplaintStage,
)
from ...models import (
    ComplaintClockRow,
    ComplaintRow,
)
from .. import quality_audit
from .reading import ENTITY

STEP_DUE = "complaint_step_due"


def job_key(ticket_id: str, round_: int, stage: ComplaintStage | str) -> str:
    return f"{ticket_id}:{round_}:{ComplaintStage(stage).value}"


async def arm(
    session: AsyncSession,
    row: ComplaintRow,
    stages: Iterable[ComplaintStage],
    calendar: WorkCalendar,
) -> None:
    """The round's clocks of these steps, counted from the start of the round."""
    clocks = COMPLAINT_CLOCKS[ComplaintLevel(row.level)]
    for stage in stages:
        due = clocks.span(stage).due(calendar, row.round_started_at)
        row.clocks.append(
            ComplaintClockRow(
                ticket_id=row.ticket_id, round=row.round, stage=stage.value, due_at=due
            )
        )
        await schedule(session, STEP_DUE, job_key(row.ticket_id, row.round, stage), due)


def current_clock(row: ComplaintRow, stage: ComplaintStage) -> ComplaintClockRow | None:
    return next((c for c in row.clocks if c.round == row.round and c.stage == stage.value), None)


async def meet(session: AsyncSession, row: ComplaintRow, stage: ComplaintStage, now: datetime):
    clock = current_clock(row, stage)
    if clock is not None and clock.met_at is None:
        clock.met_at = now
        await cancel(session, STEP_DUE, job_key(row.ticket_id, row.round, stage))


async def step_overdue(session: AsyncSession, key: str, now: datetime) -> None:
    """A step not done by its deadline: ComplaintOverdue, once per step and round."""
    ticket_id, round_, stage = key.rsplit(":", 2)
    clock = await session.scalar(
        select(ComplaintClockRow)
        .where(
            ComplaintClockRow.ticket_id == ticket_id,
            ComplaintClockRow.round == int(round_),
            ComplaintClockRow.stage == stage,
        )
        .with_for_update()
    )
    if clock is None or clock.met_at is not None or clock.overdue_at is not None:
        return
    if clock.due_at > now:
        return
    row = await session.get(ComplaintRow, ticket_id)
    if row is None or row.round != clock.round:
        return
    clock.overdue_at = now
    ticket = row.ticket
    await enqueue(
        session,
        Envelope(
            subject=row.ticket_no,
            data=ComplaintOverdueV1(
                ticket_id=row.ticket_id,
                ticket_no=row.ticket_no,
                stage=ComplaintStep(stage),
                level=ComplaintLevel(row.level),
                round=row.round,
                owner_id=row.owner_id,
                due_at=clock.due_at,
                overdue_at=now,
                customer_id=ticket.customer_id,
                customer_name=ticket.customer_name,
                dealer_id=ticket.dealer_id,
            ),
        ),
    )
    quality_audit.record(
        session,
        ENTITY,
        row.ticket_no,
        "overdue",
        "system",
        now,
        stage=stage,
        round=row.round,
        due_at=clock.due_at,
    )
