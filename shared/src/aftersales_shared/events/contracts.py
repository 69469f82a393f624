"""Events owned by the contracts service."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .base import EventData, event
from .common import CustomerRef, ProductUnit, ServiceLevel


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
