"""Tables of the parts database. The ledger (`movements`) is append-only: rows are inserted, never
updated or deleted; `balances` and `ticket_parts` are what it adds up to, kept in the same
transaction with conditional updates so stock never goes negative. The messaging tables come from
the shared messaging history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aftersales_shared.db import NAMING, UTCDateTime

Money = Numeric(14, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, Decimal: Money}


class PartRow(Base):
    """The part master (备件主数据)."""

    __tablename__ = "parts"

    part_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(comment="CNY, what an issue is costed at")
    warranty_part: Mapped[bool] = mapped_column(Boolean, comment="三包件")
    compatible_models: Mapped[list[str]] = mapped_column(JSON)
    reorder_point: Mapped[int] = mapped_column(Integer)
    reorder_quantity: Mapped[int] = mapped_column(Integer)
    below_reorder: Mapped[bool] = mapped_column(
        Boolean, default=False, comment="announced at or below the point; re-armed above it"
    )
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
        CheckConstraint("reorder_point >= 0", name="point_not_negative"),
        CheckConstraint("reorder_quantity >= 1", name="quantity_positive"),
    )


class LocationRow(Base):
    """Where stock is kept: the central warehouse, a regional store, an engineer's van, a dealer's
    store."""

    __tablename__ = "locations"

    location_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    engineer_id: Mapped[str | None] = mapped_column(String(200), index=True)
    dealer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    region: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))


class BalanceRow(Base):
    """Stock of one part at one location: good units on hand, units reserved for tickets (not
    issuable to others), faulty units returned and not yet scrapped."""

    __tablename__ = "balances"

    part_no: Mapped[str] = mapped_column(ForeignKey("parts.part_no"), primary_key=True)
    location_id: Mapped[str] = mapped_column(
        ForeignKey("locations.location_id"), primary_key=True, index=True
    )
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    faulty: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("faulty >= 0", name="faulty_not_negative"),
    )


class MovementRow(Base):
    """One line of the ledger (库存流水). Append-only."""

    __tablename__ = "movements"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    movement_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    part_no: Mapped[str] = mapped_column(ForeignKey("parts.part_no"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    from_location: Mapped[str | None] = mapped_column(String(40), index=True)
    to_location: Mapped[str | None] = mapped_column(String(40), index=True)
    ticket_no: Mapped[str | None] = mapped_column(String(100), index=True)
    unit_price: Mapped[Decimal | None] = mapped_column(comment="issues and returns: CNY per unit")
    stock: Mapped[str] = mapped_column(String(10), default="good", comment="good | faulty")
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(index=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("quantity >= 1", name="quantity_positive"),)


class TicketPartRow(Base):
    """Units of a part issued to a ticket at one unit price and how many came back unused: what
    the ticket's parts cost adds up (kept with the ledger, checked by a conditional update)."""

    __tablename__ = "ticket_parts"

    ticket_no: Mapped[str] = mapped_column(String(100), primary_key=True)
    part_no: Mapped[str] = mapped_column(ForeignKey("parts.part_no"), primary_key=True)
    unit_price: Mapped[Decimal] = mapped_column(primary_key=True)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    first_issued_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("returned <= issued", name="returned_within_issued"),)


class ReservationRow(Base):
    """A part kept for a ticket at a location (预留): open until issued or cancelled; `covered`
    once the stock on hand holds it."""

    __tablename__ = "reservations"

    reservation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    part_no: Mapped[str] = mapped_column(ForeignKey("parts.part_no"))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.location_id"))
    ticket_no: Mapped[str] = mapped_column(String(100), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer, comment="not yet issued to the ticket")
    status: Mapped[str] = mapped_column(String(20), default="open")  # open|fulfilled|cancelled
    covered_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_reservations_waiting", "part_no", "location_id", "status", "created_at"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= quantity", name="remaining_in_range"),
    )


# ---------------------------------------------------------------- money on a ticket (#23 slice 2)
class TicketRow(Base):
    """What parts knows of a ticket (from TicketOpened): who to quote and whether the repair is on
    warranty (三包) or chargeable. `coverage` starts from the entitlement and changes only by an
    override with a reason (kept in `coverage_changes`)."""

    __tablename__ = "tickets"

    ticket_no: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    customer_name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[dict[str, Any]] = mapped_column(JSON)
    contract_no: Mapped[str | None] = mapped_column(String(100))
    product_model: Mapped[str | None] = mapped_column(String(200))
    serial_no: Mapped[str | None] = mapped_column(String(200))
    dealer_id: Mapped[str | None] = mapped_column(String(64))
    in_warranty: Mapped[bool | None] = mapped_column(Boolean, comment="as the entitlement said")
    coverage: Mapped[str] = mapped_column(String(20), comment="warranty | chargeable")
    coverage_reason: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CoverageChangeRow(Base):
    """The audit trail of warranty ↔ chargeable overrides (append-only)."""

    __tablename__ = "coverage_changes"

    change_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(100), index=True)
    from_coverage: Mapped[str] = mapped_column(String(20))
    to_coverage: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]


class PriceItemRow(Base):
    """The price list of paid service: labour rate, travel rate, fixed-price service items."""

    __tablename__ = "price_items"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), comment="labour | travel | service")
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    rate: Mapped[Decimal] = mapped_column(comment="CNY per unit, before tax")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (CheckConstraint("rate >= 0", name="rate_not_negative"),)


class CostLineRow(Base):
    """Labour or travel on a ticket: hours × rate, km × rate, or a fixed amount (actual fares)."""

    __tablename__ = "cost_lines"

    line_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20), comment="labour | travel")
    person: Mapped[str] = mapped_column(String(200), comment="who worked or travelled")
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), comment="hours or km")
    unit: Mapped[str] = mapped_column(String(20))
    rate: Mapped[Decimal | None]
    price_code: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[Decimal]
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)


class QuoteRow(Base):
    """A quote for paid service, sent as a single-use link; decided once, never changed."""

    __tablename__ = "quotes"

    quote_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    quote_no: Mapped[str] = mapped_column(String(40), unique=True)
    ticket_no: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20))  # issued|accepted|declined|withdrawn
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    net_amount: Mapped[Decimal]
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    tax_amount: Mapped[Decimal]
    total: Mapped[Decimal]
    note: Mapped[str | None] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_masked: Mapped[str] = mapped_column(String(400))
    expires_at: Mapped[datetime]
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    signer: Mapped[str | None] = mapped_column(String(100))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("total >= 0", name="total_not_negative"),)


LIVE_INVOICE = "status IN ('requested', 'issued')"


class InvoiceRow(Base):
    """A VAT invoice request handed to finance (InvoiceRequested). A ticket has at most one live
    request (待开票 or 已开票); withdrawn and reversed ones stay as history beside it."""

    __tablename__ = "invoices"
    __table_args__ = (
        Index(
            "uq_invoices_live_ticket_no",
            "ticket_no",
            unique=True,
            postgresql_where=text(LIVE_INVOICE),
            sqlite_where=text(LIVE_INVOICE),
        ),
    )

    invoice_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(100), index=True)
    quote_no: Mapped[str | None] = mapped_column(String(40))
    invoice_type: Mapped[str] = mapped_column(String(20))
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_tax_no: Mapped[str] = mapped_column(String(18))
    buyer_address_phone: Mapped[str | None] = mapped_column(String(300))
    buyer_bank_account: Mapped[str | None] = mapped_column(String(300))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    net_amount: Mapped[Decimal]
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    tax_amount: Mapped[Decimal]
    total: Mapped[Decimal]
    requested_at: Mapped[datetime] = mapped_column(index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    # the register (发票登记): finance records the issued invoice once (invoicing.py)
    status: Mapped[str] = mapped_column(
        String(20), default="requested", server_default="requested", index=True
    )
    invoice_code: Mapped[str | None] = mapped_column(String(12), comment="纸质发票代码")
    invoice_number: Mapped[str | None] = mapped_column(String(20), comment="发票号码")
    invoice_key: Mapped[str | None] = mapped_column(
        String(40), unique=True, comment="code-number, or the 20-digit 数电 number"
    )
    issue_date: Mapped[date | None] = mapped_column(Date, comment="开票日期 (business time zone)")
    issued_at: Mapped[datetime | None] = mapped_column(comment="when it was registered")
    issued_by: Mapped[str | None] = mapped_column(String(200))
    # withdrawn (已撤回) or reversed by a red-letter invoice (已红冲): who, when, why
    cancelled_at: Mapped[datetime | None] = mapped_column(comment="when withdrawn or reversed")
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
    cancel_reason: Mapped[str | None] = mapped_column(
        String(500), comment="withdrawn: the words typed; reversed: invoicing.REVERSAL_REASONS"
    )
    cancel_note: Mapped[str | None] = mapped_column(String(500))
    red_invoice_code: Mapped[str | None] = mapped_column(String(12), comment="红字发票代码")
    red_invoice_number: Mapped[str | None] = mapped_column(String(20), comment="红字发票号码")
    red_invoice_key: Mapped[str | None] = mapped_column(
        String(40), unique=True, comment="the red invoice's key, like invoice_key"
    )
    red_issue_date: Mapped[date | None] = mapped_column(Date, comment="红字发票开票日期")


# ---------------------------------------------------------------- expense claims (报销)
class TicketEngineerRow(Base):
    """An engineer a ticket was assigned to (TicketAssigned), now or before: whose expense lines
    may name the ticket."""

    __tablename__ = "ticket_engineers"

    ticket_no: Mapped[str] = mapped_column(String(100), primary_key=True)
    engineer_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    assigned_at: Mapped[datetime]


class ExpenseClaimRow(Base):
    """An engineer's claim for one trip (费用报销单): its lines, receipts and life."""

    __tablename__ = "expense_claims"

    claim_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_no: Mapped[str] = mapped_column(String(40), unique=True)
    engineer_id: Mapped[str] = mapped_column(String(200), index=True)
    engineer_name: Mapped[str | None] = mapped_column(String(100))
    trip_start: Mapped[date] = mapped_column(Date)
    trip_end: Mapped[date] = mapped_column(Date, index=True)
    destination: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20), index=True)
    total: Mapped[Decimal] = mapped_column(comment="CNY, the lines' sum")
    submit_due_at: Mapped[datetime] = mapped_column(comment="working days after the trip")
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    overdue_at: Mapped[datetime | None]
    late_exception_reason: Mapped[str | None] = mapped_column(Text)
    late_exception_by: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    settled_at: Mapped[datetime | None]
    settled_by: Mapped[str | None] = mapped_column(String(200))
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint("trip_end >= trip_start", name="trip_in_order"),
    )


class ExpenseLineRow(Base):
    """One line of a claim: a day's fare, a night's hotel, an allowance, for one or more tickets."""

    __tablename__ = "expense_lines"

    line_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.claim_id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    spent_on: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]
    note: Mapped[str | None] = mapped_column(String(500))
    ticket_nos: Mapped[list[str]] = mapped_column(JSON)

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("claim_id", "line_no"),
    )


class ExpenseLineTicketRow(Base):
    """Which tickets a line is for (a ticket's cost shows its approved lines)."""

    __tablename__ = "expense_line_tickets"

    line_id: Mapped[int] = mapped_column(
        ForeignKey("expense_lines.line_id", ondelete="CASCADE"), primary_key=True
    )
    ticket_no: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class ExpenseReceiptRow(Base):
    """A receipt (票据/凭证) kept in the file storage, for one line or the whole claim."""

    __tablename__ = "expense_receipts"

    receipt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.claim_id"), index=True)
    line_no: Mapped[int | None] = mapped_column(Integer, comment="null: for the whole claim")
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(400), unique=True)
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(200))


class ExpenseClaimEventRow(Base):
    """The audit trail of a claim: every change of state, exception and overdue mark, with who,
    when and why. Append-only."""

    __tablename__ = "expense_claim_events"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.claim_id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)


def as_dict(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
