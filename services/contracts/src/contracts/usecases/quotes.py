"""Quotes (报价单): priced, approved by policy within the discount limit, else by a sales
manager."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError, NotFound

from .. import domain
from ..models import QuoteRow
from .audit import audit
from .common import page, today
from .customers import get_customer
from .requirements import confirmed_requirement


@dataclass(frozen=True)
class NewQuote:
    """A quote: lines (model, quantity, unit_price, discount_pct, description) and instalments
    (label, percent, due) with Decimal amounts, priced by the domain rules."""

    quote_no: str
    customer_id: str
    requirement_no: str | None
    lines: list[dict[str, Any]]
    instalments: list[dict[str, Any]]
    lead_time_days: int
    valid_until: date


@dataclass(frozen=True)
class QuoteDecision:
    """A sales manager's approval or rejection of a discount (a rejection needs a reason)."""

    approve: bool
    reason: str | None = None


async def create_quote(
    session: AsyncSession,
    cmd: NewQuote,
    actor: Principal,
    now: datetime,
    discount_limit: Decimal,
    *,
    tz: ZoneInfo,
) -> QuoteRow:
    await get_customer(session, cmd.customer_id)
    if cmd.requirement_no:
        await confirmed_requirement(session, cmd.requirement_no, cmd.customer_id)
    if cmd.valid_until < today(now, tz):
        raise DomainError("报价有效期不能早于今天 (valid_until is in the past)")
    if await session.get(QuoteRow, cmd.quote_no):
        raise Conflict(f"报价单{cmd.quote_no}已存在 (quote number already exists)")
    lines = [
        domain.QuoteLine(
            q["model"], q["quantity"], q["unit_price"], q["discount_pct"], q["description"]
        )
        for q in cmd.lines
    ]
    insts = [domain.Instalment(i["label"], i["percent"], i["due"]) for i in cmd.instalments]
    priced = domain.price_quote(lines, insts, discount_limit)
    status = (
        domain.QuoteStatus.PENDING_APPROVAL
        if priced.needs_approval
        else domain.QuoteStatus.APPROVED
    )
    row = QuoteRow(
        quote_no=cmd.quote_no,
        customer_id=cmd.customer_id,
        requirement_no=cmd.requirement_no,
        lines=[{**to_jsonable_python(asdict(q)), "net_amount": str(q.net_amount)} for q in lines],
        instalments=[
            {**to_jsonable_python(asdict(i)), "amount": str(a)}
            for i, a in zip(insts, priced.instalment_amounts)
        ],
        list_total=str(priced.list_total),
        net_total=str(priced.net_total),
        max_discount_pct=str(priced.max_discount_pct),
        lead_time_days=cmd.lead_time_days,
        valid_until=cmd.valid_until,
        status=status,
        decided_by=None if priced.needs_approval else "policy",
        decided_at=None if priced.needs_approval else now,
        decision_reason=None
        if priced.needs_approval
        else f"折扣不超过{discount_limit}% (within the discount limit)",
        created_at=now,
        created_by=actor.subject,
    )
    session.add(row)
    await audit(
        session,
        actor,
        "quote",
        row.quote_no,
        "created",
        now,
        net_total=row.net_total,
        status=status,
        max_discount_pct=row.max_discount_pct,
        discount_limit_pct=str(discount_limit),
    )
    return row


async def get_quote(session: AsyncSession, no: str) -> QuoteRow:
    row = await session.get(QuoteRow, no)
    if row is None:
        raise NotFound(f"报价单{no}不存在 (quote not found)")
    return row


async def decide_quote(
    session: AsyncSession, no: str, cmd: QuoteDecision, actor: Principal, now: datetime
) -> QuoteRow:
    row = await get_quote(session, no)
    row.status = domain.decide_quote(
        row.status, no, cmd.approve, cmd.reason, author=row.created_by, decider=actor.subject
    )
    row.decided_by, row.decided_at, row.decision_reason = actor.subject, now, cmd.reason
    await audit(
        session,
        actor,
        "quote",
        no,
        "approved" if cmd.approve else "rejected",
        now,
        reason=cmd.reason,
    )
    return row


async def list_quotes(
    session: AsyncSession,
    *,
    customer_id: str | None,
    status: str | None,
    owner: str | None,
    limit: int,
    offset: int,
):
    query = select(QuoteRow)
    for column, value in (
        (QuoteRow.customer_id, customer_id),
        (QuoteRow.status, status),
        (QuoteRow.created_by, owner),
    ):
        if value:
            query = query.where(column == value)
    return await page(session, query, [QuoteRow.created_at.desc()], limit, offset)
