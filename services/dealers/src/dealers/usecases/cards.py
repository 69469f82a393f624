"""Warranty cards (三包回执卡): registration, the manager's override, reminders and overdue
cards."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import CardOverdueV1, Envelope, WarrantyCardRegisteredV1
from aftersales_shared.events.dealers import CardDueSoonV1
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule

from .. import domain as d
from ..models import SoldUnitRow, WarrantyCardRow
from ..settings import DealersSettings
from .common import (
    CARD_OVERDUE,
    CARD_REMINDER,
    LATE_CARD,
    Ctx,
    audit,
    flush,
    measure,
    owned,
    page_of,
    scoped,
)


@dataclass(frozen=True)
class NewCard:
    """A warranty card (三包回执卡) the dealer sends back for a sold unit."""

    serial_no: str
    customer_name: str
    customer_phone: str | None = None
    customer_address: str | None = None
    model: str | None = None  # checked against the unit when given


async def arm_card_deadlines(
    session: AsyncSession, unit: SoldUnitRow, now: datetime, cfg: DealersSettings
) -> None:
    tz = ZoneInfo(cfg.business_timezone)
    overdue_at = d.card_overdue_at(unit.sale_date, tz)
    reminder_at = d.card_reminder_at(unit.sale_date, cfg.card_reminder_days_before, tz)
    if reminder_at < overdue_at and now < overdue_at:
        await schedule(session, CARD_REMINDER, unit.serial_no, reminder_at)
    await schedule(session, CARD_OVERDUE, unit.serial_no, overdue_at)


async def register_card(session: AsyncSession, cmd: NewCard, ctx: Ctx) -> WarrantyCardRow:
    """A card in time recognises the warranty; a late one is kept with the reason it is not
    recognised."""
    unit = await session.get(SoldUnitRow, cmd.serial_no, with_for_update=True)
    if unit is None or (ctx.scope is not None and unit.dealer_id != ctx.scope):
        raise DomainError(
            f"序列号{cmd.serial_no}不是已登记的经销商销售设备 (unknown serial: register the sale "
            "first)",
            code="unknown_serial",
        )
    if cmd.model and cmd.model != unit.model:
        raise DomainError(
            f"型号{cmd.model}与销售记录{unit.model}不符 (model does not match the sale)"
        )
    if await session.scalar(
        select(WarrantyCardRow.id).where(WarrantyCardRow.serial_no == cmd.serial_no)
    ):
        raise Conflict(
            f"序列号{cmd.serial_no}的三包回执卡已登记 (warranty card already registered)"
        )
    outcome = d.card_outcome(unit.sale_date, ctx.today)
    card = WarrantyCardRow(
        id=str(uuid.uuid4()),
        dealer_id=unit.dealer_id,
        serial_no=unit.serial_no,
        model=unit.model,
        sale_date=unit.sale_date,
        customer_name=cmd.customer_name,
        customer_phone=cmd.customer_phone,
        customer_address=cmd.customer_address,
        registered_at=ctx.now,
        registered_by=ctx.who,
        day=outcome.day,
        on_time=outcome.on_time,
        warranty_recognised=outcome.warranty_recognised,
        reason=outcome.reason,
    )
    session.add(card)
    await flush(
        session, f"序列号{cmd.serial_no}的三包回执卡已登记 (warranty card already registered)"
    )
    unit.card_status = "registered"
    await cancel(session, CARD_REMINDER, unit.serial_no)
    await cancel(session, CARD_OVERDUE, unit.serial_no)
    if not outcome.on_time:
        await measure(
            session, unit.dealer_id, LATE_CARD, unit.serial_no, ctx.now, detail=outcome.reason
        )
    await enqueue(session, Envelope(data=_card_event(card), subject=card.serial_no))
    await audit(
        session,
        ctx,
        card.dealer_id,
        "card",
        card.id,
        "registered",
        day=outcome.day,
        warranty_recognised=outcome.warranty_recognised,
    )
    return card


def _card_event(card: WarrantyCardRow) -> WarrantyCardRegisteredV1:
    return WarrantyCardRegisteredV1(
        card_id=card.id,
        dealer_id=card.dealer_id,
        serial_no=card.serial_no,
        model=card.model,
        sale_date=card.sale_date,
        registered_at=card.registered_at,
        customer_name=card.customer_name,
        warranty_recognised=card.warranty_recognised,
        reason=card.reason,
        on_time=card.on_time,
        overridden_by=card.override_by,
        override_note=card.override_note,
    )


async def override_card(
    session: AsyncSession, card_id: str, note: str, ctx: Ctx
) -> WarrantyCardRow:
    card = await owned(session, WarrantyCardRow, card_id, ctx.scope, "三包回执卡", lock=True)
    if card.warranty_recognised:
        raise Conflict("该设备三包已认可，无需特批 (warranty is already recognised)")
    card.warranty_recognised = True
    card.override_by, card.override_note, card.override_at = ctx.who, note, ctx.now
    await enqueue(session, Envelope(data=_card_event(card), subject=card.serial_no))
    await audit(session, ctx, card.dealer_id, "card", card.id, "override", note=note)
    return card


async def get_card(session: AsyncSession, card_id: str, scope: str | None) -> WarrantyCardRow:
    return await owned(session, WarrantyCardRow, card_id, scope, "三包回执卡")


async def list_cards(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    recognised: bool | None,
    serial_no: str | None,
    limit: int,
    offset: int,
) -> tuple[list[WarrantyCardRow], int]:
    q = scoped(select(WarrantyCardRow), WarrantyCardRow, scope)
    if dealer_id:
        q = q.where(WarrantyCardRow.dealer_id == dealer_id)
    if recognised is not None:
        q = q.where(WarrantyCardRow.warranty_recognised == recognised)
    if serial_no:
        q = q.where(WarrantyCardRow.serial_no == serial_no)
    return await page_of(session, q, [WarrantyCardRow.registered_at.desc()], limit, offset)


async def fire_card_reminder(session: AsyncSession, serial_no: str) -> None:
    unit = await session.get(SoldUnitRow, serial_no)
    if unit is not None and unit.card_status == "pending":
        await enqueue(
            session,
            Envelope(
                data=CardDueSoonV1(
                    dealer_id=unit.dealer_id,
                    serial_no=unit.serial_no,
                    model=unit.model,
                    sale_date=unit.sale_date,
                    due_date=unit.card_due,
                    customer_name=unit.customer_name,
                ),
                subject=unit.serial_no,
            ),
        )


async def fire_card_overdue(session: AsyncSession, serial_no: str, now: datetime) -> None:
    unit = await session.get(SoldUnitRow, serial_no)
    if unit is None or unit.card_status != "pending":
        return
    unit.card_status = "overdue"
    await measure(
        session, unit.dealer_id, LATE_CARD, unit.serial_no, now, detail="no card by day 20"
    )
    await enqueue(
        session,
        Envelope(
            data=CardOverdueV1(
                dealer_id=unit.dealer_id,
                serial_no=unit.serial_no,
                sale_date=unit.sale_date,
                due_date=unit.card_due,
            ),
            subject=unit.serial_no,
        ),
    )
    await audit(session, None, unit.dealer_id, "unit", unit.serial_no, "card_overdue", at=now)
