"""Use cases of the tickets service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import NotFound
from aftersales_shared.events import (
    Contact,
    ContractSignedV1,
    Envelope,
    FollowUpOpenedV1,
    SurveyAnsweredV1,
    TicketRequestedV1,
    Urgency,
)
from aftersales_shared.outbox import enqueue

from .domain import RequestType
from .intake import TicketRequest, open_ticket, ticket_by_external_ref
from .models import EntitledUnitRow, EntitlementRow, TicketRow
from .settings import TicketsSettings


async def record_entitlement(
    session: AsyncSession, env: Envelope[ContractSignedV1], now: datetime
) -> EntitlementRow:
    """Keep what a signed contract entitles its customer to; a newer signing replaces an older one."""
    data = env.data
    existing = await session.get(EntitlementRow, data.contract_no)
    if existing is not None:
        if existing.signed_at > data.signed_at:
            return existing  # an older version arrived late: keep the newer one
        await session.delete(existing)
        await session.flush()
    serials = [p.serial_no for p in data.products]
    await session.execute(delete(EntitledUnitRow).where(EntitledUnitRow.serial_no.in_(serials)))
    row = EntitlementRow(
        contract_no=data.contract_no,
        customer_id=data.customer.customer_id,
        customer_name=data.customer.name,
        contacts=[c.model_dump(mode="json") for c in data.customer.contacts],
        service_levels=[s.model_dump(mode="json") for s in data.service_levels],
        calendar=data.calendar,
        dealer_id=data.dealer_id,
        signed_at=data.signed_at,
        source_event_id=env.id,
        recorded_at=now,
        units=[
            EntitledUnitRow(serial_no=p.serial_no, model=p.model, warranty_end=p.warranty_end)
            for p in data.products
        ],
    )
    session.add(row)
    await session.flush()
    return row


async def get_entitlement(session: AsyncSession, contract_no: str) -> EntitlementRow:
    row = await session.get(EntitlementRow, contract_no)
    if row is None:
        raise NotFound(f"合同{contract_no}没有服务权益记录 (no entitlement for this contract)")
    return row


async def list_entitlements(
    session: AsyncSession,
    *,
    customer_id: str | None,
    serial_no: str | None,
    dealer_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[EntitlementRow], int]:
    query = select(EntitlementRow)
    if customer_id:
        query = query.where(EntitlementRow.customer_id == customer_id)
    if dealer_id:
        query = query.where(EntitlementRow.dealer_id == dealer_id)
    if serial_no:
        query = query.where(
            EntitlementRow.contract_no.in_(
                select(EntitledUnitRow.contract_no).where(EntitledUnitRow.serial_no == serial_no)
            )
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (
        await session.scalars(
            query.order_by(EntitlementRow.signed_at.desc()).limit(limit).offset(offset)
        )
    ).all()
    return list(rows), total


async def open_requested_ticket(
    session: AsyncSession,
    env: Envelope[TicketRequestedV1],
    now: datetime,
    settings: TicketsSettings,
) -> None:
    """A partner's TicketRequested: once per (channel, external_ref); unknown serials get the default policy."""
    data = env.data
    if await ticket_by_external_ref(session, data.channel, data.external_ref) is not None:
        return
    req = TicketRequest(
        channel=data.channel,
        request_type=RequestType(data.request_type),
        urgency=data.urgency,
        description=data.description,
        customer_name=data.customer_name,
        contact=data.contact,
        customer_id=data.customer_id,
        contract_no=data.contract_no,
        product_model=data.product_model,
        serial_no=data.serial_no,
        batch_no=data.batch_no,
        dealer_id=data.dealer_id,
        external_ref=data.external_ref,
        use_default_policy=True,
    )
    await open_ticket(session, req, f"partner:{env.source}", now, settings, env.correlation_id)


async def open_follow_up(
    session: AsyncSession, env: Envelope[SurveyAnsweredV1], now: datetime, settings: TicketsSettings
) -> TicketRow | None:
    """A low satisfaction score becomes a complaint follow-up linked to the surveyed ticket."""
    data = env.data
    if await session.scalar(select(TicketRow.id).where(TicketRow.survey_id == data.survey_id)):
        return None
    original = await session.get(TicketRow, data.ticket_id)
    scores = f"效率{data.efficiency} 态度{data.attitude} 专业性{data.professionalism}"
    req = TicketRequest(
        channel="web_form",
        request_type=RequestType.COMPLAINT,
        urgency=Urgency.URGENT,
        description=f"满意度回访低分跟进（原工单{data.ticket_no}）：{scores}。客户意见：{data.comment or '无'}",
        customer_name=original.customer_name if original else (data.customer_id or "未知客户"),
        contact=Contact(
            name=original.contact_name, phone=original.contact_phone, email=original.contact_email
        )
        if original
        else Contact(name="客户"),
        customer_id=data.customer_id,
        contract_no=original.contract_no if original else None,
        product_model=data.product_model,
        serial_no=original.serial_no if original else None,
        dealer_id=data.dealer_id,
        parent_ticket_id=data.ticket_id,
        survey_id=data.survey_id,
        use_default_policy=True,
    )
    ticket = await open_ticket(session, req, "surveys", now, settings, env.correlation_id)
    await enqueue(
        session,
        Envelope(
            subject=ticket.ticket_no,
            data=FollowUpOpenedV1(
                ticket_id=ticket.id,
                ticket_no=ticket.ticket_no,
                original_ticket_id=data.ticket_id,
                survey_id=data.survey_id,
                opened_at=now,
            ),
        ),
    )
    return ticket
