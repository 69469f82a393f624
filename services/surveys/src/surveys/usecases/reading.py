"""Reading surveys for staff: one survey with its answer, the list with filters."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.errors import NotFound

from ..models import AnswerRow, SurveyRow


async def get_survey(session: AsyncSession, survey_id: str) -> SurveyRow:
    row = await session.get(SurveyRow, survey_id)
    if row is None:
        raise NotFound(f"调查{survey_id}不存在 (survey not found)")
    return row


async def list_surveys(
    session: AsyncSession,
    *,
    status: str | None,
    ticket_no: str | None,
    customer_id: str | None,
    month: str | None,
    low_score: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[SurveyRow], int]:
    query = select(SurveyRow)
    if status:
        query = query.where(SurveyRow.status == status)
    if ticket_no:
        query = query.where(SurveyRow.ticket_no == ticket_no)
    if customer_id:
        query = query.where(SurveyRow.customer_id == customer_id)
    if month:
        query = query.where(SurveyRow.completed_month == month)
    if low_score is not None:
        query = query.join(AnswerRow).where(AnswerRow.low_score.is_(low_score))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(SurveyRow.completed_at.desc(), SurveyRow.id).limit(limit).offset(offset)
    )
    return list(rows), total
