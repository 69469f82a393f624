"""Transactional outbox: events are rows written with the state change; a relay publishes them."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from nats.js import JetStreamContext
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from . import correlation
from .db import insert_rows, one_of, outbox, utcnow, wake_after_commit
from .events import Envelope
from .tasks import cancel_and_wait

log = structlog.get_logger(__name__)

PENDING_KEY = "outbox_pending"


async def enqueue(session: AsyncSession | AsyncConnection, envelope: Envelope[Any]) -> None:
    """Write an event in the caller's transaction: it is published only if that transaction
    commits."""
    if envelope.correlation_id is None and correlation.current():
        envelope = dataclasses.replace(envelope, correlation_id=correlation.current())
    await enqueue_many(session, [envelope])


async def enqueue_many(
    session: AsyncSession | AsyncConnection, envelopes: list[Envelope[Any]]
) -> None:
    """Several events in one statement, as they are (each carries its own correlation id)."""
    if not envelopes:
        return
    await insert_rows(session, outbox, outbox_rows(envelopes))
    if isinstance(session, AsyncSession):
        session.info[PENDING_KEY] = True


def outbox_rows(envelopes: list[Envelope[Any]]) -> list[dict[str, Any]]:
    """The outbox rows of some events (for a caller that writes them inside a larger statement: it
    then sets `session.info[PENDING_KEY]` so the relay wakes after the commit)."""
    now = utcnow()
    return [
        dict(
            id=e.id,
            subject=e.nats_subject,
            headers=json.dumps(e.headers(), ensure_ascii=False),
            body=e.body(),
            created_at=now,
            attempts=0,
        )
        for e in envelopes
    ]


class OutboxRelay:
    """Publishes unsent outbox rows with JetStream acks; replicas split rows with SKIP LOCKED."""

    def __init__(
        self,
        engine: AsyncEngine,
        jetstream: Callable[[], JetStreamContext],
        *,
        batch_size: int = 200,
        poll_seconds: float = 0.5,
        max_backoff_seconds: float = 5.0,
        publish_timeout: float = 5.0,
        linger_seconds: float = 0.0,
        retention: timedelta | None = None,
        purge_every_seconds: float = 600.0,
    ) -> None:
        self._engine = engine
        self._js = jetstream
        self._batch = batch_size
        self._poll = poll_seconds
        self._max_backoff = max_backoff_seconds
        self._timeout = publish_timeout
        self._linger = linger_seconds
        self._retention = retention
        self._purge_every = purge_every_seconds
        self._next_purge = time.monotonic() + min(60.0, purge_every_seconds)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published_total = 0
        self.last_error: str | None = None

    def watch(self, factory: async_sessionmaker[AsyncSession]) -> None:
        """Wake the relay right after a session that enqueued events commits."""
        wake_after_commit(factory, PENDING_KEY, self.notify)

    def notify(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                sent = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS or database away: wait and try again, nothing is lost
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("outbox.publish_failed", error=self.last_error, retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = 0.1
            self.last_error = None
            if self._retention is not None and time.monotonic() >= self._next_purge:
                self._next_purge = time.monotonic() + self._purge_every
                try:
                    await self.purge()
                except Exception as exc:  # the next round tries again; publishing goes on meanwhile
                    log.warning("outbox.purge_failed", error=f"{type(exc).__name__}: {exc}")
            if sent < self._batch:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
                except TimeoutError:
                    pass
                else:
                    if self._linger:
                        await asyncio.sleep(self._linger)

    async def purge(self, now: datetime | None = None, chunk: int = 5000) -> int:
        """Delete published rows older than the retention, a chunk per transaction; how many went.
        Unpublished rows are never deleted, however old; replicas may purge at once (deletes are
        idempotent)."""
        if self._retention is None:
            return 0
        cutoff = (now or utcnow()) - self._retention
        total = 0
        while True:
            async with self._engine.begin() as conn:
                victims = (
                    select(outbox.c.id)
                    .where(outbox.c.published_at < cutoff)
                    .limit(chunk)
                    .scalar_subquery()
                )
                deleted = (
                    await conn.execute(delete(outbox).where(outbox.c.id.in_(victims)))
                ).rowcount or 0
            total += deleted
            if deleted < chunk:
                break
        if total:
            log.info("outbox.purged", rows=total, older_than=cutoff.isoformat())
        return total

    async def publish_pending(self) -> int:
        """Publish one batch of unsent rows; returns how many were acknowledged by JetStream."""
        js = self._js()
        nc = getattr(js, "_nc", None)
        if nc is not None and not nc.is_connected:
            raise ConnectionError(
                "NATS is not connected"
            )  # don't hold rows (or SQLite's lock) meanwhile
        if self._engine.dialect.name == "sqlite":
            return await self._publish_short_transactions(js)
        async with (
            self._engine.begin() as conn
        ):  # replicas: rows stay locked while they are published
            rows = (await conn.execute(self._claim().with_for_update(skip_locked=True))).all()
            if not rows:
                return 0
            ok, failed = await self._publish(js, rows)
            await self._mark(conn, ok, failed)
        return self._done(ok, failed)

    async def _publish_short_transactions(self, js: JetStreamContext) -> int:
        """SQLite runs one relay: read, publish and mark in short transactions, never holding the
        write lock across network I/O (a re-publish after a crash is dropped by JetStream's
        duplicate window)."""
        async with self._engine.begin() as conn:
            rows = (await conn.execute(self._claim())).all()
        if not rows:
            return 0
        ok, failed = await self._publish(js, rows)
        async with self._engine.begin() as conn:
            await self._mark(conn, ok, failed)
        return self._done(ok, failed)

    def _claim(self):  # type: ignore[no-untyped-def]
        return (
            select(outbox.c.id, outbox.c.subject, outbox.c.headers, outbox.c.body)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.created_at)
            .limit(self._batch)
        )

    async def _publish(
        self, js: JetStreamContext, rows: list[Any]
    ) -> tuple[list[str], list[tuple[str, BaseException]]]:
        results = await asyncio.gather(
            *(
                js.publish(r.subject, r.body, timeout=self._timeout, headers=json.loads(r.headers))
                for r in rows
            ),
            return_exceptions=True,
        )
        ok = [r.id for r, res in zip(rows, results) if not isinstance(res, BaseException)]
        failed = [(r.id, res) for r, res in zip(rows, results) if isinstance(res, BaseException)]
        return ok, failed

    async def _mark(
        self, conn: AsyncConnection, ok: list[str], failed: list[tuple[str, BaseException]]
    ) -> None:
        if ok:
            await conn.execute(
                update(outbox).where(one_of(conn, outbox.c.id, ok)).values(published_at=utcnow())
            )
        for row_id, exc in failed:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id)
                .values(
                    attempts=outbox.c.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
                )
            )

    def _done(self, ok: list[str], failed: list[tuple[str, BaseException]]) -> int:
        self.published_total += len(ok)
        if failed:
            raise failed[0][1]
        return len(ok)
