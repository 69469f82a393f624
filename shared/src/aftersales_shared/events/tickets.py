"""Events owned by the tickets service."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

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
