"""Events partner systems publish (call centre, dealer portals, ERP) on the PARTNERS stream."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import EventData, event
from .common import Contact, Urgency


@event
class TicketRequestedV1(EventData):
    """A partner system asks for a ticket; tickets registers it (once per event id)."""

    NAME = "TicketRequested"
    VERSION = 1
    PRODUCER = "partners"

    # limits as wide as the columns that keep them: an event beyond them is a dead letter at once,
    # with the reason
    external_ref: str = Field(
        min_length=1, max_length=100, description="the partner's own reference"
    )
    channel: str = Field(
        default="partner",
        min_length=1,
        max_length=60,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="the partner's channel, e.g. partner-call-centre-east (its token's subject)",
    )
    request_type: Literal[
        "quality_issue",
        "usage_question",
        "return_exchange",
        "complaint",
        "suggestion",
        "installation",
        "maintenance",
    ]
    urgency: Urgency = Urgency.NORMAL
    description: str = Field(min_length=1, max_length=4000)
    customer_id: str | None = Field(default=None, max_length=64)
    customer_name: str = Field(min_length=1, max_length=200)
    contact: Contact
    contract_no: str | None = Field(default=None, max_length=64)
    product_model: str | None = Field(default=None, max_length=100)
    serial_no: str | None = Field(default=None, max_length=100)
    batch_no: str | None = Field(default=None, max_length=100)
    dealer_id: str | None = Field(default=None, max_length=64)
