"""Use cases of the surveys service: one function per thing an event, a customer or an agent does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.calendars import load_calendar
from aftersales_shared.db import outbox, upsert_insert, utcnow
from aftersales_shared.errors import NotFound
from aftersales_shared.events import (
    Envelope,
    ServiceCompletedV1,
    SurveyAnsweredV1,
    SurveyRequestedV2,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule
from aftersales_shared.sealing import mask_link, seal

from . import domain
from .domain import AnswerMethod, Policy, SurveyStatus
from .models import AnswerRow, CustomerMarkRow, SurveyRow
from .schemas import PhoneAnswerIn

log = structlog.get_logger(__name__)

INVITE_JOB = "surveys.invite"
REDACT_JOB = "surveys.redact_link"
REDACTED = "[redacted]"
MAX_REDACT_ATTEMPTS = 1000


# ---------------------------------------------------------------- ServiceCompleted → invitation
async def on_service_completed(
    session: AsyncSession, env: Envelope[ServiceCompletedV1], policy: Policy, now: datetime
) -> SurveyRow | None:
    """Plan one invitation per ticket (or record why the customer is skipped)."""
    data = env.data
    if await session.scalar(select(SurveyRow.id).where(SurveyRow.ticket_id == data.ticket_id)):
        log.info("surveys.ticket_already_has_survey", ticket_id=data.ticket_id, event_id=env.id)
        return None
    key = domain.customer_key(data.customer_id, data.contact.phone, data.contact.email)
    mark = await _lock_customer(session, key) if key else None
    reason = domain.skip_reason(
        has_contact=bool(data.contact.phone or data.contact.email),
        last_surveyed_at=mark.last_completed_at if mark else None,
        completed_at=data.completed_at,
        policy=policy,
    )
    row = _survey_row(env, key, policy, now)
    if reason is not None:
        row.status, row.skip_reason = SurveyStatus.SKIPPED, reason
        session.add(row)
        log.info("surveys.skipped", ticket_id=data.ticket_id, reason=reason)
        return row
    calendar = await load_calendar(session, policy.calendar_id, policy.timezone)
    row.due_at = domain.invitation_due(calendar, data.completed_at, policy)
    if mark is not None:
        mark.last_completed_at = max(filter(None, (mark.last_completed_at, data.completed_at)))
        mark.last_survey_id = row.id
    session.add(row)
    await session.flush()
    await schedule(session, INVITE_JOB, row.id, row.due_at, {"ticket_id": data.ticket_id})
    return row


def _survey_row(
    env: Envelope[ServiceCompletedV1], key: str | None, policy: Policy, now: datetime
) -> SurveyRow:
    data = env.data
    return SurveyRow(
        id=str(uuid.uuid4()),
        ticket_id=data.ticket_id,
        ticket_no=data.ticket_no,
        customer_id=data.customer_id,
        customer_key=key,
        customer_name=data.customer_name,
        contact=data.contact.model_dump(exclude_none=True),
        engineer_id=data.engineer_id,
        dealer_id=data.dealer_id,
        product_model=data.product_model,
        channel=data.channel,
        request_type=data.request_type,
        completed_at=data.completed_at,
        completed_month=domain.completed_month(data.completed_at, policy.timezone),
        status=SurveyStatus.SCHEDULED,
        language=domain.DEFAULT_LANGUAGE,
        created_at=now,
        source_event_id=env.id,
    )


async def _lock_customer(session: AsyncSession, key: str) -> CustomerMarkRow:
    """The customer's quiet-period row, locked so two completions at once cannot both be surveyed."""
    await session.execute(
        upsert_insert(session, CustomerMarkRow.__table__)
        .values(customer_key=key)
        .on_conflict_do_nothing()
    )
    mark = await session.scalar(
        select(CustomerMarkRow)
        .where(CustomerMarkRow.customer_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert mark is not None
    return mark


async def send_invitation(
    session: AsyncSession, survey_id: str, policy: Policy, now: datetime
) -> str | None:
    """The deadline fired: mint the token, keep only its hash, publish the link. Returns the link."""
    row = await session.scalar(
        select(SurveyRow)
        .where(SurveyRow.id == survey_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or row.status != SurveyStatus.SCHEDULED:
        return None  # answered by phone in the meantime, or gone
    token, token_hash = domain.new_token()
    row.token_hash, row.invited_at = token_hash, now
    row.expires_at = now + timedelta(days=policy.token_ttl_days)
    row.status = SurveyStatus.INVITED
    link = policy.link(token)
    if not policy.notifications_public_key:
        raise RuntimeError("no notifications public key: survey links are never sent in clear")
    event = SurveyRequestedV2(
        survey_id=row.id,
        ticket_id=row.ticket_id,
        ticket_no=row.ticket_no,
        customer_id=row.customer_id,
        customer_name=row.customer_name,
        contact=row.contact,
        link_masked=mask_link(link),
        link_sealed=seal(policy.notifications_public_key, link),
        expires_at=row.expires_at,
        language=row.language,
    )
    envelope = Envelope(data=event, subject=row.ticket_no)
    await enqueue(session, envelope)
    await _schedule_redaction(session, row.id, envelope.id, 0, policy)
    return link


async def _schedule_redaction(
    session: AsyncSession, survey_id: str, event_id: str, attempt: int, policy: Policy
) -> None:
    due = utcnow() + timedelta(seconds=policy.redact_after_seconds)
    await schedule(
        session,
        REDACT_JOB,
        f"{survey_id}:{attempt}",
        due,
        {"event_id": event_id, "attempt": attempt},
    )


async def redact_link(
    session: AsyncSession, survey_id: str, event_id: str, attempt: int, policy: Policy
) -> bool:
    """Once SurveyRequested left through the outbox, blank the token in the kept row: only its hash stays here."""
    row = (
        await session.execute(
            select(outbox.c.body, outbox.c.published_at)
            .where(outbox.c.id == event_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        return True
    if row.published_at is None:  # not sent yet (NATS away): look again later
        if attempt + 1 < MAX_REDACT_ATTEMPTS:
            await _schedule_redaction(session, survey_id, event_id, attempt + 1, policy)
        else:
            log.warning("surveys.link_not_redacted", survey_id=survey_id, event_id=event_id)
        return False
    body = json.loads(row.body)
    if (
        "link_sealed" in body
    ):  # v2: sealed already; once published, not even the sealed form stays here
        body["link_sealed"] = REDACTED
    else:
        body["link"] = body["link"].rsplit("/", 1)[0] + "/" + REDACTED
    await session.execute(
        update(outbox)
        .where(outbox.c.id == event_id)
        .values(body=json.dumps(body, ensure_ascii=False).encode())
    )
    return True


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
    cmd: PhoneAnswerIn,
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
    raw = {
        k: None if v is None else str(v) for k, v in cmd.model_dump(exclude={"respondent"}).items()
    }
    answer = domain.validate_answer(raw, policy.comment_max_chars)
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
    """Insert the one answer (the unique survey_id refuses a second, also a concurrent one) and publish it."""
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
    )


# ---------------------------------------------------------------- reading
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
