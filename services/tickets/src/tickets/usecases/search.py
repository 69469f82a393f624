"""Finding tickets: one by number, lists with filters (scoped to what the caller may see), the
supervisor queue."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role, customer_scope, dealer_scope
from aftersales_shared.errors import Forbidden
from aftersales_shared.events.tickets import SlaClock

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
        return await _page_by_next_deadline(session, query, limit, offset), total
    query = query.order_by(TicketRow.opened_at.desc(), TicketRow.ticket_no.desc())
    rows = (await session.scalars(query.limit(limit).offset(offset))).all()
    return list(rows), total


async def _page_by_next_deadline(
    session: AsyncSession, query: Select[tuple[TicketRow]], limit: int, offset: int
) -> list[TicketRow]:
    """One page of the tickets `query` selects, ordered by the earliest deadline of their running
    clocks (tickets with none last; ties by opening time, then number).

    The nearest running deadlines are walked through the partial index on running clocks
    (migration 0013): a ticket has at most one clock of each kind, so (offset + limit) × kinds
    clock rows hold the page's tickets — a few dozen index entries for the board's first page,
    where grouping every running clock read all 30,000 of 10,000 open tickets
    (services/console/bench/board.py)."""
    want = offset + limit
    per_ticket = len(SlaClock)
    walk = (
        query.with_only_columns(TicketRow.id)
        .join(ClockRow, ClockRow.ticket_id == TicketRow.id)
        .where(ClockRow.state == "running")
        .order_by(ClockRow.deadline, TicketRow.opened_at, TicketRow.ticket_no)
        .limit(want * per_ticket)
    )
    walked = (await session.scalars(walk)).all()
    ranked = list(dict.fromkeys(walked))  # each ticket where its nearest deadline puts it
    ids = ranked[offset:want]
    rows = {
        r.id: r for r in (await session.scalars(select(TicketRow).where(TicketRow.id.in_(ids))))
    }
    page = [rows[i] for i in ids if i in rows]
    if len(walked) < want * per_ticket and len(page) < limit:
        # every ticket with a running clock is ranked above: the rest of the page comes from
        # those with none, in opening order
        start = max(offset, len(ranked)) - len(ranked)
        running = select(ClockRow.id).where(
            ClockRow.ticket_id == TicketRow.id, ClockRow.state == "running"
        )
        page += (
            await session.scalars(
                query.where(~running.exists())
                .order_by(TicketRow.opened_at, TicketRow.ticket_no)
                .offset(start)
                .limit(limit - len(page))
            )
        ).all()
    return page


async def supervisor_queue(
    session: AsyncSession, limit: int, offset: int
) -> tuple[list[TicketRow], int]:
    """Unassigned open tickets and open ones at risk (warned or breached), most urgent first."""
    query = select(TicketRow).where(
        TicketRow.status != Status.COMPLETED.value,
        or_(TicketRow.assignee_id.is_(None), TicketRow.sla_state.in_(["warning", "breached"])),
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return await _page_by_next_deadline(session, query, limit, offset), total
