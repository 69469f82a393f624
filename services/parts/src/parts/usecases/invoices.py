"""The VAT invoice request handed to finance (InvoiceRequested): one per chargeable ticket, at the
accepted quote's figures, or at the ticket's recorded costs when no quote was needed. One live
request a ticket: a new one once the last was withdrawn or reversed (invoice_cancel.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.creditcode import validate_credit_code
from aftersales_shared.errors import Conflict, DomainError, Forbidden
from aftersales_shared.events import Envelope, InvoiceRequestedV1, QuoteLine
from aftersales_shared.outbox import enqueue

from .. import charges as c
from .. import invoicing as v
from ..models import InvoiceRow
from . import money


@dataclass(frozen=True)
class InvoiceRequest:
    buyer_name: str
    buyer_tax_no: str
    invoice_type: str = "normal"
    buyer_address_phone: str | None = None
    buyer_bank_account: str | None = None
    tax_rate: Decimal | None = None


def _cost_lines(costs: dict[str, Any]) -> list[dict[str, Any]]:
    lines = [
        {
            "kind": "part",
            "description": p["name"],
            "quantity": f"{p['quantity']}.00",
            "unit": p["unit"],
            "unit_price": f"{p['unit_price']:.2f}",
            "amount": p["amount"],
        }
        for p in costs["lines"]
        if p["quantity"] > 0
    ]
    for s in costs["service_lines"]:
        lines.append(
            {
                "kind": s["kind"],
                "description": f"{s['description']}（{s['person']}）",
                "quantity": s["quantity"] or "1.00",
                "unit": s["unit"],
                "unit_price": s["rate"] or s["amount"],
                "amount": s["amount"],
            }
        )
    return lines


async def request_invoice(
    session: AsyncSession,
    ticket_no: str,
    req: InvoiceRequest,
    default_tax_rate: Decimal,
    user: Principal,
    now: datetime,
) -> InvoiceRow:
    if not user.has(*c.INVOICERS):
        raise Forbidden("只有财务、服务主管或经理可以申请开票 (finance or supervisors only)")
    ticket = await money.get_ticket(session, ticket_no, lock=True)
    if ticket.coverage != c.Coverage.CHARGEABLE:
        raise Conflict(f"工单{ticket_no}为保修（三包）服务，不向客户开票 (warranty ticket)")
    tax_no = validate_credit_code(req.buyer_tax_no)
    name = req.buyer_name.strip()
    if not 2 <= len(name) <= 200:
        raise DomainError("请填写购买方名称（2–200字） (buyer name, 2–200 characters)")
    c.check_special_invoice(req.invoice_type, req.buyer_address_phone, req.buyer_bank_account)
    quote = await money.accepted_quote(session, ticket_no)
    if quote is not None:
        lines, rate = quote.lines, quote.tax_rate
        totals = c.Totals(quote.net_amount, quote.tax_amount, quote.total)
    else:
        costs = await money.ticket_costs(session, ticket_no)
        lines = _cost_lines(costs)
        if not lines:
            raise Conflict(f"工单{ticket_no}没有可开票的费用 (nothing to invoice)")
        rate = c.check_tax_rate(default_tax_rate if req.tax_rate is None else req.tax_rate)
        totals = c.taxed(Decimal(costs["grand_total"]), rate)
    row = InvoiceRow(
        invoice_id=str(uuid.uuid4()),
        ticket_no=ticket_no,
        quote_no=quote.quote_no if quote else None,
        invoice_type=req.invoice_type,
        buyer_name=name,
        buyer_tax_no=tax_no,
        buyer_address_phone=(req.buyer_address_phone or "").strip() or None,
        buyer_bank_account=(req.buyer_bank_account or "").strip() or None,
        lines=lines,
        net_amount=totals.net,
        tax_rate=rate,
        tax_amount=totals.tax,
        total=totals.total,
        requested_at=now,
        requested_by=user.subject,
    )
    if await get_invoice(session, ticket_no):
        raise Conflict(
            f"工单{ticket_no}已有待开票或已开票的申请；如需重开，请先撤回申请或红冲发票 "
            "(an invoice was already requested: withdraw or reverse it first)"
        )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"工单{ticket_no}已申请过发票 (an invoice was already requested)") from None
    await enqueue(
        session,
        Envelope(
            data=InvoiceRequestedV1(
                invoice_id=row.invoice_id,
                ticket_no=ticket_no,
                quote_no=row.quote_no,
                invoice_type=row.invoice_type,
                buyer_name=row.buyer_name,
                buyer_tax_no=tax_no,
                buyer_address_phone=row.buyer_address_phone,
                buyer_bank_account=row.buyer_bank_account,
                net_amount=totals.net,
                tax_rate=rate,
                tax_amount=totals.tax,
                total=totals.total,
                lines=[QuoteLine.model_validate(x) for x in lines],
                requested_by=user.subject,
                requested_at=now,
            ),
            subject=ticket_no,
        ),
    )
    return row


async def get_invoice(session: AsyncSession, ticket_no: str) -> InvoiceRow | None:
    """The ticket's live request (待开票 or 已开票); withdrawn and reversed ones are history."""
    return await session.scalar(
        select(InvoiceRow).where(InvoiceRow.ticket_no == ticket_no, InvoiceRow.status.in_(v.LIVE))
    )
