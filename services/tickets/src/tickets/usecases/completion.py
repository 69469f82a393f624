"""Closing a ticket with the customer's confirmation (ServiceCompleted) and reopening it within the
window."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.db import CLOCK_SKEW
from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import Envelope, ServiceCompletedV1, SlaClock, TicketReopenedV1
from aftersales_shared.outbox import enqueue

from ..calendar_cache import calendar_for
from ..domain import (
    OPEN_STATUSES,
    ClockState,
    FaultReport,
    Status,
    can_reopen,
    check_transition,
    contact_of,
)
from ..models import CompletionRow, TicketRow
from ..settings import TicketsSettings
from . import complaints, faults, service_sheet
from .access import load, require_handler
from .progress import log_entry
from .sla import change_clock, clock_of, meet


@dataclass(frozen=True)
class Confirmation:
    """The customer's confirmation of the work: which document, who, when, how."""

    document: str
    confirmed_by: str
    confirmed_at: datetime
    method: str
    remarks: str | None = None
    fault: FaultReport | None = (
        None  # required for repairs and complaints (domain.CLASSIFIED_TYPES)
    )


async def complete(
    session: AsyncSession,
    no: str,
    data: Confirmation,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> TicketRow:
    ticket = await load(session, no, user, lock=True)
    if ticket.assignee_id is None and Status(ticket.status) in OPEN_STATUSES:
        raise Conflict(
            f"工单{ticket.ticket_no}尚未派单，不能完成 (cannot complete an unassigned ticket)"
        )
    ticket.status = check_transition("complete", Status(ticket.status), ticket.ticket_no).value
    require_handler(ticket, user)
    data = await _with_signed_sheet(session, ticket, data)
    if data.confirmed_at > now + CLOCK_SKEW:
        raise DomainError("确认时间不能晚于当前时间 (confirmation cannot be in the future)")
    await complaints.close_with_ticket(session, ticket, user.subject, now)
    fault = await faults.record_at_completion(session, ticket, data.fault, user, now)
    ticket.completed_at = now
    ticket.resolved_at = ticket.resolved_at or now
    await meet(session, ticket, list(SlaClock), now, settings)
    session.add(
        CompletionRow(
            ticket_id=ticket.id,
            document=data.document,
            confirmed_by=data.confirmed_by,
            confirmed_at=data.confirmed_at,
            method=data.method,
            remarks=data.remarks,
            recorded_by=user.subject,
            recorded_at=now,
        )
    )
    session.add(
        log_entry(
            ticket,
            user.subject,
            "milestone",
            f"客户{data.confirmed_by}确认完成 (customer confirmed)",
            now,
            "customer",
        )
    )
    await enqueue(
        session, Envelope(subject=ticket.ticket_no, data=_completed(ticket, data, now, fault))
    )
    await session.flush()
    return ticket


async def _with_signed_sheet(
    session: AsyncSession, ticket: TicketRow, data: Confirmation
) -> Confirmation:
    """A sheet the customer signed on the phone is the confirmation: who, when, method
    `signature`, and a reference to the signed sheet (its id and content hash) in the remarks."""
    pending = await service_sheet.pending_signature(session, ticket)
    if pending is None:
        return data
    sheet, signed = pending
    reference = f"维修服务单#{sheet.id} sha256:{sheet.content_sha256}"
    return replace(
        data,
        document=sheet.document,
        confirmed_by=signed.signer_name,
        confirmed_at=signed.signed_at,
        method="signature",
        remarks=f"{reference}\n{data.remarks}" if data.remarks else reference,
    )


def _completed(
    ticket: TicketRow, data: Confirmation, now: datetime, fault: faults.Classified | None
) -> ServiceCompletedV1:
    row = fault.row if fault else None
    return ServiceCompletedV1(
        ticket_id=ticket.id,
        ticket_no=ticket.ticket_no,
        completed_at=now,
        request_type=ticket.request_type,
        channel=ticket.channel,
        customer_id=ticket.customer_id,
        customer_name=ticket.customer_name,
        contact=contact_of(ticket),
        confirmed_by=data.confirmed_by,
        confirmation_method=data.method,
        engineer_id=ticket.assignee_id if ticket.assignee_kind == "engineer" else None,
        dealer_id=ticket.dealer_id,
        contract_no=ticket.contract_no,
        product_model=ticket.product_model,
        serial_no=ticket.serial_no,
        within_sla=not any(c.breached_at for c in ticket.clocks),
        urgency=ticket.urgency,
        batch_no=ticket.batch_no,
        product_line=row.product_line if row else None,
        symptom_code=row.symptom_code if row else None,
        symptom=fault.symptom if fault else None,
        cause_category=row.cause_category if row else None,
        failed_part_code=row.failed_part_code if row else None,
        failed_part=fault.failed_part if fault else None,
        cause_detail=row.cause_detail if row else None,
        needs_analysis=row.needs_analysis if row else None,
    )


async def reopen(
    session: AsyncSession,
    no: str,
    reason: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> TicketRow:
    ticket = await load(session, no, user, lock=True)
    can_reopen(
        ticket.completed_at, now, timedelta(days=settings.reopen_window_days), ticket.ticket_no
    )
    calendar = await calendar_for(session, ticket.calendar_id)
    row = clock_of(ticket, SlaClock.RESOLUTION)
    if row is not None:  # the resolution clock runs on from where it stopped
        row.state, row.met_at, row.running_since = ClockState.PAUSED.value, None, None
        await change_clock(
            session, ticket, row, calendar, settings, "resume", now, reason="reopened"
        )
    ticket.status, ticket.completed_at, ticket.resolved_at = Status.IN_PROGRESS.value, None, None
    ticket.reopen_count += 1
    await complaints.reopen_with_ticket(session, ticket, now)
    session.add(log_entry(ticket, user.subject, "reopen", reason, now, "customer"))
    await enqueue(
        session,
        Envelope(
            subject=ticket.ticket_no,
            data=TicketReopenedV1(
                ticket_id=ticket.id,
                ticket_no=ticket.ticket_no,
                reopened_at=now,
                reason=reason,
                reopened_by=user.subject,
            ),
        ),
    )
    await session.flush()
    return ticket
