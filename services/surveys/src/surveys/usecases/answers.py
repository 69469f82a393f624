"""Answers: a customer on the public page (by link) or an agent on the phone records the one
answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import NotFound
from aftersales_shared.events import Envelope, SurveyAnsweredV1
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel

from .. import domain
from ..domain import AnswerMethod, Policy, SurveyStatus
from ..models import AnswerRow, SurveyRow
from .invitations import INVITE_JOB


@dataclass(frozen=True)
class PhoneAnswer:
    """What the customer said on the phone; the agent who records it comes separately."""

    efficiency: int
    attitude: int
    professionalism: int
    recommend: int | None = None
    comment: str | None = None
    respondent: str | None = None

    def scores(self) -> dict[str, str | None]:
        """The answers as the page's form would send them (one validation for both)."""
        given = {
            "efficiency": self.efficiency,
            "attitude": self.attitude,
            "professionalism": self.professionalism,
            "recommend": self.recommend,
            "comment": self.comment,
        }
        return {k: None if v is None else str(v) for k, v in given.items()}


# ---------------------------------------------------------------- the public page
async def find_by_token(session: AsyncSession, token: str) -> SurveyRow:
    if not domain.well_formed_token(token):
        raise domain.TokenUnknown("调查链接无效 (unknown survey link)")
    row = await session.scalar(
        select(SurveyRow).where(SurveyRow.token_hash == domain.hash_token(token))
    )
    if row is None:
        raise domain.TokenUnknown("调查链接无效 (unknown survey link)")
    return row


async def open_survey(session: AsyncSession, token: str, now: datetime) -> SurveyRow:
    """The survey behind a link, if the customer may still answer it."""
    row = await find_by_token(session, token)
    domain.check_open(row.status, row.expires_at, now)
    return row


async def answer_by_link(
    session: AsyncSession,
    token: str,
    form: Mapping[str, str | None],
    language: str,
    policy: Policy,
    now: datetime,
) -> SurveyRow:
    row = await open_survey(session, token, now)
    answer = domain.validate_answer(form, policy.comment_max_chars)
    await _store_answer(session, row, answer, AnswerMethod.WEB, policy, now, language=language)
    return row


async def answer_by_phone(
    session: AsyncSession,
    survey_id: str,
    cmd: PhoneAnswer,
    actor: Principal,
    policy: Policy,
    now: datetime,
) -> SurveyRow:
    """An agent records what the customer said on the phone (marked as such)."""
    row = await session.scalar(
        select(SurveyRow)
        .where(SurveyRow.id == survey_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(f"调查{survey_id}不存在 (survey not found)")
    if row.status == SurveyStatus.ANSWERED:
        raise domain.SurveyAlreadyAnswered("该调查已有答卷 (this survey was already answered)")
    if row.status == SurveyStatus.SKIPPED:
        raise domain.SurveyNotOpen(
            f"该工单未安排调查：{row.skip_reason} (survey skipped: {row.skip_reason})"
        )
    answer = domain.validate_answer(cmd.scores(), policy.comment_max_chars)
    if row.status == SurveyStatus.SCHEDULED:
        await cancel(session, INVITE_JOB, row.id)
        row.invited_at = now
    await _store_answer(
        session,
        row,
        answer,
        AnswerMethod.PHONE,
        policy,
        now,
        language=domain.DEFAULT_LANGUAGE,
        recorded_by=actor.subject,
        respondent=cmd.respondent,
    )
    return row


async def _store_answer(
    session: AsyncSession,
    row: SurveyRow,
    answer: domain.Answer,
    method: AnswerMethod,
    policy: Policy,
    now: datetime,
    *,
    language: str,
    recorded_by: str | None = None,
    respondent: str | None = None,
) -> AnswerRow:
    """Insert the one answer (the unique survey_id refuses a second, also a concurrent one) and
    publish it."""
    low = domain.is_low_score(answer, policy)
    stored = AnswerRow(
        survey_id=row.id,
        efficiency=answer.efficiency,
        attitude=answer.attitude,
        professionalism=answer.professionalism,
        recommend=answer.recommend,
        comment=answer.comment,
        low_score=low,
        method=method,
        recorded_by=recorded_by,
        respondent=respondent,
        language=language,
        answered_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(stored)
            await session.flush()
    except IntegrityError as exc:
        raise domain.SurveyAlreadyAnswered(
            "该调查已提交，感谢您的反馈 (this survey was already answered)"
        ) from exc
    row.status, row.answered_at = SurveyStatus.ANSWERED, now
    await enqueue(session, Envelope(data=answered_event(row, stored), subject=row.ticket_no))
    return stored


def answered_event(row: SurveyRow, a: AnswerRow) -> SurveyAnsweredV1:
    return SurveyAnsweredV1(
        survey_id=row.id,
        ticket_id=row.ticket_id,
        ticket_no=row.ticket_no,
        answered_at=a.answered_at,
        efficiency=a.efficiency,
        attitude=a.attitude,
        professionalism=a.professionalism,
        recommend=a.recommend,
        comment=a.comment,
        low_score=a.low_score,
        recorded_by_agent=a.recorded_by,
        customer_id=row.customer_id,
        engineer_id=row.engineer_id,
        dealer_id=row.dealer_id,
        product_model=row.product_model,
        channel=row.channel,
        answered_via=a.method,
    )
