"""Event contracts: importing this package registers every known version."""

from .base import (
    CORRELATION_HEADER,
    MSG_ID_HEADER,
    Envelope,
    EventData,
    EventRegistry,
    MalformedEvent,
    event,
    registry,
)
from .common import Contact, CustomerRef, ProductUnit, ServiceLevel, Urgency
from .contracts import ContractSignedV1
from .tickets import ServiceCompletedV1, SlaBreachedV1, SlaClock, TicketOpenedV1

__all__ = [
    "CORRELATION_HEADER",
    "MSG_ID_HEADER",
    "Contact",
    "ContractSignedV1",
    "CustomerRef",
    "Envelope",
    "EventData",
    "EventRegistry",
    "MalformedEvent",
    "ProductUnit",
    "ServiceCompletedV1",
    "ServiceLevel",
    "SlaBreachedV1",
    "SlaClock",
    "TicketOpenedV1",
    "Urgency",
    "event",
    "registry",
]
