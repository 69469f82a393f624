"""HTTP request/response types of the surveys API (not the event contracts)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from aftersales_shared.schemas import In, Out


class PhoneAnswerIn(In):
    """What the customer said on the phone; the agent is taken from the token."""

    efficiency: int = Field(ge=1, le=5, description="效率 1–5")
    attitude: int = Field(ge=1, le=5, description="态度 1–5")
    professionalism: int = Field(ge=1, le=5, description="专业性 1–5")
    recommend: int | None = Field(default=None, ge=0, le=10, description="would recommend 0–10")
    comment: str | None = Field(
        default=None, max_length=5000, description="the service's comment limit applies"
    )
    respondent: str | None = Field(
        default=None, max_length=100, description="who answered the call"
    )


class AnswerOut(Out):
    efficiency: int
    attitude: int
    professionalism: int
    recommend: int | None
    comment: str | None
    low_score: bool
    method: str
    recorded_by: str | None
    respondent: str | None
    language: str
    answered_at: datetime


class SurveyOut(Out):
    id: str
    ticket_id: str
    ticket_no: str
    customer_id: str | None
    customer_name: str
    contact: dict
    engineer_id: str | None
    dealer_id: str | None
    product_model: str | None
    channel: str | None
    request_type: str | None
    completed_at: datetime
    completed_month: str
    status: str
    skip_reason: str | None
    due_at: datetime | None
    invited_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None
    created_at: datetime
    answer: AnswerOut | None


class FigureRow(BaseModel):
    key: str | None = None
    surveyed: int
    answered: int
    response_rate: float | None = Field(description="answered / surveyed")
    efficiency: float | None
    attitude: float | None
    professionalism: float | None
    overall: float | None = Field(description="mean of the three dimensions")
    recommend: float | None
    low_scores: int


class SatisfactionOut(BaseModel):
    group_by: str
    month_from: str | None
    month_to: str | None
    rows: list[FigureRow]
    total: FigureRow


class DistributionOut(BaseModel):
    month_from: str | None
    month_to: str | None
    surveyed: int
    answered: int
    response_rate: float | None
    scores: dict[str, dict[str, int]] = Field(description="dimension → score → number of answers")


class VisitCallIn(In):
    """One call of a return visit (回访)."""

    outcome: Literal["reached", "not_reached", "problem_persists"] = Field(
        description="reached: solved; problem_persists: reopens the work; not_reached: call again"
    )
    note: str | None = Field(default=None, max_length=1000, description="what the customer said")
    called_at: datetime | None = Field(default=None, description="when; now when not given")


class VisitCallOut(BaseModel):
    at: datetime
    by: str
    outcome: str
    note: str | None = None


class ReturnVisitOut(Out):
    id: str
    ticket_id: str
    ticket_no: str
    reason: str = Field(description="critical, complaint, sampled")
    customer_id: str | None
    customer_name: str
    contact: dict
    engineer_id: str | None
    dealer_id: str | None
    product_model: str | None
    request_type: str | None
    urgency: str | None
    completed_at: datetime
    due_at: datetime
    due_provisional: bool
    status: str = Field(description="open, done, unreachable")
    calls: list[VisitCallOut]
    outcome: str | None = Field(description="reached, problem_persists, unreachable")
    note: str | None
    closed_at: datetime | None
    closed_by: str | None
    overdue_at: datetime | None
    created_at: datetime
