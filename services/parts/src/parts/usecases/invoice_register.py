"""Finance's invoice register (发票登记簿): the requests with their filters, pages and sums (in
SQL), the export, and registering the invoice finance issued (InvoiceIssued) — once. The sums
count live requests (待开票, 已开票) only; withdrawn and reversed ones are summed apart."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.db import paged
from aftersales_shared.errors import Conflict, DomainError, Forbidden, NotFound
from aftersales_shared.events import Envelope, InvoiceIssuedV1
from aftersales_shared.outbox import enqueue

from .. import invoicing as v
from ..models import InvoiceRow

ZERO = Decimal("0.00")
Q_MAX = 100
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


@dataclass(frozen=True)
class RegisterFilter:
    """What finance looks for: a state, the days the requests came in (business time zone,
    both inclusive), a buyer's name or tax number, a ticket number."""

    status: str | None = None
    requested_from: date | None = None
    requested_to: date | None = None
    q: str | None = None
    ticket_no: str | None = None


@dataclass(frozen=True)
class Sums:
    count: int
    net: Decimal
    tax: Decimal
    total: Decimal


def _may_read(user: Principal) -> None:
    if not user.has(*v.REGISTRARS):
        raise Forbidden("只有财务、服务主管或经理可以查看发票登记簿 (finance or supervisors only)")


def _query(f: RegisterFilter, tz: ZoneInfo) -> Select[Any]:
    for day in (f.requested_from, f.requested_to):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise DomainError(
                f"申请日期须在{EARLIEST.year}到{LATEST.year}年之间 (dates from {EARLIEST.year} to "
                f"{LATEST.year})"
            )
    if f.requested_from and f.requested_to and f.requested_from > f.requested_to:
        raise DomainError("申请日期的起日不能晚于止日 (the from date is after the to date)")
    query = select(InvoiceRow)
    if f.status:
        query = query.where(InvoiceRow.status == v.InvoiceStatus(f.status).value)
    if f.requested_from:
        query = query.where(
            InvoiceRow.requested_at >= datetime.combine(f.requested_from, time(), tz)
        )
    if f.requested_to:
        end = datetime.combine(f.requested_to + timedelta(days=1), time(), tz)
        query = query.where(InvoiceRow.requested_at < end)
    q = (f.q or "").strip()
    if len(q) > Q_MAX:
        raise DomainError(f"搜索词最多{Q_MAX}字 (search text too long)")
    if q:
        query = query.where(
            or_(
                InvoiceRow.buyer_name.contains(q, autoescape=True),
                InvoiceRow.buyer_tax_no.startswith(q.upper(), autoescape=True),
            )
        )
    ticket = (f.ticket_no or "").strip()
    if ticket:
        query = query.where(InvoiceRow.ticket_no.contains(ticket, autoescape=True))
    return query


ORDER = (InvoiceRow.requested_at.desc(), InvoiceRow.invoice_id)


@dataclass(frozen=True)
class Page:
    rows: list[InvoiceRow]
    count: int  # every request the filters match, in any status
    live: Sums  # 待开票 + 已开票: what is (to be) invoiced
    voided: Sums  # 已撤回 + 已红冲: never invoiced, or reversed — summed apart, never added in


async def register(
    session: AsyncSession,
    f: RegisterFilter,
    tz: ZoneInfo,
    user: Principal,
    limit: int,
    offset: int,
    live_only: bool = False,
) -> Page:
    """One page of the filtered requests, newest first; the count of all of them, and the sums
    of the live ones apart from those of the withdrawn and reversed ones. `live_only`: v1, which
    knows the states requested and issued only."""
    _may_read(user)
    query = _query(f, tz)
    if live_only:
        query = query.where(InvoiceRow.status.in_(v.LIVE))
    rows, _ = await paged(session, query, ORDER, limit, offset)
    live = await sums(session, query.where(InvoiceRow.status.in_(v.LIVE)))
    voided = await sums(session, query.where(InvoiceRow.status.not_in(v.LIVE)))
    return Page(rows, live.count + voided.count, live, voided)


async def sums(session: AsyncSession, query: Select[Any]) -> Sums:
    matched = query.order_by(None).subquery()
    count, net, tax, total = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(matched.c.net_amount), 0),
                func.coalesce(func.sum(matched.c.tax_amount), 0),
                func.coalesce(func.sum(matched.c.total), 0),
            )
        )
    ).one()
    return Sums(int(count), *(Decimal(x).quantize(Decimal("0.01")) for x in (net, tax, total)))


async def export_rows(
    session: AsyncSession, f: RegisterFilter, tz: ZoneInfo, user: Principal, cap: int
) -> list[InvoiceRow]:
    _may_read(user)
    return list((await session.scalars(_query(f, tz).order_by(*ORDER).limit(cap))).all())


@dataclass(frozen=True)
class Issued:
    invoice_number: str | None
    issue_date: date
    invoice_code: str | None = None


async def register_issued(
    session: AsyncSession,
    invoice_id: str,
    issued: Issued,
    tz: ZoneInfo,
    user: Principal,
    now: datetime,
) -> tuple[InvoiceRow, bool]:
    """Record the number and date of the invoice finance issued; (row, False) when the same
    registration arrives again (nothing written, no second event)."""
    if not user.has(*v.REGISTRARS):
        raise Forbidden("只有财务、服务主管或经理可以登记发票 (finance or supervisors only)")
    row = await session.scalar(
        select(InvoiceRow).where(InvoiceRow.invoice_id == invoice_id).with_for_update()
    )
    if row is None:
        raise NotFound(f"没有这张开票申请：{invoice_id} (no such invoice request)")
    number = v.check_number(issued.invoice_number, issued.invoice_code, issued.issue_date)
    before = v.InvoiceNumber(row.invoice_number, row.invoice_code) if row.invoice_number else None
    if not v.check_again(row.status, before, row.issue_date, number, issued.issue_date):
        return row, False
    v.check_issue_date(
        issued.issue_date, row.requested_at.astimezone(tz).date(), now.astimezone(tz).date()
    )
    taken = await session.scalar(  # a red invoice's number is an invoice number too
        select(InvoiceRow.ticket_no).where(
            or_(InvoiceRow.invoice_key == number.key, InvoiceRow.red_invoice_key == number.key)
        )
    )
    if taken is not None:
        raise _taken(number, taken)
    row.status = v.InvoiceStatus.ISSUED.value
    row.invoice_code, row.invoice_number, row.invoice_key = number.code, number.number, number.key
    row.issue_date, row.issued_at, row.issued_by = issued.issue_date, now, user.subject
    try:
        await session.flush()
    except IntegrityError:  # another request registered the same number meanwhile
        raise _taken(number, "另一工单") from None
    await enqueue(session, Envelope(data=issued_event(row), subject=row.ticket_no))
    return row, True


def _taken(number: v.InvoiceNumber, ticket_no: str) -> Conflict:
    return Conflict(
        f"发票号码{number.key}已登记在工单{ticket_no}的开票申请上，请核对号码 (this invoice number "
        "is already registered)"
    )


def issued_event(row: InvoiceRow) -> InvoiceIssuedV1:
    assert row.invoice_number and row.issue_date and row.issued_by and row.issued_at
    return InvoiceIssuedV1(
        invoice_id=row.invoice_id,
        ticket_no=row.ticket_no,
        invoice_type=row.invoice_type,
        invoice_code=row.invoice_code,
        invoice_number=row.invoice_number,
        issue_date=row.issue_date,
        buyer_name=row.buyer_name,
        buyer_tax_no=row.buyer_tax_no,
        net_amount=row.net_amount,
        tax_amount=row.tax_amount,
        total=row.total,
        issued_by=row.issued_by,
        issued_at=row.issued_at,
    )


REGISTER_HEADER = [
    "工单号",
    "状态",
    "申请时间",
    "购买方名称",
    "购买方税号",
    "发票类型",
    "金额（不含税）",
    "税率",
    "税额",
    "价税合计",
    "发票代码",
    "发票号码",
    "开票日期",
    "申请人",
    "登记人",
    "红字发票代码",
    "红字发票号码",
    "红字发票开票日期",
    "撤回/红冲原因",
    "撤回/红冲备注",
    "撤回/红冲人",
]


def register_cells(rows: Iterable[InvoiceRow], tz: ZoneInfo) -> Iterable[list[Any]]:
    """Amounts and the rate as numbers (a spreadsheet sums them), times in the business zone."""
    for r in rows:
        yield [
            r.ticket_no,
            v.INVOICE_STATUS_ZH[v.InvoiceStatus(r.status)],
            r.requested_at.astimezone(tz).replace(tzinfo=None, microsecond=0),
            r.buyer_name,
            r.buyer_tax_no,
            "专票" if r.invoice_type == "special" else "普票",
            r.net_amount,
            r.tax_rate,
            r.tax_amount,
            r.total,
            r.invoice_code,
            r.invoice_number,
            r.issue_date,
            r.requested_by,
            r.issued_by,
            r.red_invoice_code,
            r.red_invoice_number,
            r.red_issue_date,
            v.REVERSAL_REASONS.get(r.cancel_reason or "", r.cancel_reason),
            r.cancel_note,
            r.cancelled_by,
        ]
