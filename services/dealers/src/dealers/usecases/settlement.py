"""Claims settlement: deduction notices (三包费用核销通知), the dealer's answers, payment exactly
once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import DomainError
from aftersales_shared.events import DeductionIssuedV1, Envelope
from aftersales_shared.outbox import enqueue

from .. import domain as d
from ..models import (
    ClaimPaymentRow,
    DealerRow,
    DeductionLineRow,
    DeductionNoticeRow,
    RepairRecordRow,
)
from .common import Ctx, audit, flush, not_found, owned, page_of, scoped


@dataclass(frozen=True)
class NoticeRequest:
    """Finance asks for a deduction notice of one dealer's approved claims decided in a period."""

    dealer_id: str
    period_start: date
    period_end: date


@dataclass(frozen=True)
class LineAnswer:
    """The dealer confirms or disputes (with a reason) one line of a notice."""

    decision: d.LineDecision
    reason: str | None = None


async def issue_notice(session: AsyncSession, cmd: NoticeRequest, ctx: Ctx) -> DeductionNoticeRow:
    """Finance collects the dealer's approved, unpaid claims decided in the period into one
    notice."""
    d.check_period(cmd.period_start, cmd.period_end)
    dealer = await owned(session, DealerRow, cmd.dealer_id, ctx.scope, "经销商")
    claims = (
        await session.scalars(
            select(RepairRecordRow)
            .where(
                RepairRecordRow.dealer_id == dealer.dealer_id,
                RepairRecordRow.claim_status == d.ClaimStatus.APPROVED,
                RepairRecordRow.open_notice_id.is_(None),
                RepairRecordRow.claim_decided_at >= d.start_of_local_day(cmd.period_start, ctx.tz),
                RepairRecordRow.claim_decided_at < d.end_of_local_day(cmd.period_end, ctx.tz),
            )
            .order_by(RepairRecordRow.claim_decided_at)
            .with_for_update()
        )
    ).all()
    if not claims:
        raise DomainError(
            f"经销商{dealer.dealer_id}在{cmd.period_start}至{cmd.period_end}没有待核销的已审核索赔 "
            "(no approved, unpaid claims in this period)"
        )
    seq = (
        await session.scalar(
            select(func.count()).where(DeductionNoticeRow.dealer_id == dealer.dealer_id)
        )
        or 0
    ) + 1
    notice = DeductionNoticeRow(
        id=str(uuid.uuid4()),
        notice_no=f"HX-{dealer.dealer_id}-{cmd.period_end:%Y%m}-{seq:03d}",
        dealer_id=dealer.dealer_id,
        period_start=cmd.period_start,
        period_end=cmd.period_end,
        status=d.NoticeStatus.ISSUED,
        total=d.total(c.claim_amount for c in claims),
        issued_at=ctx.now,
        issued_by=ctx.who,
        lines=[
            DeductionLineRow(
                record_id=c.id,
                record_no=c.record_no,
                serial_no=c.serial_no,
                amount=c.claim_amount,
                decision=d.LineDecision.PENDING,
            )
            for c in claims
        ],
    )
    session.add(notice)
    for c in claims:
        c.open_notice_id = notice.id
    await flush(session, "核销通知编号冲突，请重试 (notice number taken concurrently: retry)")
    await audit(
        session,
        ctx,
        dealer.dealer_id,
        "notice",
        notice.id,
        "issued",
        total=notice.total,
        lines=len(claims),
    )
    return notice


async def get_notice(
    session: AsyncSession, notice_id: str, scope: str | None, lock: bool = False
) -> DeductionNoticeRow:
    return await owned(session, DeductionNoticeRow, notice_id, scope, "核销通知", lock=lock)


async def answer_line(
    session: AsyncSession, notice_id: str, line_id: int, cmd: LineAnswer, ctx: Ctx
) -> DeductionNoticeRow:
    notice = await get_notice(session, notice_id, ctx.scope, lock=True)
    d.check_open(d.NoticeStatus(notice.status), notice.notice_no)
    decision = d.LineDecision(cmd.decision)
    d.check_dispute_reason(decision, cmd.reason)
    line = next((ln for ln in notice.lines if ln.id == line_id), None)
    if line is None:
        raise not_found("核销明细", line_id)
    line.decision, line.dispute_reason = (
        decision,
        cmd.reason if decision is d.LineDecision.DISPUTED else None,
    )
    line.answered_by, line.answered_at = ctx.who, ctx.now
    await audit(
        session,
        ctx,
        notice.dealer_id,
        "notice",
        notice.id,
        "line_answered",
        line=line_id,
        decision=decision,
        reason=cmd.reason,
    )
    return notice


async def confirm_notice(session: AsyncSession, notice_id: str, ctx: Ctx) -> DeductionNoticeRow:
    """The dealer's confirmation: confirmed lines are paid exactly once and DeductionIssued leaves
    the outbox."""
    notice = await get_notice(session, notice_id, ctx.scope, lock=True)
    result = d.settle(
        notice.notice_no,
        d.NoticeStatus(notice.status),
        [(d.LineDecision(ln.decision), ln.amount) for ln in notice.lines],
    )
    records = {
        r.id: r
        for r in (
            await session.scalars(
                select(RepairRecordRow)
                .where(RepairRecordRow.id.in_([ln.record_id for ln in notice.lines]))
                .with_for_update()
            )
        ).all()
    }
    for ln in notice.lines:
        record = records[ln.record_id]
        record.open_notice_id = None
        if ln.decision == d.LineDecision.CONFIRMED:
            session.add(
                ClaimPaymentRow(
                    record_id=ln.record_id,
                    notice_id=notice.id,
                    dealer_id=notice.dealer_id,
                    amount=ln.amount,
                    paid_at=ctx.now,
                )
            )
            record.claim_status = d.ClaimStatus.PAID
    notice.status, notice.confirmed_amount = result.status, result.amount
    notice.confirmed_at, notice.confirmed_by = ctx.now, ctx.who
    await flush(session, "索赔已在其他核销通知中支付 (a claim on this notice was paid already)")
    if result.status is d.NoticeStatus.CONFIRMED:
        await enqueue(
            session,
            Envelope(
                data=DeductionIssuedV1(
                    notice_id=notice.id,
                    notice_no=notice.notice_no,
                    dealer_id=notice.dealer_id,
                    period_start=notice.period_start,
                    period_end=notice.period_end,
                    amount=result.amount,
                    confirmed_at=ctx.now,
                    lines=result.confirmed_lines,
                ),
                subject=notice.notice_no,
            ),
        )
    await audit(
        session,
        ctx,
        notice.dealer_id,
        "notice",
        notice.id,
        result.status,
        amount=result.amount,
        confirmed=result.confirmed_lines,
        disputed=result.disputed_lines,
    )
    return notice


async def list_notices(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[DeductionNoticeRow], int]:
    q = scoped(select(DeductionNoticeRow), DeductionNoticeRow, scope)
    if dealer_id:
        q = q.where(DeductionNoticeRow.dealer_id == dealer_id)
    if status:
        q = q.where(DeductionNoticeRow.status == status)
    return await page_of(session, q, [DeductionNoticeRow.issued_at.desc()], limit, offset)
