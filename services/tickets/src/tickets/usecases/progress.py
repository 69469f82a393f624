"""The progress log of a ticket (append-only, some entries meant for the customer) and loaner
units."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, customer_scope
from aftersales_shared.errors import Conflict, DomainError, NotFound

from ..domain import OPEN_STATUSES, Status, check_transition
from ..models import AttachmentRow, LoanerRow, ProgressRow, TicketRow
from .access import load, require_handler


@dataclass(frozen=True)
class Part:
    name: str
    quantity: int


@dataclass(frozen=True)
class Fee:
    kind: str
    amount: Decimal


@dataclass(frozen=True)
class ProgressEntry:
    kind: str
    text: str
    visibility: str = "internal"
    parts: list[Part] = field(default_factory=list)
    fee: Fee | None = None


@dataclass(frozen=True)
class Loaner:
    serial_no: str
    model: str
    reason: str | None = None


def log_entry(
    ticket: TicketRow,
    author: str,
    kind: str,
    text: str,
    now: datetime,
    visibility: str = "internal",
    **extra: Any,
) -> ProgressRow:
    return ProgressRow(
        ticket_id=ticket.id,
        at=now,
        author=author,
        kind=kind,
        text=text,
        visibility=visibility,
        parts=extra.get("parts", []),
        fee_kind=extra.get("fee_kind"),
        fee_amount=extra.get("fee_amount"),
    )


async def add_progress(
    session: AsyncSession, no: str, entry: ProgressEntry, user: Principal, now: datetime
) -> ProgressRow:
    ticket = await load(session, no, user, lock=True)
    check_transition("log", Status(ticket.status), ticket.ticket_no)
    require_handler(ticket, user)
    fee = entry.fee
    row = log_entry(
        ticket,
        user.subject,
        entry.kind,
        entry.text,
        now,
        entry.visibility,
        parts=[{"name": p.name, "quantity": p.quantity} for p in entry.parts or []],
        fee_kind=fee.kind if fee else None,
        fee_amount=Decimal(fee.amount) if fee else None,
    )
    session.add(row)
    await session.flush()
    return row


async def progress_log(
    session: AsyncSession, no: str, user: Principal, customer_view: bool = False
) -> list[ProgressRow]:
    """The log in order; a customer (or anyone asking for the customer's view) sees only what is
    meant for customers."""
    ticket = await load(session, no, user)
    customer_view = customer_view or customer_scope(user) is not None
    query = select(ProgressRow).where(ProgressRow.ticket_id == ticket.id)
    if customer_view:
        query = query.where(ProgressRow.visibility == "customer")
    return list((await session.scalars(query.order_by(ProgressRow.id))).all())


async def provide_loaner(
    session: AsyncSession, no: str, loaner: Loaner, user: Principal, now: datetime
) -> LoanerRow:
    """Record a loaner unit; without the contract's promise of one, only with a reason."""
    ticket = await load(session, no, user, lock=True)
    if Status(ticket.status) not in OPEN_STATUSES:
        raise Conflict(f"工单{ticket.ticket_no}已完成 (ticket is completed)")
    promise = ticket.policy.get("loaner_after_minutes")
    if promise is None and not (loaner.reason or "").strip():
        raise DomainError(
            "合同未承诺备用机，需填写原因 (the contract promises no loaner: give a reason)"
        )
    row = LoanerRow(
        ticket_id=ticket.id,
        serial_no=loaner.serial_no,
        model=loaner.model,
        provided_at=now,
        provided_by=user.subject,
        reason=loaner.reason or f"{promise}分钟内未修复，按合同提供备用机",
    )
    session.add(row)
    session.add(
        log_entry(
            ticket,
            user.subject,
            "loaner",
            f"提供备用机 {loaner.model} {loaner.serial_no}",
            now,
            "customer",
        )
    )
    await session.flush()
    return row


async def attachments(session: AsyncSession, no: str, user: Principal) -> list[AttachmentRow]:
    """The files kept with a ticket, for whoever may see the ticket."""
    ticket = await load(session, no, user)
    query = select(AttachmentRow).where(AttachmentRow.ticket_id == ticket.id)
    return list((await session.scalars(query.order_by(AttachmentRow.id))).all())


async def attachment(
    session: AsyncSession, no: str, attachment_id: int, user: Principal
) -> AttachmentRow:
    ticket = await load(session, no, user)
    row = await session.get(AttachmentRow, attachment_id)
    if row is None or row.ticket_id != ticket.id:
        raise NotFound(f"工单{no}没有这个附件 (no such attachment)", code="attachment_not_found")
    return row
