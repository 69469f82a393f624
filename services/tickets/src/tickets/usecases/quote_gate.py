"""Paid service (the parts service's quotes): a chargeable ticket whose quote is out may not go on
site before the customer accepted it. Tickets keeps only the quote's state, from QuoteIssued,
QuoteAccepted, QuoteDeclined and QuoteWithdrawn; an accepted quote is final."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict

from ..models import TicketRow

AWAITING, ACCEPTED, DECLINED = "awaiting", "accepted", "declined"
# the office took the quote back: none awaits the customer, the ticket is held up no more
WITHDRAWN = "withdrawn"
T = TicketRow.__table__


async def quote_changed(session: AsyncSession, ticket_no: str, state: str) -> bool:
    """Record the quote's state on the ticket; nothing changes an accepted quote (a late or
    redelivered QuoteIssued/QuoteDeclined). False when the ticket is unknown or already there."""
    result = await session.execute(
        update(T)
        .where(
            T.c.ticket_no == ticket_no,
            T.c.quote_state.is_distinct_from(ACCEPTED),
            T.c.quote_state.is_distinct_from(state),
        )
        .values(quote_state=state)
    )
    return bool(result.rowcount)


def check_quote_accepted(ticket: TicketRow) -> None:
    """The start of a chargeable repair (on site) waits for the customer's acceptance."""
    if ticket.quote_state == AWAITING:
        raise Conflict(
            f"工单{ticket.ticket_no}为收费服务，报价尚待客户确认，客户接受后才能上门维修 "
            "(chargeable ticket: the customer has not accepted the quote yet)",
            code="quote_not_accepted",
        )
    if ticket.quote_state == DECLINED:
        raise Conflict(
            f"客户已拒绝工单{ticket.ticket_no}的报价，请重新报价或由主管改为保修后再上门 "
            "(the customer declined the quote)",
            code="quote_declined",
        )
