"""Satisfaction figures for supervisors and the monthly report: grouped averages, response rate,
distributions."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.exports import csv_text

from ..domain import DIMENSIONS, RECOMMEND_MAX, RECOMMEND_MIN, SCORE_MAX, SCORE_MIN, SurveyStatus
from ..models import AnswerRow, SurveyRow


class GroupBy(StrEnum):
    MONTH = "month"
    ENGINEER = "engineer"
    PRODUCT = "product"
    DEALER = "dealer"
    CHANNEL = "channel"


GROUP_COLUMNS = {
    GroupBy.MONTH: SurveyRow.completed_month,
    GroupBy.ENGINEER: SurveyRow.engineer_id,
    GroupBy.PRODUCT: SurveyRow.product_model,
    GroupBy.DEALER: SurveyRow.dealer_id,
    GroupBy.CHANNEL: SurveyRow.channel,
}

CSV_HEADER = {
    "key": "分组 group",
    "surveyed": "已调查 surveyed",
    "answered": "已回复 answered",
    "response_rate": "回复率 response rate",
    "efficiency": "效率 efficiency",
    "attitude": "态度 attitude",
    "professionalism": "专业性 professionalism",
    "overall": "综合 overall",
    "recommend": "推荐意愿 recommend",
    "low_scores": "低分 low scores",
}


def _filtered(
    query: Select[Any], month_from: str | None, month_to: str | None, dealer_id: str | None
) -> Select[Any]:
    """Surveys that were actually sent (or answered by phone), in the month range."""
    query = query.where(SurveyRow.status != SurveyStatus.SKIPPED, SurveyRow.invited_at.is_not(None))
    if month_from:
        query = query.where(SurveyRow.completed_month >= month_from)
    if month_to:
        query = query.where(SurveyRow.completed_month <= month_to)
    if dealer_id:
        query = query.where(SurveyRow.dealer_id == dealer_id)
    return query


def _avg(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def _rate(answered: int, surveyed: int) -> float | None:
    return round(answered / surveyed, 4) if surveyed else None


async def satisfaction(
    session: AsyncSession,
    group_by: GroupBy,
    *,
    month_from: str | None = None,
    month_to: str | None = None,
    dealer_id: str | None = None,
) -> dict[str, Any]:
    """Average scores, response rate and low-score count per group, plus the totals."""
    key = GROUP_COLUMNS[group_by]
    measures = (
        func.count(SurveyRow.id).label("surveyed"),
        func.count(AnswerRow.id).label("answered"),
        *(func.avg(getattr(AnswerRow, d)).label(d) for d in DIMENSIONS),
        (
            func.avg(AnswerRow.efficiency + AnswerRow.attitude + AnswerRow.professionalism) / 3.0
        ).label("overall"),
        func.avg(AnswerRow.recommend).label("recommend"),
        func.count(AnswerRow.id).filter(AnswerRow.low_score.is_(True)).label("low_scores"),
    )
    base = (
        select(*measures)
        .select_from(SurveyRow)
        .outerjoin(AnswerRow, AnswerRow.survey_id == SurveyRow.id)
    )
    grouped = (
        _filtered(base.add_columns(key.label("key")), month_from, month_to, dealer_id)
        .group_by(key)
        .order_by(key)
    )
    rows = [_figure(r) for r in (await session.execute(grouped)).mappings()]
    total = _figure(
        (await session.execute(_filtered(base, month_from, month_to, dealer_id))).mappings().one()
    )
    total.pop("key", None)
    return {
        "group_by": group_by.value,
        "month_from": month_from,
        "month_to": month_to,
        "rows": rows,
        "total": total,
    }


def _figure(r: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": r.get("key"),
        "surveyed": r["surveyed"],
        "answered": r["answered"],
        "response_rate": _rate(r["answered"], r["surveyed"]),
    }
    for name in (*DIMENSIONS, "overall", "recommend"):
        out[name] = _avg(r[name])
    out["low_scores"] = r["low_scores"] or 0
    return out


async def distribution(
    session: AsyncSession,
    *,
    month_from: str | None = None,
    month_to: str | None = None,
    dealer_id: str | None = None,
) -> dict[str, Any]:
    """How many answers gave each score, per dimension (and 0–10 for recommend)."""
    out: dict[str, Any] = {}
    for name, lo, hi in [
        *((d, SCORE_MIN, SCORE_MAX) for d in DIMENSIONS),
        ("recommend", RECOMMEND_MIN, RECOMMEND_MAX),
    ]:
        col = getattr(AnswerRow, name)
        query = _filtered(
            select(col, func.count()).select_from(SurveyRow).join(AnswerRow),
            month_from,
            month_to,
            dealer_id,
        )
        counts = dict((await session.execute(query.where(col.is_not(None)).group_by(col))).all())
        out[name] = {str(score): counts.get(score, 0) for score in range(lo, hi + 1)}
    totals = await satisfaction(
        session, GroupBy.MONTH, month_from=month_from, month_to=month_to, dealer_id=dealer_id
    )
    t = totals["total"]
    return {
        "month_from": month_from,
        "month_to": month_to,
        "surveyed": t["surveyed"],
        "answered": t["answered"],
        "response_rate": t["response_rate"],
        "scores": out,
    }


def to_csv(figures: dict[str, Any]) -> str:
    """CSV of grouped figures with a UTF-8 BOM, so Excel shows the Chinese headers correctly."""
    rows = [*figures["rows"], {"key": "合计 total", **figures["total"]}]
    return csv_text(CSV_HEADER.values(), ([row.get(k) for k in CSV_HEADER] for row in rows))
