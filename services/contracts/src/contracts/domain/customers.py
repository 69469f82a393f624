"""Customers and leads: the unified social credit code (mod-31 check character), lead grades and
horizons."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from aftersales_shared.creditcode import (  # noqa: F401  (kept where contracts imported them)
    CREDIT_CODE_CHARS,
    CREDIT_CODE_WEIGHTS,
    InvalidCreditCode,
    credit_code_check_char,
    validate_credit_code,
)
from aftersales_shared.errors import Conflict


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
