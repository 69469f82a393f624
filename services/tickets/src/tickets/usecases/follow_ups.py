"""A low satisfaction score becomes a complaint follow-up linked to the surveyed ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.events import Contact, Envelope, FollowUpOpenedV1, Urgency
from aftersales_shared.outbox import enqueue

from ..domain import Channel, RequestType, contact_of
from ..models import TicketRow
from ..settings import TicketsSettings
from .intake import OpenedTicket, TicketRequest, open_ticket


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
