"""Old-part returns: the dealer's shipments, receipt by the technical department, overdue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import Envelope, PartsReturnOverdueV1
from aftersales_shared.outbox import enqueue

from .. import domain as d
from ..models import RepairPartRow, RepairRecordRow, ShipmentRow
from .common import LATE_RETURN, Ctx, acting_dealer, audit, measure, number, owned, page_of, scoped


@dataclass(frozen=True)
class PartsShipment:
    """Old parts a dealer ships back, listing the repair records they come from."""

    record_ids: list[str]
    dealer_id: str | None = None
    carrier: str | None = None
    truck_ref: str | None = None  # the delivery truck the parts ride back on


async def ship_parts(
    session: AsyncSession, cmd: PartsShipment, ctx: Ctx
) -> tuple[ShipmentRow, int]:
    dealer = await acting_dealer(session, ctx, cmd.dealer_id)
    ids = list(dict.fromkeys(cmd.record_ids))
    if len(ids) != len(cmd.record_ids):
        raise DomainError("同一维修记录重复列出 (a repair record is listed twice)")
    rows = {
        r.id: r
        for r in (
            await session.scalars(
                select(RepairRecordRow).where(RepairRecordRow.id.in_(ids)).with_for_update()
            )
        ).all()
    }
    foreign = [i for i in ids if i not in rows or rows[i].dealer_id != dealer.dealer_id]
    if foreign:
        raise DomainError(
            f"维修记录不存在或不属于经销商{dealer.dealer_id}: {', '.join(foreign)} "
            "(records unknown or belonging to another dealer)",
            code="foreign_records",
        )
    nothing = [
        rows[i].record_no for i in ids if not any(p.status in d.RETURNABLE for p in rows[i].parts)
    ]
    if nothing:
        raise DomainError(
            f"以下维修记录没有待返还的旧件: {', '.join(nothing)} (no old parts owed on these "
            "records)"
        )
    shipment = ShipmentRow(
        id=str(uuid.uuid4()),
        shipment_no=number("FH", ctx),
        dealer_id=dealer.dealer_id,
        record_ids=ids,
        carrier=cmd.carrier,
        truck_ref=cmd.truck_ref,
        shipped_at=ctx.now,
        created_by=ctx.who,
    )
    session.add(shipment)
    count = 0
    for i in ids:
        for p in rows[i].parts:
            if p.status in d.RETURNABLE:
                p.status, p.shipment_id = d.PartStatus.SHIPPED, shipment.id
                count += 1
    await session.flush()
    await audit(
        session, ctx, dealer.dealer_id, "shipment", shipment.id, "shipped", records=ids, parts=count
    )
    return shipment, count


async def receive_shipment(
    session: AsyncSession, shipment_id: str, ctx: Ctx
) -> tuple[ShipmentRow, int]:
    shipment = await owned(session, ShipmentRow, shipment_id, ctx.scope, "旧件发运单", lock=True)
    if shipment.received_at is not None:
        raise Conflict(f"发运单{shipment.shipment_no}已签收 (shipment already received)")
    parts = (
        await session.scalars(select(RepairPartRow).where(RepairPartRow.shipment_id == shipment.id))
    ).all()
    for p in parts:
        p.status, p.received_at = d.PartStatus.RECEIVED, ctx.now
    shipment.received_at, shipment.received_by = ctx.now, ctx.who
    await audit(
        session, ctx, shipment.dealer_id, "shipment", shipment.id, "received", parts=len(parts)
    )
    return shipment, len(parts)


async def shipment_parts(session: AsyncSession, shipment_id: str) -> int:
    return (await parts_per_shipment(session, [shipment_id])).get(shipment_id, 0)


async def parts_per_shipment(session: AsyncSession, shipment_ids: list[str]) -> dict[str, int]:
    """Old-part lines of each shipment, for a whole page in one query (not one per shipment)."""
    if not shipment_ids:
        return {}
    rows = await session.execute(
        select(RepairPartRow.shipment_id, func.count())
        .where(RepairPartRow.shipment_id.in_(shipment_ids))
        .group_by(RepairPartRow.shipment_id)
    )
    return {shipment_id: n for shipment_id, n in rows.all()}


async def get_shipment(session: AsyncSession, shipment_id: str, scope: str | None) -> ShipmentRow:
    return await owned(session, ShipmentRow, shipment_id, scope, "旧件发运单")


async def list_shipments(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    received: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[ShipmentRow, int]], int]:
    """A page of shipments, each with its number of old-part lines."""
    q = scoped(select(ShipmentRow), ShipmentRow, scope)
    if dealer_id:
        q = q.where(ShipmentRow.dealer_id == dealer_id)
    if received is not None:
        q = q.where(
            ShipmentRow.received_at.is_not(None) if received else ShipmentRow.received_at.is_(None)
        )
    rows, total = await page_of(session, q, [ShipmentRow.shipped_at.desc()], limit, offset)
    parts = await parts_per_shipment(session, [r.id for r in rows])
    return [(r, parts.get(r.id, 0)) for r in rows], total


async def fire_return_due(session: AsyncSession, payload: dict[str, Any], now: datetime) -> None:
    """Parts still at the dealer after their return date: overdue, and the claims stay unpaid."""
    dealer_id, due = payload["dealer_id"], date.fromisoformat(payload["due"])
    parts = (
        await session.scalars(
            select(RepairPartRow).where(
                RepairPartRow.dealer_id == dealer_id,
                RepairPartRow.status == d.PartStatus.OWED,
                RepairPartRow.return_due == due,
            )
        )
    ).all()
    if not parts:
        return
    record_ids = sorted({p.record_id for p in parts})
    for p in parts:
        p.status = d.PartStatus.OVERDUE
    await measure(
        session, dealer_id, LATE_RETURN, due.isoformat(), now, detail=f"{len(parts)} part line(s)"
    )
    await enqueue(
        session,
        Envelope(
            data=PartsReturnOverdueV1(
                dealer_id=dealer_id,
                due_date=due,
                repair_record_ids=record_ids,
                parts=sum(p.quantity for p in parts),
            ),
            subject=dealer_id,
        ),
    )
    await audit(
        session,
        None,
        dealer_id,
        "parts_return",
        due.isoformat(),
        "overdue",
        at=now,
        records=record_ids,
    )
