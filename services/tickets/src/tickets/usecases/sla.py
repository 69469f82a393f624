"""SLA clocks stored as rows; their warnings, breaches and escalations are scheduled jobs (one pending per clock)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.events import (
    Envelope,
    SlaBreachedV1,
    SlaClock,
    SlaDeadlineChangedV1,
    SlaEscalatedV1,
    SlaWarningV1,
    Urgency,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import Job, cancel, schedule
from aftersales_shared.workcalendar import WorkCalendar

from .domain import Clock, ClockState
from .models import ClockRow, TicketRow
from .settings import TicketsSettings

WARNING, BREACH, ESCALATE = "sla_warning", "sla_breach", "sla_escalate"


def to_domain(row: ClockRow) -> Clock:
    return Clock(
        kind=SlaClock(row.kind),
        target=timedelta(seconds=row.target_seconds),
        started_at=row.started_at,
        state=ClockState(row.state),
        elapsed=timedelta(seconds=row.elapsed_seconds),
        running_since=row.running_since,
        deadline=row.deadline,
        provisional=row.provisional,
        met_at=row.met_at,
        breached_at=row.breached_at,
    )


def store(row: ClockRow, clock: Clock) -> None:
    row.state, row.elapsed_seconds, row.running_since = (
        clock.state.value,
        clock.elapsed.total_seconds(),
        clock.running_since,
    )
    row.deadline, row.provisional, row.met_at, row.target_seconds = (
        clock.deadline,
        clock.provisional,
        clock.met_at,
        int(clock.target.total_seconds()),
    )


async def arm(
    session: AsyncSession, row: ClockRow, calendar: WorkCalendar, settings: TicketsSettings
) -> None:
    """After any change to the clock, keep exactly one pending job for it: its warning while that is still
    ahead (the warning's handler then schedules the breach), else its breach; none unless it runs."""
    key = str(row.id)
    if row.state != ClockState.RUNNING.value or row.deadline is None:
        await cancel(session, WARNING, key)
        await cancel(session, BREACH, key)
        return
    warn_at = (
        to_domain(row).warn_at(calendar, settings.sla_warning_fraction)
        if row.warned_at is None
        else None
    )
    first, other = next_job(row.deadline, warn_at)
    await schedule(session, first[0], key, first[1], first[2])
    await cancel(session, other, key)


def next_job(
    deadline: datetime, warn_at: datetime | None
) -> tuple[tuple[str, datetime, dict[str, str]], str]:
    """The one job a running clock needs next — (kind, due, payload) — and the kind it must not have pending.
    One row per clock in the scheduler, not two: half the rows an intake writes and the table holds."""
    if warn_at is not None and warn_at < deadline:
        return (WARNING, warn_at, {}), BREACH
    return (BREACH, deadline, {"deadline": deadline.isoformat()}), WARNING


async def change_clock(
    session: AsyncSession,
    ticket: TicketRow,
    row: ClockRow,
    calendar: WorkCalendar,
    settings: TicketsSettings,
    change: str,
    now: datetime,
    reason: str | None = None,
    target: timedelta | None = None,
) -> None:
    """Apply pause | resume | meet | recompute to a clock, re-arm it, announce a moved deadline."""
    clock = to_domain(row)
    old = clock.deadline
    if target is not None:
        clock.target = target
    if change == "pause":
        clock.pause(calendar, now)
    elif change == "resume":
        clock.resume(calendar, now)
    elif change == "meet":
        clock.meet(calendar, now)
    else:
        clock.recompute(calendar)
    store(row, clock)
    await arm(session, row, calendar, settings)
    if reason and clock.deadline is not None and clock.deadline != old:
        await enqueue(
            session,
            Envelope(
                subject=ticket.ticket_no,
                data=SlaDeadlineChangedV1(
                    ticket_id=ticket.id,
                    ticket_no=ticket.ticket_no,
                    clock=clock.kind,
                    old_deadline=old,
                    new_deadline=clock.deadline,
                    reason=reason,
                    deadline_provisional=clock.provisional,
                ),
            ),
        )


async def _locked_clock(session: AsyncSession, clock_id: int) -> tuple[ClockRow, TicketRow] | None:
    row = await session.scalar(select(ClockRow).where(ClockRow.id == clock_id).with_for_update())
    if row is None:
        return None
    ticket = await session.get(TicketRow, row.ticket_id)
    return (row, ticket) if ticket is not None else None


def register_jobs(scheduler, settings: TicketsSettings, clock_now) -> None:  # type: ignore[no-untyped-def]
    """Job handlers: each runs in the transaction that marks its job done (so it fires once)."""

    @scheduler.handles(WARNING)
    async def on_warning(session: AsyncSession, job: Job) -> None:
        found = await _locked_clock(session, int(job.key))
        if found is None:
            return
        row, ticket = found
        if row.state != ClockState.RUNNING.value or row.breached_at or row.deadline is None:
            return  # paused or stopped: arm() schedules again when it runs again
        if row.warned_at is None:
            now = clock_now()
            row.warned_at = now
            if ticket.sla_state == "ok":
                ticket.sla_state = "warning"
            await enqueue(
                session,
                Envelope(
                    subject=ticket.ticket_no,
                    data=SlaWarningV1(
                        ticket_id=ticket.id,
                        ticket_no=ticket.ticket_no,
                        clock=SlaClock(row.kind),
                        deadline=row.deadline,
                        warned_at=now,
                        fraction=settings.sla_warning_fraction,
                        urgency=Urgency(ticket.urgency),
                        customer_id=ticket.customer_id,
                        assignee_id=ticket.assignee_id,
                        dealer_id=ticket.dealer_id,
                        deadline_provisional=row.provisional,
                    ),
                ),
            )
        await schedule(
            session, BREACH, job.key, row.deadline, {"deadline": row.deadline.isoformat()}
        )

    @scheduler.handles(BREACH)
    async def on_breach(session: AsyncSession, job: Job) -> None:
        found = await _locked_clock(session, int(job.key))
        if found is None:
            return
        row, ticket = found
        now = clock_now()
        if (
            row.state != ClockState.RUNNING.value
            or row.breached_at
            or row.deadline is None
            or row.deadline > now
        ):
            return
        row.breached_at, row.escalation_level, ticket.sla_state = now, 1, "breached"
        await enqueue(
            session,
            Envelope(
                subject=ticket.ticket_no,
                data=SlaBreachedV1(
                    ticket_id=ticket.id,
                    ticket_no=ticket.ticket_no,
                    clock=SlaClock(row.kind),
                    deadline=row.deadline,
                    breached_at=now,
                    overdue_seconds=int((now - row.deadline).total_seconds()),
                    urgency=Urgency(ticket.urgency),
                    escalation_level=1,
                    customer_id=ticket.customer_id,
                    assignee_id=ticket.assignee_id,
                    dealer_id=ticket.dealer_id,
                    deadline_provisional=row.provisional,
                ),
            ),
        )
        await schedule(
            session,
            ESCALATE,
            f"{row.id}:2",
            now + timedelta(hours=settings.escalate_after_hours),
            {"deadline": row.deadline.isoformat()},
        )

    @scheduler.handles(ESCALATE)
    async def on_escalate(session: AsyncSession, job: Job) -> None:
        found = await _locked_clock(session, int(job.key.split(":")[0]))
        if found is None:
            return
        row, ticket = found
        if (
            row.state == ClockState.MET.value
            or row.breached_at is None
            or row.escalation_level >= 2
        ):
            return
        now = clock_now()
        deadline = datetime.fromisoformat(job.payload["deadline"])
        row.escalation_level = 2
        await enqueue(
            session,
            Envelope(
                subject=ticket.ticket_no,
                data=SlaEscalatedV1(
                    ticket_id=ticket.id,
                    ticket_no=ticket.ticket_no,
                    clock=SlaClock(row.kind),
                    deadline=deadline,
                    escalated_at=now,
                    overdue_seconds=int((now - deadline).total_seconds()),
                    escalation_level=2,
                    urgency=Urgency(ticket.urgency),
                    customer_id=ticket.customer_id,
                    assignee_id=ticket.assignee_id,
                    dealer_id=ticket.dealer_id,
                ),
            ),
        )
