"""The parts the parts service issued to a ticket and took back, with the price of each issue
(PartIssued, PartReturned): what the service sheet lists with unit price and amount. Tickets reads
them from the events only, never from the parts service's tables."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import TicketPartUsedRow

U = TicketPartUsedRow.__table__


async def record(
    session: AsyncSession,
    *,
    movement_id: str,
    ticket_no: str,
    part_no: str,
    part_name: str,
    quantity: int,
    unit_price: Decimal,
    at: datetime,
) -> bool:
    """One movement once (its ledger id is the key): quantity > 0 issued, < 0 returned."""
    if await session.get(TicketPartUsedRow, movement_id) is not None:
        return False
    session.add(
        TicketPartUsedRow(
            movement_id=movement_id,
            ticket_no=ticket_no,
            part_no=part_no,
            part_name=part_name,
            quantity=quantity,
            unit_price=unit_price,
            at=at,
        )
    )
    await session.flush()
    return True


def priced(rows: list[tuple[str, str, int, Decimal]]) -> list[dict[str, Any]]:
    """Net units per part and price (issued minus returned; a part fully returned drops out),
    each with its amount, in the order first issued."""
    lines: dict[tuple[str, Decimal], dict[str, Any]] = {}
    for part_no, name, quantity, price in rows:
        line = lines.setdefault(
            (part_no, price), {"part_no": part_no, "name": name, "quantity": 0, "unit_price": price}
        )
        line["quantity"] += quantity
    return [
        {
            "part_no": line["part_no"],
            "name": line["name"],
            "quantity": line["quantity"],
            "unit_price": str(line["unit_price"].quantize(Decimal("0.01"))),
            "amount": str((line["unit_price"] * line["quantity"]).quantize(Decimal("0.01"))),
        }
        for line in lines.values()
        if line["quantity"] > 0
    ]


async def of_ticket(session: AsyncSession, ticket_no: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(U.c.part_no, U.c.part_name, U.c.quantity, U.c.unit_price)
            .where(U.c.ticket_no == ticket_no)
            .order_by(U.c.at, U.c.movement_id)
        )
    ).all()
    return priced([(r.part_no, r.part_name, r.quantity, r.unit_price) for r in rows])
