"""The invoice register's rules (发票登记): what finance may type as the number of an issued VAT
invoice, which issue dates are possible, and whether a second registration is the same one again.
No web, broker or ORM code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from aftersales_shared.auth import Role
from aftersales_shared.errors import Conflict, DomainError


class InvoiceStatus(StrEnum):
    REQUESTED = "requested"  # 待开票: finance has the request
    ISSUED = "issued"  # 已开票: the number and date are registered
    CANCELLED = "cancelled"  # 已撤回: withdrawn before it was issued
    REVERSED = "reversed"  # 已红冲: a red-letter invoice (红字发票) reversed the issued one


INVOICE_STATUS_ZH = {
    InvoiceStatus.REQUESTED: "待开票",
    InvoiceStatus.ISSUED: "已开票",
    InvoiceStatus.CANCELLED: "已撤回",
    InvoiceStatus.REVERSED: "已红冲",
}
# a ticket has at most one request in these (a partial unique index); the others are history
LIVE = (InvoiceStatus.REQUESTED.value, InvoiceStatus.ISSUED.value)
# why an issued invoice is reversed (红字发票确认单's 冲红原因)
REVERSAL_REASONS = {
    "billing_error": "开票有误",
    "sales_return": "销货退回",
    "service_stopped": "服务中止",
    "sales_allowance": "销售折让",
}

# who reads the register and registers issued invoices: finance, the service supervisors and
# the managers (not engineers, agents, dealers or customers)
REGISTRARS = (Role.FINANCE, Role.SERVICE_SUPERVISOR, Role.MANAGER)

DIGITS = re.compile(r"^[0-9]+$")
SPACES = re.compile(r"[\s\u3000-]+")


@dataclass(frozen=True)
class InvoiceNumber:
    """数电发票号码 (20 digits, no code), or a paper/legacy invoice's 发票代码 (10 or 12 digits)
    with its 发票号码 (8 digits)."""

    number: str
    code: str | None = None

    @property
    def key(self) -> str:
        """Unique across the register: a 20-digit number alone, a paper one with its code."""
        return f"{self.code}-{self.number}" if self.code else self.number

    @property
    def digital(self) -> bool:
        return self.code is None


def _digits(raw: str | None, what: str) -> str:
    value = SPACES.sub("", raw or "")
    if value and not DIGITS.fullmatch(value):
        raise DomainError(f"{what}只能由数字组成 ({what}: digits only)")
    return value


def check_number(number: str | None, code: str | None, issue_date: date) -> InvoiceNumber:
    """A 数电 number is 20 digits and starts with the issue year's last two digits; a paper
    invoice has a 10- or 12-digit code and an 8-digit number. Spaces and dashes typed while
    copying are dropped."""
    num = _digits(number, "发票号码")
    cod = _digits(code, "发票代码")
    if not num:
        raise DomainError("请填写发票号码 (the invoice number is required)")
    if not cod:
        if len(num) != 20:
            raise DomainError(
                f"数电发票号码应为20位数字（现为{len(num)}位）；纸质发票请同时填写10或12位发票代码"
                "和8位发票号码 (a digital invoice number has 20 digits; a paper one needs its "
                "code)"
            )
        if num[:2] != f"{issue_date.year % 100:02d}":
            raise DomainError(
                f"数电发票号码前两位应为开票年度{issue_date.year % 100:02d}，请核对号码或开票日期 "
                "(a digital invoice number starts with the issue year)"
            )
        return InvoiceNumber(num)
    if len(cod) not in (10, 12):
        raise DomainError(
            f"发票代码应为10位或12位数字（现为{len(cod)}位） (the invoice code has 10 or 12 digits)"
        )
    if len(num) != 8:
        raise DomainError(
            f"纸质发票的发票号码应为8位数字（现为{len(num)}位） (a paper invoice number has 8 "
            "digits)"
        )
    return InvoiceNumber(num, cod)


def check_issue_date(issue_date: date, requested_on: date, today: date) -> date:
    """Issued on a day between the request and today, both in the business time zone."""
    if issue_date > today:
        raise DomainError(
            f"开票日期{issue_date.isoformat()}晚于今天{today.isoformat()}，不能登记未来的日期 "
            "(the issue date cannot be in the future)"
        )
    if issue_date < requested_on:
        raise DomainError(
            f"开票日期{issue_date.isoformat()}早于开票申请日{requested_on.isoformat()} "
            "(the issue date cannot be before the request)"
        )
    return issue_date


def check_again(
    status: str,
    registered: InvoiceNumber | None,
    registered_on: date | None,
    wanted: InvoiceNumber,
    issue_date: date,
) -> bool:
    """True when the invoice is still to be registered; False when it was registered with the
    same number and date (a retry: nothing to do). Anything else is a conflict."""
    if status == InvoiceStatus.REQUESTED:
        return True
    if status != InvoiceStatus.ISSUED:
        raise Conflict(
            f"该开票申请状态为{_status_words(status)}，不能再登记发票；请为工单重新申请开票 "
            f"(this request is {status}: request the ticket's invoice anew)"
        )
    if registered == wanted and registered_on == issue_date:
        return False
    shown = registered.key if registered else "—"
    raise Conflict(
        f"该发票已登记为{shown}（开票日期{registered_on}），不能再登记为其他号码或日期 "
        "(the invoice was already registered with another number or date)"
    )


def check_reason(reason: str, what: str = "撤回原因") -> str:
    """A withdrawal says why in 2–500 characters (kept on the row and in the event)."""
    value = (reason or "").strip()
    if not 2 <= len(value) <= 500:
        raise DomainError(f"请填写{what}（2–500字） ({what}: 2–500 characters)")
    return value


def check_note(note: str | None) -> str | None:
    value = (note or "").strip()
    if len(value) > 500:
        raise DomainError("备注最多500字 (the note has at most 500 characters)")
    return value or None


def check_red_date(red_date: date, blue_date: date, today: date) -> date:
    """A red-letter invoice is issued on or after the blue one it reverses, and not later than
    today, both in the business time zone."""
    if red_date > today:
        raise DomainError(
            f"红字发票开票日期{red_date.isoformat()}晚于今天{today.isoformat()}，"
            "不能登记未来的日期 (the red invoice's date cannot be in the future)"
        )
    if red_date < blue_date:
        raise DomainError(
            f"红字发票开票日期{red_date.isoformat()}早于原发票开票日期{blue_date.isoformat()} "
            "(the red invoice cannot be dated before the invoice it reverses)"
        )
    return red_date


def _status_words(status: str) -> str:
    return f"{INVOICE_STATUS_ZH[InvoiceStatus(status)]}（{status}）"


def check_cancel_again(status: str, kept_reason: str | None, reason: str) -> bool:
    """True when a waiting request is to be withdrawn; False for the same withdrawal again."""
    if status == InvoiceStatus.REQUESTED:
        return True
    if status == InvoiceStatus.CANCELLED:
        if kept_reason == reason:
            return False
        raise Conflict(
            f"该开票申请已撤回（原因：{kept_reason}），不能再以其他原因撤回 "
            "(the request was already withdrawn with another reason)"
        )
    hint = "；已开票的请红冲" if status == InvoiceStatus.ISSUED else ""
    raise Conflict(
        f"该开票申请状态为{_status_words(status)}，只有待开票的申请可以撤回{hint} "
        f"(only a requested invoice can be withdrawn; this one is {status})"
    )


@dataclass(frozen=True)
class Reversal:
    """What a red-letter invoice says: its number, its date, why, and a note."""

    number: InvoiceNumber
    red_date: date
    reason: str
    note: str | None = None


def check_reverse_again(status: str, kept: Reversal | None, wanted: Reversal) -> bool:
    """True when an issued invoice is to be reversed; False for the same reversal again."""
    if status == InvoiceStatus.ISSUED:
        return True
    if status == InvoiceStatus.REVERSED and kept is not None:
        if kept == wanted:
            return False
        raise Conflict(
            f"该发票已红冲，红字发票{kept.number.key}（开票日期{kept.red_date}），不能再登记其他"
            "红字发票或原因 (the invoice was already reversed by another red invoice)"
        )
    hint = "；未开票的申请请撤回" if status == InvoiceStatus.REQUESTED else ""
    raise Conflict(
        f"该开票申请状态为{_status_words(status)}，只有已开票的发票可以红冲{hint} "
        f"(only an issued invoice can be reversed; this one is {status})"
    )


def check_reversal_reason(reason: str) -> str:
    if reason not in REVERSAL_REASONS:
        raise DomainError(
            "红冲原因只能是 开票有误、销货退回、服务中止 或 销售折让 (reason: billing_error, "
            "sales_return, service_stopped or sales_allowance)"
        )
    return reason
