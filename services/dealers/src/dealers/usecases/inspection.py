"""Technical inspection of returned parts: the verdict decides the claim; reusable and scrap."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict, DomainError

from .. import domain as d
from ..models import RepairPartRow, RepairRecordRow, StockEntryRow
from .common import Ctx, audit, owned, page_of, scoped


@dataclass(frozen=True)
class Inspection:
    """The technical department's verdict on a returned part (with a reason for a non-fault)."""

    verdict: d.Verdict
    reason: str | None = None


async def inspect_part(
    session: AsyncSession, part_id: int, cmd: Inspection, ctx: Ctx
) -> RepairRecordRow:
    """Technical verdict per part; stock records per store; the claim is decided once every part is
    judged."""
    part = await owned(session, RepairPartRow, part_id, ctx.scope, "旧件", lock=True)
    if part.status == d.PartStatus.INSPECTED:
        raise Conflict(f"旧件{part_id}已检验 (part already inspected: the verdict is evidence)")
    if part.status != d.PartStatus.RECEIVED:
        raise DomainError(
            f"旧件{part_id}尚未返还签收，不能检验 (part not received yet: status {part.status})"
        )
    verdict = d.Verdict(cmd.verdict)
    d.check_verdict(verdict, cmd.reason)
    part.status, part.verdict, part.verdict_reason = d.PartStatus.INSPECTED, verdict, cmd.reason
    part.inspected_by, part.inspected_at = ctx.who, ctx.now
    record = await owned(session, RepairRecordRow, part.record_id, None, "维修记录", lock=True)
    if verdict in d.STORE_OF:
        session.add(
            StockEntryRow(
                store=d.STORE_OF[verdict],
                part_id=part.id,
                dealer_id=part.dealer_id,
                part_no=part.part_no,
                name=part.name,
                quantity=part.quantity,
                record_no=record.record_no,
                entered_at=ctx.now,
                entered_by=ctx.who,
            )
        )
    await session.flush()
    status, reason = d.claim_after_inspection(
        [
            (p.name, d.Verdict(p.verdict) if p.verdict else None, p.verdict_reason)
            for p in record.parts
            if p.status != d.PartStatus.NOT_OWED
        ]
    )
    if status != record.claim_status and record.claim_status == d.ClaimStatus.AWAITING_RETURN:
        record.claim_status, record.claim_reason, record.claim_decided_at = (
            status,
            reason,
            (ctx.now if status != d.ClaimStatus.AWAITING_RETURN else None),
        )
    await audit(
        session,
        ctx,
        part.dealer_id,
        "part",
        str(part.id),
        "inspected",
        verdict=verdict,
        reason=cmd.reason,
        claim_status=record.claim_status,
    )
    return record


async def list_stock(
    session: AsyncSession,
    scope: str | None,
    *,
    store: str | None,
    dealer_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[StockEntryRow], int]:
    q = scoped(select(StockEntryRow), StockEntryRow, scope)
    if store:
        q = q.where(StockEntryRow.store == store)
    if dealer_id:
        q = q.where(StockEntryRow.dealer_id == dealer_id)
    return await page_of(session, q, [StockEntryRow.id.desc()], limit, offset)
