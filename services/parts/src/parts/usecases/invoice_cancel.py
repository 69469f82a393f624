"""Undoing an invoice request (InvoiceCancelled): a request not yet issued is withdrawn (撤回, with
why), an issued invoice is reversed by a red-letter invoice (红冲: its number, date and reason).
Either frees the ticket for a new request; the row stays as history. Once: the same again
changes nothing, anything else is a conflict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, Forbidden, NotFound
from aftersales_shared.events import Envelope, InvoiceCancelledV1
from aftersales_shared.outbox import enqueue

from .. import invoicing as v
from ..models import InvoiceRow


async def _locked(session: AsyncSession, invoice_id: str, user: Principal) -> InvoiceRow:
    if not user.has(*v.REGISTRARS):
        raise Forbidden("只有财务、服务主管或经理可以撤回或红冲发票 (finance or supervisors only)")
    row = await session.scalar(
        select(InvoiceRow).where(InvoiceRow.invoice_id == invoice_id).with_for_update()
    )
    if row is None:
        raise NotFound(f"没有这张开票申请：{invoice_id} (no such invoice request)")
    return row


async def withdraw(
    session: AsyncSession, invoice_id: str, reason: str, user: Principal, now: datetime
) -> tuple[InvoiceRow, bool]:
    """Withdraw a request finance has not issued; (row, False) when it is the same again."""
    row = await _locked(session, invoice_id, user)
    why = v.check_reason(reason)
    if not v.check_cancel_again(row.status, row.cancel_reason, why):
        return row, False
    row.status = v.InvoiceStatus.CANCELLED.value
    row.cancel_reason, row.cancelled_at, row.cancelled_by = why, now, user.subject
    await session.flush()
    await enqueue(session, Envelope(data=cancelled_event(row), subject=row.ticket_no))
    return row, True


@dataclass(frozen=True)
class Red:
    """A red-letter invoice as typed: number (and a paper one's code), date, reason, note."""

    invoice_number: str | None
    red_date: date
    reason: str
    invoice_code: str | None = None
    note: str | None = None


def _kept(row: InvoiceRow) -> v.Reversal | None:
    if not (row.red_invoice_number and row.red_issue_date and row.cancel_reason):
        return None
    number = v.InvoiceNumber(row.red_invoice_number, row.red_invoice_code)
    return v.Reversal(number, row.red_issue_date, row.cancel_reason, row.cancel_note)


async def reverse(
    session: AsyncSession,
    invoice_id: str,
    red: Red,
    tz: ZoneInfo,
    user: Principal,
    now: datetime,
) -> tuple[InvoiceRow, bool]:
    """Record the red-letter invoice that reversed an issued one; (row, False) when the same
    reversal arrives again."""
    row = await _locked(session, invoice_id, user)
    wanted = v.Reversal(
        v.check_number(red.invoice_number, red.invoice_code, red.red_date),
        red.red_date,
        v.check_reversal_reason(red.reason),
        v.check_note(red.note),
    )
    if not v.check_reverse_again(row.status, _kept(row), wanted):
        return row, False
    assert row.issue_date is not None
    v.check_red_date(red.red_date, row.issue_date, now.astimezone(tz).date())
    key = wanted.number.key
    taken = await session.scalar(
        select(InvoiceRow.ticket_no).where(
            or_(InvoiceRow.invoice_key == key, InvoiceRow.red_invoice_key == key)
        )
    )
    if taken is not None:
        raise _taken(key, taken)
    row.status = v.InvoiceStatus.REVERSED.value
    row.red_invoice_code, row.red_invoice_number = wanted.number.code, wanted.number.number
    row.red_invoice_key, row.red_issue_date = key, red.red_date
    row.cancel_reason, row.cancel_note = wanted.reason, wanted.note
    row.cancelled_at, row.cancelled_by = now, user.subject
    try:
        await session.flush()
    except IntegrityError:  # another reversal registered the same red number meanwhile
        raise _taken(key, "另一工单") from None
    await enqueue(session, Envelope(data=cancelled_event(row), subject=row.ticket_no))
    return row, True


def _taken(key: str, ticket_no: str) -> Conflict:
    return Conflict(
        f"发票号码{key}已登记在工单{ticket_no}的发票上，红字发票须用新的号码 (this invoice number "
        "is already in the register)"
    )


def cancelled_event(row: InvoiceRow) -> InvoiceCancelledV1:
    assert row.cancel_reason and row.cancelled_by and row.cancelled_at
    reversed_ = row.status == v.InvoiceStatus.REVERSED
    return InvoiceCancelledV1(
        invoice_id=row.invoice_id,
        ticket_no=row.ticket_no,
        kind="reversed" if reversed_ else "withdrawn",
        reason=row.cancel_reason,
        note=row.cancel_note,
        invoice_code=row.invoice_code,
        invoice_number=row.invoice_number,
        red_invoice_code=row.red_invoice_code,
        red_invoice_number=row.red_invoice_number,
        red_issue_date=row.red_issue_date,
        total=row.total,
        cancelled_by=row.cancelled_by,
        cancelled_at=row.cancelled_at,
    )
