"""A partner system's ticket request (TicketRequested): opened once per (channel, external_ref)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.events import Contact, Urgency

from ..domain import RequestType
from ..models import TicketRow
from ..settings import TicketsSettings
from .intake import OpenedTicket, TicketRequest, open_ticket


@dataclass(frozen=True)
class PartnerRequest:
    """A partner system's request to open a ticket (from TicketRequested), once per its own
    reference."""

    channel: str
    external_ref: str
    request_type: str
    urgency: Urgency
    description: str
    customer_name: str | None
    contact: Contact
    customer_id: str | None = None
    contract_no: str | None = None
    product_model: str | None = None
    serial_no: str | None = None
    batch_no: str | None = None
    dealer_id: str | None = None


async def open_partner_request(
    session: AsyncSession,
    request: PartnerRequest,
    actor: str,
    now: datetime,
    settings: TicketsSettings,
    correlation_id: str | None = None,
) -> OpenedTicket | None:
    """Once per (channel, external_ref): a repeat opens nothing; unknown serials get the default
    policy."""
    if await ticket_by_external_ref(session, request.channel, request.external_ref) is not None:
        return None
    req = TicketRequest(
        channel=request.channel,
        request_type=RequestType(request.request_type),
        urgency=request.urgency,
        description=request.description,
        customer_name=request.customer_name,
        contact=request.contact,
        customer_id=request.customer_id,
        contract_no=request.contract_no,
        product_model=request.product_model,
        serial_no=request.serial_no,
        batch_no=request.batch_no,
        dealer_id=request.dealer_id,
        external_ref=request.external_ref,
        use_default_policy=True,
    )
    return await open_ticket(session, req, actor, now, settings, correlation_id)


async def ticket_by_external_ref(session: AsyncSession, channel: str, ref: str) -> TicketRow | None:
    return await session.scalar(
        select(TicketRow).where(TicketRow.channel == channel, TicketRow.external_ref == ref)
    )
