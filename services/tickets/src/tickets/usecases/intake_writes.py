"""The write half of intake: ticket numbers per business day, then tickets, clocks, each running
clock's one job and the TicketOpened outbox rows — on PostgreSQL in one statement (data-modifying
CTEs over unnest arrays: one round trip), elsewhere one statement per table. Core rows, no ORM
objects (bench/intake.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import (
    UnnestInsert,
    dialect_of,
    insert_rows,
    is_postgresql,
    outbox,
    scheduled_jobs,
    unnest_insert,
    upsert_insert,
    utcnow,
)
from aftersales_shared.events import Envelope, TicketOpenedV1, Urgency
from aftersales_shared.outbox import PENDING_KEY as OUTBOX_PENDING
from aftersales_shared.outbox import enqueue_many, outbox_rows
from aftersales_shared.scheduler import PENDING as JOB_PENDING
from aftersales_shared.scheduler import wake_for

from ..domain import Clock, ClockState, contact_of
from ..models import ClockRow, TicketCounter, TicketRow
from . import sla

if TYPE_CHECKING:
    from .intake import Intake

TICKETS, CLOCKS, COUNTERS = TicketRow.__table__, ClockRow.__table__, TicketCounter.__table__
JOB_COLUMNS = ("ticket_id", "clock", "kind", "due_at", "payload")


class OpenedTicket(SimpleNamespace):
    """A ticket as intake wrote it (plain values with `.clocks`, the columns of
    TicketRow/ClockRow)."""


@dataclass
class Plan:
    """Everything about a new ticket but its number: row values, clocks with their warning times."""

    intake: Intake
    ticket: dict[str, Any]
    clocks: list[tuple[Clock, datetime | None]] = field(default_factory=list)


async def number(
    session: AsyncSession, plans: list[Plan], prefix: str, business_timezone: str
) -> None:
    """SV-YYYYMMDD-NNNN per business day: one counter upsert per day reserves a block for the
    batch."""
    tz = ZoneInfo(business_timezone)
    by_day: dict[str, list[Plan]] = {}
    for p in plans:
        by_day.setdefault(p.intake.now.astimezone(tz).strftime("%Y%m%d"), []).append(p)
    for day, group in sorted(by_day.items()):
        stmt = upsert_insert(session, COUNTERS).values(day=day, last=len(group))
        stmt = stmt.on_conflict_do_update(
            index_elements=["day"], set_={"last": COUNTERS.c.last + stmt.excluded.last}
        )
        last = (await session.execute(stmt.returning(COUNTERS.c.last))).scalar_one()
        for n, p in enumerate(group, start=last - len(group) + 1):
            p.ticket["ticket_no"] = f"{prefix}-{day}-{n:04d}"


async def write(session: AsyncSession, plans: list[Plan]) -> list[OpenedTicket]:
    """Tickets, clocks, each running clock's one job and the TicketOpened events: on PostgreSQL one
    statement (data-modifying CTEs over unnest arrays: one round trip), elsewhere one statement per
    table."""
    clock_rows = _clock_rows(plans)
    jobs = _jobs(plans)  # keyed by the clock's id, which the insert assigns
    opened = _opened(plans, clock_rows)
    events = [
        Envelope(data=opened_event(t), subject=t.ticket_no, correlation_id=p.intake.correlation_id)
        for t, p in zip(opened, plans, strict=True)
    ]
    created = utcnow()
    if is_postgresql(session):
        returned = await _write_in_one_statement(session, plans, clock_rows, jobs, events, created)
    else:
        returned = await _write_per_table(session, plans, clock_rows, jobs, events, created)
    clocks = {(c.ticket_id, c.kind): c for t in opened for c in t.clocks}
    for r in returned:
        clocks[(r.ticket_id, r.kind)].id = r.id
    if jobs:  # the scheduler wakes after the commit only if it sleeps past the soonest (no query)
        wake_for(session, min(j["due_at"] for j in jobs))
    return opened


def _clock_rows(plans: list[Plan]) -> list[dict[str, Any]]:
    return [
        dict(
            ticket_id=p.ticket["id"],
            kind=c.kind.value,
            target_seconds=int(c.target.total_seconds()),
            state=c.state.value,
            started_at=c.started_at,
            elapsed_seconds=0.0,
            running_since=c.running_since,
            deadline=c.deadline,
            provisional=c.provisional,
            met_at=None,
            warned_at=None,
            breached_at=None,
            escalation_level=0,
        )
        for p in plans
        for c, _ in p.clocks
    ]


def _jobs(plans: list[Plan]) -> list[dict[str, Any]]:
    jobs = []
    for p in plans:
        for clock, warn_at in p.clocks:
            if clock.state is ClockState.RUNNING and clock.deadline is not None:
                (kind, due, payload), _ = sla.next_job(clock.deadline, warn_at)
                jobs.append(
                    dict(
                        ticket_id=p.ticket["id"],
                        clock=clock.kind.value,
                        kind=kind,
                        due_at=due,
                        payload=json.dumps(payload),
                    )
                )
    return jobs


def _opened(plans: list[Plan], clock_rows: list[dict[str, Any]]) -> list[OpenedTicket]:
    rows_by_ticket: dict[str, list[dict[str, Any]]] = {}
    for row in clock_rows:
        rows_by_ticket.setdefault(row["ticket_id"], []).append(row)
    return [
        OpenedTicket(
            **p.ticket, clocks=[SimpleNamespace(**c) for c in rows_by_ticket[p.ticket["id"]]]
        )
        for p in plans
    ]


async def _write_in_one_statement(
    session: AsyncSession,
    plans: list[Plan],
    clock_rows: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    events: list[Envelope[Any]],
    created: datetime,
) -> Any:
    stmt, parts = _one_statement(tuple(plans[0].ticket), tuple(clock_rows[0]), dialect_of(session))
    params: dict[str, Any] = {"created": created}
    for part, rows in zip(
        parts, ([p.ticket for p in plans], clock_rows, outbox_rows(events)), strict=True
    ):
        params |= part.params(rows)
    for i, name in enumerate(JOB_COLUMNS):
        params[f"j{i}"] = [j[name] for j in jobs]
    returned = await session.execute(stmt, params)
    session.info[OUTBOX_PENDING] = True
    return returned


async def _write_per_table(
    session: AsyncSession,
    plans: list[Plan],
    clock_rows: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    events: list[Envelope[Any]],
    created: datetime,
) -> Any:
    await insert_rows(session, TICKETS, [p.ticket for p in plans])
    returned = await insert_rows(
        session, CLOCKS, clock_rows, returning=(CLOCKS.c.id, CLOCKS.c.ticket_id, CLOCKS.c.kind)
    )
    returned = returned.all()
    ids = {(r.ticket_id, r.kind): r.id for r in returned}
    if jobs:  # keyed by clock ids just created: nothing to upsert
        await insert_rows(
            session,
            scheduled_jobs,
            [
                dict(
                    kind=j["kind"],
                    key=str(ids[(j["ticket_id"], j["clock"])]),
                    due_at=j["due_at"],
                    payload=j["payload"],
                    status=JOB_PENDING,
                    attempts=0,
                    created_at=created,
                )
                for j in jobs
            ],
        )
    await enqueue_many(session, events)
    return returned


@lru_cache(maxsize=8)
def _one_statement(
    ticket_names: tuple[str, ...], clock_names: tuple[str, ...], dialect: Any
) -> tuple[Any, tuple[UnnestInsert, ...]]:
    t = unnest_insert(TICKETS, ticket_names, "t", dialect)
    c = unnest_insert(CLOCKS, clock_names, "c", dialect)
    o = unnest_insert(
        outbox, ("id", "subject", "headers", "body", "created_at", "attempts"), "o", dialect
    )
    # the clocks' ids feed their jobs' keys inside the statement; the foreign keys are checked at
    # its end
    sql = f"""WITH t AS ({t.sql}),
c AS ({c.sql} RETURNING id, ticket_id, kind),
j AS (INSERT INTO scheduled_jobs (kind, key, due_at, payload, status, attempts, created_at)
      SELECT u.kind, CAST(c.id AS text), u.due_at, u.payload, '{JOB_PENDING}', 0, CAST(:created AS timestamptz)
      FROM c JOIN unnest(CAST(:j0 AS text[]), CAST(:j1 AS text[]), CAST(:j2 AS text[]), CAST(:j3 AS timestamptz[]),
                         CAST(:j4 AS text[])) AS u(ticket_id, clock, kind, due_at, payload)
        ON u.ticket_id = c.ticket_id AND u.clock = c.kind),
o AS ({o.sql})
SELECT id, ticket_id, kind FROM c"""  # noqa: E501
    return text(sql), (t, c, o)


def deadline_of(ticket: Any, kind: str) -> datetime | None:
    return next((c.deadline for c in ticket.clocks if c.kind == kind), None)


def opened_event(ticket: Any) -> TicketOpenedV1:
    return TicketOpenedV1(
        ticket_id=ticket.id,
        ticket_no=ticket.ticket_no,
        opened_at=ticket.opened_at,
        channel=ticket.channel,
        request_type=ticket.request_type,
        urgency=Urgency(ticket.urgency),
        description=ticket.description,
        customer_id=ticket.customer_id,
        customer_name=ticket.customer_name,
        contact=contact_of(ticket),
        contract_no=ticket.contract_no,
        product_model=ticket.product_model,
        serial_no=ticket.serial_no,
        dealer_id=ticket.dealer_id,
        acknowledge_due=deadline_of(ticket, "acknowledge"),
        response_due=deadline_of(ticket, "response"),
        resolution_due=deadline_of(ticket, "resolution"),
        deadlines_provisional=any(c.provisional for c in ticket.clocks),
        in_warranty=ticket.in_warranty,
    )
