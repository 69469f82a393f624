"""The month's tickets, their SLA events, reopenings and the backlog's ages, loaded once for the
figures (only what they read) or for a drill-down (whole rows in order)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain import Policy, ageing_bucket
from .scope import COMPLAINT_KINDS, DEADLINE_OF, SLA_KINDS, UNKNOWN, E, Scope, T, U

# what the figures never read (the drill-down's list does): left out of the report's own load
NOT_COUNTED = (
    "ticket_no", "customer_id", "serial_no", "symptom", "last_assigned_at", "follow_up_of",
    "last_event_id",
)  # fmt: skip


def _ticket_columns(full: bool = True) -> list[Any]:
    """Every column for the drill-down; for the figures not the NOT_COUNTED ones, and a deadline
    only as whether there is one (what the SLA figures ask; a timestamp less per row to decode)."""
    deadlines = set(DEADLINE_OF.values())
    return [
        *(
            c if full or c.name not in deadlines else c.is_not(None).label(c.name)
            for c in T.c
            if full or c.name not in NOT_COUNTED
        ),
        U.c.model.label("unit_model"),
        U.c.batch_no.label("unit_batch"),
    ]


async def _tickets(
    session: AsyncSession, scope: Scope, *conds: Any, full: bool = True
) -> list[dict[str, Any]]:
    stmt = (
        select(*_ticket_columns(full))
        .select_from(T.outerjoin(U, U.c.serial_no == T.c.serial_no))
        .where(*conds, *scope.ticket_where(session))
    )
    if full:  # the drill-down lists tickets in order; the figures only count them
        stmt = stmt.order_by(T.c.opened_at, T.c.ticket_no)
    result = await session.execute(stmt)
    keys = list(result.keys())  # once, not a RowMapping per row (a month is ~30,000 rows)
    rows = [dict(zip(keys, r, strict=True)) for r in result]
    for row in rows:
        row["model"] = row["unit_model"] or row["product_model"] or UNKNOWN
        row["batch"] = row["batch_no"] or row["unit_batch"] or UNKNOWN
    return rows


async def _open_at_end(session: AsyncSession, scope: Scope, full: bool) -> list[dict[str, Any]]:
    """Tickets opened before the month's end and not completed by then; for the figures only
    their id and age (the month's end may find tens of thousands open)."""
    conds = [
        T.c.opened_at < scope.end,
        or_(T.c.completed_at.is_(None), T.c.completed_at >= scope.end),
    ]
    if full:
        return await _tickets(session, scope, *conds)
    rows = await session.execute(
        select(T.c.ticket_id, T.c.opened_at).where(*conds, *scope.ticket_where(session))
    )
    return [{"ticket_id": i, "opened_at": at} for i, at in rows]


@dataclass
class MonthData:
    scope: Scope
    opened: list[dict[str, Any]]  # opened in the month
    completed: list[dict[str, Any]]  # completed in the month
    backlog: list[dict[str, Any]]  # open at the month's end
    breaches: dict[str, set[str]]  # clock → ticket ids of opened tickets breached on it
    sla_counts: Counter[str]  # warnings, escalations of opened tickets
    reopened: set[str]  # completed tickets reopened, or followed up
    ages: dict[str, str]  # backlog ticket id → ageing bucket
    escalated: set[str] = field(default_factory=set)  # complaints opened in the month, escalated


async def load_month(
    session: AsyncSession, scope: Scope, policy: Policy, full: bool = True
) -> MonthData:
    """The month's tickets; `full=False` (the report) loads only what the figures read, `full`
    (the drill-down) whole rows in order."""
    start, end = scope.start, scope.end
    opened = await _tickets(session, scope, T.c.opened_at >= start, T.c.opened_at < end, full=full)
    completed = await _tickets(
        session, scope, T.c.completed_at >= start, T.c.completed_at < end, full=full
    )
    backlog = await _open_at_end(session, scope, full)
    in_month = [T.c.opened_at >= start, T.c.opened_at < end, *scope.ticket_where(session)]
    breaches: dict[str, set[str]] = defaultdict(set)
    sla_counts: Counter[str] = Counter()
    rows = await session.execute(
        select(E.c.ticket_id, E.c.kind, E.c.clock)
        .select_from(E.join(T, T.c.ticket_id == E.c.ticket_id))
        .where(E.c.kind.in_([*SLA_KINDS, *COMPLAINT_KINDS]), *in_month)
    )
    escalated: set[str] = set()
    for ticket_id, kind, clock in rows:
        if kind == "sla_breached":
            breaches[clock].add(ticket_id)
        if kind == "complaint_escalated":
            escalated.add(ticket_id)
        sla_counts[kind] += 1
    done = [T.c.completed_at >= start, T.c.completed_at < end, *scope.ticket_where(session)]
    reopened = set(
        await session.scalars(
            select(E.c.ticket_id)
            .select_from(E.join(T, T.c.ticket_id == E.c.ticket_id))
            .where(E.c.kind == "reopened", *done)
        )
    )
    original = T.alias("original")
    reopened |= set(
        await session.scalars(
            select(T.c.follow_up_of)
            .select_from(T.join(original, original.c.ticket_id == T.c.follow_up_of))
            .where(
                original.c.completed_at >= start,
                original.c.completed_at < end,
                *scope.ticket_where(session, original),
            )
        )
    )
    ages = {
        t["ticket_id"]: ageing_bucket(end - t["opened_at"], policy.ageing_buckets_days)
        for t in backlog
    }
    return MonthData(
        scope, opened, completed, backlog, breaches, sla_counts, reopened, ages, escalated
    )
