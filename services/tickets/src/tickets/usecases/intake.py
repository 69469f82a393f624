"""Opening tickets: entitlement lookup, policy, clocks, number, TicketOpened — the intake hot path.

Lean on purpose (measured by bench/intake.py): one query for the entitlements of a whole batch, the
calendar from a versioned cache, deadlines computed in Python, a block of ticket numbers from one counter
upsert, then tickets, clocks, their jobs and the outbox rows in one statement on PostgreSQL (one per table
on SQLite) instead of ORM objects flushed one row at a time.
`open_tickets` takes several requests in one transaction; `IntakeBatcher` (batching.py) feeds it
concurrent HTTP requests (group commit), `open_ticket` is the one-request form the consumers use.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import (
    UnnestInsert,
    dialect_of,
    insert_rows,
    is_postgresql,
    one_of,
    outbox,
    scheduled_jobs,
    unnest_insert,
    upsert_insert,
    utcnow,
)
from aftersales_shared.errors import DomainError
from aftersales_shared.events import Contact, Envelope, TicketOpenedV1, Urgency
from aftersales_shared.outbox import PENDING_KEY as OUTBOX_PENDING
from aftersales_shared.outbox import enqueue_many, outbox_rows
from aftersales_shared.scheduler import PENDING as JOB_PENDING
from aftersales_shared.scheduler import PENDING_KEY as SCHEDULER_PENDING
from aftersales_shared.workcalendar import WorkCalendar

from . import sla
from .calendars import calendar_for, calendar_version
from .domain import (
    DEFAULT_POLICIES,
    Clock,
    ClockState,
    Policy,
    RequestType,
    Status,
    clock_targets,
    policy_from_levels,
    warranty_valid,
)
from .models import ClockRow, EntitledUnitRow, EntitlementRow, TicketCounter, TicketRow
from .settings import TicketsSettings

SH = ZoneInfo("Asia/Shanghai")
# The scheduler polls at least every max_sleep_seconds (1 s): waking it after each commit only matters for a
# job due sooner than that; SLA jobs are minutes away, and a wake-up per commit costs it two queries.
WAKE_SCHEDULER_WITHIN = timedelta(seconds=1)
TICKETS, CLOCKS = TicketRow.__table__, ClockRow.__table__
UNITS, ENTITLEMENTS, COUNTERS = (
    EntitledUnitRow.__table__,
    EntitlementRow.__table__,
    TicketCounter.__table__,
)


@dataclass
class TicketRequest:
    channel: str
    request_type: RequestType
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
    external_ref: str | None = None
    use_default_policy: bool = False
    parent_ticket_id: str | None = None
    survey_id: str | None = None
    # a dealer's own request: only units and contracts sold by this dealer are visible to it; anything else
    # is answered exactly as a serial or contract nobody has (no existence oracle, nothing of it copied)
    scope_dealer_id: str | None = None


@dataclass(frozen=True)
class Intake:
    """One request to open a ticket, with who asked and when."""

    req: TicketRequest
    actor: str
    now: datetime
    correlation_id: str | None = None


class UnknownEntitlement(DomainError):
    code = "unknown_contract_or_serial"


@dataclass(frozen=True)
class Entitled:
    contract_no: str
    customer_id: str
    customer_name: str
    service_levels: list[dict]
    calendar: str
    dealer_id: str | None


@dataclass(frozen=True)
class Unit:
    serial_no: str
    contract_no: str
    model: str
    warranty_end: date


class OpenedTicket(SimpleNamespace):
    """A ticket as intake wrote it (plain values with `.clocks`, the columns of TicketRow/ClockRow)."""


@dataclass
class _Plan:
    intake: Intake
    ticket: dict[str, Any]
    clocks: list[tuple[Clock, datetime | None]] = field(default_factory=list)


async def lookup_entitlements(
    session: AsyncSession, reqs: list[TicketRequest]
) -> tuple[dict[str, Unit], dict[str, Entitled]]:
    """Units by serial (with their contract) and contracts by number, for a whole batch in ≤ 2 queries."""
    units: dict[str, Unit] = {}
    ents: dict[str, Entitled] = {}
    ent_cols = (
        ENTITLEMENTS.c.contract_no,
        ENTITLEMENTS.c.customer_id,
        ENTITLEMENTS.c.customer_name,
        ENTITLEMENTS.c.service_levels,
        ENTITLEMENTS.c.calendar,
        ENTITLEMENTS.c.dealer_id,
    )
    serials = {r.serial_no for r in reqs if r.serial_no}
    if serials:
        rows = await session.execute(
            select(UNITS.c.serial_no, UNITS.c.model, UNITS.c.warranty_end, *ent_cols)
            .join(ENTITLEMENTS, ENTITLEMENTS.c.contract_no == UNITS.c.contract_no)
            .where(one_of(session, UNITS.c.serial_no, serials))
        )
        for r in rows:
            units[r.serial_no] = Unit(r.serial_no, r.contract_no, r.model, r.warranty_end)
            ents[r.contract_no] = Entitled(
                r.contract_no,
                r.customer_id,
                r.customer_name,
                r.service_levels,
                r.calendar,
                r.dealer_id,
            )
    contracts = {r.contract_no for r in reqs if r.contract_no} - ents.keys()
    if contracts:
        for r in await session.execute(
            select(*ent_cols).where(one_of(session, ENTITLEMENTS.c.contract_no, contracts))
        ):
            ents[r.contract_no] = Entitled(
                r.contract_no,
                r.customer_id,
                r.customer_name,
                r.service_levels,
                r.calendar,
                r.dealer_id,
            )
    return units, ents


def resolve_entitlement(
    req: TicketRequest, units: dict[str, Unit], ents: dict[str, Entitled]
) -> tuple[Entitled | None, Unit | None]:
    """The contract that covers the request; 422 for an unknown contract/serial unless default is allowed.

    A dealer's request sees only what its own dealer sold: another dealer's serial or contract is treated
    as unknown, with the same answer."""
    scope = req.scope_dealer_id

    def visible(ent: Entitled | None) -> bool:
        return scope is None or (ent is not None and ent.dealer_id == scope)

    unit = units.get(req.serial_no) if req.serial_no else None
    if unit is not None and not visible(ents.get(unit.contract_no)):
        unit = None
    if req.serial_no and unit is None and not req.use_default_policy:
        raise UnknownEntitlement(
            f"序列号{req.serial_no}不在任何已签合同中 (serial number not covered by a signed contract; "
            "send use_default_policy=true to register it under the default policy)"
        )
    contract_no = req.contract_no or (unit.contract_no if unit else None)
    if unit and req.contract_no and unit.contract_no != req.contract_no:
        raise UnknownEntitlement(
            f"序列号{req.serial_no}属于合同{unit.contract_no}，不是{req.contract_no} "
            f"(the serial belongs to contract {unit.contract_no})"
        )
    ent = ents.get(contract_no) if contract_no else None
    if not visible(ent):
        ent = None
    if req.contract_no and ent is None and not req.use_default_policy:
        raise UnknownEntitlement(
            f"合同{req.contract_no}不存在或尚未签署 (unknown or unsigned contract; "
            "send use_default_policy=true to use the default policy)"
        )
    return ent, unit


async def find_entitlement(
    session: AsyncSession, req: TicketRequest
) -> tuple[Entitled | None, Unit | None]:
    return resolve_entitlement(req, *await lookup_entitlements(session, [req]))


def _plan(
    intake: Intake,
    ent: Entitled | None,
    unit: Unit | None,
    policy: Policy,
    calendar: WorkCalendar,
    settings: TicketsSettings,
) -> _Plan:
    """Everything about a new ticket except its number: row values, clocks, deadlines, warning times."""
    req, now = intake.req, intake.now
    customer_name = req.customer_name or (ent.customer_name if ent else None)
    if not customer_name:
        raise DomainError("请填写客户名称 (customer_name is required when no contract is given)")
    ticket = dict(
        id=str(uuid.uuid4()),
        ticket_no=None,
        status=Status.NEW.value,
        channel=req.channel,
        request_type=req.request_type.value,
        urgency=req.urgency.value,
        description=req.description,
        customer_id=req.customer_id or (ent.customer_id if ent else None),
        customer_name=customer_name,
        contact_name=req.contact.name,
        contact_phone=req.contact.phone,
        contact_email=req.contact.email,
        contract_no=ent.contract_no if ent else req.contract_no,
        product_model=req.product_model or (unit.model if unit else None),
        serial_no=req.serial_no,
        batch_no=req.batch_no,
        dealer_id=req.dealer_id or (ent.dealer_id if ent else None),
        calendar_id=policy.calendar,
        policy=asdict(policy),
        in_warranty=warranty_valid(unit.warranty_end if unit else None, now.date()),
        assignee_id=None,
        assignee_kind=None,
        assignee_name=None,
        external_ref=req.external_ref,
        parent_ticket_id=req.parent_ticket_id,
        survey_id=req.survey_id,
        sla_state="ok",
        opened_at=now,
        opened_by=intake.actor,
        acknowledged_at=None,
        assigned_at=None,
        first_response_at=None,
        onsite_at=None,
        resolved_at=None,
        completed_at=None,
        reopen_count=0,
    )
    plan = _Plan(intake, ticket)
    for kind, target in clock_targets(policy, req.request_type, calendar, now).items():
        clock = Clock(
            kind=kind, target=timedelta(seconds=int(target.total_seconds())), started_at=now
        )
        clock.recompute(calendar)
        plan.clocks.append((clock, clock.warn_at(calendar, settings.sla_warning_fraction)))
    return plan


async def open_tickets(
    session: AsyncSession, intakes: list[Intake], settings: TicketsSettings
) -> list[OpenedTicket | DomainError]:
    """Open several tickets in the caller's transaction; a request refused by a rule gets its DomainError
    in its place and writes nothing, the others are written with one statement per table."""
    units, ents = await lookup_entitlements(session, [i.req for i in intakes])
    version = await calendar_version(session)
    results: list[OpenedTicket | DomainError | _Plan] = []
    for intake in intakes:
        try:
            ent, unit = resolve_entitlement(intake.req, units, ents)
            policy = (
                policy_from_levels(
                    ent.service_levels, intake.req.urgency, ent.calendar, ent.contract_no
                )
                if ent is not None
                else DEFAULT_POLICIES[intake.req.urgency]
            )
            calendar = await calendar_for(session, policy.calendar, version)
            results.append(_plan(intake, ent, unit, policy, calendar, settings))
        except DomainError as exc:
            results.append(exc)
    plans = [p for p in results if isinstance(p, _Plan)]
    if plans:
        await _number(session, plans, settings.ticket_prefix)
        opened = await _write(session, plans, settings)
        it = iter(opened)
        results = [next(it) if isinstance(r, _Plan) else r for r in results]
    return results  # type: ignore[return-value]


async def open_ticket(
    session: AsyncSession,
    req: TicketRequest,
    actor: str,
    now: datetime,
    settings: TicketsSettings,
    correlation_id: str | None = None,
) -> OpenedTicket:
    [result] = await open_tickets(session, [Intake(req, actor, now, correlation_id)], settings)
    if isinstance(result, DomainError):
        raise result
    return result


async def _number(session: AsyncSession, plans: list[_Plan], prefix: str) -> None:
    """SV-YYYYMMDD-NNNN per business day: one counter upsert per day reserves a block for the batch."""
    by_day: dict[str, list[_Plan]] = {}
    for p in plans:
        by_day.setdefault(p.intake.now.astimezone(SH).strftime("%Y%m%d"), []).append(p)
    for day, group in sorted(by_day.items()):
        stmt = upsert_insert(session, COUNTERS).values(day=day, last=len(group))
        stmt = stmt.on_conflict_do_update(
            index_elements=["day"], set_={"last": COUNTERS.c.last + stmt.excluded.last}
        )
        last = (await session.execute(stmt.returning(COUNTERS.c.last))).scalar_one()
        for n, p in enumerate(group, start=last - len(group) + 1):
            p.ticket["ticket_no"] = f"{prefix}-{day}-{n:04d}"


async def _write(
    session: AsyncSession, plans: list[_Plan], settings: TicketsSettings
) -> list[OpenedTicket]:
    """Tickets, clocks, each running clock's one job and the TicketOpened events: on PostgreSQL one
    statement (data-modifying CTEs over unnest arrays: one round trip), elsewhere one statement per table."""
    clock_rows = [
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
    jobs = []  # keyed by the clock's id, which the insert assigns
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
    opened, clocks = [], {}
    rows_by_ticket: dict[str, list[dict[str, Any]]] = {}
    for row in clock_rows:
        rows_by_ticket.setdefault(row["ticket_id"], []).append(row)
    for p in plans:
        ticket = OpenedTicket(
            **p.ticket, clocks=[SimpleNamespace(**c) for c in rows_by_ticket[p.ticket["id"]]]
        )
        clocks.update({(ticket.id, c.kind): c for c in ticket.clocks})
        opened.append(ticket)
    events = [
        Envelope(data=opened_event(t), subject=t.ticket_no, correlation_id=p.intake.correlation_id)
        for t, p in zip(opened, plans, strict=True)
    ]
    created = utcnow()
    if is_postgresql(session):
        stmt, parts = _one_statement(
            tuple(plans[0].ticket), tuple(clock_rows[0]), dialect_of(session)
        )
        params: dict[str, Any] = {"created": created}
        for part, rows in zip(
            parts, ([p.ticket for p in plans], clock_rows, outbox_rows(events)), strict=True
        ):
            params |= part.params(rows)
        for i, name in enumerate(JOB_COLUMNS):
            params[f"j{i}"] = [j[name] for j in jobs]
        returned = await session.execute(stmt, params)
        session.info[OUTBOX_PENDING] = True
    else:
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
    for r in returned:
        clocks[(r.ticket_id, r.kind)].id = r.id
    if jobs and min(j["due_at"] for j in jobs) <= created + WAKE_SCHEDULER_WITHIN:
        session.info[SCHEDULER_PENDING] = True
    return opened


JOB_COLUMNS = ("ticket_id", "clock", "kind", "due_at", "payload")


@lru_cache(maxsize=8)
def _one_statement(
    ticket_names: tuple[str, ...], clock_names: tuple[str, ...], dialect: Any
) -> tuple[Any, tuple[UnnestInsert, ...]]:
    t = unnest_insert(TICKETS, ticket_names, "t", dialect)
    c = unnest_insert(CLOCKS, clock_names, "c", dialect)
    o = unnest_insert(
        outbox, ("id", "subject", "headers", "body", "created_at", "attempts"), "o", dialect
    )
    # the clocks' ids feed their jobs' keys inside the statement; the foreign keys are checked at its end
    sql = f"""WITH t AS ({t.sql}),
c AS ({c.sql} RETURNING id, ticket_id, kind),
j AS (INSERT INTO scheduled_jobs (kind, key, due_at, payload, status, attempts, created_at)
      SELECT u.kind, CAST(c.id AS text), u.due_at, u.payload, '{JOB_PENDING}', 0, CAST(:created AS timestamptz)
      FROM c JOIN unnest(CAST(:j0 AS text[]), CAST(:j1 AS text[]), CAST(:j2 AS text[]), CAST(:j3 AS timestamptz[]),
                         CAST(:j4 AS text[])) AS u(ticket_id, clock, kind, due_at, payload)
        ON u.ticket_id = c.ticket_id AND u.clock = c.kind),
o AS ({o.sql})
SELECT id, ticket_id, kind FROM c"""
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
        contact=Contact(
            name=ticket.contact_name, phone=ticket.contact_phone, email=ticket.contact_email
        ),
        contract_no=ticket.contract_no,
        product_model=ticket.product_model,
        serial_no=ticket.serial_no,
        dealer_id=ticket.dealer_id,
        acknowledge_due=deadline_of(ticket, "acknowledge"),
        response_due=deadline_of(ticket, "response"),
        resolution_due=deadline_of(ticket, "resolution"),
        deadlines_provisional=any(c.provisional for c in ticket.clocks),
    )


async def ticket_by_external_ref(session: AsyncSession, channel: str, ref: str) -> TicketRow | None:
    return await session.scalar(
        select(TicketRow).where(TicketRow.channel == channel, TicketRow.external_ref == ref)
    )


__all__ = [
    "Intake",
    "OpenedTicket",
    "Policy",
    "TicketRequest",
    "find_entitlement",
    "open_ticket",
    "open_tickets",
]
