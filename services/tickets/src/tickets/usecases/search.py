"""Finding tickets: one by number, lists with filters (scoped to what the caller may see), the
supervisor queue."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role, customer_scope, dealer_scope
from aftersales_shared.errors import Forbidden

from ..domain import Status
from ..models import ClockRow, TicketRow
from .access import STAFF_ROLES, load


@dataclass(frozen=True)
class TicketFilters:
    """Equality filters by column (unset: any), open tickets only, an opening window."""

    status: str | None = None
    urgency: str | None = None
    sla_state: str | None = None
    assignee_id: str | None = None
    customer_id: str | None = None
    product_model: str | None = None
    serial_no: str | None = None
    dealer_id: str | None = None
    channel: str | None = None
    external_ref: str | None = None
    request_type: str | None = None
    open_only: bool = False
    unassigned: bool = False
    by_deadline: bool = False  # the next running deadline first (the console's board), else newest
    opened_from: datetime | None = None
    opened_to: datetime | None = None


EQUALITY = (
    "status",
    "urgency",
    "sla_state",
    "assignee_id",
    "customer_id",
    "product_model",
    "serial_no",
    "dealer_id",
    "channel",
    "external_ref",
    "request_type",
)


async def get_ticket(session: AsyncSession, no: str, user: Principal) -> TicketRow:
    """One ticket the caller may see (404 for the others as for none)."""
    return await load(session, no, user)


async def list_tickets(
    session: AsyncSession, user: Principal, filters: TicketFilters, limit: int, offset: int
) -> tuple[list[TicketRow], int]:
    """Engineers: their own; dealers: their dealer's; partners: their channel; customers: their
    own."""
    query = select(TicketRow)
    if not user.has(*STAFF_ROLES):
        scope = dealer_scope(user)
        conds = []
        if Role.ENGINEER in user.roles:
            conds.append(TicketRow.assignee_id == user.subject)
        if scope:
            conds.append(TicketRow.dealer_id == scope)
        if Role.PARTNER in user.roles:  # a partner system's token names its channel as subject
            conds.append(TicketRow.channel == user.subject)
        if customer_scope(user) is not None:  # a customer: its own tickets only
            conds.append(TicketRow.customer_id == customer_scope(user))
        if not conds:
            raise Forbidden("无权查看工单 (this role cannot list tickets)")
        query = query.where(or_(*conds))
    f = asdict(filters)
    for column in EQUALITY:
        if f.get(column):
            query = query.where(getattr(TicketRow, column) == f[column])
    if filters.open_only:
        query = query.where(TicketRow.status != Status.COMPLETED.value)
    if filters.unassigned:
        query = query.where(TicketRow.assignee_id.is_(None))
    if filters.opened_from:
        query = query.where(TicketRow.opened_at >= filters.opened_from)
    if filters.opened_to:
        query = query.where(TicketRow.opened_at < filters.opened_to)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if filters.by_deadline:
        query = _by_next_deadline(query)
    else:
        query = query.order_by(TicketRow.opened_at.desc(), TicketRow.ticket_no.desc())
    rows = (await session.scalars(query.limit(limit).offset(offset))).all()
    return list(rows), total


def _by_next_deadline(query):  # type: ignore[no-untyped-def]
    """Tickets ordered by the earliest deadline of their running clocks (none last). One grouped
    pass over the running clocks joined by hash: a correlated subquery per ticket cost ~3x as much
    with 10,000 open tickets (services/console/bench/board.py)."""
    nearest = (
        select(ClockRow.ticket_id, func.min(ClockRow.deadline).label("deadline"))
        .where(ClockRow.state == "running")
        .group_by(ClockRow.ticket_id)
        .subquery()
    )
    return query.outerjoin(nearest, nearest.c.ticket_id == TicketRow.id).order_by(
        nearest.c.deadline.asc().nulls_last(), TicketRow.opened_at, TicketRow.ticket_no
    )


async def supervisor_queue(
    session: AsyncSession, limit: int, offset: int
) -> tuple[list[TicketRow], int]:
    """Unassigned open tickets and open ones at risk (warned or breached), most urgent first."""
    query = select(TicketRow).where(
        TicketRow.status != Status.COMPLETED.value,
        or_(TicketRow.assignee_id.is_(None), TicketRow.sla_state.in_(["warning", "breached"])),
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (await session.scalars(_by_next_deadline(query).limit(limit).offset(offset))).all()
    return list(rows), total
