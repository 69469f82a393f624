"""Quotes for paid service: issued for a chargeable ticket as a single-use link (only its hash is
kept, the link leaves sealed to notifications), decided once by the customer on the public page,
expired by date. Every function runs in the caller's transaction and takes `now`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError, Forbidden, NotFound
from aftersales_shared.events import (
    Contact,
    Envelope,
    QuoteAcceptedV1,
    QuoteDeclinedV1,
    QuoteIssuedV1,
    QuoteLine,
    QuoteWithdrawnV1,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.publiclinks import hash_token, new_token, well_formed_token
from aftersales_shared.sealing import mask_link, seal

from .. import charges as c
from ..models import PartRow, QuoteRow
from . import money

MAX_LINES = 50


class LinkUnknown(NotFound):
    code = "quote_link_unknown"


@dataclass(frozen=True)
class LineRequest:
    price_code: str | None = None
    part_no: str | None = None
    quantity: Decimal = Decimal("1")
    description: str | None = None


@dataclass(frozen=True)
class LinkSettings:
    public_base_url: str
    notifications_public_key: str
    valid_days: int
    default_tax_rate: Decimal


async def _line(session: AsyncSession, req: LineRequest) -> dict[str, Any]:
    if (req.price_code is None) == (req.part_no is None):
        raise DomainError(
            "每行报价须指定价目表项目(price_code)或备件编号(part_no)之一 "
            "(one of price_code, part_no)"
        )
    quantity = c.check_quantity(req.quantity, "数量")
    if req.price_code is not None:
        item = await money.price(session, req.price_code)
        kind, name, unit, rate = item.kind, item.name, item.unit, item.rate
    else:
        assert req.part_no is not None
        part = await session.get(PartRow, req.part_no.strip().upper())
        if part is None:
            raise DomainError(f"备件{req.part_no}不存在 (no such part)")
        kind, name, unit, rate = "part", part.name, part.unit, part.unit_price
    return {
        "kind": kind,
        "description": (req.description or name).strip()[:200],
        "quantity": f"{quantity:.2f}",
        "unit": unit,
        "unit_price": f"{rate:.2f}",
        "amount": f"{c.line_amount(quantity, rate):.2f}",
    }


async def _next_no(session: AsyncSession, ticket_no: str) -> str:
    n = (
        await session.execute(select(func.count()).where(QuoteRow.ticket_no == ticket_no))
    ).scalar_one()
    return f"Q-{ticket_no}-{n + 1}"[:40]


async def issue(
    session: AsyncSession,
    ticket_no: str,
    lines: list[LineRequest],
    tax_rate: Decimal | None,
    note: str | None,
    links: LinkSettings,
    user: Principal,
    now: datetime,
) -> tuple[QuoteRow, str]:
    """(the quote, its link — shown once to the issuer, sealed for notifications in the event)."""
    if not user.has(*c.QUOTERS):
        raise Forbidden("只有客服或服务主管可以出具报价 (service agents and supervisors only)")
    ticket = await money.get_ticket(session, ticket_no, lock=True)
    if ticket.coverage != c.Coverage.CHARGEABLE:
        raise Conflict(
            f"工单{ticket_no}为保修（三包）服务，无需报价；如需收费请先由主管更改认定 (warranty "
            "ticket: no quote)"
        )
    if not 1 <= len(lines) <= MAX_LINES:
        raise DomainError(f"报价须有1–{MAX_LINES}行 (1–{MAX_LINES} lines)")
    for q in await _quotes(session, ticket_no):
        state = c.quote_status(q.status, q.expires_at, now)
        if state is c.QuoteStatus.ACCEPTED:
            raise Conflict(f"客户已接受报价{q.quote_no}，不能再出具新报价 (a quote was accepted)")
        if state is c.QuoteStatus.ISSUED:
            raise Conflict(
                f"报价{q.quote_no}仍在等待客户确认（{q.expires_at:%Y-%m-%d}前有效） (a quote is "
                "still waiting for the customer)"
            )
    rows = [await _line(session, r) for r in lines]
    rate = c.check_tax_rate(links.default_tax_rate if tax_rate is None else tax_rate)
    totals = c.taxed(sum((Decimal(r["amount"]) for r in rows), Decimal("0")), rate)
    token, digest = new_token()
    link = f"{links.public_base_url}/q/{token}"
    quote = QuoteRow(
        quote_id=str(uuid.uuid4()),
        quote_no=await _next_no(session, ticket_no),
        ticket_no=ticket_no,
        status=c.QuoteStatus.ISSUED.value,
        lines=rows,
        net_amount=totals.net,
        tax_rate=rate,
        tax_amount=totals.tax,
        total=totals.total,
        note=(note or "").strip()[:1000] or None,
        token_hash=digest,
        link_masked=mask_link(link),
        expires_at=now + timedelta(days=links.valid_days),
        issued_at=now,
        issued_by=user.subject,
    )
    session.add(quote)
    await session.flush()
    await enqueue(
        session,
        Envelope(
            data=QuoteIssuedV1(
                quote_id=quote.quote_id,
                quote_no=quote.quote_no,
                ticket_no=ticket_no,
                customer_name=ticket.customer_name,
                net_amount=totals.net,
                tax_rate=rate,
                tax_amount=totals.tax,
                total=totals.total,
                lines=[QuoteLine.model_validate(r) for r in rows],
                contact=Contact.model_validate(ticket.contact),
                link_masked=quote.link_masked,
                link_sealed=seal(links.notifications_public_key, link),
                expires_at=quote.expires_at,
                issued_by=user.subject,
                issued_at=now,
            ),
            subject=ticket_no,
        ),
    )
    return quote, link


async def _quotes(session: AsyncSession, ticket_no: str) -> list[QuoteRow]:
    rows = await session.execute(
        select(QuoteRow).where(QuoteRow.ticket_no == ticket_no).order_by(QuoteRow.issued_at)
    )
    return list(rows.scalars())


async def list_for_ticket(session: AsyncSession, ticket_no: str) -> list[QuoteRow]:
    await money.get_ticket(session, ticket_no)
    return await _quotes(session, ticket_no)


async def by_token(session: AsyncSession, token: str, *, lock: bool = False) -> QuoteRow:
    if not well_formed_token(token):
        raise LinkUnknown("报价链接无效 (unknown link)")
    stmt = select(QuoteRow).where(QuoteRow.token_hash == hash_token(token))
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise LinkUnknown("报价链接无效 (unknown link)")
    return row


async def decide(
    session: AsyncSession,
    token: str,
    decision: str,
    signer: str,
    reason: str | None,
    now: datetime,
) -> tuple[QuoteRow, bool]:
    """The customer's answer: (the quote, True when this exact answer had been given already —
    a double submit changes nothing). Any other answer to a decided quote is refused."""
    quote = await by_token(session, token, lock=True)
    state = c.quote_status(quote.status, quote.expires_at, now)
    same = {"accept": c.QuoteStatus.ACCEPTED, "decline": c.QuoteStatus.DECLINED}.get(decision)
    if state is same:
        return quote, True
    to, signer, reason = c.check_decision(state, decision, signer, reason)
    quote.status, quote.decided_at, quote.signer = to.value, now, signer
    quote.decline_reason = reason if to is c.QuoteStatus.DECLINED else None
    await session.flush()
    common = dict(
        quote_id=quote.quote_id,
        quote_no=quote.quote_no,
        ticket_no=quote.ticket_no,
        total=quote.total,
        signer=signer,
        decided_at=now,
    )
    event: Any = (
        QuoteAcceptedV1(**common)
        if to is c.QuoteStatus.ACCEPTED
        else QuoteDeclinedV1(**common, reason=reason)
    )
    await enqueue(session, Envelope(data=event, subject=quote.ticket_no))
    return quote, False


async def withdraw(
    session: AsyncSession,
    ticket_no: str,
    quote_no: str,
    reason: str | None,
    user: Principal,
    now: datetime,
) -> QuoteRow:
    """The office takes back a quote the customer has not answered: its link then says so,
    QuoteWithdrawn tells tickets (no quote awaits any more) and whoever listens; a new quote may
    follow."""
    if not user.has(*c.QUOTERS):
        raise Forbidden("只有客服或服务主管可以撤回报价 (service agents and supervisors only)")
    await money.get_ticket(session, ticket_no)
    quote = (
        await session.execute(
            select(QuoteRow)
            .where(QuoteRow.ticket_no == ticket_no, QuoteRow.quote_no == quote_no)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if quote is None:
        raise NotFound(f"工单{ticket_no}没有报价{quote_no} (no such quote on this ticket)")
    why = c.check_withdrawal(c.quote_status(quote.status, quote.expires_at, now), quote_no, reason)
    quote.status = c.QuoteStatus.WITHDRAWN.value
    quote.withdrawn_at, quote.withdrawn_by, quote.withdrawal_reason = now, user.subject, why
    await session.flush()
    await enqueue(
        session,
        Envelope(
            data=QuoteWithdrawnV1(
                quote_id=quote.quote_id,
                quote_no=quote.quote_no,
                ticket_no=ticket_no,
                total=quote.total,
                reason=why,
                withdrawn_by=user.subject,
                withdrawn_at=now,
            ),
            subject=ticket_no,
            time=now,
        ),
    )
    return quote
