"""Tables of the contracts database."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from aftersales_shared.db import NAMING, UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


class ContractRow(Base):
    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    contacts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    service_levels: Mapped[list[dict]] = mapped_column(JSON)
    calendar: Mapped[str] = mapped_column(String(64), default="default")
    dealer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    sales_rep: Mapped[str | None] = mapped_column(String(64))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    signed_at: Mapped[datetime | None]

    products: Mapped[list[ProductRow]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ProductRow.id", lazy="selectin"
    )
    signatures: Mapped[list[SignatureRow]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="SignatureRow.id", lazy="selectin"
    )


class ProductRow(Base):
    __tablename__ = "contract_products"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    model: Mapped[str] = mapped_column(String(100))
    serial_no: Mapped[str] = mapped_column(String(100), unique=True)
    warranty_end: Mapped[date] = mapped_column(Date)
    contract: Mapped[ContractRow] = relationship(back_populates="products")


class SignatureRow(Base):
    """Append-only evidence of who signed, when and how."""

    __tablename__ = "contract_signatures"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    party: Mapped[str] = mapped_column(String(20))
    signer: Mapped[str] = mapped_column(String(100))
    signed_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(20))
    contract: Mapped[ContractRow] = relationship(back_populates="signatures")
