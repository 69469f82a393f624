"""Balances: the conditional updates that keep stock from ever going negative, reservations
covered by stock as it arrives, and the reorder point crossed once. Every function runs in the
caller's transaction; the balance row is always written before the reservations of its part and
location, so two transactions never wait for each other in opposite orders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import upsert_insert
from aftersales_shared.errors import Conflict
from aftersales_shared.events import (
    Envelope,
    PartsArrivedForTicketV1,
    StockBelowReorderPointV1,
)
from aftersales_shared.outbox import enqueue

from .. import domain as d
from ..models import BalanceRow, PartRow, ReservationRow

B = BalanceRow.__table__
P = PartRow.__table__
R = ReservationRow.__table__
OPEN = "open"


def _at(part_no: str, location_id: str) -> object:
    return and_(B.c.part_no == part_no, B.c.location_id == location_id)


async def balance(session: AsyncSession, part_no: str, location_id: str) -> tuple[int, int, int]:
    """(on hand, reserved, faulty), as committed now (a fresh read, never the identity map)."""
    row = (
        await session.execute(
            select(B.c.on_hand, B.c.reserved, B.c.faulty).where(_at(part_no, location_id))
        )
    ).first()
    return (row[0], row[1], row[2]) if row else (0, 0, 0)


async def add(
    session: AsyncSession, part_no: str, location_id: str, quantity: int, column: str = "on_hand"
) -> None:
    """Units in: the balance row is made on first use."""
    values = {"on_hand": 0, "reserved": 0, "faulty": 0} | {column: quantity}
    stmt = (
        upsert_insert(session, B)
        .values(part_no=part_no, location_id=location_id, **values)
        .on_conflict_do_update(
            index_elements=[B.c.part_no, B.c.location_id],
            set_={column: B.c[column] + quantity},
        )
    )
    await session.execute(stmt)


async def take(
    session: AsyncSession,
    part_no: str,
    location_id: str,
    quantity: int,
    *,
    own_reserved: int = 0,
) -> None:
    """Good units out, only if that many are free: on hand minus what is reserved for others
    (`own_reserved`: the caller's own ticket's reserved units, consumed with it). One conditional
    UPDATE: of two concurrent takes of the last unit, one finds the row no longer matching."""
    result = await session.execute(
        update(B)
        .where(
            _at(part_no, location_id),
            B.c.on_hand - B.c.reserved + own_reserved >= quantity,
            B.c.reserved >= own_reserved,
        )
        .values(on_hand=B.c.on_hand - quantity, reserved=B.c.reserved - own_reserved)
    )
    if result.rowcount != 1:
        on_hand, reserved, _ = await balance(session, part_no, location_id)
        free = on_hand - reserved + own_reserved
        raise Conflict(
            f"库位{location_id}的备件{part_no}可用库存不足：在库{on_hand}件，其中{reserved}件已为"
            f"工单预留，可用{max(free, 0)}件，本次需要{quantity}件 (not enough free stock: "
            f"{on_hand} on hand, {reserved} reserved, {quantity} asked)",
            code="insufficient_stock",
        )


async def take_faulty(session: AsyncSession, part_no: str, location_id: str, quantity: int) -> None:
    result = await session.execute(
        update(B)
        .where(_at(part_no, location_id), B.c.faulty >= quantity)
        .values(faulty=B.c.faulty - quantity)
    )
    if result.rowcount != 1:
        _, _, faulty = await balance(session, part_no, location_id)
        raise Conflict(
            f"库位{location_id}的备件{part_no}旧件只有{faulty}件，不能报废{quantity}件 (only "
            f"{faulty} faulty units there)",
            code="insufficient_stock",
        )


async def cover_waiting(
    session: AsyncSession,
    part: PartRow,
    location_id: str,
    now: datetime,
    *,
    announce: bool = True,
) -> list[str]:
    """Stock at the location now holds these waiting reservations (oldest first, whole): they
    become reserved units, and each ticket hears PartsArrivedForTicket. Call after units arrive
    or reserved units are freed."""
    waiting_rows = (
        await session.execute(
            select(R.c.reservation_id, R.c.remaining, R.c.ticket_no)
            .where(
                R.c.part_no == part.part_no,
                R.c.location_id == location_id,
                R.c.status == OPEN,
                R.c.covered_at.is_(None),
                R.c.remaining > 0,
            )
            .order_by(R.c.created_at, R.c.reservation_id)
            .with_for_update()
        )
    ).all()
    if not waiting_rows:
        return []
    on_hand, reserved, _ = await balance(session, part.part_no, location_id)
    covered = d.newly_covered(
        on_hand, reserved, [d.Waiting(r.reservation_id, r.remaining) for r in waiting_rows]
    )
    by_id = {r.reservation_id: r for r in waiting_rows}
    for rid in covered:
        row = by_id[rid]
        await session.execute(
            update(B)
            .where(_at(part.part_no, location_id))
            .values(reserved=B.c.reserved + row.remaining)
        )
        await session.execute(update(R).where(R.c.reservation_id == rid).values(covered_at=now))
    for rid in covered if announce else []:
        row = by_id[rid]
        still = await session.scalar(
            select(func.count()).where(
                R.c.ticket_no == row.ticket_no, R.c.status == OPEN, R.c.covered_at.is_(None)
            )
        )
        await enqueue(
            session,
            Envelope(
                data=PartsArrivedForTicketV1(
                    reservation_id=rid,
                    ticket_no=row.ticket_no,
                    part_no=part.part_no,
                    part_name=part.name,
                    quantity=row.remaining,
                    location_id=location_id,
                    arrived_at=now,
                    still_waiting=still or 0,
                ),
                subject=row.ticket_no,
            ),
        )
    return covered


async def total_on_hand(session: AsyncSession, part_no: str) -> int:
    return int(
        await session.scalar(
            select(func.coalesce(func.sum(B.c.on_hand), 0)).where(B.c.part_no == part_no)
        )
        or 0
    )


async def check_reorder(
    session: AsyncSession, part: PartRow, movement_id: str, now: datetime
) -> None:
    """After a movement that changed the part's total good stock: announce the crossing to or
    below the reorder point once, re-arm above it. The part row is locked first, and the total
    read after the lock, so concurrent movements see each other's totals."""
    flagged = await session.scalar(
        select(P.c.below_reorder)
        .where(P.c.part_no == part.part_no)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: the ledger's FK holds KEY SHARE
    )
    on_hand = await total_on_hand(session, part.part_no)
    crossing = d.reorder_crossing(on_hand, part.reorder_point, bool(flagged))
    if crossing is None:
        return
    await session.execute(
        update(P).where(P.c.part_no == part.part_no).values(below_reorder=crossing)
    )
    if crossing:
        await enqueue(
            session,
            Envelope(
                data=StockBelowReorderPointV1(
                    part_no=part.part_no,
                    part_name=part.name,
                    on_hand=on_hand,
                    reorder_point=part.reorder_point,
                    reorder_quantity=part.reorder_quantity,
                    movement_id=movement_id,
                    at=now,
                ),
                subject=part.part_no,
            ),
        )
