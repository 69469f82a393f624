"""HTTP types of expense claims (报销): an engineer's claim for a trip, its lines, receipts and
history, and the decisions on it (approve, reject, settle with a payment reference)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from aftersales_shared.schemas import In, Out

from .expenses import Category as ExpenseCategory
from .schemas import TicketNo

ExpenseAmount = Annotated[
    Decimal,
    Field(
        gt=0,
        le=Decimal("50000.00"),
        decimal_places=2,
        description="CNY, more than 0, two places, at most 50,000.00 a line",
    ),
]


class ExpenseLineIn(In):
    spent_on: date = Field(description="the day the money was spent (inside the trip)")
    category: ExpenseCategory = Field(
        description="transport 交通, lodging 住宿, meal_allowance 餐补, other 其他"
    )
    amount: ExpenseAmount
    note: str | None = Field(default=None, max_length=500)
    ticket_nos: list[TicketNo] = Field(
        min_length=1, max_length=10, description="the ticket(s) the line is for"
    )


class ExpenseClaimIn(In):
    trip_start: date
    trip_end: date = Field(description="the deadline counts working days after this day")
    destination: str = Field(min_length=1, max_length=200, description="出差目的地")
    purpose: str | None = Field(default=None, max_length=500)
    engineer_name: str | None = Field(default=None, max_length=100)
    lines: list[ExpenseLineIn] = Field(default_factory=list, max_length=100)


class ReasonIn(In):
    reason: str = Field(min_length=1, max_length=500)


class SettleIn(In):
    payment_reference: str = Field(
        min_length=1, max_length=100, description="付款凭证号 / bank transfer reference"
    )


class CategoryTotalOut(Out):
    category: str
    label: str
    total: str


class ExpenseLineOut(Out):
    line_no: int
    spent_on: date
    category: str
    category_zh: str
    amount: str
    note: str | None
    ticket_nos: list[str]
    receipts: list[int] = Field(description="ids of the receipts kept for this line")


class ReceiptOut(Out):
    receipt_id: int
    claim_id: int
    line_no: int | None = Field(description="null: for the whole claim")
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


class ExpenseClaimSummaryOut(Out):
    claim_id: int
    claim_no: str
    engineer_id: str
    engineer_name: str | None
    trip_start: date
    trip_end: date
    destination: str
    state: str
    total: str
    submit_due_at: datetime
    overdue: bool
    submitted_at: datetime | None
    settled_at: datetime | None


class ExpenseClaimOut(ExpenseClaimSummaryOut):
    state_zh: str
    purpose: str | None
    due_provisional: bool = Field(
        description="the deadline runs into a year without an official holiday table"
    )
    overdue_at: datetime | None
    late_exception_reason: str | None
    late_exception_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    reject_reason: str | None
    settled_by: str | None
    payment_reference: str | None
    created_at: datetime
    updated_at: datetime
    category_totals: list[CategoryTotalOut]
    lines: list[ExpenseLineOut]
    receipts: list[ReceiptOut]


class ClaimEventOut(Out):
    event_id: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    reason: str | None
