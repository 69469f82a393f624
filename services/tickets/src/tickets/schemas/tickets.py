"""Intake and tickets: entitlements, a new ticket, assignment, pause, urgency, loaners, the
ticket and its SLA clocks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from aftersales_shared.events import ComplaintLevel, ComplaintType, Urgency
from aftersales_shared.schemas import EMAIL_PATTERN, ContactIn, In, Out, Page, Phone

from ..domain import Channel, RequestType


class UnitOut(Out):
    serial_no: str
    model: str
    warranty_end: date


class EntitlementOut(Out):
    contract_no: str
    customer_id: str
    customer_name: str
    contacts: list[dict]
    service_levels: list[dict]
    calendar: str
    dealer_id: str | None
    signed_at: datetime
    recorded_at: datetime
    units: list[UnitOut]


EntitlementPage = Page[EntitlementOut]


class TicketIn(In):
    channel: Channel
    request_type: RequestType
    urgency: Urgency = Urgency.NORMAL
    description: str = Field(
        min_length=1, max_length=4000, description="symptom and when it started"
    )
    customer_id: str | None = Field(default=None, max_length=64)
    customer_name: str | None = Field(default=None, max_length=200)
    contact: ContactIn
    contract_no: str | None = Field(default=None, max_length=64)
    product_model: str | None = Field(default=None, max_length=100)
    serial_no: str | None = Field(default=None, max_length=100)
    batch_no: str | None = Field(default=None, max_length=100)
    dealer_id: str | None = Field(default=None, max_length=64)
    use_default_policy: bool = Field(
        default=False, description="accept an unknown contract/serial under the default SLA"
    )
    complaint_level: ComplaintLevel | None = Field(
        default=None,
        description="a complaint's level (投诉等级): general (default), major, serious",
    )
    complaint_owner_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="the supervisor who owns a complaint (default: the supervisor registering it, "
        "else the configured owner)",
    )
    complaint_type: ComplaintType | None = Field(
        default=None,
        description="what a complaint is about (投诉类型): product_quality, repair_quality, "
        "timeliness, service_attitude, charges, parts_supply, delivery_installation, other; may "
        "be given later with the investigation's findings",
    )


class AssignIn(In):
    assignee_id: str = Field(min_length=1, max_length=100)
    assignee_kind: Literal["engineer", "dealer", "sales"] = "engineer"
    assignee_name: str | None = Field(default=None, max_length=100)
    assignee_phone: Phone | None = None
    assignee_email: str | None = Field(default=None, pattern=EMAIL_PATTERN)
    reason: str | None = Field(default=None, max_length=500)


class NoteIn(In):
    note: str = Field(default="", max_length=2000)


class PauseIn(In):
    reason: Literal["waiting_customer", "waiting_parts"]
    note: str = Field(default="", max_length=2000)


class UrgencyIn(In):
    urgency: Urgency
    reason: str = Field(min_length=1, max_length=500)


class ReasonIn(In):
    reason: str = Field(min_length=1, max_length=1000)


class LoanerIn(In):
    serial_no: str = Field(min_length=1, max_length=100)
    model: str = Field(min_length=1, max_length=100)
    reason: str | None = Field(default=None, max_length=500)


class ClockOut(Out):
    kind: str
    state: str
    target_minutes: float
    deadline: datetime | None
    provisional: bool
    met_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    escalation_level: int
    # working time used before the running segment (all of it while paused): a paused clock's
    # remaining time is target - elapsed (the console's countdown)
    elapsed_minutes: float = 0.0
    running_since: datetime | None = None


class TicketOut(Out):
    ticket_no: str
    id: str
    status: str
    channel: str
    request_type: str
    urgency: str
    description: str
    customer_id: str | None
    customer_name: str
    contact_name: str
    contact_phone: str | None
    contact_email: str | None
    contract_no: str | None
    product_model: str | None
    serial_no: str | None
    batch_no: str | None
    dealer_id: str | None
    calendar_id: str
    policy: dict
    in_warranty: bool | None
    assignee_id: str | None
    assignee_kind: str | None
    assignee_name: str | None
    parent_ticket_id: str | None
    external_ref: str | None = (
        None  # a partner's own reference (with `channel`: once per partner request)
    )
    sla_state: str
    opened_at: datetime
    acknowledged_at: datetime | None
    assigned_at: datetime | None
    first_response_at: datetime | None
    onsite_at: datetime | None
    resolved_at: datetime | None
    completed_at: datetime | None
    reopen_count: int
    deadlines_provisional: bool
    clocks: list[ClockOut]


TicketPage = Page[TicketOut]


class LoanerOut(Out):
    serial_no: str
    model: str
    provided_at: datetime
    reason: str
