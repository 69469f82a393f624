"""Units sold through a dealer (sale registration): by the dealer itself or by a signed contract."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import (
    ContractSignedV1,
    Envelope,
)

from .. import domain as d
from ..models import (
    SoldUnitRow,
    UnitConflictRow,
)
from ..schemas import (
    UnitIn,
)
from ..settings import DealersSettings
from .cards import arm_card_deadlines
from .common import (
    Ctx,
    acting_dealer,
    audit,
    flush,
    owned,
    page_of,
    scoped,
)


async def register_unit(session: AsyncSession, cmd: UnitIn, ctx: Ctx) -> SoldUnitRow:
    dealer = await acting_dealer(session, ctx, cmd.dealer_id)
    if cmd.sale_date > ctx.today:
        raise DomainError("销售日期不能晚于今天 (sale date cannot be in the future)")
    if cmd.warranty_end is not None and cmd.warranty_end < cmd.sale_date:
        raise DomainError("保修截止日不能早于销售日期 (warranty end before the sale)")
    held = await session.get(SoldUnitRow, cmd.serial_no, with_for_update=True)
    if held is not None:
        if (
            ctx.scope is None or held.dealer_id == dealer.dealer_id
        ):  # staff, or the dealer's own unit: the truth
            raise Conflict(
                f"序列号{cmd.serial_no}已登记销售 (serial number already registered as sold)"
            )
        return await _claim_of_another_dealers_unit(session, held, dealer.dealer_id, cmd, ctx)
    unit = SoldUnitRow(
        serial_no=cmd.serial_no,
        dealer_id=dealer.dealer_id,
        model=cmd.model,
        sale_date=cmd.sale_date,
        warranty_end=cmd.warranty_end,
        customer_name=cmd.customer_name,
        contract_no=cmd.contract_no,
        source="dealer",
        card_due=d.card_due_date(cmd.sale_date),
        card_status="pending",
        created_at=ctx.now,
        created_by=ctx.who,
    )
    session.add(unit)
    await flush(
        session, f"序列号{cmd.serial_no}已登记销售 (serial number already registered as sold)"
    )
    await arm_card_deadlines(session, unit, ctx.now, ctx.cfg)
    await audit(session, ctx, dealer.dealer_id, "unit", unit.serial_no, "sold", **cmd.model_dump())
    return unit


async def _claim_of_another_dealers_unit(
    session: AsyncSession, held: SoldUnitRow, claimant: str, cmd: UnitIn, ctx: Ctx
) -> SoldUnitRow:
    """A dealer registers a serial another dealer holds. The answer must not tell it that the serial exists (it
    gets what a new registration gets); the unit stays where it is, and a manager sees an open ownership conflict
    (GET /unit-conflicts) naming both dealers. The registration is not kept: the claimant's own lists and cards
    do not show the unit unless the manager's decision moves it."""
    already = await session.scalar(
        select(UnitConflictRow.id).where(
            UnitConflictRow.serial_no == held.serial_no,
            UnitConflictRow.registered_by_dealer == claimant,
            UnitConflictRow.status == "open",
        )
    )
    if already is None:
        session.add(
            UnitConflictRow(
                id=str(uuid.uuid4()),
                serial_no=held.serial_no,
                registered_by_dealer=claimant,
                contract_dealer=held.dealer_id,
                contract_no=held.contract_no or "",
                status="open",
                created_at=ctx.now,
                note=f"经销商{claimant}自行登记了{held.dealer_id}已登记的序列号 (self-registration of a held serial)",
            )
        )
        # staff-only audit (no dealer id): neither dealer learns of the other through its audit trail
        await audit(
            session,
            ctx,
            None,
            "unit",
            held.serial_no,
            "claimed_held_serial",
            claimant=claimant,
            holder=held.dealer_id,
        )
    return SoldUnitRow(  # the answer of a new registration, not stored
        serial_no=cmd.serial_no,
        dealer_id=claimant,
        model=cmd.model,
        sale_date=cmd.sale_date,
        warranty_end=cmd.warranty_end,
        customer_name=cmd.customer_name,
        contract_no=cmd.contract_no,
        source="dealer",
        card_due=d.card_due_date(cmd.sale_date),
        card_status="pending",
        created_at=ctx.now,
        created_by=ctx.who,
    )


async def units_from_contract(
    session: AsyncSession, env: Envelope[ContractSignedV1], now: datetime, cfg: DealersSettings
) -> int:
    """Units of a contract signed through a dealer become sold units owing a warranty card."""
    data = env.data
    if not data.dealer_id:
        return 0
    tz = ZoneInfo(cfg.business_timezone)
    sale_date = d.local_date(data.signed_at, tz)
    added = 0
    for p in data.products:
        known = await session.get(SoldUnitRow, p.serial_no, with_for_update=True)
        if known is not None:
            if known.source == "dealer" and known.dealer_id != data.dealer_id:
                await _contract_takes_the_unit(session, known, data, sale_date, now, env.id)
            continue  # otherwise already known (a re-signed contract, or this dealer registered it first)
        unit = SoldUnitRow(
            serial_no=p.serial_no,
            dealer_id=data.dealer_id,
            model=p.model,
            sale_date=sale_date,
            warranty_end=p.warranty_end,
            customer_name=data.customer.name,
            contract_no=data.contract_no,
            source="contract",
            card_due=d.card_due_date(sale_date),
            card_status="pending",
            created_at=now,
            created_by="contracts",
        )
        session.add(unit)
        await session.flush()
        await arm_card_deadlines(session, unit, now, cfg)
        added += 1
    await audit(
        session,
        None,
        data.dealer_id,
        "contract",
        data.contract_no,
        "units_learnt",
        actor="contracts",
        at=now,
        added=added,
        event_id=env.id,
    )
    return added


async def _contract_takes_the_unit(
    session: AsyncSession,
    unit: SoldUnitRow,
    data: ContractSignedV1,
    sale_date: date,
    now: datetime,
    event_id: str,
) -> None:
    """A signed contract sells a serial another dealer registered itself: the contract's dealer owns the unit
    (its card, repairs and returns), and the earlier registration becomes an open conflict for a manager."""
    squatter = unit.dealer_id
    session.add(
        UnitConflictRow(
            id=str(uuid.uuid4()),
            serial_no=unit.serial_no,
            registered_by_dealer=squatter,
            contract_dealer=data.dealer_id or "",
            contract_no=data.contract_no,
            status="open",
            created_at=now,
        )
    )
    unit.dealer_id, unit.source, unit.contract_no = data.dealer_id, "contract", data.contract_no
    unit.customer_name, unit.sale_date = data.customer.name, sale_date
    for dealer in (squatter, data.dealer_id):
        await audit(
            session,
            None,
            dealer,
            "unit",
            unit.serial_no,
            "ownership_conflict",
            actor="contracts",
            at=now,
            registered_by_dealer=squatter,
            contract_dealer=data.dealer_id,
            contract_no=data.contract_no,
            event_id=event_id,
        )


async def list_units(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    card_status: str | None,
    serial_no: str | None,
    limit: int,
    offset: int,
) -> tuple[list[SoldUnitRow], int]:
    q = scoped(select(SoldUnitRow), SoldUnitRow, scope)
    if dealer_id:
        q = q.where(SoldUnitRow.dealer_id == dealer_id)
    if card_status:
        q = q.where(SoldUnitRow.card_status == card_status)
    if serial_no:
        q = q.where(SoldUnitRow.serial_no == serial_no)
    return await page_of(
        session, q, [SoldUnitRow.sale_date.desc(), SoldUnitRow.serial_no], limit, offset
    )


async def get_unit(session: AsyncSession, serial_no: str, scope: str | None) -> SoldUnitRow:
    return await owned(session, SoldUnitRow, serial_no, scope, "设备")
