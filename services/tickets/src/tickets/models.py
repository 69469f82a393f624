"""Tables of the tickets database."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from aftersales_shared.db import NAMING, UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


class EntitlementRow(Base):
    """What a signed contract promises: learnt from ContractSigned, never from the contracts database."""

    __tablename__ = "entitlements"

    contract_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    contacts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    service_levels: Mapped[list[dict]] = mapped_column(JSON)
    calendar: Mapped[str] = mapped_column(String(64))
    dealer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    signed_at: Mapped[datetime]
    source_event_id: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]

    units: Mapped[list[EntitledUnitRow]] = relationship(
        back_populates="entitlement", cascade="all, delete-orphan", order_by="EntitledUnitRow.serial_no", lazy="selectin"
    )


class EntitledUnitRow(Base):
    __tablename__ = "entitled_units"

    serial_no: Mapped[str] = mapped_column(String(100), primary_key=True)
    contract_no: Mapped[str] = mapped_column(ForeignKey("entitlements.contract_no"), index=True)
    model: Mapped[str] = mapped_column(String(100))
    warranty_end: Mapped[date] = mapped_column(Date)
    entitlement: Mapped[EntitlementRow] = relationship(back_populates="units")
