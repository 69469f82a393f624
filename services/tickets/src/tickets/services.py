"""Use cases of the tickets service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import NotFound
from aftersales_shared.events import ContractSignedV1, Envelope

from .models import EntitledUnitRow, EntitlementRow


async def record_entitlement(session: AsyncSession, env: Envelope[ContractSignedV1], now: datetime) -> EntitlementRow:
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
        units=[EntitledUnitRow(serial_no=p.serial_no, model=p.model, warranty_end=p.warranty_end) for p in data.products],
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
    session: AsyncSession, *, customer_id: str | None, serial_no: str | None, dealer_id: str | None,
    limit: int, offset: int,
) -> tuple[list[EntitlementRow], int]:
    query = select(EntitlementRow)
    if customer_id:
        query = query.where(EntitlementRow.customer_id == customer_id)
    if dealer_id:
        query = query.where(EntitlementRow.dealer_id == dealer_id)
    if serial_no:
        query = query.where(
            EntitlementRow.contract_no.in_(select(EntitledUnitRow.contract_no).where(EntitledUnitRow.serial_no == serial_no))
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (await session.scalars(query.order_by(EntitlementRow.signed_at.desc()).limit(limit).offset(offset))).all()
    return list(rows), total
