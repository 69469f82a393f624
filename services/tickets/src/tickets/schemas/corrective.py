"""Corrective and preventive actions (纠正预防措施)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from aftersales_shared.events import CauseCategory
from aftersales_shared.schemas import In, Out, Page

from ..domain import Department
from .audit import AuditEntryOut
from .fields import LINE_PATTERN, Code


class CorrectiveActionIn(In):
    kind: Literal["corrective", "preventive"] = "corrective"
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    owner_department: Department
    owner_id: str | None = Field(default=None, min_length=1, max_length=100)
    ticket_nos: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=50, description="the tickets it answers"
    )
    cause_category: CauseCategory | None = Field(default=None, description="the cause it removes")
    product_line: str | None = Field(default=None, pattern=LINE_PATTERN)
    symptom: Code | None = None
    failed_part: Code | None = None
    due_date: date | None = Field(
        default=None, description="a working day: due at its close of business"
    )
    due_working_days: int | None = Field(
        default=None, ge=1, le=250, description="or: due this many working days from now"
    )


class ActionNoteIn(In):
    note: str = Field(default="", max_length=2000)


class ActionResultIn(In):
    result: str = Field(min_length=1, max_length=4000, description="what was done")


class CorrectiveActionOut(Out):
    action_no: str
    id: str
    kind: str
    title: str
    description: str | None
    owner_department: str
    owner_id: str | None
    cause_category: str | None
    product_line: str | None
    symptom_code: str | None
    failed_part_code: str | None
    ticket_nos: list[str]
    calendar_id: str
    due_date: date
    due_at: datetime
    status: str
    created_at: datetime
    created_by: str
    started_at: datetime | None
    done_at: datetime | None
    done_by: str | None
    result: str | None
    verified_at: datetime | None
    verified_by: str | None
    rejections: int
    overdue_at: datetime | None
    history: list[AuditEntryOut] | None = Field(
        default=None, description="who did what, oldest first (one action's answer only)"
    )


CorrectiveActionPage = Page[CorrectiveActionOut]
