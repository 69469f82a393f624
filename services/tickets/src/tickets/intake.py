"""Opening tickets: entitlement lookup, policy, clocks, number, TicketOpened — the intake hot path."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import upsert_insert
from aftersales_shared.errors import DomainError
from aftersales_shared.events import Contact, Envelope, TicketOpenedV1, Urgency
from aftersales_shared.outbox import enqueue

from . import sla
from .calendars import calendar_for
from .domain import DEFAULT_POLICIES, ClockState, Policy, RequestType, Status, clock_targets, policy_from_levels, warranty_valid
from .models import ClockRow, EntitledUnitRow, EntitlementRow, TicketCounter, TicketRow
from .settings import TicketsSettings


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


class UnknownEntitlement(DomainError):
    code = "unknown_contract_or_serial"


async def find_entitlement(session: AsyncSession, req: TicketRequest) -> tuple[EntitlementRow | None, EntitledUnitRow | None]:
    """The contract that covers the request; 422 for an unknown contract/serial unless default is allowed."""
    unit = await session.get(EntitledUnitRow, req.serial_no) if req.serial_no else None
    if req.serial_no and unit is None and not req.use_default_policy:
        raise UnknownEntitlement(
            f"序列号{req.serial_no}不在任何已签合同中 (serial number not covered by a signed contract; "
            "send use_default_policy=true to register it under the default policy)")
    contract_no = req.contract_no or (unit.contract_no if unit else None)
    if unit and req.contract_no and unit.contract_no != req.contract_no:
        raise UnknownEntitlement(
            f"序列号{req.serial_no}属于合同{unit.contract_no}，不是{req.contract_no} "
            f"(the serial belongs to contract {unit.contract_no})")
    ent = await session.get(EntitlementRow, contract_no) if contract_no else None
    if req.contract_no and ent is None and not req.use_default_policy:
        raise UnknownEntitlement(
            f"合同{req.contract_no}不存在或尚未签署 (unknown or unsigned contract; "
            "send use_default_policy=true to use the default policy)")
    return ent, unit


async def next_ticket_no(session: AsyncSession, prefix: str, opened_at: datetime) -> str:
    """SV-YYYYMMDD-NNNN, numbered per business day; the counter row serialises concurrent intakes."""
    day = opened_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")
    stmt = upsert_insert(session, TicketCounter).values(day=day, last=1)
    stmt = stmt.on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounter.last + 1}).returning(TicketCounter.last)
    number = (await session.execute(stmt)).scalar_one()
    return f"{prefix}-{day}-{number:04d}"


async def open_ticket(
    session: AsyncSession, req: TicketRequest, actor: str, now: datetime, settings: TicketsSettings,
    correlation_id: str | None = None,
) -> TicketRow:
    ent, unit = await find_entitlement(session, req)
    if ent is not None:
        policy = policy_from_levels(ent.service_levels, req.urgency, ent.calendar, ent.contract_no)
    else:
        policy = DEFAULT_POLICIES[req.urgency]
    calendar = await calendar_for(session, policy.calendar)
    customer_name = req.customer_name or (ent.customer_name if ent else None)
    if not customer_name:
        raise DomainError("请填写客户名称 (customer_name is required when no contract is given)")
    ticket = TicketRow(
        id=str(uuid.uuid4()), ticket_no=await next_ticket_no(session, settings.ticket_prefix, now), status=Status.NEW.value,
        channel=req.channel, request_type=req.request_type.value, urgency=req.urgency.value, description=req.description,
        customer_id=req.customer_id or (ent.customer_id if ent else None), customer_name=customer_name,
        contact_name=req.contact.name, contact_phone=req.contact.phone, contact_email=req.contact.email,
        contract_no=ent.contract_no if ent else req.contract_no, product_model=req.product_model or (unit.model if unit else None),
        serial_no=req.serial_no, batch_no=req.batch_no, dealer_id=req.dealer_id or (ent.dealer_id if ent else None),
        calendar_id=policy.calendar, policy=asdict(policy), in_warranty=warranty_valid(unit.warranty_end if unit else None, now.date()),
        external_ref=req.external_ref, parent_ticket_id=req.parent_ticket_id, survey_id=req.survey_id, sla_state="ok",
        opened_at=now, opened_by=actor, reopen_count=0, clocks=[],
    )
    session.add(ticket)
    for kind, target in clock_targets(policy, req.request_type, calendar, now).items():
        ticket.clocks.append(ClockRow(kind=kind.value, target_seconds=int(target.total_seconds()), state=ClockState.RUNNING.value,
                                      started_at=now, elapsed_seconds=0.0, running_since=now, escalation_level=0))
    await session.flush()
    for row in ticket.clocks:
        clock = sla.to_domain(row)
        clock.recompute(calendar)
        sla.store(row, clock)
        await sla.arm(session, row, calendar, settings)
    await enqueue(session, Envelope(data=opened_event(ticket), subject=ticket.ticket_no, correlation_id=correlation_id))
    return ticket


def deadline_of(ticket: TicketRow, kind: str) -> datetime | None:
    return next((c.deadline for c in ticket.clocks if c.kind == kind), None)


def opened_event(ticket: TicketRow) -> TicketOpenedV1:
    return TicketOpenedV1(
        ticket_id=ticket.id, ticket_no=ticket.ticket_no, opened_at=ticket.opened_at, channel=ticket.channel,
        request_type=ticket.request_type, urgency=Urgency(ticket.urgency), description=ticket.description,
        customer_id=ticket.customer_id, customer_name=ticket.customer_name,
        contact=Contact(name=ticket.contact_name, phone=ticket.contact_phone, email=ticket.contact_email),
        contract_no=ticket.contract_no, product_model=ticket.product_model, serial_no=ticket.serial_no,
        dealer_id=ticket.dealer_id, acknowledge_due=deadline_of(ticket, "acknowledge"),
        response_due=deadline_of(ticket, "response"), resolution_due=deadline_of(ticket, "resolution"),
        deadlines_provisional=any(c.provisional for c in ticket.clocks),
    )


async def ticket_by_external_ref(session: AsyncSession, channel: str, ref: str) -> TicketRow | None:
    return await session.scalar(select(TicketRow).where(TicketRow.channel == channel, TicketRow.external_ref == ref))


__all__ = ["Policy", "TicketRequest", "find_entitlement", "open_ticket", "timedelta"]
