"""Opening tickets: entitlement lookup, policy, clocks, number, TicketOpened — the intake hot path.

Lean on purpose (measured by bench/intake.py): one query for the entitlements of a whole batch, the
calendar from a versioned cache, deadlines computed in Python, a block of ticket numbers from one
counter upsert, then tickets, clocks, their jobs and the outbox rows in one statement on PostgreSQL
(one per table on SQLite) instead of ORM objects flushed one row at a time (intake_writes.py).
`open_tickets` takes several requests in one transaction; `IntakeBatcher` feeds it concurrent HTTP
requests (group commit), `open_ticket` is the one-request form the consumers use
(partner_requests.py, follow_ups.py).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aftersales_shared.db import one_of
from aftersales_shared.errors import DomainError, Forbidden
from aftersales_shared.events import ComplaintLevel, ComplaintType, Contact, Urgency
from aftersales_shared.groupcommit import GroupCommit
from aftersales_shared.workcalendar import WorkCalendar

from ..calendar_cache import calendar_for, calendar_version
from ..domain import (
    DEFAULT_POLICIES,
    Clock,
    Policy,
    RequestType,
    Status,
    clock_targets,
    policy_from_levels,
    warranty_valid,
)
from ..models import EntitledUnitRow, EntitlementRow
from ..settings import TicketsSettings
from .complaints import NewComplaint, open_complaints
from .intake_writes import OpenedTicket, Plan, number, write

UNITS, ENTITLEMENTS = EntitledUnitRow.__table__, EntitlementRow.__table__


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
    # a dealer's own request: only units and contracts sold by this dealer are visible to it;
    # anything else is answered exactly as a serial or contract nobody has (no existence oracle,
    # nothing of it copied)
    scope_dealer_id: str | None = None
    # a complaint's level (default general) and owner (default: the configured supervisor)
    complaint_level: ComplaintLevel | None = None
    complaint_owner: str | None = None
    complaint_type: ComplaintType | None = None
    # a request from someone not signed in (the public web form): a serial and a contract that
    # disagree are taken as neither known (never an answer naming the contract the serial is on),
    # and without a contract the contact's name is the customer's
    unverified: bool = False


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


async def lookup_entitlements(
    session: AsyncSession, reqs: list[TicketRequest]
) -> tuple[dict[str, Unit], dict[str, Entitled]]:
    """Units by serial (with their contract) and contracts by number, for a whole batch in ≤ 2
    queries."""
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
    """The contract that covers the request; 422 for an unknown contract/serial unless default is
    allowed.

    A dealer's request sees only what its own dealer sold: another dealer's serial or contract is
    treated as unknown, with the same answer."""
    scope = req.scope_dealer_id

    def visible(ent: Entitled | None) -> bool:
        return scope is None or (ent is not None and ent.dealer_id == scope)

    unit = units.get(req.serial_no) if req.serial_no else None
    if unit is not None and not visible(ents.get(unit.contract_no)):
        unit = None
    if req.serial_no and unit is None and not req.use_default_policy:
        raise UnknownEntitlement(
            f"序列号{req.serial_no}不在任何已签合同中 (serial number not covered by a signed "
            "contract; "
            "send use_default_policy=true to register it under the default policy)"
        )
    contract_no = req.contract_no or (unit.contract_no if unit else None)
    if unit and req.contract_no and unit.contract_no != req.contract_no:
        if req.unverified:
            return None, None
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


def plan(
    intake: Intake,
    ent: Entitled | None,
    unit: Unit | None,
    policy: Policy,
    calendar: WorkCalendar,
    settings: TicketsSettings,
) -> Plan:
    """Everything about a new ticket except its number: row values, clocks, deadlines, warning
    times."""
    req, now = intake.req, intake.now
    customer_name = req.customer_name or (ent.customer_name if ent else None)
    if not customer_name and req.unverified:
        customer_name = req.contact.name
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
        contact_wechat_openid=req.contact.wechat_openid,
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
    plan = Plan(intake, ticket)
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
    """Open several tickets in the caller's transaction; a request refused by a rule gets its
    DomainError in its place and writes nothing, the others are written with one statement per
    table."""
    units, ents = await lookup_entitlements(session, [i.req for i in intakes])
    version = await calendar_version(session)
    results: list[OpenedTicket | DomainError | Plan] = []
    for intake in intakes:
        try:
            intake = for_own_dealer(intake)
            ent, unit = resolve_entitlement(intake.req, units, ents)
            policy = (
                policy_from_levels(
                    ent.service_levels, intake.req.urgency, ent.calendar, ent.contract_no
                )
                if ent is not None
                else DEFAULT_POLICIES[intake.req.urgency]
            )
            calendar = await calendar_for(session, policy.calendar, version)
            results.append(plan(intake, ent, unit, policy, calendar, settings))
        except DomainError as exc:
            results.append(exc)
    plans = [p for p in results if isinstance(p, Plan)]
    if plans:
        await number(session, plans, settings.ticket_prefix, settings.business_timezone)
        opened = await write(session, plans)
        await open_complaints(
            session,
            [
                NewComplaint(
                    t,
                    p.intake.req.complaint_level,
                    p.intake.req.complaint_owner,
                    p.intake.req.complaint_type,
                    p.intake.actor,
                    p.intake.now,
                )
                for t, p in zip(opened, plans, strict=True)
                if p.intake.req.request_type is RequestType.COMPLAINT
            ],
            settings,
            version,
        )
        it = iter(opened)
        results = [next(it) if isinstance(r, Plan) else r for r in results]
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


def for_own_dealer(intake: Intake) -> Intake:
    """A dealer registers tickets for itself only: its own dealer id is the ticket's, another one is
    refused."""
    req = intake.req
    scope = req.scope_dealer_id
    if scope is None:
        return intake
    if req.dealer_id and req.dealer_id != scope:
        raise Forbidden("经销商只能为本经销商登记工单 (a dealer registers tickets for itself only)")
    return replace(intake, req=replace(req, dealer_id=scope))


class IntakeBatcher:
    """Intake through the shared group commit: one commit (one WAL flush, one counter-row lock, one
    statement per table) serves every request that arrived meanwhile. A rule refusing one request
    fails only that request; if the shared transaction fails, each request is retried on its own."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: TicketsSettings,
        max_batch: int = 64,
    ) -> None:
        async def write_batch(
            session: AsyncSession, intakes: list[Intake]
        ) -> list[OpenedTicket | BaseException]:
            return list(await open_tickets(session, intakes, settings))

        self._group: GroupCommit[Intake, OpenedTicket] = GroupCommit(
            sessions, write_batch, max_batch=max_batch, name="intake-group-commit"
        )

    async def open(self, intake: Intake) -> OpenedTicket:
        """Open one ticket; answered after the commit that holds it."""
        return await self._group.submit(intake)


__all__ = [
    "Intake",
    "IntakeBatcher",
    "OpenedTicket",
    "Policy",
    "TicketRequest",
    "find_entitlement",
    "open_ticket",
    "open_tickets",
]
