"""Customers and leads: the unified social credit code (mod-31 check character), lead grades and
horizons."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from aftersales_shared.errors import Conflict, DomainError

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class InvalidCreditCode(DomainError):
    code = "invalid_credit_code"


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def validate_credit_code(code: str) -> str:
    """统一社会信用代码 (GB 32100-2015): 18 characters, the last a mod-31 check character."""
    code = code.strip().upper()
    if len(code) != 18:
        raise InvalidCreditCode(
            f"统一社会信用代码应为18位，实际为{len(code)}位 (credit code must have 18 characters)"
        )
    for pos, char in enumerate(code, start=1):
        if char not in CREDIT_CODE_CHARS:
            raise InvalidCreditCode(
                f"统一社会信用代码第{pos}位字符“{char}”无效 (character {pos} {char!r} is not "
                "allowed; I, O, S, V, Z never appear)"
            )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise InvalidCreditCode(
            f"统一社会信用代码校验位错误：应为“{expected}”，实际为“{code[17]}” (check character "
            f"should be {expected!r})"
        )
    return code


# ---------------------------------------------------------------- leads
class LeadGrade(StrEnum):
    A = "A"  # high intent, closes within 30 days
    B = "B"  # 1–3 months
    C = "C"  # long-term nurturing


class LeadStatus(StrEnum):
    OPEN = "open"
    CONVERTED = "converted"
    DROPPED = "dropped"


LEAD_HORIZON_DAYS: dict[LeadGrade, int | None] = {
    LeadGrade.A: 30,
    LeadGrade.B: 90,
    LeadGrade.C: None,
}


def lead_follow_up_by(grade: LeadGrade, graded_on: date) -> date | None:
    """The date by which a lead of this grade is expected to close (None: long-term nurturing)."""
    days = LEAD_HORIZON_DAYS[grade]
    return None if days is None else graded_on + timedelta(days=days)


def ensure_lead_open(status: str, lead_id: str) -> None:
    if status != LeadStatus.OPEN:
        raise Conflict(f"线索{lead_id}状态为{status}，不能再修改或转化 (lead is {status})")
