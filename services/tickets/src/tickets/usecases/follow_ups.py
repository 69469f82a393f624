"""A low satisfaction score becomes a complaint follow-up linked to the surveyed ticket (a complaint
of the level its scores give: domain.follow_up_level); a return visit that finds the problem
persists reopens the work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role
from aftersales_shared.events import Contact, Envelope, FollowUpOpenedV1, Urgency
from aftersales_shared.outbox import enqueue

from ..domain import (
    Channel,
    RequestType,
    Status,
    contact_of,
    follow_up_level,
    follow_up_type,
    in_reopen_window,
)
from ..models import TicketRow
from ..settings import TicketsSettings
from .completion import reopen
from .intake import OpenedTicket, TicketRequest, open_ticket
from .progress import log_entry

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SurveyAnswer:
    """A customer's survey answer about a ticket (from SurveyAnswered)."""

    survey_id: str
    ticket_id: str
    ticket_no: str
    efficiency: int
    attitude: int
    professionalism: int
    comment: str | None
    low_score: bool
    customer_id: str | None
    product_model: str | None
    dealer_id: str | None
    correlation_id: str | None = None
    answered_via: str | None = None  # web | phone; absent in events from before it was added
    recorded_by_agent: str | None = None


def follow_up_channel(answer: SurveyAnswer) -> Channel:
    """The follow-up comes in on the channel the answer did: an answer given on the phone is a
    complaint made on the phone. An older event without answered_via names the agent who recorded a
    phone answer; with neither it was the survey page."""
    via = answer.answered_via or ("phone" if answer.recorded_by_agent else "web")
    return Channel.PHONE if via == "phone" else Channel.WEB_FORM


async def follow_up(
    session: AsyncSession, answer: SurveyAnswer, now: datetime, settings: TicketsSettings
) -> OpenedTicket | None:
    """A low score opens one complaint follow-up per survey (when the service is set to do so)."""
    if not (answer.low_score and settings.low_score_follow_up):
        return None
    if await session.scalar(select(TicketRow.id).where(TicketRow.survey_id == answer.survey_id)):
        return None
    original = await session.get(TicketRow, answer.ticket_id)
    scores = f"效率{answer.efficiency} 态度{answer.attitude} 专业性{answer.professionalism}"
    req = TicketRequest(
        channel=follow_up_channel(answer),
        request_type=RequestType.COMPLAINT,
        urgency=Urgency.URGENT,
        description=(
            f"满意度回访低分跟进（原工单{answer.ticket_no}）：{scores}。"
            f"客户意见：{answer.comment or '无'}"
        ),
        customer_name=original.customer_name if original else (answer.customer_id or "未知客户"),
        contact=contact_of(original) if original else Contact(name="客户"),
        customer_id=answer.customer_id,
        contract_no=original.contract_no if original else None,
        product_model=answer.product_model,
        serial_no=original.serial_no if original else None,
        dealer_id=answer.dealer_id,
        parent_ticket_id=answer.ticket_id,
        survey_id=answer.survey_id,
        use_default_policy=True,
        complaint_level=follow_up_level(answer.efficiency, answer.attitude, answer.professionalism),
        complaint_type=follow_up_type(answer.efficiency, answer.attitude, answer.professionalism),
    )
    ticket = await open_ticket(session, req, "surveys", now, settings, answer.correlation_id)
    await enqueue(
        session,
        Envelope(
            subject=ticket.ticket_no,
            data=FollowUpOpenedV1(
                ticket_id=ticket.id,
                ticket_no=ticket.ticket_no,
                original_ticket_id=answer.ticket_id,
                survey_id=answer.survey_id,
                opened_at=now,
            ),
        ),
    )
    return ticket


# ---------------------------------------------------------------- return visits (回访)
@dataclass(frozen=True)
class ReturnVisitProblem:
    """A return visit found the problem persists (from ReturnVisitRecorded)."""

    visit_id: str
    ticket_id: str
    ticket_no: str
    note: str | None
    visited_by: str
    correlation_id: str | None = None


# who reopens a ticket for a return visit: the service desk's own process, not a person
RETURN_VISIT = Principal(subject="surveys:return-visit", roles=frozenset({Role.SERVICE_SUPERVISOR}))


async def return_visit_problem(
    session: AsyncSession, visit: ReturnVisitProblem, now: datetime, settings: TicketsSettings
) -> TicketRow | OpenedTicket | None:
    """The problem persists: the completed ticket is reopened within its reopen window; after it,
    a linked ticket is opened; a ticket still being worked gets the finding in its log."""
    original = await session.get(TicketRow, visit.ticket_id, with_for_update=True)
    if original is None:
        log.warning("tickets.return_visit_unknown_ticket", ticket_id=visit.ticket_id)
        return None
    said = f"回访发现问题仍存在：{visit.note or '（未记录）'}（回访人 {visit.visited_by}）"
    if original.status != Status.COMPLETED:
        session.add(log_entry(original, RETURN_VISIT.subject, "return_visit", said, now))
        return original
    window = timedelta(days=settings.reopen_window_days)
    if in_reopen_window(original.completed_at, now, window):
        return await reopen(session, original.ticket_no, said, RETURN_VISIT, now, settings)
    req = TicketRequest(
        channel=Channel.PHONE,
        request_type=RequestType(original.request_type),
        urgency=Urgency.URGENT,
        description=f"回访发现问题仍存在（原工单{original.ticket_no}）：{visit.note or ''}",
        customer_name=original.customer_name,
        contact=contact_of(original),
        customer_id=original.customer_id,
        contract_no=original.contract_no,
        product_model=original.product_model,
        serial_no=original.serial_no,
        dealer_id=original.dealer_id,
        parent_ticket_id=original.id,
        use_default_policy=True,
    )
    return await open_ticket(session, req, "surveys", now, settings, visit.correlation_id)
