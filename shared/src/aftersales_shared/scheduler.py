"""Deadlines as rows: due jobs claimed with SKIP LOCKED, fired once in the transaction of their
effect."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, event, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .db import is_postgresql, scheduled_jobs, upsert_insert, utcnow
from .tasks import cancel_and_wait

log = structlog.get_logger(__name__)

PENDING, DONE, CANCELLED = "pending", "done", "cancelled"
PENDING_KEY = "scheduler_pending"
LOCK_TIMEOUT_MS = 200
BUSY_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


JobHandler = Callable[[AsyncSession, Job], Awaitable[None]]


async def schedule(
    session: AsyncSession,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Create the job, move a pending one to a new due time, or revive a cancelled one (a paused SLA
    clock resumes); a fired job is never re-armed."""
    values = dict(
        kind=kind,
        key=key,
        due_at=due_at,
        payload=json.dumps(payload or {}, ensure_ascii=False, default=str),
        status=PENDING,
        attempts=0,
        created_at=utcnow(),
    )
    stmt = upsert_insert(session, scheduled_jobs).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "key"],
        set_={
            "due_at": stmt.excluded.due_at,
            "payload": stmt.excluded.payload,
            "attempts": 0,
            "status": PENDING,
        },
        where=scheduled_jobs.c.status.in_([PENDING, CANCELLED]),
    )
    await session.execute(stmt)
    wake_for(session, due_at)


def wake_for(session: AsyncSession, due_at: datetime) -> None:
    """Note in the session that a job falls due at `due_at`: after the commit, the process's
    schedulers wake only if that is sooner than they planned to (no query per commit)."""
    earlier = session.info.get(PENDING_KEY)
    if not isinstance(earlier, datetime) or due_at < earlier:
        session.info[PENDING_KEY] = due_at


async def cancel(session: AsyncSession, kind: str, key: str) -> None:
    await session.execute(
        update(scheduled_jobs)
        .where(
            scheduled_jobs.c.kind == kind,
            scheduled_jobs.c.key == key,
            scheduled_jobs.c.status == PENDING,
        )
        .values(status=CANCELLED)
    )


async def job_status(session: AsyncSession, kind: str, key: str) -> str | None:
    return await session.scalar(
        select(scheduled_jobs.c.status).where(
            scheduled_jobs.c.kind == kind, scheduled_jobs.c.key == key
        )
    )


class Scheduler:
    """Fires due jobs; several replicas on PostgreSQL split them, each job fires exactly once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        batch_size: int = 100,
        max_sleep_seconds: float = 10.0,
        retry_seconds: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._handlers: dict[str, JobHandler] = {}
        self._batch = batch_size
        self._max_sleep = max_sleep_seconds
        self._retry = retry_seconds
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._planned: datetime | None = None  # when the sleeping loop looks next (None: awake)
        self.fired_total = 0

    def handles(self, kind: str) -> Callable[[JobHandler], JobHandler]:
        def register(handler: JobHandler) -> JobHandler:
            if kind in self._handlers:
                raise ValueError(f"job kind {kind!r} has a handler already")
            self._handlers[kind] = handler
            return handler

        return register

    def notify(self) -> None:
        self._wake.set()

    def offer(self, due_at: datetime | bool) -> None:
        """A job was armed for `due_at` (True: unknown when): wake if the loop sleeps past it."""
        planned = self._planned
        if not isinstance(due_at, datetime) or planned is None or due_at < planned:
            self._wake.set()

    def watch(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Offer every job a session of this factory armed, right after it commits (the loop
        otherwise sleeps until the next due job or `max_sleep_seconds`, for jobs armed by other
        processes: a replica that died, a command-line tool)."""

        def _after_commit(session: Any) -> None:
            due = session.info.pop(PENDING_KEY, None)
            if due is not None and due is not False:
                self.offer(due)

        event.listen(sessions.kw["sync_session_class"], "after_commit", _after_commit)

    def start(self) -> None:
        if self._task is None and self._handlers:
            self._task = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _run(self) -> None:
        while True:
            try:
                fired = await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("scheduler.tick_failed", error=f"{type(exc).__name__}: {exc}")
                fired = 0
            if fired < self._batch:
                self._wake.clear()
                try:
                    timeout = await self._sleep_for()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # database busy or away: poll again later, never die
                    log.warning("scheduler.peek_failed", error=f"{type(exc).__name__}: {exc}")
                    timeout = min(self._max_sleep, BUSY_RETRY_SECONDS)
                self._planned = self._clock() + timedelta(seconds=timeout)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout)
                except TimeoutError:
                    pass
                finally:
                    self._planned = None

    async def _sleep_for(self) -> float:
        async with self._sessions() as session:
            next_due = await session.scalar(
                select(func.min(scheduled_jobs.c.due_at)).where(
                    scheduled_jobs.c.status == PENDING,
                    scheduled_jobs.c.kind.in_(list(self._handlers)),
                )
            )
        if next_due is None:
            return self._max_sleep
        return max(0.01, min(self._max_sleep, (next_due - self._clock()).total_seconds()))

    async def run_due(self) -> int:
        """Fire one batch of due jobs; returns how many fired (failed ones are retried later)."""
        now = self._clock()
        fired = 0
        async with self._sessions() as session, session.begin():
            if is_postgresql(session):
                # never wait long for a row a user's transaction holds: that user may be waiting for
                # one of the jobs claimed here (cancel/reschedule) — a lock-order deadlock otherwise
                await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'"))
            rows = (
                await session.execute(
                    select(scheduled_jobs)
                    .where(
                        and_(
                            scheduled_jobs.c.status == PENDING,
                            scheduled_jobs.c.due_at <= now,
                            scheduled_jobs.c.kind.in_(list(self._handlers)),
                        )
                    )
                    .order_by(scheduled_jobs.c.due_at)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                job = Job(
                    row.id, row.kind, row.key, row.due_at, json.loads(row.payload), row.attempts
                )
                try:
                    async with session.begin_nested():
                        await self._handlers[row.kind](session, job)
                        await session.execute(
                            update(scheduled_jobs)
                            .where(scheduled_jobs.c.id == row.id)
                            .values(status=DONE, fired_at=now, attempts=row.attempts + 1)
                        )
                    fired += 1
                except DBAPIError as exc:
                    if not _lock_not_available(exc):
                        await self._failed(session, row, now, exc)
                        continue
                    log.info("scheduler.job_busy", kind=row.kind, key=row.key)
                    await session.execute(
                        update(scheduled_jobs)
                        .where(scheduled_jobs.c.id == row.id)
                        .values(due_at=now + timedelta(seconds=BUSY_RETRY_SECONDS))
                    )
                except Exception as exc:
                    await self._failed(session, row, now, exc)
        self.fired_total += fired
        return fired

    async def _failed(self, session: AsyncSession, row: Any, now: datetime, exc: Exception) -> None:
        """A failing job is retried with back-off; its error is kept on the row."""
        error = f"{type(exc).__name__}: {exc}"
        log.error("scheduler.job_failed", kind=row.kind, key=row.key, error=error)
        await session.execute(
            update(scheduled_jobs)
            .where(scheduled_jobs.c.id == row.id)
            .values(
                attempts=row.attempts + 1,
                last_error=error[:2000],
                due_at=now + timedelta(seconds=self._retry * min(2**row.attempts, 64)),
            )
        )


def _lock_not_available(exc: DBAPIError) -> bool:
    """PostgreSQL 55P03: lock_timeout expired waiting for a row another transaction holds."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(
        getattr(exc.orig, "__cause__", None), "sqlstate", None
    )
    return code == "55P03" or "LockNotAvailable" in type(exc.orig).__name__
