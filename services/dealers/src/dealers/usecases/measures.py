"""Measured service: facts about a dealer from other services' events, counted over a window."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.events import (
    ServiceCompletedV1,
    SlaBreachedV1,
    SurveyAnsweredV1,
    TicketOpenedV1,
)

from .. import domain as d
from ..models import MeasurementRow
from .common import (
    COMPLETION,
    LATE_ARRANGEMENT,
    LATE_CARD,
    LATE_RETURN,
    MISSING_PLAN,
    SLA_BREACH,
    SURVEY,
    TICKET,
    measure,
)


async def measures(
    session: AsyncSession, dealer_id: str, start: date, end: date, tz: ZoneInfo
) -> d.Measures:
    """Count a dealer's measured facts in [start, end] (local days)."""
    lo, hi = d.start_of_local_day(start, tz), d.end_of_local_day(end, tz)
    rows = (
        await session.execute(
            select(MeasurementRow.kind, func.count(), func.avg(MeasurementRow.score))
            .where(
                MeasurementRow.dealer_id == dealer_id,
                MeasurementRow.occurred_at >= lo,
                MeasurementRow.occurred_at < hi,
            )
            .group_by(MeasurementRow.kind)
        )
    ).all()
    counts = {k: n for k, n, _ in rows}
    mean = next((a for k, _, a in rows if k == SURVEY), None)
    return d.Measures(
        late_cards=counts.get(LATE_CARD, 0),
        late_returns=counts.get(LATE_RETURN, 0),
        late_arrangements=counts.get(LATE_ARRANGEMENT, 0),
        sla_breaches=counts.get(SLA_BREACH, 0),
        missing_stock_plans=counts.get(MISSING_PLAN, 0),
        tickets=counts.get(TICKET, 0),
        completions=counts.get(COMPLETION, 0),
        surveys=counts.get(SURVEY, 0),
        mean_score=None if mean is None else Decimal(str(mean)).quantize(d.CENT),
    )


async def record_ticket_opened(session: AsyncSession, data: TicketOpenedV1) -> None:
    if data.dealer_id:
        await measure(
            session, data.dealer_id, TICKET, data.ticket_id, data.opened_at, detail=data.ticket_no
        )


async def record_sla_breach(session: AsyncSession, data: SlaBreachedV1) -> None:
    if data.dealer_id:
        await measure(
            session,
            data.dealer_id,
            SLA_BREACH,
            f"{data.ticket_id}:{data.clock}:{data.escalation_level}",
            data.breached_at,
            detail=data.ticket_no,
        )


async def record_completion(session: AsyncSession, data: ServiceCompletedV1) -> None:
    if data.dealer_id:
        await measure(
            session,
            data.dealer_id,
            COMPLETION,
            data.ticket_id,
            data.completed_at,
            detail=data.ticket_no,
        )


async def record_survey(session: AsyncSession, data: SurveyAnsweredV1) -> None:
    if data.dealer_id:
        await measure(
            session,
            data.dealer_id,
            SURVEY,
            data.survey_id,
            data.answered_at,
            score=d.survey_score(data.efficiency, data.attitude, data.professionalism),
            detail=data.ticket_no,
        )
