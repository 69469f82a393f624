"""Tables of the parts database. The ledger (`movements`) is append-only: rows are inserted, never
updated or deleted; `balances` and `ticket_parts` are what it adds up to, kept in the same
transaction with conditional updates so stock never goes negative. The messaging tables come from
the shared messaging history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
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


def as_dict(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
