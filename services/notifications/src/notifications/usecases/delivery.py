"""A delivery's life after planning: claimed when due, sent by the worker, recorded sent (in
batches) or failed / retried with back-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import is_postgresql
from aftersales_shared.events import Envelope, NotificationFailedV1, NotificationSentV1
from aftersales_shared.outbox import enqueue, enqueue_many
from aftersales_shared.scheduler import schedule

from ..domain import Status, retry_delay
from ..models import DeliveryRow
from ..providers.base import SendError
from ..settings import NotificationsSettings

JOB_KIND = "notifications.deliver"
# session.info keys the delivery worker reads after commit: claims to send, and "wake the extra
# claimers"
CLAIMED_KEY = "notifications_claimed"
PLANNED_KEY = "notifications_planned"


@dataclass(frozen=True)
class Claimed:
    """What the worker needs of a claimed delivery (read by the claim itself: no second query)."""

    id: str
    source_event_id: str
    source_event_type: str
    correlation_id: str | None
    template: str
    recipient_key: str
    recipient_name: str | None
    channel: str
    address: str | None
    language: str
    title: str | None
    body_text: str | None
    body_html: str | None
    sms_params: str | None
    attempts: int
    secret: str | None = None


_CLAIMED_COLUMNS = [DeliveryRow.__table__.c[name] for name in Claimed.__dataclass_fields__]


async def claim(session: AsyncSession, delivery_id: str, now: datetime) -> Claimed | None:
    """The scheduler says a delivery is due: mark it sending; the worker sends it after this
    commits."""
    table = DeliveryRow.__table__
    result = await session.execute(
        update(table)
        .where(
            table.c.id == delivery_id,
            table.c.status.in_([Status.PENDING.value, Status.HELD.value, Status.RETRYING.value]),
        )
        .values(status=Status.SENDING.value, claimed_at=now, hold_reason=None)
        .returning(*_CLAIMED_COLUMNS)
    )
    row = result.mappings().first()
    if row is None:
        return None
    claimed = Claimed(**row)
    session.info.setdefault(CLAIMED_KEY, []).append(claimed)
    return claimed


@dataclass(frozen=True)
class Sent:
    delivery: Claimed
    provider: str
    message_id: str | None
    at: datetime


_MARK_SENT_PG = text(
    "UPDATE deliveries AS d SET status = 'sent', attempts = d.attempts + 1, sent_at = v.at, "
    "provider = v.provider, "
    "provider_message_id = v.msg, last_error = NULL "
    "FROM unnest(CAST(:ids AS varchar[]), CAST(:ats AS timestamptz[]), CAST(:providers AS "
    "varchar[]), "
    "CAST(:msgs AS varchar[])) AS v(id, at, provider, msg) "
    "WHERE d.id = v.id AND d.status = 'sending' RETURNING d.id"
)


async def record_sent(session: AsyncSession, sent: list[Sent]) -> int:
    """Mark a batch of handed-over deliveries sent and publish NotificationSent for each (one
    transaction)."""
    if not sent:
        return 0
    if is_postgresql(session):
        sent = await _mark_sent_pg(session, sent)
    else:
        sent = await _mark_sent(session, sent)
    if not sent:
        return 0
    await enqueue_many(session, [_sent_event(x) for x in sent])
    return len(sent)


async def _mark_sent_pg(session: AsyncSession, sent: list[Sent]) -> list[Sent]:
    """One statement: mark the batch sent and learn which were still 'sending' (a lease that expired
    meanwhile handed the delivery to a retry, which records it)."""
    still = set(
        (
            await session.execute(
                _MARK_SENT_PG,
                dict(
                    ids=[x.delivery.id for x in sent],
                    ats=[x.at for x in sent],
                    providers=[x.provider for x in sent],
                    msgs=[(x.message_id or "")[:200] or None for x in sent],
                ),
            )
        )
        .scalars()
        .all()
    )
    return [x for x in sent if x.delivery.id in still]


async def _mark_sent(session: AsyncSession, sent: list[Sent]) -> list[Sent]:
    """The same on SQLite: read which are still 'sending', then update those."""
    table = DeliveryRow.__table__
    still = set(
        (
            await session.scalars(
                select(table.c.id).where(
                    table.c.id.in_([x.delivery.id for x in sent]),
                    table.c.status == Status.SENDING.value,
                )
            )
        ).all()
    )
    sent = [x for x in sent if x.delivery.id in still]
    if sent:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                status=Status.SENT.value,
                attempts=bindparam("b_attempts"),
                sent_at=bindparam("b_at"),
                provider=bindparam("b_provider"),
                provider_message_id=bindparam("b_msg"),
                last_error=None,
            ),
            [
                dict(
                    b_id=x.delivery.id,
                    b_attempts=x.delivery.attempts + 1,
                    b_at=x.at,
                    b_provider=x.provider,
                    b_msg=(x.message_id or "")[:200] or None,
                )
                for x in sent
            ],
        )
    return sent


def _sent_event(x: Sent) -> Envelope[NotificationSentV1]:
    return Envelope(
        data=NotificationSentV1(
            delivery_id=x.delivery.id,
            source_event_id=x.delivery.source_event_id,
            source_event_type=x.delivery.source_event_type,
            channel=x.delivery.channel,
            recipient=x.delivery.recipient_key,
            template=x.delivery.template,
            sent_at=x.at,
            provider=x.provider,
            provider_message_id=x.message_id,
        ),
        subject=x.delivery.id,
        correlation_id=x.delivery.correlation_id,
    )


async def record_failure(
    session: AsyncSession,
    row: Claimed,
    error: SendError,
    provider: str,
    now: datetime,
    s: NotificationsSettings,
) -> str:
    """A temporary failure is retried with exponential back-off until attempts run out; else it
    fails."""
    attempts = row.attempts + 1
    if error.temporary and attempts < s.delivery_max_attempts:
        due = now + retry_delay(attempts, s.retry_base_seconds, s.retry_max_seconds)
        values: dict[str, Any] = dict(status=Status.RETRYING.value, due_at=due)
        outcome = "retrying"
    else:
        values = dict(status=Status.FAILED.value, failed_at=now)
        reason = (
            error.reason
            if not error.temporary
            else f"gave up after {attempts} attempts: {error.reason}"
        )
        error = type(error)(reason)
        outcome = "failed"
    result = await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == row.id, DeliveryRow.status == Status.SENDING.value)
        .values(attempts=attempts, last_error=error.reason, provider=provider, **values)
    )
    if result.rowcount != 1:
        return "skipped"
    if outcome == "retrying":
        await schedule(
            session, JOB_KIND, f"{row.id}:{attempts}", values["due_at"], {"delivery_id": row.id}
        )
    else:
        await enqueue(
            session,
            failed_event(
                {
                    "id": row.id,
                    "source_event_id": row.source_event_id,
                    "source_event_type": row.source_event_type,
                    "channel": row.channel,
                    "recipient_key": row.recipient_key,
                    "template": row.template,
                    "correlation_id": row.correlation_id,
                    "attempts": attempts,
                },
                error.reason,
                now,
            ),
        )
    return outcome


def failed_event(row: dict[str, Any], reason: str, now: datetime) -> Envelope[NotificationFailedV1]:
    return Envelope(
        data=NotificationFailedV1(
            delivery_id=row["id"],
            source_event_id=row["source_event_id"],
            source_event_type=row["source_event_type"],
            channel=row["channel"],
            recipient=row["recipient_key"],
            template=row["template"],
            failed_at=now,
            reason=reason,
            attempts=row.get("attempts", 0),
        ),
        subject=row["id"],
        correlation_id=row.get("correlation_id"),
    )
