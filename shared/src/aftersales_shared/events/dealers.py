"""Events owned by the dealers service (the 三包 warranty cycle)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from .base import EventData, event
from .common import Contact


@event
class WarrantyCardRegisteredV1(EventData):
    """A dealer returned the warranty registration card (三包回执卡) for a unit."""

    NAME = "WarrantyCardRegistered"
    VERSION = 1
    PRODUCER = "dealers"

    card_id: str
    dealer_id: str
    serial_no: str
    model: str
    sale_date: date
    registered_at: datetime
    customer_name: str
    warranty_recognised: bool
    reason: str | None = None
    on_time: bool | None = None
    overridden_by: str | None = Field(
        default=None, description="set when a manager overrode a late card"
    )
    override_note: str | None = None


@event
class CardOverdueV1(EventData):
    """A sold unit's warranty card was not registered within 20 days of sale."""

    NAME = "CardOverdue"
    VERSION = 1
    PRODUCER = "dealers"

    dealer_id: str
    serial_no: str
    sale_date: date
    due_date: date


@event
class PartsReturnOverdueV1(EventData):
    """Replaced parts under warranty were not returned by their deadline."""

    NAME = "PartsReturnOverdue"
    VERSION = 1
    PRODUCER = "dealers"

    dealer_id: str
    due_date: date
    repair_record_ids: list[str]
    parts: int = Field(ge=1)


@event
class DeductionIssuedV1(EventData):
    """
    A dealer confirmed a deduction notice (三包费用核销通知): the amount leaves its receivables.
    """

    NAME = "DeductionIssued"
    VERSION = 1
    PRODUCER = "dealers"

    notice_id: str
    notice_no: str
    dealer_id: str
    period_start: date
    period_end: date
    amount: Decimal = Field(decimal_places=2, description="CNY")
    currency: str = "CNY"
    confirmed_at: datetime
    lines: int = Field(ge=1)


@event
class CardDueSoonV1(EventData):
    """Reminder: a sold unit's warranty card is due within a few days and not registered yet."""

    NAME = "CardDueSoon"
    VERSION = 1
    PRODUCER = "dealers"

    dealer_id: str
    serial_no: str
    model: str
    sale_date: date
    due_date: date
    customer_name: str | None = None


@event
class WarrantyServiceOverdueV1(EventData):
    """A dealer did not arrange warranty service within 2 working hours of the request."""

    NAME = "WarrantyServiceOverdue"
    VERSION = 1
    PRODUCER = "dealers"

    record_id: str
    record_no: str
    dealer_id: str
    serial_no: str
    requested_at: datetime
    arrange_due: datetime
    ticket_no: str | None = None
    due_provisional: bool = False


@event
class StockingPlanMissedV1(EventData):
    """A dealer did not submit its parts stocking plan 30 days before the season."""

    NAME = "StockingPlanMissed"
    VERSION = 1
    PRODUCER = "dealers"

    dealer_id: str
    season_code: str
    season_starts: date
    due_date: date


@event
class DealerContactsChangedV1(EventData):
    """A dealer was registered or its contacts changed: the people to tell about its units, cards,
    repairs and settlements (notifications keeps them as the dealer's recipients)."""

    NAME = "DealerContactsChanged"
    VERSION = 1
    PRODUCER = "dealers"

    dealer_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    region: str | None = Field(default=None, max_length=100)
    contacts: list[Contact] = Field(default_factory=list, max_length=50)
    changed_at: datetime
