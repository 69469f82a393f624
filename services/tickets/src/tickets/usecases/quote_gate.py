"""Paid service (the parts service's quotes): a chargeable ticket whose quote is out may not go on
site before the customer accepted it. Tickets keeps each quote's latest known state (from
QuoteIssued, QuoteAccepted, QuoteDeclined and QuoteWithdrawn) and derives the ticket's
`quote_state` from them, so the order in which the four consumers deliver never matters: a
decided or withdrawn quote is never made to await again by a late QuoteIssued, and an accepted
quote is final."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict

from ..models import TicketQuoteRow, TicketRow

AWAITING, ACCEPTED, DECLINED = "awaiting", "accepted", "declined"
# the office took the quote back: none awaits the customer, the ticket is held up no more
WITHDRAWN = "withdrawn"
DECIDED = frozenset({ACCEPTED, DECLINED, WITHDRAWN})
T = TicketRow.__table__
Q = TicketQuoteRow.__table__


def later(old: tuple[str, datetime], new: tuple[str, datetime]) -> tuple[str, datetime]:
    """One quote's state after another of its events: a decision is never undone (a quote is
    issued once and decided once), and its time is the latest known."""
    (old_state, old_at), (new_state, new_at) = old, new
    state = old_state if old_state in DECIDED else new_state
    return state, max(old_at, new_at)


def ticket_state(quotes: list[tuple[str, datetime]]) -> str | None:
    """The ticket's gate: accepted if any quote was; else the state of its newest quote (by the
    quotes' own times; on a tie a decision wins over awaiting)."""
    if not quotes:
        return None
    if any(state == ACCEPTED for state, _ in quotes):
        return ACCEPTED
    return max(quotes, key=lambda q: (q[1], q[0] in DECIDED))[0]


async def quote_changed(
    session: AsyncSession, ticket_no: str, quote_no: str, state: str, at: datetime
) -> bool:
    """Record one quote event on the ticket (the ticket's row locked: events of one ticket are
    applied one at a time). False when the ticket is unknown or its gate did not change."""
    current = (
        await session.execute(
            select(T.c.quote_state).where(T.c.ticket_no == ticket_no).with_for_update()
        )
    ).first()
    if current is None or current.quote_state == ACCEPTED:
        return False  # unknown ticket; or accepted, final (also from before ticket_quotes existed)
    known = (
        await session.execute(select(Q.c.state, Q.c.at).where(Q.c.quote_no == quote_no))
    ).first()
    if known is None:
        await session.execute(
            Q.insert().values(quote_no=quote_no, ticket_no=ticket_no, state=state, at=at)
        )
    else:
        new_state, new_at = later((known.state, known.at), (state, at))
        await session.execute(
            update(Q).where(Q.c.quote_no == quote_no).values(state=new_state, at=new_at)
        )
    rows = (
        await session.execute(select(Q.c.state, Q.c.at).where(Q.c.ticket_no == ticket_no))
    ).all()
    derived = ticket_state([(r.state, r.at) for r in rows])
    if derived == current.quote_state:
        return False
    await session.execute(update(T).where(T.c.ticket_no == ticket_no).values(quote_state=derived))
    return True


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
