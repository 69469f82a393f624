"""Taking a ticket in and sending someone: acknowledge (受理), dispatch or reassign (派单)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import (
    Envelope,
    SlaClock,
    TicketAcknowledgedV1,
    TicketAssignedV1,
    Urgency,
)
from aftersales_shared.outbox import enqueue

from ..domain import Status, check_transition, contact_of
from ..models import AssignmentRow, TicketRow
from ..settings import TicketsSettings
from . import engineers
from .access import load
from .progress import log_entry
from .sla import meet


@dataclass(frozen=True)
class Assignment:
    assignee_id: str
    assignee_kind: str = "engineer"  # engineer | dealer | sales
    assignee_name: str | None = None
    assignee_phone: str | None = None
    assignee_email: str | None = None
    reason: str | None = None


async def acknowledge(
    session: AsyncSession, no: str, user: Principal, now: datetime, settings: TicketsSettings
) -> TicketRow:
    ticket = await load(session, no, user, lock=True)
    ticket.status = check_transition("acknowledge", Status(ticket.status), ticket.ticket_no).value
    await acknowledged(session, ticket, user, now)
    await meet(session, ticket, [SlaClock.ACKNOWLEDGE], now, settings)
    session.add(
        log_entry(ticket, user.subject, "milestone", "已受理 (acknowledged)", now, "customer")
    )
    await session.flush()
    return ticket


async def assign(
    session: AsyncSession,
    no: str,
    data: Assignment,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> TicketRow:
    """Dispatch (acknowledging a new ticket on the way) or reassign with a reason;
    TicketAssigned."""
    ticket = await load(session, no, user, lock=True)
    check_transition("assign", Status(ticket.status), ticket.ticket_no)
    previous = ticket.assignee_id
    if previous and not (data.reason or "").strip():
        raise DomainError("改派需要填写原因 (a reassignment needs a reason)")
    if previous == data.assignee_id:
        raise Conflict(f"工单已派给{previous} (already assigned to this assignee)")
    if data.assignee_kind == "engineer":
        data = await _from_roster(session, data, now, settings)
    if data.assignee_kind == "dealer":
        ticket.dealer_id = data.assignee_id
    ticket.assignee_id, ticket.assignee_kind, ticket.assignee_name = (
        data.assignee_id,
        data.assignee_kind,
        data.assignee_name,
    )
    ticket.assigned_at = now
    if Status(ticket.status) in (Status.NEW, Status.ACKNOWLEDGED):
        ticket.status = Status.ASSIGNED.value
        await acknowledged(session, ticket, user, now)
        await meet(session, ticket, [SlaClock.ACKNOWLEDGE], now, settings)
    session.add(
        AssignmentRow(
            ticket_id=ticket.id,
            assignee_id=data.assignee_id,
            assignee_kind=data.assignee_kind,
            assigned_by=user.subject,
            assigned_at=now,
            reason=data.reason,
        )
    )
    session.add(
        log_entry(
            ticket,
            user.subject,
            "dispatch",
            f"派单给{data.assignee_name or data.assignee_id}"
            + (f"（原因：{data.reason}）" if previous else ""),
            now,
        )
    )
    await enqueue(
        session,
        Envelope(
            subject=ticket.ticket_no,
            data=_assigned(ticket, data, previous, user, now),
        ),
    )
    await session.flush()
    return ticket


async def _from_roster(
    session: AsyncSession, data: Assignment, now: datetime, settings: TicketsSettings
) -> Assignment:
    """An engineer on the roster only while active and not on leave, their name and phone from
    it where the dispatch left them out; someone not on it as the dispatch names them, unless
    dispatch keeps to the roster (TICKETS_DISPATCH_ROSTER_ONLY)."""
    row = await engineers.for_dispatch(
        session,
        data.assignee_id,
        now,
        ZoneInfo(settings.business_timezone),
        settings.dispatch_roster_only,
    )
    if row is None:
        return data
    return replace(
        data,
        assignee_name=data.assignee_name or row.name,
        assignee_phone=data.assignee_phone or row.phone or None,
    )


async def acknowledged(
    session: AsyncSession, ticket: TicketRow, user: Principal, now: datetime
) -> None:
    """The ticket's first acknowledgement (受理), however it came (acknowledge, dispatch, first
    response): recorded once, and TicketAcknowledged tells the reports how long the customer
    waited on each channel. Call it before the acknowledgement clock is met (its deadline goes)."""
    if ticket.acknowledged_at is not None:
        return
    ticket.acknowledged_at = now
    due = next((c.deadline for c in ticket.clocks if c.kind == SlaClock.ACKNOWLEDGE.value), None)
    await enqueue(
        session,
        Envelope(
            subject=ticket.ticket_no,
            data=TicketAcknowledgedV1(
                ticket_id=ticket.id,
                ticket_no=ticket.ticket_no,
                channel=ticket.channel,
                opened_at=ticket.opened_at,
                acknowledged_at=now,
                acknowledge_due=due,
                acknowledged_by=user.subject,
                urgency=Urgency(ticket.urgency),
                dealer_id=ticket.dealer_id,
            ),
        ),
    )


def _assigned(
    ticket: TicketRow, data: Assignment, previous: str | None, user: Principal, now: datetime
) -> TicketAssignedV1:
    return TicketAssignedV1(
        ticket_id=ticket.id,
        ticket_no=ticket.ticket_no,
        assigned_at=now,
        assignee_id=data.assignee_id,
        assignee_kind=data.assignee_kind,
        assignee_name=data.assignee_name,
        assignee_phone=data.assignee_phone,
        assignee_email=data.assignee_email,
        assigned_by=user.subject,
        reason=data.reason,
        previous_assignee_id=previous,
        urgency=Urgency(ticket.urgency),
        customer_id=ticket.customer_id,
        customer_name=ticket.customer_name,
        contact=contact_of(ticket),
        dealer_id=ticket.dealer_id,
        resolution_due=next((c.deadline for c in ticket.clocks if c.kind == "resolution"), None),
    )
