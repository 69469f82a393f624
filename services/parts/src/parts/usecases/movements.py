"""The ledger: receive, transfer, issue to a ticket, return unused, faulty part returned, scrap.

Each movement is one appended ledger row and its effect on the balances, written in one
transaction with the events it causes. The ledger row goes in first: its idempotency key is unique,
so a retry racing the original waits for it and then finds it (`submit` answers the first result
and writes nothing)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aftersales_shared.auth import Principal
from aftersales_shared.db import upsert_insert
from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import Envelope, PartIssuedV1, PartReturnedV1
from aftersales_shared.outbox import enqueue

from .. import domain as d
from ..models import LocationRow, MovementRow, PartRow, ReservationRow, TicketPartRow
from . import money, stock
from .catalog import location_not_found, part_not_found, place

K = d.MovementKind
TP = TicketPartRow.__table__
R = ReservationRow.__table__

# which fields each kind needs (True) or refuses (False)
SHAPE: dict[d.MovementKind, dict[str, bool]] = {
    K.RECEIVE: {"from_location": False, "to_location": True, "ticket_no": False},
    K.TRANSFER: {"from_location": True, "to_location": True, "ticket_no": False},
    K.ISSUE: {"from_location": True, "to_location": False, "ticket_no": True},
    K.RETURN_UNUSED: {"from_location": False, "to_location": True, "ticket_no": True},
    K.FAULTY_RETURNED: {"from_location": False, "to_location": True, "ticket_no": True},
    K.SCRAP: {"from_location": True, "to_location": False, "ticket_no": False},
}
FIELD_ZH = {"from_location": "出库库位", "to_location": "入库库位", "ticket_no": "工单号"}


@dataclass(frozen=True)
class Movement:
    kind: d.MovementKind
    part_no: str
    quantity: int
    idempotency_key: str
    from_location: str | None = None
    to_location: str | None = None
    ticket_no: str | None = None
    stock: str = "good"
    reason: str | None = None


class KeyTaken(Exception):
    """The idempotency key was written by a concurrent transaction (the caller reads it after)."""


def fingerprint(cmd: Movement, user: Principal) -> str:
    body = asdict(cmd) | {"actor": user.subject}
    body.pop("idempotency_key")
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def check_shape(cmd: Movement) -> None:
    name = d.KIND_ZH[cmd.kind]
    for field, needed in SHAPE[cmd.kind].items():
        given = getattr(cmd, field) is not None
        if needed and not given:
            raise DomainError(f"{name}须填写{FIELD_ZH[field]} {field} ({cmd.kind} needs {field})")
        if given and not needed:
            raise DomainError(
                f"{name}不应填写{FIELD_ZH[field]} {field} ({cmd.kind} takes no {field})"
            )
    if cmd.kind is K.TRANSFER and cmd.from_location == cmd.to_location:
        raise DomainError("调拨的出库和入库库位不能相同 (transfer to another location)")
    if cmd.stock == "faulty" and cmd.kind is not K.SCRAP:
        raise DomainError("只有报废可以指定旧件 stock=faulty (only scrap takes faulty stock)")
    if cmd.kind is K.SCRAP and not cmd.reason:
        raise DomainError("报废须填写原因 reason (a scrap needs its reason)")


async def replay(session: AsyncSession, cmd: Movement, user: Principal) -> MovementRow | None:
    """The movement already written with this key (the same request from the same user), if any."""
    row = await session.scalar(
        select(MovementRow).where(MovementRow.idempotency_key == cmd.idempotency_key)
    )
    if row is None:
        return None
    if row.request_fingerprint != fingerprint(cmd, user):
        raise Conflict(
            f"幂等键{cmd.idempotency_key}已用于另一笔库存操作，请换一个键 (this idempotency key "
            "was used for another movement)",
            code="idempotency_key_reused",
        )
    return row


async def submit(
    sessions: async_sessionmaker[AsyncSession], cmd: Movement, user: Principal, now: datetime
) -> tuple[MovementRow, bool]:
    """Record a movement once: (the row, True when it had already been recorded)."""
    try:
        async with sessions.begin() as session:
            done = await replay(session, cmd, user)
            if done is not None:
                return done, True
            return await record(session, cmd, user, now), False
    except KeyTaken:
        async with sessions() as session:
            done = await replay(session, cmd, user)
        if done is None:  # the other transaction failed after all: nothing was written
            raise Conflict(
                "同一幂等键的请求正在处理或已失败，请重试 (a request with this key is in flight)"
            ) from None
        return done, True


async def _locations(session: AsyncSession, cmd: Movement) -> list[LocationRow]:
    rows = []
    for location_id in (cmd.from_location, cmd.to_location):
        if location_id is None:
            continue
        row = await session.get(LocationRow, location_id)
        if row is None:
            raise location_not_found(location_id)
        rows.append(row)
    return rows


async def record(
    session: AsyncSession, cmd: Movement, user: Principal, now: datetime
) -> MovementRow:
    check_shape(cmd)
    part = await session.get(PartRow, cmd.part_no.upper())
    if part is None:
        raise part_not_found(cmd.part_no)
    locations = await _locations(session, cmd)
    if not all(d.may_see(place(loc), user) for loc in locations):
        raise location_not_found(next(loc.location_id for loc in locations))
    d.may_move(cmd.kind, [place(loc) for loc in locations], user)
    if cmd.kind is K.ISSUE and cmd.ticket_no:
        await money.check_may_repair(session, cmd.ticket_no)
    row = MovementRow(
        movement_id=str(uuid.uuid4()),
        kind=cmd.kind.value,
        part_no=part.part_no,
        quantity=cmd.quantity,
        from_location=cmd.from_location,
        to_location=cmd.to_location,
        ticket_no=cmd.ticket_no,
        unit_price=None,
        stock=cmd.stock,
        reason=cmd.reason,
        actor=user.subject,
        at=now,
        idempotency_key=cmd.idempotency_key,
        request_fingerprint=fingerprint(cmd, user),
    )
    if cmd.kind is K.ISSUE:
        row.unit_price = part.unit_price
    elif cmd.kind is K.RETURN_UNUSED:
        row.unit_price = await _return_price(session, part, cmd)
    session.add(row)
    try:
        await session.flush()  # the key first: a concurrent retry waits here, then fails
    except IntegrityError as exc:
        raise KeyTaken() from exc
    await EFFECTS[cmd.kind](session, part, cmd, row, now)
    return row


async def _receive(
    session: AsyncSession, part: PartRow, cmd: Movement, row: MovementRow, now: datetime
) -> None:
    assert cmd.to_location
    await stock.add(session, part.part_no, cmd.to_location, cmd.quantity)
    await stock.cover_waiting(session, part, cmd.to_location, now)
    await stock.check_reorder(session, part, row.movement_id, now)


async def _transfer(
    session: AsyncSession, part: PartRow, cmd: Movement, row: MovementRow, now: datetime
) -> None:
    assert cmd.from_location and cmd.to_location
    # both balance rows in the order of their ids: opposite transfers never deadlock
    for location_id in sorted((cmd.from_location, cmd.to_location)):
        if location_id == cmd.from_location:
            await stock.take(session, part.part_no, location_id, cmd.quantity)
        else:
            await stock.add(session, part.part_no, location_id, cmd.quantity)
    await stock.cover_waiting(session, part, cmd.to_location, now)


async def _issue(
    session: AsyncSession, part: PartRow, cmd: Movement, row: MovementRow, now: datetime
) -> None:
    assert cmd.from_location and cmd.ticket_no and row.unit_price is not None
    own = await _ticket_reserved(session, part.part_no, cmd.from_location, cmd.ticket_no)
    own_covered = min(cmd.quantity, own)
    await stock.take(
        session, part.part_no, cmd.from_location, cmd.quantity, own_reserved=own_covered
    )
    await _consume_reservations(session, part.part_no, cmd, own_covered, now)
    await session.execute(
        upsert_insert(session, TP)
        .values(
            ticket_no=cmd.ticket_no,
            part_no=part.part_no,
            unit_price=row.unit_price,
            issued=cmd.quantity,
            returned=0,
            first_issued_at=now,
        )
        .on_conflict_do_update(
            index_elements=[TP.c.ticket_no, TP.c.part_no, TP.c.unit_price],
            set_={"issued": TP.c.issued + cmd.quantity},
        )
    )
    await enqueue(
        session,
        Envelope(
            data=PartIssuedV1(
                movement_id=row.movement_id,
                part_no=part.part_no,
                part_name=part.name,
                quantity=cmd.quantity,
                unit_price=row.unit_price,
                warranty_part=part.warranty_part,
                location_id=cmd.from_location,
                ticket_no=cmd.ticket_no,
                issued_by=row.actor,
                issued_at=now,
            ),
            subject=cmd.ticket_no,
        ),
    )
    await stock.check_reorder(session, part, row.movement_id, now)


async def _ticket_reserved(
    session: AsyncSession, part_no: str, location_id: str, ticket_no: str
) -> int:
    """The ticket's own reserved (covered) units of the part at the location."""
    rows = (
        await session.execute(
            select(R.c.remaining).where(
                R.c.part_no == part_no,
                R.c.location_id == location_id,
                R.c.ticket_no == ticket_no,
                R.c.status == stock.OPEN,
                R.c.covered_at.is_not(None),
            )
        )
    ).all()
    return sum(r[0] for r in rows)


async def _consume_reservations(
    session: AsyncSession, part_no: str, cmd: Movement, own_covered: int, now: datetime
) -> None:
    """The issued units fulfil the ticket's reservations there: covered ones first (their reserved
    units were taken with the issue), then waiting ones."""
    assert cmd.from_location and cmd.ticket_no
    rows = (
        await session.execute(
            select(R.c.reservation_id, R.c.remaining, R.c.covered_at)
            .where(
                R.c.part_no == part_no,
                R.c.location_id == cmd.from_location,
                R.c.ticket_no == cmd.ticket_no,
                R.c.status == stock.OPEN,
            )
            .order_by(R.c.covered_at.is_(None), R.c.created_at)
            .with_for_update()
        )
    ).all()
    if sum(r.remaining for r in rows if r.covered_at is not None) < own_covered:
        raise Conflict(
            "工单的备件预留刚刚发生变化，请重试 (the ticket's reservation changed: retry)"
        )
    left = cmd.quantity
    for r in rows:
        if left <= 0:
            break
        used = min(left, r.remaining)
        left -= used
        done = used == r.remaining
        await session.execute(
            update(R)
            .where(R.c.reservation_id == r.reservation_id)
            .values(
                remaining=r.remaining - used,
                status="fulfilled" if done else stock.OPEN,
                closed_at=now if done else None,
                closed_by=f"movement:{cmd.idempotency_key}" if done else None,
            )
        )


async def _tiers(session: AsyncSession, part_no: str, ticket_no: str) -> list[d.Tier]:
    rows = (
        await session.execute(
            select(TP.c.unit_price, TP.c.issued, TP.c.returned)
            .where(TP.c.ticket_no == ticket_no, TP.c.part_no == part_no)
            .order_by(TP.c.first_issued_at)
        )
    ).all()
    return [d.Tier(r.unit_price, r.issued, r.returned) for r in rows]


async def _return_price(session: AsyncSession, part: PartRow, cmd: Movement) -> Decimal:
    assert cmd.ticket_no
    tiers = await _tiers(session, part.part_no, cmd.ticket_no)
    return d.return_tier(tiers, cmd.quantity, part.part_no, cmd.ticket_no)


async def _return_unused(
    session: AsyncSession, part: PartRow, cmd: Movement, row: MovementRow, now: datetime
) -> None:
    assert cmd.to_location and cmd.ticket_no and row.unit_price is not None
    # the balance first, as every movement does (one lock order: no deadlock with an issue)
    await stock.add(session, part.part_no, cmd.to_location, cmd.quantity)
    result = await session.execute(
        update(TP)
        .where(
            TP.c.ticket_no == cmd.ticket_no,
            TP.c.part_no == part.part_no,
            TP.c.unit_price == row.unit_price,
            TP.c.issued - TP.c.returned >= cmd.quantity,
        )
        .values(returned=TP.c.returned + cmd.quantity)
    )
    if result.rowcount != 1:
        raise Conflict(
            f"工单{cmd.ticket_no}的备件{part.part_no}已被退回，可退数量不足 (already returned "
            "meanwhile)",
            code="too_many_returned",
        )
    await enqueue(
        session,
        Envelope(
            data=PartReturnedV1(
                movement_id=row.movement_id,
                part_no=part.part_no,
                part_name=part.name,
                quantity=cmd.quantity,
                unit_price=row.unit_price,
                location_id=cmd.to_location,
                ticket_no=cmd.ticket_no,
                returned_by=row.actor,
                returned_at=now,
            ),
            subject=cmd.ticket_no,
        ),
    )
    await stock.cover_waiting(session, part, cmd.to_location, now)
    await stock.check_reorder(session, part, row.movement_id, now)


async def _faulty_returned(
    session: AsyncSession, part: PartRow, cmd: Movement, row: MovementRow, now: datetime
) -> None:
    """The replaced part is kept apart from good stock (for inspection or the dealers' old-part
    return) until it is scrapped."""
    assert cmd.to_location
    await stock.add(session, part.part_no, cmd.to_location, cmd.quantity, column="faulty")


async def _scrap(
    session: AsyncSession, part: PartRow, cmd: Movement, row: MovementRow, now: datetime
) -> None:
    assert cmd.from_location
    if cmd.stock == "faulty":
        await stock.take_faulty(session, part.part_no, cmd.from_location, cmd.quantity)
        return
    await stock.take(session, part.part_no, cmd.from_location, cmd.quantity)
    await stock.check_reorder(session, part, row.movement_id, now)


EFFECTS = {
    K.RECEIVE: _receive,
    K.TRANSFER: _transfer,
    K.ISSUE: _issue,
    K.RETURN_UNUSED: _return_unused,
    K.FAULTY_RETURNED: _faulty_returned,
    K.SCRAP: _scrap,
}
