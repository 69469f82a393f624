"""Invitations: a completed service becomes one survey per ticket (or a recorded skip), the deadline
mints and sends the link, and once published the link is blanked in the kept outbox row."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.calendars import load_calendar
from aftersales_shared.db import outbox, upsert_insert, utcnow
from aftersales_shared.events import Envelope, SurveyRequestedV2
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import schedule
from aftersales_shared.sealing import mask_link, seal

from .. import domain
from ..domain import Policy, SurveyStatus
from ..models import CustomerMarkRow, SurveyRow

log = structlog.get_logger(__name__)

INVITE_JOB = "surveys.invite"
REDACT_JOB = "surveys.redact_link"
REDACTED = "[redacted]"
MAX_REDACT_ATTEMPTS = 1000


@dataclass(frozen=True)
class CompletedService:
    """A service the customer confirmed (from ServiceCompleted): what an invitation is planned
    from."""

    event_id: str
    ticket_id: str
    ticket_no: str
    completed_at: datetime
    request_type: str
    channel: str
    customer_id: str | None
    customer_name: str
    contact: Mapping[str, str]  # name, phone, email, role: only those given
    engineer_id: str | None
    dealer_id: str | None
    product_model: str | None
    urgency: str | None = None

    @property
    def phone(self) -> str | None:
        return self.contact.get("phone")

    @property
    def email(self) -> str | None:
        return self.contact.get("email")


# ---------------------------------------------------------------- ServiceCompleted → invitation
async def plan_invitation(
    session: AsyncSession, cmd: CompletedService, policy: Policy, now: datetime
) -> SurveyRow | None:
    """Plan one invitation per ticket (or record why the customer is skipped)."""
    if await session.scalar(select(SurveyRow.id).where(SurveyRow.ticket_id == cmd.ticket_id)):
        log.info(
            "surveys.ticket_already_has_survey", ticket_id=cmd.ticket_id, event_id=cmd.event_id
        )
        return None
    key = domain.customer_key(cmd.customer_id, cmd.phone, cmd.email)
    mark = await _lock_customer(session, key) if key else None
    reason = domain.skip_reason(
        has_contact=bool(cmd.phone or cmd.email),
        last_surveyed_at=mark.last_completed_at if mark else None,
        completed_at=cmd.completed_at,
        policy=policy,
    )
    row = _survey_row(cmd, key, policy, now)
    if reason is not None:
        row.status, row.skip_reason = SurveyStatus.SKIPPED, reason
        session.add(row)
        log.info("surveys.skipped", ticket_id=cmd.ticket_id, reason=reason)
        return row
    calendar = await load_calendar(session, policy.calendar_id, policy.timezone)
    row.due_at = domain.invitation_due(calendar, cmd.completed_at, policy)
    if mark is not None:
        mark.last_completed_at = max(filter(None, (mark.last_completed_at, cmd.completed_at)))
        mark.last_survey_id = row.id
    session.add(row)
    await session.flush()
    await schedule(session, INVITE_JOB, row.id, row.due_at, {"ticket_id": cmd.ticket_id})
    return row


def _survey_row(cmd: CompletedService, key: str | None, policy: Policy, now: datetime) -> SurveyRow:
    return SurveyRow(
        id=str(uuid.uuid4()),
        ticket_id=cmd.ticket_id,
        ticket_no=cmd.ticket_no,
        customer_id=cmd.customer_id,
        customer_key=key,
        customer_name=cmd.customer_name,
        contact=dict(cmd.contact),
        engineer_id=cmd.engineer_id,
        dealer_id=cmd.dealer_id,
        product_model=cmd.product_model,
        channel=cmd.channel,
        request_type=cmd.request_type,
        completed_at=cmd.completed_at,
        completed_month=domain.completed_month(cmd.completed_at, policy.timezone),
        status=SurveyStatus.SCHEDULED,
        language=domain.DEFAULT_LANGUAGE,
        created_at=now,
        source_event_id=cmd.event_id,
    )


async def _lock_customer(session: AsyncSession, key: str) -> CustomerMarkRow:
    """The customer's quiet-period row, locked so two completions at once cannot both be
    surveyed."""
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
    """The deadline fired: mint the token, keep only its hash, publish the link. Returns the
    link."""
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
    """Once SurveyRequested left through the outbox, blank the token in the kept row: only its hash
    stays here."""
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
