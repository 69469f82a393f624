"""Dealer grades: history, a grade set by a manager, demotions proposed and decided."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict, DomainError

from .. import domain as d
from ..models import DealerRow, GradeChangeRow, GradeReviewRow
from .common import Ctx, audit, jsonable, owned, page_of, scoped
from .measures import measures


@dataclass(frozen=True)
class GradeChange:
    """A manager sets a grade, with the reason kept in the grade history."""

    grade: str
    reason: str


@dataclass(frozen=True)
class ReviewDecision:
    """A manager confirms (the dealer is demoted one grade) or rejects a demotion proposal."""

    confirm: bool
    note: str


async def grade_history(
    session: AsyncSession, dealer_id: str, scope: str | None
) -> list[GradeChangeRow]:
    await owned(session, DealerRow, dealer_id, scope, "经销商")
    return list(
        (
            await session.scalars(
                select(GradeChangeRow)
                .where(GradeChangeRow.dealer_id == dealer_id)
                .order_by(GradeChangeRow.id)
            )
        ).all()
    )


async def set_grade(session: AsyncSession, dealer_id: str, cmd: GradeChange, ctx: Ctx) -> DealerRow:
    row = await owned(session, DealerRow, dealer_id, ctx.scope, "经销商", lock=True)
    if row.grade == cmd.grade:
        raise Conflict(f"经销商已是{cmd.grade}级 (dealer already has grade {cmd.grade})")
    session.add(
        GradeChangeRow(
            dealer_id=dealer_id,
            from_grade=row.grade,
            to_grade=cmd.grade,
            reason=cmd.reason,
            changed_by=ctx.who,
            changed_at=ctx.now,
        )
    )
    await audit(
        session,
        ctx,
        dealer_id,
        "dealer",
        dealer_id,
        "grade_set",
        from_grade=row.grade,
        to_grade=cmd.grade,
    )
    row.grade = cmd.grade
    return row


def window(ctx: Ctx, days: int | None) -> tuple[date, date]:
    return ctx.today - timedelta(days=(days or ctx.cfg.measure_window_days) - 1), ctx.today


async def service_measures(
    session: AsyncSession, dealer_id: str, ctx: Ctx, days: int | None
) -> dict[str, Any]:
    await owned(session, DealerRow, dealer_id, ctx.scope, "经销商")
    start, end = window(ctx, days)
    m = await measures(session, dealer_id, start, end, ctx.tz)
    return {
        "dealer_id": dealer_id,
        "window_start": start,
        "window_end": end,
        **asdict(m),
        "demotion_reasons": d.demotion_reasons(m, ctx.cfg.demotion_rules()),
    }


async def propose_demotion(
    session: AsyncSession, dealer_id: str, days: int | None, ctx: Ctx
) -> GradeReviewRow:
    dealer = await owned(session, DealerRow, dealer_id, ctx.scope, "经销商", lock=True)
    open_review = await session.scalar(
        select(GradeReviewRow.id).where(
            GradeReviewRow.dealer_id == dealer_id, GradeReviewRow.status == "proposed"
        )
    )
    if open_review:
        raise Conflict(
            f"该经销商已有待确认的降级建议{open_review} (a demotion proposal is already waiting)"
        )
    start, end = window(ctx, days)
    m = await measures(session, dealer_id, start, end, ctx.tz)
    reasons = d.demotion_reasons(m, ctx.cfg.demotion_rules())
    if not reasons:
        raise DomainError(
            "服务指标未触发降级规则 (measured service breaks no demotion rule)",
            measures=jsonable(asdict(m)),
        )
    if dealer.grade == d.GRADES[-1]:
        raise DomainError(f"经销商已是最低等级{dealer.grade} (dealer already has the lowest grade)")
    row = GradeReviewRow(
        id=str(uuid.uuid4()),
        dealer_id=dealer_id,
        window_start=start,
        window_end=end,
        measures=jsonable(asdict(m)),
        reasons=reasons,
        current_grade=dealer.grade,
        proposed_grade=d.demoted(dealer.grade),
        status="proposed",
        proposed_by=ctx.who,
        proposed_at=ctx.now,
    )
    session.add(row)
    await audit(session, ctx, dealer_id, "grade_review", row.id, "proposed", reasons=reasons)
    return row


async def decide_review(
    session: AsyncSession, review_id: str, cmd: ReviewDecision, ctx: Ctx
) -> GradeReviewRow:
    review = await owned(session, GradeReviewRow, review_id, ctx.scope, "降级建议", lock=True)
    if review.status != "proposed":
        raise Conflict(f"降级建议已{review.status} (review already {review.status})")
    dealer = await owned(session, DealerRow, review.dealer_id, None, "经销商", lock=True)
    review.status = "confirmed" if cmd.confirm else "rejected"
    review.decided_by, review.decided_at, review.decision_note = ctx.who, ctx.now, cmd.note
    if cmd.confirm:
        session.add(
            GradeChangeRow(
                dealer_id=dealer.dealer_id,
                from_grade=dealer.grade,
                to_grade=review.proposed_grade,
                reason="；".join(review.reasons) + f" — {cmd.note}",
                review_id=review.id,
                changed_by=ctx.who,
                changed_at=ctx.now,
            )
        )
        dealer.grade = review.proposed_grade
    await audit(
        session, ctx, dealer.dealer_id, "grade_review", review.id, review.status, note=cmd.note
    )
    return review


async def list_reviews(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[GradeReviewRow], int]:
    q = scoped(select(GradeReviewRow), GradeReviewRow, scope)
    if dealer_id:
        q = q.where(GradeReviewRow.dealer_id == dealer_id)
    if status:
        q = q.where(GradeReviewRow.status == status)
    return await page_of(session, q, [GradeReviewRow.proposed_at.desc()], limit, offset)
