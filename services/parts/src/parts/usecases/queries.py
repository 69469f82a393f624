"""Reading stock: balances, the ledger, reorder suggestions and a ticket's parts cost."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, dealer_scope

from .. import domain as d
from ..models import BalanceRow, MovementRow, PartRow, TicketPartRow
from .catalog import page, scoped_locations


def balance_view(row: BalanceRow) -> dict[str, Any]:
    return {
        "part_no": row.part_no,
        "location_id": row.location_id,
        "on_hand": row.on_hand,
        "reserved": row.reserved,
        "available": row.on_hand - row.reserved,
        "faulty": row.faulty,
    }


def balances_query(
    user: Principal, part_no: str | None, location_id: str | None, in_stock: bool | None
) -> Any:
    query = scoped_locations(select(BalanceRow), BalanceRow.location_id, user)
    if part_no:
        query = query.where(BalanceRow.part_no == part_no.upper())
    if location_id:
        query = query.where(BalanceRow.location_id == location_id)
    if in_stock is True:
        query = query.where(BalanceRow.on_hand > 0)
    return query


async def list_balances(
    session: AsyncSession,
    user: Principal,
    *,
    part_no: str | None,
    location_id: str | None,
    in_stock: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    query = balances_query(user, part_no, location_id, in_stock)
    rows, total = await page(
        session, query, [BalanceRow.part_no, BalanceRow.location_id], limit, offset
    )
    return [balance_view(r) for r in rows], total


def ledger_query(
    user: Principal,
    *,
    part_no: str | None,
    location_id: str | None,
    ticket_no: str | None,
    kind: d.MovementKind | None,
    since: datetime | None,
    until: datetime | None,
) -> Any:
    query = select(MovementRow)
    if part_no:
        query = query.where(MovementRow.part_no == part_no.upper())
    if location_id:
        query = query.where(
            (MovementRow.from_location == location_id) | (MovementRow.to_location == location_id)
        )
    if ticket_no:
        query = query.where(MovementRow.ticket_no == ticket_no)
    if kind:
        query = query.where(MovementRow.kind == kind.value)
    if since:
        query = query.where(MovementRow.at >= since)
    if until:
        query = query.where(MovementRow.at < until)
    if dealer_scope(user) is not None:  # a dealer sees the lines that touch its own store
        mine = scoped_locations(select(MovementRow.seq), MovementRow.from_location, user)
        theirs = scoped_locations(select(MovementRow.seq), MovementRow.to_location, user)
        query = query.where(MovementRow.seq.in_(mine.union(theirs)))
    return query


async def list_ledger(
    session: AsyncSession, user: Principal, limit: int, offset: int, **filters: Any
) -> tuple[list[MovementRow], int]:
    return await page(session, ledger_query(user, **filters), [MovementRow.seq], limit, offset)


async def reorder_suggestions(
    session: AsyncSession, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Parts whose total good stock is at or below their reorder point, with what to order: the
    reorder quantity, or more when that would still leave the stock at or below the point."""
    totals = (
        select(BalanceRow.part_no, func.sum(BalanceRow.on_hand).label("on_hand"))
        .group_by(BalanceRow.part_no)
        .subquery()
    )
    on_hand = func.coalesce(totals.c.on_hand, 0)
    query = (
        select(PartRow, on_hand.label("on_hand"))
        .outerjoin(totals, totals.c.part_no == PartRow.part_no)
        .where(on_hand <= PartRow.reorder_point)
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (
        await session.execute(query.order_by(PartRow.part_no).limit(limit).offset(offset))
    ).all()
    out = []
    for part, have in rows:
        gap = part.reorder_point - int(have) + 1  # to rise above the point again
        out.append(
            {
                "part_no": part.part_no,
                "name": part.name,
                "unit": part.unit,
                "on_hand": int(have),
                "reorder_point": part.reorder_point,
                "suggested_quantity": max(part.reorder_quantity, gap),
                "unit_price": part.unit_price,
            }
        )
    return out, total


async def ticket_costs(session: AsyncSession, ticket_no: str) -> dict[str, Any]:
    """Parts issued to the ticket minus those returned unused, each at its price at issue."""
    rows = (
        await session.execute(
            select(TicketPartRow, PartRow)
            .join(PartRow, PartRow.part_no == TicketPartRow.part_no)
            .where(TicketPartRow.ticket_no == ticket_no)
            .order_by(TicketPartRow.part_no, TicketPartRow.first_issued_at)
        )
    ).all()
    lines, total, warranty = [], Decimal("0.00"), Decimal("0.00")
    for tp, part in rows:
        quantity = tp.issued - tp.returned
        amount = d.line_total(quantity, tp.unit_price)
        total += amount
        if part.warranty_part:
            warranty += amount
        lines.append(
            {
                "part_no": part.part_no,
                "name": part.name,
                "unit": part.unit,
                "warranty_part": part.warranty_part,
                "unit_price": tp.unit_price,
                "issued": tp.issued,
                "returned": tp.returned,
                "quantity": quantity,
                "amount": f"{amount:.2f}",
            }
        )
    return {
        "ticket_no": ticket_no,
        "currency": "CNY",
        "lines": lines,
        "total": f"{total:.2f}",
        "warranty_total": f"{warranty:.2f}",
    }
