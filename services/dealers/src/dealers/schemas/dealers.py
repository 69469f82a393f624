"""Dealers, agreements, grades, measured service, truck visits and the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from aftersales_shared.schemas import ContactIn, In, Out

from ..domain import GRADES
from .fields import Id


class DealerIn(In):
    dealer_id: str = Id
    name: str = Field(min_length=1, max_length=200)
    region: str = Field(min_length=1, max_length=100, description="代理区域")
    agreement_no: str = Field(min_length=1, max_length=64, description="区域代理协议编号")
    agreement_start: date
    agreement_end: date
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    grade: str = Field(default="B", pattern=f"^[{''.join(GRADES)}]$")
    calendar_id: str = Field(default="default", max_length=64)
    return_mode: Literal["fixed_dates", "truck"] = "fixed_dates"

    @model_validator(mode="after")
    def _term(self) -> DealerIn:
        if self.agreement_end <= self.agreement_start:
            raise ValueError("agreement_end must be after agreement_start (协议终止日须晚于起始日)")
        return self


class DealerPatchIn(In):
    contacts: list[ContactIn] | None = Field(default=None, max_length=20)
    agreement_end: date | None = None
    calendar_id: str | None = Field(default=None, max_length=64)
    return_mode: Literal["fixed_dates", "truck"] | None = None


class DealerOut(Out):
    dealer_id: str
    name: str
    region: str
    agreement_no: str
    agreement_start: date
    agreement_end: date
    contacts: list[dict]
    grade: str
    calendar_id: str
    return_mode: str
    created_at: datetime
    created_by: str


class GradeChangeOut(Out):
    id: int
    dealer_id: str
    from_grade: str | None
    to_grade: str
    reason: str
    review_id: str | None
    changed_by: str
    changed_at: datetime


class GradeSetIn(In):
    grade: str = Field(pattern=f"^[{''.join(GRADES)}]$")
    reason: str = Field(min_length=2, max_length=2000)


class GradeReviewIn(In):
    window_days: int | None = Field(default=None, ge=7, le=730)


class GradeDecisionIn(In):
    confirm: bool
    note: str = Field(min_length=2, max_length=2000)


class GradeReviewOut(Out):
    id: str
    dealer_id: str
    window_start: date
    window_end: date
    measures: dict
    reasons: list[str]
    current_grade: str
    proposed_grade: str
    status: str
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class MeasuresOut(BaseModel):
    dealer_id: str
    window_start: date
    window_end: date
    late_cards: int
    late_returns: int
    late_arrangements: int
    sla_breaches: int
    missing_stock_plans: int
    tickets: int
    completions: int
    surveys: int
    mean_score: Decimal | None
    demotion_reasons: list[str]


class TruckVisitIn(In):
    visit_date: date


class AuditOut(Out):
    id: int
    dealer_id: str | None
    entity: str
    entity_id: str
    action: str
    actor: str
    at: datetime
    detail: dict
