"""Deduction notices (三包费用核销通知) and the dealer's answers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from aftersales_shared.schemas import In, Out

from ..domain import LineDecision
from .fields import Id


class NoticeIn(In):
    dealer_id: str = Id
    period_start: date
    period_end: date


class LineAnswerIn(In):
    decision: LineDecision
    reason: str | None = Field(default=None, max_length=2000)


class LineOut(Out):
    id: int
    record_id: str
    record_no: str
    serial_no: str
    amount: Decimal
    decision: str
    dispute_reason: str | None
    answered_by: str | None
    answered_at: datetime | None


class NoticeOut(Out):
    id: str
    notice_no: str
    dealer_id: str
    period_start: date
    period_end: date
    status: str
    total: Decimal
    confirmed_amount: Decimal | None
    issued_at: datetime
    issued_by: str
    confirmed_at: datetime | None
    confirmed_by: str | None
    lines: list[LineOut]
