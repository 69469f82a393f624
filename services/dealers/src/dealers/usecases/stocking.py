"""Stocking plans: selling seasons, dealers' parts plans, plans missed at the due date."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import Envelope
from aftersales_shared.events.dealers import StockingPlanMissedV1
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import schedule

from .. import domain as d
from ..models import DealerRow, SeasonRow, StockingPlanRow
from .common import (
    MISSING_PLAN,
    PLAN_DUE,
    Ctx,
    acting_dealer,
    audit,
    flush,
    measure,
    not_found,
    owned,
    page_of,
    scoped,
)


@dataclass(frozen=True)
class NewSeason:
    """A selling season; dealers' stocking plans are due 30 days before it starts."""

    code: str
    name: str
    starts_on: date


@dataclass(frozen=True)
class PlanLine:
    part_no: str
    name: str
    quantity: int


@dataclass(frozen=True)
class StockingPlan:
    season_code: str
    lines: tuple[PlanLine, ...]
    dealer_id: str | None = None


async def create_season(session: AsyncSession, cmd: NewSeason, ctx: Ctx) -> SeasonRow:
    if await session.get(SeasonRow, cmd.code):
        raise Conflict(f"销售季{cmd.code}已存在 (season already exists)")
    due = d.stock_plan_due(cmd.starts_on)
    if due < ctx.today:
        raise DomainError(
            f"备件计划截止日{due}已过，请设置更晚的销售季 (the plan deadline {due} is already past)"
        )
    row = SeasonRow(
        code=cmd.code,
        name=cmd.name,
        starts_on=cmd.starts_on,
        plan_due=due,
        created_by=ctx.who,
        created_at=ctx.now,
    )
    session.add(row)
    await flush(session, f"销售季{cmd.code}已存在 (season already exists)")
    await schedule(
        session, PLAN_DUE, row.code, d.end_of_local_day(due, ctx.tz), {"season": row.code}
    )
    await audit(
        session, ctx, None, "season", row.code, "created", starts_on=cmd.starts_on, plan_due=due
    )
    return row


async def list_seasons(
    session: AsyncSession, limit: int, offset: int
) -> tuple[list[SeasonRow], int]:
    return await page_of(session, select(SeasonRow), [SeasonRow.starts_on.desc()], limit, offset)


async def submit_plan(session: AsyncSession, cmd: StockingPlan, ctx: Ctx) -> StockingPlanRow:
    dealer = await acting_dealer(session, ctx, cmd.dealer_id)
    season = await session.get(SeasonRow, cmd.season_code)
    if season is None:
        raise not_found("销售季", cmd.season_code)
    if await session.scalar(
        select(StockingPlanRow.id).where(
            StockingPlanRow.dealer_id == dealer.dealer_id,
            StockingPlanRow.season_code == season.code,
        )
    ):
        raise Conflict(
            f"经销商{dealer.dealer_id}已提交{season.code}备件计划 (plan already submitted for "
            "this season)"
        )
    on_time = ctx.today <= season.plan_due
    row = StockingPlanRow(
        id=str(uuid.uuid4()),
        dealer_id=dealer.dealer_id,
        season_code=season.code,
        lines=[asdict(ln) for ln in cmd.lines],
        submitted_at=ctx.now,
        submitted_by=ctx.who,
        due=season.plan_due,
        on_time=on_time,
    )
    session.add(row)
    await flush(
        session,
        f"经销商{dealer.dealer_id}已提交{season.code}备件计划 (plan already submitted for this "
        "season)",
    )
    if not on_time:
        await measure(
            session, dealer.dealer_id, MISSING_PLAN, season.code, ctx.now, detail="submitted late"
        )
    await audit(
        session, ctx, dealer.dealer_id, "stocking_plan", row.id, "submitted", on_time=on_time
    )
    return row


async def list_plans(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    season_code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[StockingPlanRow], int]:
    q = scoped(select(StockingPlanRow), StockingPlanRow, scope)
    if dealer_id:
        q = q.where(StockingPlanRow.dealer_id == dealer_id)
    if season_code:
        q = q.where(StockingPlanRow.season_code == season_code)
    return await page_of(session, q, [StockingPlanRow.submitted_at.desc()], limit, offset)


async def get_plan(session: AsyncSession, plan_id: str, scope: str | None) -> StockingPlanRow:
    return await owned(session, StockingPlanRow, plan_id, scope, "备件计划")


async def fire_plan_due(session: AsyncSession, code: str, now: datetime) -> None:
    """Every dealer under agreement for the season without a plan gets the miss recorded against
    it."""
    season = await session.get(SeasonRow, code)
    if season is None:
        return
    submitted = select(StockingPlanRow.dealer_id).where(StockingPlanRow.season_code == code)
    missing = (
        await session.scalars(
            select(DealerRow).where(
                and_(
                    DealerRow.agreement_start <= season.starts_on,
                    DealerRow.agreement_end >= season.starts_on,
                ),
                DealerRow.dealer_id.not_in(submitted),
            )
        )
    ).all()
    for dealer in missing:
        await measure(
            session, dealer.dealer_id, MISSING_PLAN, code, now, detail="no plan by the due date"
        )
        await enqueue(
            session,
            Envelope(
                data=StockingPlanMissedV1(
                    dealer_id=dealer.dealer_id,
                    season_code=code,
                    season_starts=season.starts_on,
                    due_date=season.plan_due,
                ),
                subject=dealer.dealer_id,
            ),
        )
        await audit(session, None, dealer.dealer_id, "stocking_plan", code, "missed", at=now)
