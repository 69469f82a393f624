"""Orders: entered from the newest signed version, due within 1 working day of signing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.calendars import ALWAYS_OPEN, load_calendar
from aftersales_shared.errors import DomainError, NotFound
from aftersales_shared.workcalendar import WorkCalendar

from .. import domain
from ..domain import OrderStatus
from ..models import ContractRow, OrderRow
from .audit import audit
from .common import page


@dataclass(frozen=True)
class NewOrder:
    """An order from a signed contract: (model, quantity) lines, or None/empty for all it sold."""

    contract_no: str
    delivery_place: str
    lines: list[tuple[str, int]] | None = None


async def get_order(session: AsyncSession, order_no: str) -> OrderRow:
    row = await session.get(OrderRow, order_no)
    if row is None:
        raise NotFound(f"订单{order_no}不存在 (order not found)")
    return row


async def calendar_for_deadlines(
    session: AsyncSession, calendar_id: str, office_calendar: str
) -> WorkCalendar:
    """The contract's calendar; a 24x7 contract's internal deadlines run on the office calendar."""
    return await load_calendar(
        session, office_calendar if calendar_id == ALWAYS_OPEN else calendar_id
    )


async def order_calendar(
    session: AsyncSession, order: OrderRow, office_calendar: str
) -> WorkCalendar:
    """The calendar an order's deadlines run on: its contract's (the office's for a 24x7 one)."""
    calendar_id = await session.scalar(
        select(ContractRow.calendar).where(ContractRow.contract_no == order.contract_no).limit(1)
    )
    return await calendar_for_deadlines(session, calendar_id or "default", office_calendar)


async def create_order(
    session: AsyncSession,
    cmd: NewOrder,
    actor: Principal,
    now: datetime,
    office_calendar: str = "default",
) -> OrderRow:
    """录入订单 from the newest signed version; entry is due within 1 working day of signing."""
    contract = await _newest_signed(session, cmd.contract_no)
    lines = _order_lines(contract, cmd)
    count = (
        await session.scalar(
            select(func.count())
            .select_from(OrderRow)
            .where(OrderRow.contract_no == contract.contract_no)
        )
        or 0
    )
    calendar = await calendar_for_deadlines(session, contract.calendar, office_calendar)
    entry_due = (
        calendar.add_working_days(contract.signed_at, domain.ORDER_ENTRY_WORKING_DAYS)
        if contract.signed_at
        else None
    )
    row = OrderRow(
        order_no=f"{contract.contract_no}-O{count + 1}",
        contract_no=contract.contract_no,
        contract_version=contract.version,
        customer_id=contract.customer_id,
        customer_name=contract.customer_name,
        lines=[{"model": m, "quantity": q} for m, q in lines],
        delivery_place=cmd.delivery_place,
        status=OrderStatus.ENTERED,
        entered_at=now,
        entered_by=actor.subject,
        entry_due_at=entry_due,
        entered_on_time=None if entry_due is None else now <= entry_due,
        objections=[],
        trainings=[],
    )
    session.add(row)
    await session.flush()
    await audit(
        session,
        actor,
        "order",
        row.order_no,
        "entered",
        now,
        contract_no=row.contract_no,
        version=row.contract_version,
        lines=row.lines,
        on_time=row.entered_on_time,
    )
    return row


async def _newest_signed(session: AsyncSession, contract_no: str) -> ContractRow:
    """The newest signed (or archived) version: an amendment draft on top is not ordered from."""
    contract = await session.scalar(
        select(ContractRow)
        .where(
            ContractRow.contract_no == contract_no,
            ContractRow.status.in_([domain.ContractStatus.SIGNED, domain.ContractStatus.ARCHIVED]),
        )
        .order_by(ContractRow.version.desc())
        .limit(1)
    )
    if contract is None:
        exists = await session.scalar(
            select(ContractRow.status).where(ContractRow.contract_no == contract_no).limit(1)
        )
        if exists is None:
            raise NotFound(f"合同{contract_no}不存在 (contract not found)")
        domain.ensure_contract_orderable(exists, contract_no)
    assert contract is not None
    return contract


def _order_lines(contract: ContractRow, cmd: NewOrder) -> list[tuple[str, int]]:
    """The lines ordered (default: everything sold); no model or quantity beyond the contract."""
    sold = Counter(p.model for p in contract.products)
    lines = list(cmd.lines) if cmd.lines else sorted(sold.items())
    for model, qty in lines:
        if model not in sold:
            raise DomainError(
                f"型号{model}不在合同{contract.contract_no}中 (model not in the contract; sold: "
                f"{', '.join(sold)})"
            )
        if qty > sold[model]:
            raise DomainError(
                f"型号{model}订购{qty}台，超过合同数量{sold[model]}台 (quantity exceeds the "
                "contract)"
            )
    return lines


async def list_orders(
    session: AsyncSession,
    *,
    contract_no: str | None,
    customer_id: str | None,
    status: str | None,
    entered_from: datetime | None,
    entered_to: datetime | None,
    limit: int,
    offset: int,
):
    query = select(OrderRow)
    for column, value in (
        (OrderRow.contract_no, contract_no),
        (OrderRow.customer_id, customer_id),
        (OrderRow.status, status),
    ):
        if value:
            query = query.where(column == value)
    if entered_from:
        query = query.where(OrderRow.entered_at >= entered_from)
    if entered_to:
        query = query.where(OrderRow.entered_at < entered_to)
    return await page(
        session, query, [OrderRow.entered_at.desc(), OrderRow.order_no], limit, offset
    )
