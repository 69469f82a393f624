"""Working on a ticket: first response, on site, waiting (clocks pause), resuming, urgency,
repaired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict
from aftersales_shared.events import SlaClock, Urgency

from ..calendar_cache import calendar_for
from ..domain import (
    DEFAULT_POLICIES,
    ClockState,
    Policy,
    RequestType,
    Status,
    check_transition,
    clock_targets,
    policy_from_levels,
)
from ..models import ClockRow, EntitlementRow, TicketRow
from ..settings import TicketsSettings
from .access import load, require_handler
from .dispatch import acknowledged
from .progress import log_entry
from .quote_gate import check_quote_accepted
from .sla import change_clock, clock_of, meet

CONTACTED = "已联系客户 (customer contacted)"


async def respond(
    session: AsyncSession,
    no: str,
    note: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> TicketRow:
    """First response to the customer (a note left empty says the customer was contacted)."""
    ticket = await load(session, no, user, lock=True)
    check_transition("respond", Status(ticket.status), ticket.ticket_no)
    require_handler(ticket, user)
    ticket.first_response_at = ticket.first_response_at or now
    await acknowledged(session, ticket, user, now)
    if ticket.status == Status.NEW.value:
        ticket.status = Status.ACKNOWLEDGED.value
    await meet(session, ticket, [SlaClock.ACKNOWLEDGE, SlaClock.RESPONSE], now, settings)
    session.add(log_entry(ticket, user.subject, "response", note or CONTACTED, now, "customer"))
    await session.flush()
    return ticket


async def onsite(
    session: AsyncSession,
    no: str,
    note: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> TicketRow:
    ticket = await load(session, no, user, lock=True)
    ticket.status = check_transition("onsite", Status(ticket.status), ticket.ticket_no).value
    require_handler(ticket, user)
    check_quote_accepted(ticket)
    ticket.onsite_at = ticket.onsite_at or now
    ticket.first_response_at = ticket.first_response_at or now
    await meet(
        session, ticket, [SlaClock.ACKNOWLEDGE, SlaClock.RESPONSE, SlaClock.ONSITE], now, settings
    )
    session.add(
        log_entry(
            ticket,
            user.subject,
            "milestone",
            note or "工程师到达现场 (engineer on site)",
            now,
            "customer",
        )
    )
    await session.flush()
    return ticket


async def pause(
    session: AsyncSession,
    no: str,
    reason: str,
    note: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> TicketRow:
    """Waiting for the customer or for parts: every clock pauses; the reason becomes the status."""
    ticket = await load(session, no, user, lock=True)
    check_transition("pause", Status(ticket.status), ticket.ticket_no)
    require_handler(ticket, user)
    calendar = await calendar_for(session, ticket.calendar_id)
    for row in ticket.clocks:
        await change_clock(session, ticket, row, calendar, settings, "pause", now)
    ticket.status = reason
    session.add(log_entry(ticket, user.subject, "pause", note or reason, now))
    await session.flush()
    return ticket


async def resume(
    session: AsyncSession,
    no: str,
    note: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> TicketRow:
    ticket = await load(session, no, user, lock=True)
    check_transition("resume", Status(ticket.status), ticket.ticket_no)
    require_handler(ticket, user)
    calendar = await calendar_for(session, ticket.calendar_id)
    for row in ticket.clocks:
        await change_clock(
            session, ticket, row, calendar, settings, "resume", now, reason="resumed"
        )
    ticket.status = (
        Status.IN_PROGRESS
        if ticket.onsite_at
        else Status.ASSIGNED
        if ticket.assignee_id
        else Status.ACKNOWLEDGED
    ).value
    session.add(log_entry(ticket, user.subject, "resume", note or "恢复处理 (resumed)", now))
    await session.flush()
    return ticket


async def change_urgency(
    session: AsyncSession,
    no: str,
    urgency: Urgency,
    reason: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> TicketRow:
    """New targets from the entitlement for the new urgency; time used so far (and paused time) is
    kept."""
    ticket = await load(session, no, user, lock=True)
    check_transition("urgency", Status(ticket.status), ticket.ticket_no)
    if urgency.value == ticket.urgency:
        raise Conflict(f"紧急程度已是{urgency.value} (urgency unchanged)")
    policy = await _policy(session, ticket, urgency)
    calendar = await calendar_for(session, policy.calendar)
    targets = clock_targets(policy, RequestType(ticket.request_type), calendar, ticket.opened_at)
    for kind, target in targets.items():
        row = clock_of(ticket, kind)
        if row is None:  # e.g. the new urgency promises an on-site visit
            row = ClockRow(
                kind=kind.value,
                target_seconds=int(target.total_seconds()),
                state=ClockState.RUNNING.value,
                started_at=ticket.opened_at,
                elapsed_seconds=0.0,
                running_since=ticket.opened_at,
                escalation_level=0,
            )
            ticket.clocks.append(row)
            await session.flush()
        await change_clock(
            session,
            ticket,
            row,
            calendar,
            settings,
            "recompute",
            now,
            reason=f"urgency {ticket.urgency} → {urgency.value}",
            target=target,
        )
    session.add(
        log_entry(
            ticket,
            user.subject,
            "urgency",
            f"紧急程度 {ticket.urgency} → {urgency.value}：{reason}",
            now,
        )
    )
    ticket.urgency, ticket.policy = urgency.value, policy.__dict__ | {"urgency": urgency.value}
    await session.flush()
    return ticket


async def _policy(session: AsyncSession, ticket: TicketRow, urgency: Urgency) -> Policy:
    ent = await session.get(EntitlementRow, ticket.contract_no) if ticket.contract_no else None
    if ent is None:
        return DEFAULT_POLICIES[urgency]
    return policy_from_levels(ent.service_levels, urgency, ent.calendar, ent.contract_no)


async def resolve(
    session: AsyncSession,
    no: str,
    note: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> TicketRow:
    ticket = await load(session, no, user, lock=True)
    ticket.status = check_transition("resolve", Status(ticket.status), ticket.ticket_no).value
    require_handler(ticket, user)
    ticket.resolved_at = now
    await meet(session, ticket, list(SlaClock), now, settings)
    session.add(
        log_entry(ticket, user.subject, "milestone", note or "已修复 (repaired)", now, "customer")
    )
    await session.flush()
    return ticket
