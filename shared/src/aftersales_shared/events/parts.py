"""Events owned by the parts service (spare-parts stock, the movement ledger, reservations)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .base import EventData, event
from .common import Contact


@event
class PartIssuedV1(EventData):
    """Units of a part left a location for a ticket (a repair consumed them): the ticket's parts
    cost grows by quantity × unit price at issue."""

    NAME = "PartIssued"
    VERSION = 1
    PRODUCER = "parts"

    movement_id: str
    part_no: str
    part_name: str
    quantity: int = Field(ge=1)
    unit_price: Decimal = Field(decimal_places=2, description="CNY, the part's price at issue")
    currency: str = "CNY"
    warranty_part: bool
    location_id: str
    ticket_no: str
    issued_by: str
    issued_at: datetime


@event
class PartReturnedV1(EventData):
    """Unused units of a part issued to a ticket came back to a location: the ticket's parts cost
    shrinks by quantity × the unit price they were issued at."""

    NAME = "PartReturned"
    VERSION = 1
    PRODUCER = "parts"

    movement_id: str
    part_no: str
    part_name: str
    quantity: int = Field(ge=1)
    unit_price: Decimal = Field(decimal_places=2, description="CNY, the price they were issued at")
    currency: str = "CNY"
    location_id: str
    ticket_no: str
    returned_by: str
    returned_at: datetime


@event
class StockBelowReorderPointV1(EventData):
    """A movement took a part's total stock (good units on hand, all locations) to or below its
    reorder point: once per crossing, again only after the stock rose above the point."""

    NAME = "StockBelowReorderPoint"
    VERSION = 1
    PRODUCER = "parts"

    part_no: str
    part_name: str
    on_hand: int = Field(description="good units on hand in all locations after the movement")
    reorder_point: int = Field(ge=0)
    reorder_quantity: int = Field(ge=1, description="what to order (the part's reorder quantity)")
    movement_id: str
    at: datetime


@event
class PartsArrivedForTicketV1(EventData):
    """Stock received at a location now covers a ticket's open reservation: the ticket waiting
    for this part can go on (tickets resumes its clocks when none of its reservations still
    waits)."""

    NAME = "PartsArrivedForTicket"
    VERSION = 1
    PRODUCER = "parts"

    reservation_id: str
    ticket_no: str
    part_no: str
    part_name: str
    quantity: int = Field(ge=1)
    location_id: str
    arrived_at: datetime
    still_waiting: int = Field(
        ge=0, description="the ticket's other reservations whose parts have not arrived yet"
    )


class QuoteLine(BaseModel):
    """One line of a quote or an invoice: labour, travel, a service item or a part."""

    model_config = ConfigDict(extra="ignore")

    kind: str = Field(description="labour | travel | service | part")
    description: str
    quantity: Decimal = Field(description="hours, km, units")
    unit: str
    unit_price: Decimal = Field(decimal_places=2, description="CNY, before tax")
    amount: Decimal = Field(decimal_places=2, description="CNY, before tax")


@event
class QuoteIssuedV1(EventData):
    """A quote for paid service (chargeable ticket) was sent to the customer as a link; the repair
    waits for the customer's acceptance."""

    NAME = "QuoteIssued"
    VERSION = 1
    PRODUCER = "parts"

    quote_id: str
    quote_no: str
    ticket_no: str
    customer_name: str | None = None
    net_amount: Decimal = Field(decimal_places=2, description="CNY, before tax")
    tax_rate: Decimal = Field(description="e.g. 0.13")
    tax_amount: Decimal = Field(decimal_places=2)
    total: Decimal = Field(decimal_places=2, description="CNY, tax included")
    currency: str = "CNY"
    lines: list[QuoteLine]
    contact: Contact = Field(description="the ticket's contact: notifications sends the link")
    link_masked: str = Field(description="the quote page URL with the token cut short")
    link_sealed: str = Field(
        description="the full link in a libsodium sealed box to notifications' public key"
    )
    expires_at: datetime
    issued_by: str
    issued_at: datetime


@event
class QuoteAcceptedV1(EventData):
    """The customer accepted a quote: the chargeable repair may start."""

    NAME = "QuoteAccepted"
    VERSION = 1
    PRODUCER = "parts"

    quote_id: str
    quote_no: str
    ticket_no: str
    total: Decimal = Field(decimal_places=2, description="CNY, tax included")
    currency: str = "CNY"
    signer: str
    decided_at: datetime


@event
class QuoteDeclinedV1(EventData):
    """The customer declined a quote: no chargeable repair on it."""

    NAME = "QuoteDeclined"
    VERSION = 1
    PRODUCER = "parts"

    quote_id: str
    quote_no: str
    ticket_no: str
    total: Decimal = Field(decimal_places=2, description="CNY, tax included")
    currency: str = "CNY"
    signer: str
    reason: str | None = None
    decided_at: datetime


@event
class QuoteWithdrawnV1(EventData):
    """The office withdrew a quote the customer had not answered: its link says so and no quote
    awaits the customer any more (a new one may follow)."""

    NAME = "QuoteWithdrawn"
    VERSION = 1
    PRODUCER = "parts"

    quote_id: str
    quote_no: str
    ticket_no: str
    total: Decimal = Field(decimal_places=2, description="CNY, tax included")
    currency: str = "CNY"
    reason: str
    withdrawn_by: str
    withdrawn_at: datetime


@event
class InvoiceRequestedV1(EventData):
    """A VAT invoice (增值税发票) is to be issued by finance for a chargeable ticket."""

    NAME = "InvoiceRequested"
    VERSION = 1
    PRODUCER = "parts"

    invoice_id: str
    ticket_no: str
    quote_no: str | None = None
    invoice_type: str = Field(description="special (专票) | normal (普票)")
    buyer_name: str
    buyer_tax_no: str = Field(description="统一社会信用代码 (checked)")
    buyer_address_phone: str | None = None
    buyer_bank_account: str | None = None
    net_amount: Decimal = Field(decimal_places=2, description="CNY, before tax")
    tax_rate: Decimal
    tax_amount: Decimal = Field(decimal_places=2)
    total: Decimal = Field(decimal_places=2, description="CNY, tax included")
    currency: str = "CNY"
    lines: list[QuoteLine]
    requested_by: str
    requested_at: datetime


@event
class InvoiceIssuedV1(EventData):
    """Finance issued the VAT invoice a request asked for and registered its number (数电发票号码,
    or a paper invoice's 发票代码 + 发票号码) and issue date: the ticket is invoiced."""

    NAME = "InvoiceIssued"
    VERSION = 1
    PRODUCER = "parts"

    invoice_id: str
    ticket_no: str
    invoice_type: str = Field(description="special (专票) | normal (普票)")
    invoice_code: str | None = Field(
        default=None, description="发票代码 (10 or 12 digits) of a paper invoice; none for 数电"
    )
    invoice_number: str = Field(description="20 digits (数电), or 8 digits with a code (paper)")
    issue_date: date = Field(description="开票日期, in the business time zone")
    buyer_name: str
    buyer_tax_no: str
    net_amount: Decimal = Field(decimal_places=2, description="CNY, before tax")
    tax_amount: Decimal = Field(decimal_places=2)
    total: Decimal = Field(decimal_places=2, description="CNY, tax included")
    currency: str = "CNY"
    issued_by: str = Field(description="who registered it")
    issued_at: datetime = Field(description="when it was registered")


@event
class InvoiceCancelledV1(EventData):
    """Finance undid an invoice request: withdrew it before it was issued (撤回), or reversed the
    issued invoice with a red-letter invoice (红字发票, 红冲). The ticket is no longer invoiced
    and may be invoiced anew."""

    NAME = "InvoiceCancelled"
    VERSION = 1
    PRODUCER = "parts"

    invoice_id: str
    ticket_no: str
    kind: Literal["withdrawn", "reversed"] = Field(
        description="withdrawn (已撤回, never issued) | reversed (已红冲 by a red invoice)"
    )
    reason: str = Field(
        description="withdrawn: the words finance typed; reversed: billing_error (开票有误), "
        "sales_return (销货退回), service_stopped (服务中止) or sales_allowance (销售折让)"
    )
    note: str | None = None
    invoice_code: str | None = Field(default=None, description="the reversed invoice's 发票代码")
    invoice_number: str | None = Field(
        default=None, description="the reversed invoice's number; none when withdrawn"
    )
    red_invoice_code: str | None = Field(default=None, description="红字发票代码 (paper only)")
    red_invoice_number: str | None = Field(default=None, description="红字发票号码 when reversed")
    red_issue_date: date | None = Field(default=None, description="红字发票开票日期")
    total: Decimal = Field(decimal_places=2, description="CNY, tax included, of the request")
    currency: str = "CNY"
    cancelled_by: str = Field(description="who withdrew or reversed it")
    cancelled_at: datetime = Field(description="when it was recorded")


class ExpenseClaimFacts(EventData):
    """What every expense claim event says of the claim. `assignee_id` is the engineer who claims
    (notifications' `assignee` selector reaches them by it)."""

    claim_id: int
    claim_no: str
    assignee_id: str = Field(description="the engineer who claims (费用报销人)")
    engineer_name: str | None = None
    trip_start: date
    trip_end: date
    destination: str
    total: Decimal = Field(decimal_places=2, description="CNY, the claim's lines")
    currency: str = "CNY"
    ticket_nos: list[str] = Field(description="the tickets the claim's lines are for")


@event
class ExpenseClaimSubmittedV1(ExpenseClaimFacts):
    """An engineer submitted a travel expense claim (or a corrected one after a rejection): the
    supervisors review it."""

    NAME = "ExpenseClaimSubmitted"
    VERSION = 1
    PRODUCER = "parts"

    submit_due_at: datetime = Field(description="the submission deadline (working days)")
    resubmitted: bool = Field(description="true: corrected after a rejection")
    late_exception: bool = Field(description="true: submitted late under a manager's exception")
    submitted_at: datetime


@event
class ExpenseClaimApprovedV1(ExpenseClaimFacts):
    """A supervisor approved the claim (费用报销单经审核): finance settles it."""

    NAME = "ExpenseClaimApproved"
    VERSION = 1
    PRODUCER = "parts"

    approved_by: str
    approved_at: datetime


@event
class ExpenseClaimRejectedV1(ExpenseClaimFacts):
    """A supervisor sent the claim back with a reason: the engineer may correct and resubmit it."""

    NAME = "ExpenseClaimRejected"
    VERSION = 1
    PRODUCER = "parts"

    rejected_by: str
    reason: str
    rejected_at: datetime


@event
class ExpenseClaimSettledV1(ExpenseClaimFacts):
    """Finance paid the approved claim (结算) under a payment reference."""

    NAME = "ExpenseClaimSettled"
    VERSION = 1
    PRODUCER = "parts"

    payment_reference: str
    settled_by: str
    settled_at: datetime


@event
class ExpenseClaimOverdueV1(ExpenseClaimFacts):
    """A claim missed a deadline. stage `submission`: not submitted within its working days after
    the trip (逾期将不予报销) — marked overdue once; only a manager's exception lets it be submitted
    now. stage `approval`: a submitted claim not approved or rejected within its working days —
    the supervisors hear it."""

    NAME = "ExpenseClaimOverdue"
    VERSION = 1
    PRODUCER = "parts"

    stage: str = Field(default="submission", description="submission | approval")
    submit_due_at: datetime
    approval_due_at: datetime | None = Field(
        default=None, description="stage approval: when the decision was due"
    )
    working_days: int = Field(ge=1, description="the working days the missed deadline allowed")
    overdue_at: datetime
