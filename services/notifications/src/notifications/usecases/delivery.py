"""A delivery's life after planning: claimed when due, sent by the worker, recorded sent (in
batches) or failed / retried with back-off."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import is_postgresql
from aftersales_shared.events import Envelope, NotificationFailedV1, NotificationSentV1
from aftersales_shared.outbox import enqueue, enqueue_many
from aftersales_shared.scheduler import schedule

from ..domain import DIGEST, Status, retry_delay
from ..models import DeliveryRow
from ..providers.base import SendError
from ..settings import NotificationsSettings
from ..templates import params_json

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


async def claim(
    session: AsyncSession, delivery_id: str, now: datetime, sms_max_chars: int = 200
) -> Claimed | None:
    """The scheduler says a delivery is due: mark it sending; the worker sends it after this
    commits. An alert held for a digest takes the other alerts of its burst with it (merged)."""
    table = DeliveryRow.__table__
    # held for a digest: its burst is the alerts with its subject due by its due time
    burst = (
        await session.execute(
            select(table.c.subject, table.c.due_at).where(
                table.c.id == delivery_id, table.c.hold_reason == DIGEST
            )
        )
    ).first()
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
    if burst is not None:
        claimed = await _carry_digest(session, claimed, burst.subject, burst.due_at, sms_max_chars)
    session.info.setdefault(CLAIMED_KEY, []).append(claimed)
    return claimed


async def _carry_digest(
    session: AsyncSession,
    carrier: Claimed,
    subject: str | None,
    due_at: datetime,
    sms_max_chars: int,
) -> Claimed:
    """The other alerts of the burst (same person, channel and subject, held for this digest) are
    merged into this one, which now says all of them, oldest first."""
    table = DeliveryRow.__table__
    others = (
        await session.execute(
            update(table)
            .where(
                table.c.recipient_key == carrier.recipient_key,
                table.c.channel == carrier.channel,
                table.c.subject == subject,
                table.c.status == Status.HELD.value,
                table.c.hold_reason == DIGEST,
                table.c.due_at <= due_at,
                table.c.id != carrier.id,
            )
            .values(status=Status.MERGED.value, merged_into=carrier.id, hold_reason=None)
            .returning(table.c.created_at, table.c.title, table.c.body_text, table.c.body_html)
        )
    ).all()
    if not others:
        return carrier
    oldest_first = sorted(others, key=lambda r: r.created_at)
    content = digest_content(
        carrier,
        [(r.title, r.body_text, r.body_html) for r in oldest_first],
        subject or "",
        sms_max_chars,
    )
    await session.execute(update(table).where(table.c.id == carrier.id).values(**content))
    return Claimed(**{**carrier.__dict__, **content})


DIGEST_TEMPLATE = "alert_digest"  # the SMS template name of a digest (its cloud template code)


def digest_content(
    carrier: Claimed,
    others: list[tuple[str | None, str | None, str | None]],
    subject: str,
    sms_max_chars: int,
) -> dict[str, Any]:
    """One message for the whole burst: the carrier's own content first, then the others'."""
    items = [(carrier.title, carrier.body_text, carrier.body_html), *others]
    n = len(items)
    english = carrier.language == "en"
    if carrier.channel == "sms":
        texts = [t or "" for _, t, _ in items]
        signature = texts[0][: texts[0].index("】") + 1] if texts[0].startswith("【") else ""
        bodies = [t.removeprefix(signature).strip() for t in texts]
        head = f"{n} alerts on {subject}: " if english else f"{subject}共{n}条提醒："
        joined = ("; " if english else "；").join(bodies)
        # a cloud SMS provider sends registered templates only: the digest has its own
        # (DIGEST_TEMPLATE, e.g. "${subject}共${count}条提醒：${first}等"), values ≤ 35 characters
        params = {"subject": _cut(subject, 35), "count": str(n), "first": _cut(bodies[0], 35)}
        return {
            "body_text": _cut(signature + head + joined, sms_max_chars),
            "template": DIGEST_TEMPLATE,
            "sms_params": params_json(params),
        }
    if carrier.channel == "wechat":
        # one template message: the burst's count in its title, every alert's short text in remark
        texts = [t or "" for _, t, _ in items]
        head = f"{n} alerts on {subject}" if english else f"{subject}共{n}条提醒"
        params = json.loads(carrier.sms_params or "{}")
        params.update(first=head, remark=("; " if english else "；").join(texts))
        return {"title": head, "body_text": params["remark"], "sms_params": params_json(params)}
    title = (
        f"{n} alerts on {subject}: {items[0][0] or ''}"
        if english
        else f"{subject}：{n}条提醒（{items[0][0] or ''}等）"
    )
    text_body = "\n\n".join(f"{i}. {t or ''}\n{b or ''}" for i, (t, b, _) in enumerate(items, 1))
    html_body = "<hr>".join(h or "" for _, _, h in items)
    return {"title": title[:300], "body_text": text_body, "body_html": html_body}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
