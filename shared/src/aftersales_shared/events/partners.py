"""Events partner systems publish (call centre, dealer portals, ERP) on the PARTNERS stream."""

from __future__ import annotations

from pydantic import Field

from .base import EventData, event
from .common import Contact, Urgency


@event
class TicketRequestedV1(EventData):
    """A partner system asks for a ticket; tickets registers it (once per event id)."""

    NAME = "TicketRequested"
    VERSION = 1
    PRODUCER = "partners"

    external_ref: str = Field(min_length=1, max_length=100, description="the partner's own reference")
    channel: str = Field(default="partner")
    request_type: str
    urgency: Urgency = Urgency.NORMAL
    description: str = Field(min_length=1, max_length=4000)
    customer_id: str | None = None
    customer_name: str = Field(min_length=1)
    contact: Contact
    contract_no: str | None = None
    product_model: str | None = None
    serial_no: str | None = None
    batch_no: str | None = None
    dealer_id: str | None = None
