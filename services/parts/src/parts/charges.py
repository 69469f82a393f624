"""Money on a ticket, the rules alone: warranty (三包) or chargeable from the entitlement and its
override, labour and travel lines, tax, and a quote's life (issued → accepted | declined, expired
by date). No web, broker or ORM code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from aftersales_shared.auth import Principal, Role
from aftersales_shared.errors import Conflict, DomainError, Forbidden

CENT = Decimal("0.01")
REASON_MIN, REASON_MAX = 4, 500
SIGNER_MAX = 50


class Coverage(StrEnum):
    WARRANTY = "warranty"  # 三包/保修：公司承担
    CHARGEABLE = "chargeable"  # 收费服务：客户付费，先报价后维修


COVERAGE_ZH = {Coverage.WARRANTY: "保修（三包）", Coverage.CHARGEABLE: "收费服务"}


class PriceKind(StrEnum):
    LABOUR = "labour"  # 工时
    TRAVEL = "travel"  # 差旅
    SERVICE = "service"  # 服务项目（一口价）


class QuoteStatus(StrEnum):
    ISSUED = "issued"  # 待客户确认
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"  # derived: issued and past its expiry
    WITHDRAWN = "withdrawn"  # 已撤回: the office took it back before the customer answered


# who may turn a ticket from warranty to chargeable or back (with a reason, audited)
OVERRIDERS = (Role.SERVICE_SUPERVISOR, Role.MANAGER)
# who keeps the price list
PRICE_KEEPERS = (Role.SERVICE_SUPERVISOR, Role.MANAGER, Role.FINANCE)
# who records labour and travel on a ticket (an engineer: only as themselves)
COST_WRITERS = (Role.SERVICE_SUPERVISOR, Role.MANAGER, Role.ENGINEER, Role.SERVICE_AGENT)
# who issues quotes
QUOTERS = (Role.SERVICE_SUPERVISOR, Role.MANAGER, Role.SERVICE_AGENT)
# who requests invoices
INVOICERS = (Role.SERVICE_SUPERVISOR, Role.MANAGER, Role.FINANCE)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def coverage_from_entitlement(
    in_warranty: bool | None, contract_no: str | None
) -> tuple[Coverage, str]:
    """The entitlement decides: a unit inside its 三包 period is on warranty; past it, or a unit
    nobody registered, is paid service until a supervisor says otherwise."""
    if in_warranty:
        return Coverage.WARRANTY, "设备在三包期内 (unit within its warranty period)"
    if in_warranty is False:
        return Coverage.CHARGEABLE, "设备已过三包期 (warranty period over)"
    if contract_no:
        return Coverage.CHARGEABLE, (
            f"合同{contract_no}未登记该设备的三包期 (no warranty end known for the unit)"
        )
    return Coverage.CHARGEABLE, "无合同或设备登记 (no contract or registered unit)"


def check_override(user: Principal, current: Coverage, to: Coverage, reason: str) -> str:
    if not user.has(*OVERRIDERS):
        raise Forbidden("只有服务主管或经理可以更改保修/收费认定 (supervisor role required)")
    if to == current:
        raise Conflict(f"工单已是{COVERAGE_ZH[to]}，无需更改 (already {to.value})")
    reason = reason.strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise DomainError(
            f"请填写更改原因（{REASON_MIN}–{REASON_MAX}字） (a reason of {REASON_MIN}–"
            f"{REASON_MAX} characters is required)"
        )
    return reason


def check_rate(rate: Decimal) -> Decimal:
    if rate < 0:
        raise DomainError("单价不能为负数 (the rate cannot be negative)")
    if rate != rate.quantize(CENT):
        raise DomainError("单价最多两位小数 (at most two decimal places)")
    return rate.quantize(CENT)


def check_quantity(quantity: Decimal, what: str) -> Decimal:
    if quantity <= 0 or quantity > Decimal("10000"):
        raise DomainError(f"{what}须大于0且不超过10000 ({what} must be > 0 and ≤ 10000)")
    if quantity != quantity.quantize(CENT):
        raise DomainError(f"{what}最多两位小数 (at most two decimal places)")
    return quantity


def line_amount(quantity: Decimal, rate: Decimal) -> Decimal:
    return cents(quantity * rate)


def check_tax_rate(rate: Decimal) -> Decimal:
    if not Decimal("0") <= rate <= Decimal("0.17") or rate != rate.quantize(Decimal("0.0001")):
        raise DomainError(
            "税率须在0到0.17之间，最多四位小数，如0.13 (tax rate between 0 and 0.17, e.g. 0.13)"
        )
    return rate


@dataclass(frozen=True)
class Totals:
    net: Decimal
    tax: Decimal
    total: Decimal


def taxed(net: Decimal, tax_rate: Decimal) -> Totals:
    """Prices are before tax; the tax is rounded once on the whole (增值税 on the sum)."""
    net = cents(net)
    tax = cents(net * tax_rate)
    return Totals(net, tax, net + tax)


def quote_status(status: str, expires_at: datetime, now: datetime) -> QuoteStatus:
    if status == QuoteStatus.ISSUED and now >= expires_at:
        return QuoteStatus.EXPIRED
    return QuoteStatus(status)


def check_decision(
    status: QuoteStatus, decision: str, signer: str, reason: str | None
) -> tuple[QuoteStatus, str, str | None]:
    """The customer's answer; a decided or expired quote cannot change."""
    if status is QuoteStatus.EXPIRED:
        raise QuoteClosed("报价已过期，请联系客服重新报价 (the quote has expired)", state="expired")
    if status is QuoteStatus.WITHDRAWN:
        raise QuoteClosed("该报价已撤回，不能再确认 (the quote was withdrawn)", state="withdrawn")
    if status is not QuoteStatus.ISSUED:
        raise QuoteClosed("该报价已确认，不能更改 (the quote was already decided)", state="decided")
    if decision not in ("accept", "decline"):
        raise DomainError("请选择接受或不接受报价 (choose accept or decline)")
    signer = signer.strip()
    if not 1 <= len(signer) <= SIGNER_MAX:
        raise DomainError(f"请填写确认人姓名（1–{SIGNER_MAX}字） (your name is required)")
    reason = (reason or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        raise DomainError(f"原因最多{REASON_MAX}字 (reason too long)")
    to = QuoteStatus.ACCEPTED if decision == "accept" else QuoteStatus.DECLINED
    return to, signer, reason


class QuoteClosed(Conflict):
    code = "quote_closed"


def check_withdrawal(status: QuoteStatus, quote_no: str, reason: str | None) -> str:
    """The office withdraws a quote the customer has not answered (and that has not expired:
    an expired one needs nothing), with a reason."""
    if status is not QuoteStatus.ISSUED:
        raise Conflict(
            f"报价{quote_no}已{QUOTE_STATUS_ZH[status]}，不能撤回 (only a quote waiting for the "
            "customer can be withdrawn)"
        )
    text = (reason or "").strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise DomainError(
            f"请填写撤回原因（{REASON_MIN}–{REASON_MAX}字） (a reason of {REASON_MIN}–{REASON_MAX} "
            "characters is required)"
        )
    return text


QUOTE_STATUS_ZH = {
    QuoteStatus.ISSUED: "待确认",
    QuoteStatus.ACCEPTED: "被接受",
    QuoteStatus.DECLINED: "被拒绝",
    QuoteStatus.EXPIRED: "过期",
    QuoteStatus.WITHDRAWN: "撤回",
}


def may_start_repair(coverage: Coverage, accepted_quote: bool) -> bool:
    """A chargeable repair starts only once the customer accepted a quote."""
    return coverage is Coverage.WARRANTY or accepted_quote


def check_special_invoice(
    invoice_type: str, address_phone: str | None, bank_account: str | None
) -> None:
    if invoice_type not in ("special", "normal"):
        raise DomainError("发票类型须为special（专票）或normal（普票） (invoice type)")
    if invoice_type == "special" and not (address_phone and bank_account):
        raise DomainError(
            "增值税专用发票须填写购买方地址电话和开户行及账号 (a special VAT invoice needs the "
            "buyer's address/phone and bank account)"
        )
