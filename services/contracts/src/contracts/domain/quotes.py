"""Requirement forms and quotes: pricing in Decimal CNY, instalments, the discount decision (four
eyes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from aftersales_shared.errors import Conflict, DomainError

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


# ---------------------------------------------------------------- requirement form
def ensure_requirement_editable(status: str, no: str) -> None:
    if status == "confirmed":
        raise Conflict(
            f"需求确认单{no}已由客户确认，不能修改 (a confirmed requirement form is final; "
            "create a new one)"
        )


def ensure_requirement_confirmed(status: str, no: str) -> None:
    """Quotes and contracts rest on what the customer confirmed, never on a draft."""
    if status != "confirmed":
        raise Conflict(
            f"需求确认单{no}尚未经客户确认，请先由客户签字确认 (requirement form not confirmed "
            f"by the customer; record the confirmation first: POST /requirements/{no}/confirm)"
        )


# ---------------------------------------------------------------- quotes
class QuoteStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class QuoteLine:
    model: str
    quantity: int
    unit_price: Decimal
    discount_pct: Decimal = Decimal("0")
    description: str | None = None

    @property
    def list_amount(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(CENT, ROUND_HALF_UP)

    @property
    def net_amount(self) -> Decimal:
        return (self.unit_price * self.quantity * (HUNDRED - self.discount_pct) / HUNDRED).quantize(
            CENT, ROUND_HALF_UP
        )


@dataclass(frozen=True)
class Instalment:
    label: str
    percent: Decimal
    due: str


@dataclass(frozen=True)
class PricedQuote:
    list_total: Decimal
    net_total: Decimal
    max_discount_pct: Decimal
    needs_approval: bool
    instalment_amounts: list[Decimal]


def price_quote(
    lines: list[QuoteLine], instalments: list[Instalment], discount_limit_pct: Decimal
) -> PricedQuote:
    """Totals in CNY (two places), instalment amounts summing exactly to the total, approval
    need."""
    if not lines:
        raise DomainError("报价单至少需要一行 (a quote needs at least one line)")
    for i, line in enumerate(lines, start=1):
        if line.quantity <= 0:
            raise DomainError(f"第{i}行数量必须大于0 (line {i}: quantity must be positive)")
        if line.unit_price < 0:
            raise DomainError(f"第{i}行单价不能为负 (line {i}: unit price must not be negative)")
        if not Decimal("0") <= line.discount_pct < HUNDRED:
            raise DomainError(
                f"第{i}行折扣须在0–100%之间 (line {i}: discount must be 0 ≤ d < 100 %)"
            )
    check_instalments(instalments)
    net = sum((line.net_amount for line in lines), Decimal("0"))
    amounts = split_by_percent(net, [i.percent for i in instalments])
    max_discount = max(line.discount_pct for line in lines)
    return PricedQuote(
        list_total=sum((line.list_amount for line in lines), Decimal("0")),
        net_total=net,
        max_discount_pct=max_discount,
        needs_approval=max_discount > discount_limit_pct,
        instalment_amounts=amounts,
    )


def check_instalments(instalments: list[Instalment]) -> None:
    if not instalments:
        raise DomainError("付款计划至少需要一期 (a payment schedule needs at least one instalment)")
    for inst in instalments:
        if inst.percent <= 0:
            raise DomainError(
                f"付款期“{inst.label}”比例必须大于0 (instalment {inst.label!r}: percent must be "
                "positive)"
            )
    total = sum((i.percent for i in instalments), Decimal("0"))
    if total != HUNDRED:
        raise DomainError(
            f"付款计划各期比例合计为{total}%，必须正好为100% (instalments sum to {total} %, they "
            "must sum to exactly 100 %)",
            total_percent=str(total),
        )


def split_by_percent(total: Decimal, percents: list[Decimal]) -> list[Decimal]:
    """Amounts per percentage, rounded to the fen; the last absorbs the rounding so they sum to
    total."""
    amounts = [(total * p / HUNDRED).quantize(CENT, ROUND_HALF_UP) for p in percents[:-1]]
    return amounts + [total - sum(amounts, Decimal("0"))]


def decide_quote(
    status: str,
    quote_no: str,
    approve: bool,
    reason: str | None,
    *,
    author: str | None,
    decider: str,
) -> QuoteStatus:
    """Deciding an over-limit discount follows the four-eyes rule: never by the quote's own
    author."""
    if status != QuoteStatus.PENDING_APPROVAL:
        raise Conflict(
            f"报价单{quote_no}状态为{status}，无需审批 (only a quote pending approval can be "
            "decided)"
        )
    if author is not None and decider == author:
        raise Conflict(
            f"四眼原则：报价单{quote_no}由您本人开具，折扣须由另一位经理审批 "
            f"(four eyes: you issued quote {quote_no}; another manager must decide its discount)",
            rule="four_eyes",
        )
    if not approve and not (reason or "").strip():
        raise DomainError("驳回报价须说明理由 (a rejection needs a reason)")
    return QuoteStatus.APPROVED if approve else QuoteStatus.REJECTED


def ensure_quote_usable(status: str, valid_until: date, quote_no: str, today: date) -> None:
    if status != QuoteStatus.APPROVED:
        raise Conflict(
            f"报价单{quote_no}未获批准（{status}），不能用于合同 (quote is not approved)"
        )
    if valid_until < today:
        raise Conflict(f"报价单{quote_no}已于{valid_until}过期 (quote expired)")
