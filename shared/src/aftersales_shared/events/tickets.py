"""Events owned by the tickets service."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .base import EventData, event
from .common import Contact, Urgency


class SlaClock(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESPONSE = "response"
    ONSITE = "onsite"
    RESOLUTION = "resolution"


@event
class TicketOpenedV1(EventData):
    """A service request was registered (售后服务工单)."""

    NAME = "TicketOpened"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    opened_at: datetime
    channel: str
    request_type: str
    urgency: Urgency
    description: str
    customer_id: str | None = None
    customer_name: str
    contact: Contact
    contract_no: str | None = None
    product_model: str | None = None
    serial_no: str | None = None
    dealer_id: str | None = None
    acknowledge_due: datetime | None = None
    response_due: datetime | None = None
    resolution_due: datetime | None = None
    deadlines_provisional: bool = False


@event
class SlaBreachedV1(EventData):
    """A ticket's SLA clock passed its deadline (fired once per clock)."""

    NAME = "SlaBreached"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    clock: SlaClock
    deadline: datetime
    breached_at: datetime
    overdue_seconds: int = Field(ge=0)
    urgency: Urgency
    escalation_level: int = Field(default=1, ge=1)
    customer_id: str | None = None
    assignee_id: str | None = None
    dealer_id: str | None = None
    deadline_provisional: bool = False


@event
class ServiceCompletedV1(EventData):
    """The customer confirmed the service (维修服务单 / 投诉处理确认书)."""

    NAME = "ServiceCompleted"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    completed_at: datetime
    request_type: str
    channel: str
    customer_id: str | None = None
    customer_name: str
    contact: Contact
    confirmed_by: str
    confirmation_method: str = Field(description="signature, phone, sms, online")
    engineer_id: str | None = None
    dealer_id: str | None = None
    contract_no: str | None = None
    product_model: str | None = None
    serial_no: str | None = None
    within_sla: bool | None = None
    urgency: Urgency | None = Field(
        default=None, description="the ticket's urgency (a critical one gets a return visit)"
    )


@event
class TicketAssignedV1(EventData):
    """A ticket was dispatched (派单) or reassigned to an engineer or a dealer."""

    NAME = "TicketAssigned"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    assigned_at: datetime
    assignee_id: str
    assignee_kind: str = Field(description="engineer | dealer | sales")
    assignee_name: str | None = None
    assignee_phone: str | None = None
    assignee_email: str | None = None
    assigned_by: str
    reason: str | None = None
    previous_assignee_id: str | None = None
    urgency: Urgency
    customer_id: str | None = None
    customer_name: str
    contact: Contact
    dealer_id: str | None = None
    resolution_due: datetime | None = None


@event
class SlaWarningV1(EventData):
    """A ticket's SLA clock used the warning fraction (default 75 %) of its time."""

    NAME = "SlaWarning"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    clock: SlaClock
    deadline: datetime
    warned_at: datetime
    fraction: float = Field(gt=0, lt=1)
    urgency: Urgency
    customer_id: str | None = None
    assignee_id: str | None = None
    dealer_id: str | None = None
    deadline_provisional: bool = False


@event
class SlaDeadlineChangedV1(EventData):
    """A clock's deadline moved (urgency changed, calendar table imported or edited)."""

    NAME = "SlaDeadlineChanged"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    clock: SlaClock
    old_deadline: datetime | None = None
    new_deadline: datetime
    reason: str
    deadline_provisional: bool = False


class CalendarDay(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    date: date
    kind: str = Field(pattern="^(holiday|workday)$")
    name: str = ""


class BusinessInterval(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    start: time
    end: time


@event
class CalendarChangedV1(EventData):
    """A working-time calendar changed: other services keep their local copy up to date."""

    NAME = "CalendarChanged"
    VERSION = 1
    PRODUCER = "tickets"

    calendar_id: str
    timezone: str = "Asia/Shanghai"
    always_open: bool = False
    hours: list[BusinessInterval] = Field(default_factory=list)
    workday_hours: list[BusinessInterval] = Field(
        default_factory=list, description="hours of a 调休 make-up day"
    )
    years: dict[int, list[CalendarDay]] = Field(
        default_factory=dict, description="full table per year carried"
    )
    closures: list[CalendarDay] = Field(default_factory=list)
    changed_by: str
    changed_at: datetime


@event
class CalendarYearMissingV1(EventData):
    """From 1 November: next year's holiday table has not been imported yet."""

    NAME = "CalendarYearMissing"
    VERSION = 1
    PRODUCER = "tickets"

    calendar_id: str
    year: int
    noticed_at: datetime


@event
class TicketReopenedV1(EventData):
    """A completed ticket was reopened within the reopen window."""

    NAME = "TicketReopened"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    reopened_at: datetime
    reason: str
    reopened_by: str


@event
class FollowUpOpenedV1(EventData):
    """A low survey score opened a follow-up ticket linked to the original one."""

    NAME = "FollowUpOpened"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    original_ticket_id: str
    survey_id: str
    opened_at: datetime


@event
class SlaEscalatedV1(EventData):
    """A breached clock is still not met N hours later: escalation goes up to management."""

    NAME = "SlaEscalated"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    clock: SlaClock
    deadline: datetime
    escalated_at: datetime
    overdue_seconds: int = Field(ge=0)
    escalation_level: int = Field(ge=2)
    urgency: Urgency
    customer_id: str | None = None
    assignee_id: str | None = None
    dealer_id: str | None = None
