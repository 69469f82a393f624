"""Events owned by the contracts service."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from .base import EventData, event
from .common import Contact, CustomerRef, ProductUnit, ServiceLevel


class EntitlementTerms(BaseModel):
    """What the service contract promises beyond the per-urgency service levels (added to v1,
    optional)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    scope: list[str] = Field(
        default_factory=list, description="repair, replacement, technical_support, inspection"
    )
    always_open: bool = False
    term_start: date | None = None
    term_end: date | None = None
    auto_renew: bool = False
    loaner_promised: bool = False
    loaner_grade: str | None = None
    inspections_per_year: int | None = None


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
    version: int | None = Field(
        default=None, description="contract version (amendments are new versions)"
    )
    entitlement: EntitlementTerms | None = None


@event
class ContractArchivedV1(EventData):
    """
    The signed contract's originals, credentials, requirement and review forms were archived (归档).
    """

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
    items: list[str] = Field(
        default_factory=list, description="model × quantity lines, human-readable"
    )


@event
class ObjectionAnswerOverdueV1(EventData):
    """A customer's objection at goods receipt was not answered within 2 hours (fired once)."""

    NAME = "ObjectionAnswerOverdue"
    VERSION = 1
    PRODUCER = "contracts"

    contract_no: str
    order_no: str
    objection_no: int
    objection: str
    raised_at: datetime
    due_at: datetime


@event
class InstallationBookingOverdueV1(EventData):
    """No installation was booked within 2 working days of the customer's receipt (fired once)."""

    NAME = "InstallationBookingOverdue"
    VERSION = 1
    PRODUCER = "contracts"

    contract_no: str
    order_no: str
    customer_name: str
    received_at: datetime
    due_at: datetime
    due_provisional: bool = False


@event
class TrainingFollowUpOverdueV1(EventData):
    """The follow-up call after a customer training (培训后回访) was not made within 3 working days
    (fired once)."""

    NAME = "TrainingFollowUpOverdue"
    VERSION = 1
    PRODUCER = "contracts"

    contract_no: str
    order_no: str
    training_id: int
    customer_name: str
    held_at: datetime
    trainer: str
    due_at: datetime
    due_provisional: bool = False
    attempts: int = Field(ge=0, description="calls that did not reach the customer")


@event
class TrainingFollowUpRecordedV1(EventData):
    """The follow-up call after a customer training ended: how well the customer masters the
    equipment, or not reached after the allowed calls."""

    NAME = "TrainingFollowUpRecorded"
    VERSION = 1
    PRODUCER = "contracts"

    contract_no: str
    order_no: str
    training_id: int
    customer_name: str
    outcome: str = Field(description="mastered, needs_retraining, unreachable")
    note: str | None = None
    called_at: datetime
    called_by: str
    attempts: int = Field(ge=1)
    on_time: bool


@event
class ContractSubmittedV1(EventData):
    """A contract draft (or an amendment) went to review: legal, finance and delivery each have a
    part to decide (the review inbox updates; nobody is messaged by default)."""

    NAME = "ContractSubmitted"
    VERSION = 1
    PRODUCER = "contracts"

    contract_no: str = Field(min_length=1)
    version: int = Field(ge=1)
    review_round: int = Field(ge=0)
    customer_name: str
    dealer_id: str | None = None
    waiting_for: list[str] = Field(
        description="the parts still to decide: legal, finance, delivery"
    )
    submitted_at: datetime
    submitted_by: str


@event
class ContractReviewedV1(EventData):
    """A department decided its part of a contract's review (approved, or rejected with reasons:
    the contract is back to draft)."""

    NAME = "ContractReviewed"
    VERSION = 1
    PRODUCER = "contracts"

    contract_no: str = Field(min_length=1)
    version: int = Field(ge=1)
    review_round: int = Field(ge=0)
    part: str = Field(description="legal, finance or delivery")
    approved: bool
    status_after: str = Field(description="in_review, approved, or draft after a rejection")
    waiting_for: list[str] = Field(description="the parts still to decide in this round")
    reviewed_at: datetime
    reviewer: str
