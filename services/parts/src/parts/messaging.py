"""Event handlers of the parts service: decode (done by the inbox), call one use case."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import utcnow
from aftersales_shared.events import Envelope, TicketOpenedV1
from aftersales_shared.inbox import Inbox

from .usecases import money

# the fields of TicketOpened read below (checked against the producer's schema in tests/events)
TICKET_OPENED_READS = (
    "ticket_id",
    "ticket_no",
    "opened_at",
    "customer_id",
    "customer_name",
    "contact",
    "contact.name",
    "contact.phone",
    "contact.email",
    "contact.role",
    "contact.wechat_openid",
    "contract_no",
    "product_model",
    "serial_no",
    "dealer_id",
    "in_warranty",
)


def opened_ticket(env: Envelope[TicketOpenedV1]) -> money.OpenedTicket:
    data = env.data
    return money.OpenedTicket(
        ticket_no=data.ticket_no,
        ticket_id=data.ticket_id,
        customer_id=data.customer_id,
        customer_name=data.customer_name,
        contact=data.contact.model_dump(mode="json", exclude_none=True),
        contract_no=data.contract_no,
        product_model=data.product_model,
        serial_no=data.serial_no,
        dealer_id=data.dealer_id,
        in_warranty=data.in_warranty,
        opened_at=data.opened_at,
    )


def register(inbox: Inbox) -> None:
    @inbox.handles(TicketOpenedV1, reads=TICKET_OPENED_READS)
    async def on_ticket_opened(session: AsyncSession, env: Envelope[TicketOpenedV1]) -> None:
        await money.record_ticket(session, opened_ticket(env), utcnow())
