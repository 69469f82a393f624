"""Dead letters of the inbox: what the broker gave up on or a handler could not take is kept whole,
and an operator replays it after a fix. A mixin of ``Inbox`` (it uses the inbox's sessions,
subscriptions, decoder and handler)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .db import dead_letters, inbox, utcnow
from .events import MalformedEvent
from .events.base import MAX_EVENT_ID
from .streams import stream_for_subject

if TYPE_CHECKING:
    from .inbox import Subscription

log = structlog.get_logger("aftersales_shared.inbox")
MAX_DELIVERIES_ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"


class DeadLetterStore:
    """Keeping and replaying dead letters (mixed into Inbox)."""

    sessions: Any
    subscriptions: dict[str, Subscription]

    async def watch_max_deliveries(self, nc: Any, js: Any) -> Any:
        """JetStream's advisory when a message reached a consumer's max_deliver: keep it as a dead
        letter unless it was handled (every replica hears it; the dead letter's unique key keeps
        one)."""
        ours = {sub.consumer: sub for sub in self.subscriptions.values()}

        async def on_advisory(msg: Any) -> None:
            try:
                info = json.loads(msg.data)
                sub = ours.get(info.get("consumer", ""))
                if sub is not None:
                    await self.dead_letter_exhausted(
                        js,
                        sub,
                        info["stream"],
                        int(info["stream_seq"]),
                        int(info.get("deliveries", 0)),
                    )
            except Exception as exc:  # an advisory we cannot act on must not break the subscription
                log.error(
                    "inbox.max_deliveries_advisory_failed", error=f"{type(exc).__name__}: {exc}"
                )

        # one subscription per own consumer: the service's NATS user may hear only its own
        # consumers' advisories
        return [
            await nc.subscribe(
                f"{MAX_DELIVERIES_ADVISORY}.{stream_for_subject(sub.subject).name}.{sub.consumer}",
                cb=on_advisory,
            )
            for sub in self.subscriptions.values()
        ]

    async def dead_letter_exhausted(
        self, js: Any, sub: Subscription, stream: str, seq: int, deliveries: int
    ) -> bool:
        """The broker gave up on stream message `seq` for `sub`: a dead letter unless its effect is
        recorded."""
        raw = await js.get_msg(stream, seq)
        headers = dict(raw.headers or {})
        event_id = headers.get("ce-id") or headers.get("Nats-Msg-Id") or f"seq:{seq}"
        async with self.sessions() as session:
            handled = await session.scalar(
                select(inbox.c.event_id).where(
                    inbox.c.consumer == sub.consumer, inbox.c.event_id == event_id
                )
            )
        if handled is not None:
            return False
        await self._dead_letter(
            sub,
            raw.subject,
            event_id,
            headers,
            raw.data or b"",
            "failed",
            f"the broker stopped redelivering after {deliveries} deliveries (max_deliver); "
            "the service never finished handling it",
            deliveries,
        )
        log.error(
            "inbox.dead_letter",
            consumer=sub.consumer,
            event_id=event_id,
            error="max_deliver reached",
        )
        return True

    async def _dead_letter(
        self,
        sub: Subscription,
        subject: str,
        event_id: str,
        headers: dict[str, str],
        body: bytes,
        reason: str,
        error: str,
        deliveries: int,
    ) -> None:
        try:
            async with self.sessions() as session, session.begin():
                # the dead letter's own copy fits its columns; headers keep all
                await session.execute(
                    dead_letters.insert().values(
                        consumer=sub.consumer,
                        subject=fit(subject, 255),
                        event_id=fit(event_id, MAX_EVENT_ID),
                        event_type=fit(headers.get("ce-type"), 255),
                        headers=json.dumps(headers, ensure_ascii=False),
                        body=body,
                        reason=reason,
                        error=error[:4000],
                        deliveries=deliveries,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            log.info("inbox.dead_letter_exists", consumer=sub.consumer, event_id=event_id)

    async def replay(self, dead_letter_id: int) -> str:
        """Handle a kept message again (after a fix); raises ReplayError with the reason if it
        fails."""
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(dead_letters).where(dead_letters.c.id == dead_letter_id)
                )
            ).one_or_none()
        if row is None:
            raise ReplayError(404, f"dead letter {dead_letter_id} does not exist")
        if row.replayed_at is not None:
            raise ReplayError(
                409,
                f"dead letter {dead_letter_id} was already replayed at "
                f"{row.replayed_at.isoformat()}",
            )
        sub = self.subscriptions.get(row.consumer)
        if sub is None:
            raise ReplayError(409, f"consumer {row.consumer!r} no longer exists in this service")
        try:
            env = self._decode(sub, json.loads(row.headers), row.body)
        except MalformedEvent as exc:
            await self._record_replay_error(dead_letter_id, str(exc))
            raise ReplayError(422, f"still malformed: {exc}") from exc

        async def mark(session: AsyncSession) -> None:
            await session.execute(
                update(dead_letters)
                .where(dead_letters.c.id == dead_letter_id)
                .values(replayed_at=utcnow(), replay_error=None)
            )

        try:
            handled = await self.handle(sub, env, also=mark)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            await self._record_replay_error(dead_letter_id, error)
            raise ReplayError(409, f"handler failed again: {error}") from exc
        return "handled" if handled else "duplicate"

    async def _record_replay_error(self, dead_letter_id: int, error: str) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(dead_letters)
                .where(dead_letters.c.id == dead_letter_id)
                .values(replay_error=error[:4000])
            )


def fit(value: str | None, length: int) -> str | None:
    """A value cut to `length` for a column of a dead letter — with a hash of the whole, so two long
    values sharing a prefix stay apart (the full value is kept in the dead letter's headers)."""
    if value is None or len(value) <= length:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{value[: length - 34]}~{digest}~"


class ReplayError(Exception):
    """A replay refused or failed: the HTTP status to answer and the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
