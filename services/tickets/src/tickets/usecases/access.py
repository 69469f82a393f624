"""Who sees a ticket and who may act on it, beyond the role guards of the HTTP API."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role, customer_scope, dealer_scope
from aftersales_shared.errors import Forbidden, NotFound

from ..models import TicketRow

STAFF_ROLES = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.MANAGER, Role.TECHNICAL)


def _not_found(no: str) -> NotFound:
    return NotFound(f"工单{no}不存在 (ticket not found)")


def visible_to(ticket: TicketRow, user: Principal) -> bool:
    """Engineers see their own assignments; dealers their dealer's tickets; staff everything;
    finance any one ticket it is asked to invoice (the guards admit it to a single ticket's
    reads only, never a list)."""
    if user.has(*STAFF_ROLES) or Role.FINANCE in user.roles:
        return True
    if (
        Role.DEALER in user.roles
        and ticket.dealer_id is not None
        and ticket.dealer_id == dealer_scope(user)
    ):
        return True
    customer = customer_scope(user)
    if customer is not None:
        return ticket.customer_id == customer
    return Role.ENGINEER in user.roles and ticket.assignee_id == user.subject


async def load(session: AsyncSession, no: str, user: Principal, lock: bool = False) -> TicketRow:
    query = select(TicketRow).where(TicketRow.ticket_no == no)
    ticket = await session.scalar(query.with_for_update() if lock else query)
    if ticket is None or not visible_to(ticket, user):
        raise _not_found(no)  # 404 also for tickets the caller may not see: existence is not leaked
    return ticket


def require_handler(ticket: TicketRow, user: Principal) -> None:
    """Engineers act only on their own tickets; dealers on their dealer's; service staff on all."""
    if user.has(Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR):
        return
    if ticket.assignee_id == user.subject or (
        Role.DEALER in user.roles and ticket.dealer_id == dealer_scope(user)
    ):
        return
    raise Forbidden(
        "只有被派单的工程师或客服可以操作此工单 (only the assignee or service staff may do this)"
    )
