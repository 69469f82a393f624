"""Events owned by the contracts service."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .base import EventData, event
from .common import Contact, CustomerRef, ProductUnit, ServiceLevel


@event
class ContractSignedV1(EventData):
    """A sales contract was signed by both parties: downstream services learn the entitlements."""

    NAME = "ContractSigned"
    VERSION = 1
    PRODUCER = "contracts"

    contract_no: str = Field(min_length=1)
    signed_at: datetime
    customer: CustomerRef
    products: list[ProductUnit] = Field(min_length=1)
    service_levels: list[ServiceLevel] = Field(min_length=1)
    calendar: str = Field(default="default", description="working-time calendar id or '24x7'")
    dealer_id: str | None = None
    sales_rep: str | None = None
    document_sha256: str | None = None


@event
class ContractArchivedV1(EventData):
    """The signed contract's originals, credentials, requirement and review forms were archived (归档)."""

    NAME = "ContractArchived"
    VERSION = 1
    PRODUCER = "contracts"

    contract_no: str
    archived_at: datetime
    archived_by: str
    due_at: datetime
    on_time: bool


@event
class ContractArchiveOverdueV1(EventData):
    """Archiving was due 3 working days after signing and did not happen (fired once)."""

    NAME = "ContractArchiveOverdue"
    VERSION = 1
    PRODUCER = "contracts"

    contract_no: str
    customer_name: str
    signed_at: datetime
    due_at: datetime
    sales_rep: str | None = None
    due_provisional: bool = False


@event
class DeliveryNoticeV1(EventData):
    """The customer must be told 24 h before shipping (发货通知)."""

    NAME = "DeliveryNotice"
    VERSION = 1
    PRODUCER = "contracts"

    contract_no: str
    order_no: str
    ships_at: datetime
    customer_id: str
    customer_name: str
    contacts: list[Contact] = Field(default_factory=list)
    delivery_place: str | None = None
    items: list[str] = Field(default_factory=list, description="model × quantity lines, human-readable")
