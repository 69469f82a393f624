"""Service entitlements learnt from signed contracts: kept per contract, read by intake and the
desk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, dealer_scope
from aftersales_shared.errors import NotFound

from ..models import EntitledUnitRow, EntitlementRow


@dataclass(frozen=True)
class EntitledUnit:
    serial_no: str
    model: str
    warranty_end: date


@dataclass(frozen=True)
class SignedContract:
    """What a signed contract entitles its customer to (from ContractSigned)."""

    contract_no: str
    customer_id: str
    customer_name: str
    contacts: list[dict[str, Any]]
    service_levels: list[dict[str, Any]]
    calendar: str
    dealer_id: str | None
    signed_at: datetime
    source_event_id: str
    units: list[EntitledUnit] = field(default_factory=list)


def _not_found(contract_no: str) -> NotFound:
    return NotFound(f"合同{contract_no}没有服务权益记录 (no entitlement for this contract)")


async def record_entitlement(
    session: AsyncSession, contract: SignedContract, now: datetime
) -> EntitlementRow:
    """Keep what a signed contract entitles its customer to; a newer signing replaces an older
    one."""
    existing = await session.get(EntitlementRow, contract.contract_no)
    if existing is not None:
        if existing.signed_at > contract.signed_at:
            return existing  # an older version arrived late: keep the newer one
        await session.delete(existing)
        await session.flush()
    serials = [u.serial_no for u in contract.units]
    await session.execute(delete(EntitledUnitRow).where(EntitledUnitRow.serial_no.in_(serials)))
    row = EntitlementRow(
        contract_no=contract.contract_no,
        customer_id=contract.customer_id,
        customer_name=contract.customer_name,
        contacts=contract.contacts,
        service_levels=contract.service_levels,
        calendar=contract.calendar,
        dealer_id=contract.dealer_id,
        signed_at=contract.signed_at,
        source_event_id=contract.source_event_id,
        recorded_at=now,
        units=[
            EntitledUnitRow(serial_no=u.serial_no, model=u.model, warranty_end=u.warranty_end)
            for u in contract.units
        ],
    )
    session.add(row)
    await session.flush()
    return row


async def get_entitlement(
    session: AsyncSession, contract_no: str, user: Principal
) -> EntitlementRow:
    """One contract's entitlement; a dealer sees only its own contracts (others: as if none
    existed)."""
    row = await session.get(EntitlementRow, contract_no)
    if row is None:
        raise _not_found(contract_no)
    scope = dealer_scope(user)
    if scope is not None and row.dealer_id != scope:
        raise _not_found(contract_no)
    return row


async def list_entitlements(
    session: AsyncSession,
    user: Principal,
    *,
    customer_id: str | None,
    serial_no: str | None,
    limit: int,
    offset: int,
) -> tuple[list[EntitlementRow], int]:
    """Entitlements, newest signing first; a dealer's list holds its own contracts only."""
    query = select(EntitlementRow)
    dealer_id = dealer_scope(user)
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
