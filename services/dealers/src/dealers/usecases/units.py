"""Units sold through a dealer (sale registration): by the dealer itself or by a signed contract.

Both transports report the same action — a dealer registers a sale (POST /units), or contracts
reports a contract signed through a dealer (ContractSigned) — and both go through `register_sale`:
one command type, one row builder, the same card deadlines. The rules that differ by source (the
date checks in `check_sale`, a serial already known in `_held_serial`) are written down there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict

from .. import domain as d
from ..models import SoldUnitRow, UnitConflictRow
from ..settings import DealersSettings
from .cards import arm_card_deadlines
from .common import Ctx, acting_dealer, audit, flush, owned, page_of, scoped

CONTRACTS = "contracts"  # who acts for a contract's units (the producing service)
ALREADY_SOLD = "序列号{}已登记销售 (serial number already registered as sold)"


class SaleSource(StrEnum):
    DEALER = "dealer"  # the dealer's own registration (POST /units)
    CONTRACT = (
        "contract"  # a contract signed through the dealer (ContractSigned): it owns its serials
    )


@dataclass(frozen=True)
class SoldItem:
    serial_no: str
    model: str
    warranty_end: date | None = None


@dataclass(frozen=True)
class Sale:
    """Units sold through a dealer to one customer on one day; each owes a card by day 20."""

    source: SaleSource
    # as requested; None: a dealer user's own dealer (a contract without a dealer sells no units)
    dealer_id: str | None
    sale_date: date
    customer_name: str
    items: tuple[SoldItem, ...]
    contract_no: str | None = None
    event_id: str | None = None  # the ContractSigned event, kept in the audit trail


@dataclass
class SaleOutcome:
    # the units as answered (the answer to a claim of another dealer's serial is not stored)
    units: list[SoldUnitRow] = field(default_factory=list)
    added: int = 0


def check_sale(cmd: Sale, today: date) -> None:
    """A dealer's own registration is checked: not dated after today, no warranty ending before it.

    A signed contract's dates are taken as they come, as they always have been: the contract is the
    record of the sale, its signing time may run ahead of this service's clock, and refusing the
    event would not correct it — it would only leave the contract's units unknown here (the inbox
    retries it, then dead-letters it).
    """
    if cmd.source is SaleSource.DEALER:
        for item in cmd.items:
            d.check_sale_dates(cmd.sale_date, item.warranty_end, today)


async def register_sale(
    session: AsyncSession,
    cmd: Sale,
    now: datetime,
    cfg: DealersSettings,
    actor: Principal | None = None,
) -> SaleOutcome:
    """Record the sold units (source `dealer` needs the acting user: its dealer, its isolation)."""
    ctx: Ctx | None = None
    if cmd.source is SaleSource.DEALER:
        if actor is None:
            raise ValueError("a dealer's registration is made by a user (actor)")
        ctx = Ctx(actor, now, cfg)
        seller = (await acting_dealer(session, ctx, cmd.dealer_id)).dealer_id
    elif cmd.dealer_id:
        seller = cmd.dealer_id
    else:
        return SaleOutcome()  # a contract signed without a dealer: no dealer's units
    check_sale(cmd, d.local_date(now, ZoneInfo(cfg.business_timezone)))
    outcome = SaleOutcome()
    for item in cmd.items:
        held = await session.get(SoldUnitRow, item.serial_no, with_for_update=True)
        if held is not None:
            answer = await _held_serial(session, held, seller, cmd, item, ctx, now)
            if answer is not None:
                outcome.units.append(answer)
            continue
        unit = _sold_unit(cmd, item, seller, now, ctx.who if ctx else CONTRACTS)
        session.add(unit)
        if ctx is not None:
            await flush(session, ALREADY_SOLD.format(item.serial_no))
        else:
            await session.flush()
        await arm_card_deadlines(session, unit, now, cfg)
        outcome.units.append(unit)
        outcome.added += 1
        if ctx is not None:
            await audit(session, ctx, seller, "unit", unit.serial_no, "sold", **_asked(cmd, item))
    if cmd.source is SaleSource.CONTRACT:
        await audit(
            session,
            None,
            seller,
            "contract",
            cmd.contract_no or "",
            "units_learnt",
            actor=CONTRACTS,
            at=now,
            added=outcome.added,
            event_id=cmd.event_id,
        )
    return outcome


def _sold_unit(cmd: Sale, item: SoldItem, dealer_id: str, now: datetime, by: str) -> SoldUnitRow:
    return SoldUnitRow(
        serial_no=item.serial_no,
        dealer_id=dealer_id,
        model=item.model,
        sale_date=cmd.sale_date,
        warranty_end=item.warranty_end,
        customer_name=cmd.customer_name,
        contract_no=cmd.contract_no,
        source=cmd.source.value,
        card_due=d.card_due_date(cmd.sale_date),
        card_status="pending",
        created_at=now,
        created_by=by,
    )


def _asked(cmd: Sale, item: SoldItem) -> dict[str, Any]:
    """A dealer's registration as it was asked for (the audit trail keeps it)."""
    return {
        "dealer_id": cmd.dealer_id,
        "serial_no": item.serial_no,
        "model": item.model,
        "sale_date": cmd.sale_date,
        "warranty_end": item.warranty_end,
        "customer_name": cmd.customer_name,
        "contract_no": cmd.contract_no,
    }


async def _held_serial(
    session: AsyncSession,
    held: SoldUnitRow,
    seller: str,
    cmd: Sale,
    item: SoldItem,
    ctx: Ctx | None,
    now: datetime,
) -> SoldUnitRow | None:
    """A serial known already.

    A dealer's registration: staff, or the dealer's own unit, get the truth (409); another dealer's
    unit is a silent ownership conflict. A contract takes a unit another dealer registered itself;
    otherwise the unit is simply known (a re-signed contract, or this dealer registered it first).
    """
    if ctx is not None:
        if ctx.scope is None or held.dealer_id == seller:
            raise Conflict(ALREADY_SOLD.format(item.serial_no))
        return await _claim_of_another_dealers_unit(session, held, seller, cmd, item, ctx)
    if held.source == SaleSource.DEALER and held.dealer_id != seller:
        await _contract_takes_the_unit(session, held, seller, cmd, now)
    return None


async def _claim_of_another_dealers_unit(
    session: AsyncSession, held: SoldUnitRow, claimant: str, cmd: Sale, item: SoldItem, ctx: Ctx
) -> SoldUnitRow:
    """A dealer registers a serial another dealer holds. The answer must not tell it that the serial
    exists (it gets what a new registration gets); the unit stays where it is, and a manager sees an
    open ownership conflict (GET /unit-conflicts) naming both dealers. The registration is not kept:
    the claimant's own lists and cards do not show the unit unless the manager's decision moves
    it."""
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
                note=(
                    f"经销商{claimant}自行登记了{held.dealer_id}已登记的序列号 "
                    "(self-registration of a held serial)"
                ),
            )
        )
        # staff-only audit (no dealer id): neither dealer learns of the other through its audit
        # trail
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
    return _sold_unit(
        cmd, item, claimant, ctx.now, ctx.who
    )  # a new registration's answer, not stored


async def _contract_takes_the_unit(
    session: AsyncSession,
    unit: SoldUnitRow,
    seller: str,
    cmd: Sale,
    now: datetime,
) -> None:
    """A signed contract sells a serial another dealer registered itself: the contract's dealer owns
    the unit (its card, repairs and returns), and the earlier registration becomes an open conflict
    for a manager."""
    squatter = unit.dealer_id
    session.add(
        UnitConflictRow(
            id=str(uuid.uuid4()),
            serial_no=unit.serial_no,
            registered_by_dealer=squatter,
            contract_dealer=seller,
            contract_no=cmd.contract_no or "",
            status="open",
            created_at=now,
        )
    )
    unit.dealer_id, unit.source, unit.contract_no = seller, cmd.source.value, cmd.contract_no
    unit.customer_name, unit.sale_date = cmd.customer_name, cmd.sale_date
    for dealer in (squatter, seller):
        await audit(
            session,
            None,
            dealer,
            "unit",
            unit.serial_no,
            "ownership_conflict",
            actor=CONTRACTS,
            at=now,
            registered_by_dealer=squatter,
            contract_dealer=seller,
            contract_no=cmd.contract_no,
            event_id=cmd.event_id,
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
