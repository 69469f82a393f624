"""Reservations: a part kept for a ticket waiting for it (预留), cancelled, or fulfilled by an
issue to that ticket. A reservation the stock on hand holds is covered at once (its units are no
longer issuable to others); one that waits is covered, oldest first, when stock arrives, and the
ticket hears PartsArrivedForTicket."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError, NotFound

from .. import domain as d
from ..models import PartRow, ReservationRow
from . import stock
from .catalog import page, part_not_found, place, scoped_locations, visible_location

R = ReservationRow.__table__
B = stock.B


@dataclass(frozen=True)
class NewReservation:
    part_no: str
    location_id: str
    ticket_no: str
    quantity: int
    note: str | None = None


def not_found(reservation_id: str) -> NotFound:
    return NotFound(f"预留{reservation_id}不存在 (reservation not found)")


async def reserve(
    session: AsyncSession, cmd: NewReservation, user: Principal, now: datetime
) -> ReservationRow:
    part = await session.get(PartRow, cmd.part_no.upper())
    if part is None:
        raise part_not_found(cmd.part_no)
    location = await visible_location(session, cmd.location_id, user)
    d.may_move(d.MovementKind.ISSUE, [place(location)], user)
    row = ReservationRow(
        reservation_id=str(uuid.uuid4()),
        part_no=part.part_no,
        location_id=location.location_id,
        ticket_no=cmd.ticket_no,
        quantity=cmd.quantity,
        remaining=cmd.quantity,
        status=stock.OPEN,
        covered_at=None,
        note=cmd.note,
        created_at=now,
        created_by=user.subject,
    )
    session.add(row)
    await stock.add(session, part.part_no, location.location_id, 0)  # the balance row exists
    await session.flush()
    # covered now if the free stock holds it and nobody older waits (then no event: the ticket
    # need not wait); otherwise it waits for stock to arrive
    covered = await stock.cover_waiting(session, part, location.location_id, now, announce=False)
    if row.reservation_id in covered:
        await session.refresh(row)
    return row


async def cancel(
    session: AsyncSession, reservation_id: str, reason: str, user: Principal, now: datetime
) -> ReservationRow:
    row = await session.get(ReservationRow, reservation_id)
    if row is None:
        raise not_found(reservation_id)
    location = await visible_location(session, row.location_id, user)
    d.may_move(d.MovementKind.ISSUE, [place(location)], user)
    if row.status != stock.OPEN:
        raise DomainError(
            f"预留已{'完成领用' if row.status == 'fulfilled' else '取消'}，不能再取消 (the "
            f"reservation is {row.status})",
            code="reservation_closed",
        )
    remaining, covered = row.remaining, row.covered_at is not None
    if covered:  # its units are free again (balance first, then the reservation)
        await session.execute(
            update(B)
            .where(B.c.part_no == row.part_no, B.c.location_id == row.location_id)
            .values(reserved=B.c.reserved - remaining)
        )
    result = await session.execute(
        update(R)
        .where(
            R.c.reservation_id == reservation_id,
            R.c.status == stock.OPEN,
            R.c.remaining == remaining,
        )
        .values(
            status="cancelled",
            closed_at=now,
            closed_by=user.subject,
            note=(row.note + "\n" if row.note else "") + f"取消原因 (cancelled): {reason}",
        )
    )
    if result.rowcount != 1:
        raise Conflict("预留刚刚发生变化，请刷新后重试 (the reservation changed meanwhile: retry)")
    part = await session.get(PartRow, row.part_no)
    assert part is not None
    if covered:
        await stock.cover_waiting(session, part, row.location_id, now)
    await session.refresh(row)
    return row


async def get(session: AsyncSession, reservation_id: str, user: Principal) -> ReservationRow:
    row = await session.get(ReservationRow, reservation_id)
    if row is None:
        raise not_found(reservation_id)
    await visible_location(session, row.location_id, user)
    return row


async def list_reservations(
    session: AsyncSession,
    user: Principal,
    *,
    ticket_no: str | None,
    part_no: str | None,
    location_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ReservationRow], int]:
    query = scoped_locations(select(ReservationRow), ReservationRow.location_id, user)
    if ticket_no:
        query = query.where(ReservationRow.ticket_no == ticket_no)
    if part_no:
        query = query.where(ReservationRow.part_no == part_no.upper())
    if location_id:
        query = query.where(ReservationRow.location_id == location_id)
    if status:
        query = query.where(ReservationRow.status == status)
    return await page(session, query, [ReservationRow.created_at.desc()], limit, offset)
