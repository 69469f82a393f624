"""Complaints (投诉): limits told, findings, resolutions and the customer's answers, level and
owner, each step's deadline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from aftersales_shared.events import ComplaintLevel, ComplaintType
from aftersales_shared.schemas import In, Out, Page

from ..domain import ComplaintStage
from .audit import AuditEntryOut


class ComplaintNoteIn(In):
    note: str | None = Field(default=None, max_length=2000)


class ComplaintLimitIn(In):
    promised_date: date = Field(
        description="resolved by close of business of this working day; within the level's "
        "longest promise (general 10, major 5, serious 3 working days)"
    )
    via: Literal["phone", "sms", "email", "wechat", "onsite"] = Field(
        description="how the customer was told (the written notice goes out too)"
    )
    note: str | None = Field(default=None, max_length=2000)


class ComplaintFindingsIn(In):
    findings: str = Field(min_length=1, max_length=4000, description="调查结论: what was found")
    complaint_type: ComplaintType | None = Field(
        default=None, description="投诉类型, when the investigation shows what it is about"
    )


class ComplaintResolutionIn(In):
    resolution: str = Field(
        min_length=1, max_length=4000, description="处理方案: what is proposed to the customer"
    )


class ComplaintAnswerIn(In):
    """The customer's answer to the proposed resolution as staff record it (投诉处理确认书)."""

    outcome: Literal["accepted", "rejected"]
    confirmed_by: str = Field(min_length=1, max_length=100, description="the customer's person")
    confirmed_at: AwareDatetime
    method: Literal["phone", "signature", "onsite"]
    reason: str | None = Field(default=None, max_length=2000, description="required when rejected")
    remarks: str | None = Field(default=None, max_length=2000)


class ComplaintLevelIn(In):
    level: ComplaintLevel
    reason: str = Field(min_length=1, max_length=1000)


class ComplaintOwnerIn(In):
    owner_id: str = Field(min_length=1, max_length=100, description="a supervisor's user id")
    reason: str = Field(min_length=1, max_length=1000)


class ComplaintClockOut(Out):
    round: int
    stage: str
    due_at: datetime
    met_at: datetime | None
    overdue_at: datetime | None


class ComplaintProposalOut(Out):
    round: int
    level: str
    resolution: str
    proposed_at: datetime
    proposed_by: str
    link_masked: str | None
    expires_at: datetime | None
    outcome: str | None = Field(description="accepted | rejected | null while waiting")
    answered_at: datetime | None
    method: str | None = Field(description="link | phone | signature | onsite")
    confirmed_by: str | None
    reason: str | None
    remarks: str | None
    recorded_by: str | None


class ComplaintOut(Out):
    ticket_no: str
    ticket_id: str
    ticket_status: str
    customer_name: str
    dealer_id: str | None
    calendar_id: str | None = Field(
        default=None,
        description="the ticket's working-time calendar (the clocks count on it), for readers "
        "who may not open the ticket itself: an engineer whose earlier work a complaint is about",
    )
    assignee_id: str | None = Field(
        default=None, description="who the complaint ticket is assigned to now (engineer, dealer)"
    )
    level: ComplaintLevel
    complaint_type: ComplaintType | None = Field(description="投诉类型; None until someone says")
    stage: ComplaintStage
    round: int
    owner_id: str
    management: bool = Field(description="a serious complaint rejected again: management has it")
    escalations: int
    overdue: list[str] = Field(description="steps of this round past their deadline, not done")
    opened_at: datetime
    round_started_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    promised_date: date | None
    limit_told_at: datetime | None
    limit_told_by: str | None
    limit_told_via: str | None
    findings: str | None
    investigated_at: datetime | None
    investigated_by: str | None
    accepted_at: datetime | None
    closed_at: datetime | None
    clocks: list[ComplaintClockOut] = Field(description="each step's deadline, every round")
    proposals: list[ComplaintProposalOut] = Field(
        description="the proposed resolutions and the customer's answers (投诉处理确认书)"
    )
    history: list[AuditEntryOut] | None = Field(
        default=None, description="who did what, oldest first (one complaint's answer only)"
    )


ComplaintPage = Page[ComplaintOut]
