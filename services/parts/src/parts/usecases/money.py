"""Money on a ticket: the ticket as parts knows it (TicketOpened), warranty or chargeable and its
audited override, the price list, labour and travel lines, and the ticket's whole cost. Every
function runs in the caller's transaction and takes `now`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role
from aftersales_shared.db import upsert_insert
from aftersales_shared.errors import Conflict, DomainError, Forbidden, NotFound

from .. import charges as c
from ..invoicing import LIVE as LIVE_INVOICE_STATUSES
from ..models import (
    CostLineRow,
    CoverageChangeRow,
    InvoiceRow,
    PriceItemRow,
    QuoteRow,
    TicketRow,
)
from . import expenses, queries

T = TicketRow.__table__


@dataclass(frozen=True)
class OpenedTicket:
    """What parts reads of TicketOpened."""

    ticket_no: str
    ticket_id: str
    customer_id: str | None
    customer_name: str
    contact: dict[str, Any]
    contract_no: str | None
    product_model: str | None
    serial_no: str | None
    dealer_id: str | None
    in_warranty: bool | None
    opened_at: datetime


async def record_ticket(session: AsyncSession, t: OpenedTicket, now: datetime) -> None:
    """Keep the ticket and its coverage from the entitlement; a ticket already known (an override
    made, a redelivery) keeps what it has."""
    coverage, reason = c.coverage_from_entitlement(t.in_warranty, t.contract_no)
    values = t.__dict__ | {
        "coverage": coverage.value,
        "coverage_reason": reason,
        "updated_at": now,
    }
    await session.execute(
        upsert_insert(session, T)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["ticket_no"])
    )


def ticket_not_found(ticket_no: str) -> NotFound:
    return NotFound(
        f"备件服务尚未收到工单{ticket_no}（工单开立事件未到或编号有误） (ticket not known to parts "
        "yet)"
    )


async def get_ticket(session: AsyncSession, ticket_no: str, *, lock: bool = False) -> TicketRow:
    stmt = select(TicketRow).where(TicketRow.ticket_no == ticket_no)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise ticket_not_found(ticket_no)
    return row


async def override_coverage(
    session: AsyncSession,
    ticket_no: str,
    to: c.Coverage,
    reason: str,
    user: Principal,
    now: datetime,
) -> TicketRow:
    """Warranty → chargeable or back, by a supervisor with a reason, kept in the audit trail.
    Refused once the customer accepted a quote or an invoice was requested (money was agreed)."""
    ticket = await get_ticket(session, ticket_no, lock=True)
    reason = c.check_override(user, c.Coverage(ticket.coverage), to, reason)
    if await accepted_quote(session, ticket_no) is not None:
        raise Conflict(
            "客户已接受该工单的报价，不能再更改保修/收费认定 (a quote was accepted already)"
        )
    live = (InvoiceRow.ticket_no == ticket_no, InvoiceRow.status.in_(LIVE_INVOICE_STATUSES))
    if await session.scalar(select(InvoiceRow.invoice_id).where(*live)):
        raise Conflict(
            "该工单已申请发票，不能再更改保修/收费认定 (an invoice was requested already)"
        )
    session.add(
        CoverageChangeRow(
            change_id=str(uuid.uuid4()),
            ticket_no=ticket_no,
            from_coverage=ticket.coverage,
            to_coverage=to.value,
            reason=reason,
            actor=user.subject,
            at=now,
        )
    )
    ticket.coverage, ticket.coverage_reason, ticket.updated_at = to.value, reason, now
    await session.flush()
    return ticket


async def coverage_history(session: AsyncSession, ticket_no: str) -> list[CoverageChangeRow]:
    await get_ticket(session, ticket_no)
    rows = await session.execute(
        select(CoverageChangeRow)
        .where(CoverageChangeRow.ticket_no == ticket_no)
        .order_by(CoverageChangeRow.at, CoverageChangeRow.change_id)
    )
    return list(rows.scalars())


async def accepted_quote(session: AsyncSession, ticket_no: str) -> QuoteRow | None:
    rows = await session.execute(
        select(QuoteRow).where(
            QuoteRow.ticket_no == ticket_no, QuoteRow.status == c.QuoteStatus.ACCEPTED.value
        )
    )
    return rows.scalars().first()


async def check_may_repair(session: AsyncSession, ticket_no: str) -> None:
    """The gate: no parts issued to a chargeable ticket before the customer accepted a quote. A
    ticket parts has not heard of is not held up (its TicketOpened may still be on its way)."""
    ticket = await session.get(TicketRow, ticket_no)
    if ticket is None:
        return
    accepted = await accepted_quote(session, ticket_no) is not None
    if not c.may_start_repair(c.Coverage(ticket.coverage), accepted):
        raise Conflict(
            f"工单{ticket_no}为收费服务，客户尚未接受报价，不能领用备件开始维修 (chargeable "
            "ticket: the customer has not accepted a quote yet)",
            code="quote_not_accepted",
        )


# ---------------------------------------------------------------- the price list
async def put_price(
    session: AsyncSession,
    code: str,
    kind: c.PriceKind,
    name: str,
    unit: str,
    rate: Decimal,
    active: bool,
    user: Principal,
    now: datetime,
) -> PriceItemRow:
    if not user.has(*c.PRICE_KEEPERS):
        raise Forbidden("只有服务主管、经理或财务可以维护价目表 (price list keepers only)")
    code = code.strip().upper()
    row = await session.get(PriceItemRow, code)
    if row is None:
        row = PriceItemRow(code=code)
        session.add(row)
    row.kind, row.name, row.unit = kind.value, name.strip(), unit.strip()
    row.rate, row.active = c.check_rate(rate), active
    row.updated_at, row.updated_by = now, user.subject
    await session.flush()
    return row


async def price_list(session: AsyncSession, include_inactive: bool = False) -> list[PriceItemRow]:
    stmt = select(PriceItemRow).order_by(PriceItemRow.kind, PriceItemRow.code)
    if not include_inactive:
        stmt = stmt.where(PriceItemRow.active.is_(True))
    return list((await session.execute(stmt)).scalars())


async def price(session: AsyncSession, code: str, kind: c.PriceKind | None = None) -> PriceItemRow:
    row = await session.get(PriceItemRow, code.strip().upper())
    if row is None or not row.active:
        raise DomainError(f"价目表中没有有效的项目{code} (no active price list item {code})")
    if kind is not None and row.kind != kind.value:
        raise DomainError(f"价目表项目{code}不是{kind.value}类 (item {code} is not {kind.value})")
    return row


# ---------------------------------------------------------------- labour and travel
@dataclass(frozen=True)
class NewCostLine:
    kind: c.PriceKind  # labour | travel
    person: str
    idempotency_key: str
    quantity: Decimal | None = None  # hours or km
    price_code: str | None = None  # the rate from the price list
    amount: Decimal | None = None  # a fixed amount (actual fares)
    description: str | None = None


async def add_cost_line(
    session: AsyncSession, ticket_no: str, cmd: NewCostLine, user: Principal, now: datetime
) -> tuple[CostLineRow, bool]:
    """(the line, True when this key had been recorded already: nothing new is written)."""
    if not user.has(*c.COST_WRITERS):
        raise Forbidden("无权记录工时或差旅 (not allowed to record labour or travel)")
    if user.roles == frozenset({Role.ENGINEER}) and cmd.person != user.subject:
        raise Forbidden("工程师只能记录本人的工时和差旅 (engineers record their own time only)")
    done = (
        await session.execute(
            select(CostLineRow).where(CostLineRow.idempotency_key == cmd.idempotency_key)
        )
    ).scalar_one_or_none()
    if done is not None:
        if done.ticket_no != ticket_no or done.created_by != user.subject:
            raise Conflict("该幂等键已用于另一条记录 (idempotency key used for another line)")
        return done, True
    await get_ticket(session, ticket_no)
    if cmd.kind not in (c.PriceKind.LABOUR, c.PriceKind.TRAVEL):
        raise DomainError("费用类型须为labour（工时）或travel（差旅） (kind: labour or travel)")
    if (cmd.amount is None) == (cmd.quantity is None):
        raise DomainError(
            "请填写数量（工时/公里）和价目，或填写实际金额（如车票），二者选一 "
            "(give quantity with a "
            "price code, or a fixed amount)"
        )
    rate = unit = None
    if cmd.quantity is not None:
        if not cmd.price_code:
            raise DomainError("按数量计费时须指定价目表项目 (price_code is required)")
        item = await price(session, cmd.price_code, cmd.kind)
        what = "工时" if cmd.kind is c.PriceKind.LABOUR else "里程"
        quantity = c.check_quantity(cmd.quantity, what)
        rate, unit, code = item.rate, item.unit, item.code
        amount = c.line_amount(quantity, rate)
        description = cmd.description or item.name
    else:
        assert cmd.amount is not None
        quantity, code, unit = None, None, "元"
        amount = c.check_rate(cmd.amount)
        description = cmd.description or (
            "实际差旅费用" if cmd.kind is c.PriceKind.TRAVEL else "工时费"
        )
    row = CostLineRow(
        line_id=str(uuid.uuid4()),
        ticket_no=ticket_no,
        kind=cmd.kind.value,
        person=cmd.person.strip(),
        description=description.strip()[:200],
        quantity=quantity,
        unit=unit,
        rate=rate,
        price_code=code,
        amount=amount,
        idempotency_key=cmd.idempotency_key,
        created_at=now,
        created_by=user.subject,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            "同一幂等键的请求正在处理，请重试 (a request with this key is in flight)"
        ) from None
    return row, False


def _line_view(row: CostLineRow) -> dict[str, Any]:
    return {
        "line_id": row.line_id,
        "kind": row.kind,
        "person": row.person,
        "description": row.description,
        "quantity": None if row.quantity is None else f"{row.quantity:.2f}",
        "unit": row.unit,
        "rate": None if row.rate is None else f"{row.rate:.2f}",
        "amount": f"{row.amount:.2f}",
        "created_at": row.created_at,
        "created_by": row.created_by,
    }


async def ticket_costs(
    session: AsyncSession, ticket_no: str, user: Principal | None = None
) -> dict[str, Any]:
    """Parts (from the ledger) + labour + travel; what the customer pays when chargeable; and the
    approved travel expense lines that name the ticket (the company's cost, apart from the bill)."""
    out = await queries.ticket_costs(session, ticket_no)
    rows = (
        await session.execute(
            select(CostLineRow)
            .where(CostLineRow.ticket_no == ticket_no)
            .order_by(CostLineRow.created_at, CostLineRow.line_id)
        )
    ).scalars()
    others = list(rows)
    labour = sum((r.amount for r in others if r.kind == "labour"), Decimal("0.00"))
    travel = sum((r.amount for r in others if r.kind == "travel"), Decimal("0.00"))
    parts_total = Decimal(out["total"])
    grand = parts_total + labour + travel
    ticket = await session.get(TicketRow, ticket_no)
    coverage = ticket.coverage if ticket else None
    out |= {
        "coverage": coverage,
        "coverage_reason": ticket.coverage_reason if ticket else None,
        "service_lines": [_line_view(r) for r in others],
        "parts_total": f"{parts_total:.2f}",
        "labour_total": f"{labour:.2f}",
        "travel_total": f"{travel:.2f}",
        "grand_total": f"{grand:.2f}",
        "chargeable_total": f"{grand if coverage == c.Coverage.CHARGEABLE else Decimal(0):.2f}",
    }
    if user is not None:
        lines = await expenses.approved_lines_for_ticket(session, ticket_no, user)
        spent = sum((Decimal(line["amount"]) for line in lines), Decimal("0.00"))
        out |= {"expense_lines": lines, "expense_total": f"{spent:.2f}"}
    return out
