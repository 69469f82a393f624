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


INVOICE_STATUS_ZH = {InvoiceStatus.REQUESTED: "待开票", InvoiceStatus.ISSUED: "已开票"}

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
    if registered == wanted and registered_on == issue_date:
        return False
    shown = registered.key if registered else "—"
    raise Conflict(
        f"该发票已登记为{shown}（开票日期{registered_on}），不能再登记为其他号码或日期 "
        "(the invoice was already registered with another number or date)"
    )
