"""SLA clocks stored as rows; their warnings, breaches and escalations are scheduled jobs (one
pending per clock).

The job handlers in messaging.py call `warn`, `breach` and `escalate`; each runs in the transaction
that marks its job done (so it fires once)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

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
from aftersales_shared.scheduler import cancel, schedule
from aftersales_shared.workcalendar import WorkCalendar

from ..calendar_cache import calendar_for
from ..domain import Clock, ClockState
from ..models import ClockRow, TicketRow
from ..settings import TicketsSettings

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
    """After any change to the clock, keep exactly one pending job for it: its warning while that is
    still ahead (the warning's handler then schedules the breach), else its breach; none unless it
    runs."""
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
    """The one job a running clock needs next — (kind, due, payload) — and the kind it must not have
    pending. One row per clock in the scheduler, not two: half the rows an intake writes and the
    table holds."""
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


async def locked_clock(session: AsyncSession, clock_id: int) -> tuple[ClockRow, TicketRow] | None:
    row = await session.scalar(select(ClockRow).where(ClockRow.id == clock_id).with_for_update())
    if row is None:
        return None
    ticket = await session.get(TicketRow, row.ticket_id)
    return (row, ticket) if ticket is not None else None


def clock_of(ticket: TicketRow, kind: SlaClock) -> ClockRow | None:
    return next((c for c in ticket.clocks if c.kind == kind.value), None)


async def meet(
    session: AsyncSession,
    ticket: TicketRow,
    kinds: list[SlaClock],
    now: datetime,
    settings: TicketsSettings,
) -> None:
    """Stop the given clocks as met (those already met stay as they are)."""
    calendar = await calendar_for(session, ticket.calendar_id)
    for kind in kinds:
        row = clock_of(ticket, kind)
        if row is not None and row.state != ClockState.MET.value:
            await change_clock(session, ticket, row, calendar, settings, "meet", now)


async def warn(
    session: AsyncSession, clock_id: int, now: datetime, settings: TicketsSettings
) -> None:
    """A clock's warning time came: SlaWarning once, then its breach is the clock's one pending
    job."""
    found = await locked_clock(session, clock_id)
    if found is None:
        return
    row, ticket = found
    if row.state != ClockState.RUNNING.value or row.breached_at or row.deadline is None:
        return  # paused or stopped: arm() schedules again when it runs again
    if row.warned_at is None:
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
        session, BREACH, str(clock_id), row.deadline, {"deadline": row.deadline.isoformat()}
    )


async def breach(
    session: AsyncSession, clock_id: int, now: datetime, settings: TicketsSettings
) -> None:
    """A running clock passed its deadline: SlaBreached (level 1), escalation to management
    later."""
    found = await locked_clock(session, clock_id)
    if found is None:
        return
    row, ticket = found
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


async def escalate(session: AsyncSession, clock_id: int, deadline: datetime, now: datetime) -> None:
    """Still breached N hours later and not met: SlaEscalated (level 2, management)."""
    found = await locked_clock(session, clock_id)
    if found is None:
        return
    row, ticket = found
    if row.state == ClockState.MET.value or row.breached_at is None or row.escalation_level >= 2:
        return
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


async def recompute_clocks(
    session: AsyncSession,
    calendar_ids: list[str] | None,
    since: datetime,
    reason: str,
    now: datetime,
    settings: TicketsSettings,
) -> tuple[int, int]:
    """After a calendar change: recompute running clocks whose deadline falls on/after `since`."""
    query = (
        select(ClockRow)
        .join(TicketRow, TicketRow.id == ClockRow.ticket_id)
        .where(ClockRow.state == ClockState.RUNNING.value, ClockRow.deadline >= since)
        .order_by(ClockRow.id)
        .with_for_update(of=ClockRow)
    )
    if calendar_ids is not None:
        query = query.where(TicketRow.calendar_id.in_(calendar_ids))
    rows = (await session.scalars(query)).all()
    calendars: dict[str, Any] = {}
    changed = 0
    for row in rows:
        ticket = await session.get(TicketRow, row.ticket_id)
        if ticket.calendar_id not in calendars:
            calendars[ticket.calendar_id] = await calendar_for(session, ticket.calendar_id)
        before = row.deadline
        await change_clock(
            session,
            ticket,
            row,
            calendars[ticket.calendar_id],
            settings,
            "recompute",
            now,
            reason=reason,
        )
        changed += row.deadline != before
    return len(rows), changed
