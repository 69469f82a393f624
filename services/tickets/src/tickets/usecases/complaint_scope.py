"""Which complaints an engineer sees: the complaints about their work. A complaint is a ticket of
its own (a low survey score opens one as a follow-up of the surveyed ticket), so an engineer sees
it when they are, or were, assigned to the complaint ticket or to the ticket it follows up —
never another engineer's. Reassignment keeps the earlier assignee's view: the complaint is still
about what they did (the dispatch history, `assignments`, is append-only)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from aftersales_shared.auth import Principal, Role

from ..models import AssignmentRow, ComplaintRow, TicketRow


def engineer_of(user: Principal) -> str | None:
    """The subject whose work an engineer's complaint list follows (None: not an engineer)."""
    return user.subject if Role.ENGINEER in user.roles else None


def worked_on(subject: str) -> ColumnElement[bool]:
    """A condition on TicketRow (the complaint's ticket): the engineer is or was assigned to it,
    or to the ticket it follows up."""
    parent = aliased(TicketRow)
    ever = select(AssignmentRow.ticket_id).where(AssignmentRow.assignee_id == subject)
    parent_now = exists().where(
        parent.id == TicketRow.parent_ticket_id, parent.assignee_id == subject
    )
    return or_(
        TicketRow.assignee_id == subject,
        TicketRow.id.in_(ever),
        TicketRow.parent_ticket_id.in_(ever),
        parent_now,
    )


async def engineer_sees(session: AsyncSession, row: ComplaintRow, subject: str) -> bool:
    found = await session.scalar(
        select(TicketRow.id).where(TicketRow.id == row.ticket_id, worked_on(subject))
    )
    return found is not None
