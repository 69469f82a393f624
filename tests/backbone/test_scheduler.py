"""Deadlines fire exactly once, in the transaction of their effect, also with two replicas."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from aftersales_shared.db import create_engine, outbox, scheduled_jobs, session_factory, utcnow
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import Job, Scheduler, cancel, job_status, schedule
from aftersales_testing.support import contract_signed, migrated

pytestmark = pytest.mark.deadlines


def _scheduler(sessions, **kw) -> Scheduler:
    scheduler = Scheduler(sessions, batch_size=kw.pop("batch_size", 20), **kw)

    @scheduler.handles("archive_due")
    async def fire(session, job: Job) -> None:
        if job.payload.get("explode"):
            raise RuntimeError("boom")
        await enqueue(session, contract_signed(job.key))

    return scheduler


async def _count(sessions, table, *where) -> int:
    async with sessions() as s:
        return await s.scalar(select(func.count()).select_from(table).where(*where))


async def test_due_jobs_fire_once_and_future_cancelled_failed_ones_behave(databases):
    sessions = session_factory(create_engine(await migrated(databases, "contracts")))
    now = utcnow()
    async with sessions.begin() as s:
        await schedule(s, "archive_due", "due-1", now - timedelta(seconds=1))
        await schedule(s, "archive_due", "due-2", now - timedelta(seconds=1))
        await schedule(s, "archive_due", "later", now + timedelta(hours=1))
        await schedule(s, "archive_due", "cancelled", now - timedelta(seconds=1))
        await schedule(s, "archive_due", "broken", now - timedelta(seconds=1), {"explode": True})
        await schedule(s, "other_kind", "not-mine", now - timedelta(seconds=1))
        await cancel(s, "archive_due", "cancelled")
    scheduler = _scheduler(sessions)
    assert await scheduler.run_due() == 2
    assert await scheduler.run_due() == 0
    assert await _count(sessions, outbox) == 2
    async with sessions() as s:
        assert await job_status(s, "archive_due", "due-1") == "done"
        assert await job_status(s, "archive_due", "later") == "pending"
        assert await job_status(s, "archive_due", "cancelled") == "cancelled"
        broken = (
            await s.execute(select(scheduled_jobs).where(scheduled_jobs.c.key == "broken"))
        ).one()
    assert broken.status == "pending" and broken.attempts == 1 and "boom" in broken.last_error
    assert broken.due_at > now  # retried later, not in a hot loop
    # moving a fired job does not re-arm it; moving a pending one does
    async with sessions.begin() as s:
        await schedule(s, "archive_due", "due-1", now - timedelta(seconds=1))
        await schedule(s, "archive_due", "later", now - timedelta(seconds=1))
    assert await scheduler.run_due() == 1
    assert await _count(sessions, outbox) == 3
    # scheduling a cancelled job again revives it (a paused clock that runs again), once
    async with sessions.begin() as s:
        await schedule(s, "archive_due", "cancelled", now - timedelta(seconds=1))
    async with sessions() as s:
        assert await job_status(s, "archive_due", "cancelled") == "pending"
    assert await scheduler.run_due() == 1
    assert await scheduler.run_due() == 0
    assert await _count(sessions, outbox) == 4


async def test_two_replicas_fire_each_deadline_exactly_once(databases, db_kind):
    url = await migrated(databases, "contracts")
    sessions = session_factory(create_engine(url))
    now = utcnow()
    async with sessions.begin() as s:
        for i in range(300):
            await schedule(s, "archive_due", f"job-{i}", now - timedelta(seconds=i))
    replicas = [
        _scheduler(session_factory(create_engine(url)))
        for _ in range(2 if db_kind == "postgresql" else 1)
    ]

    async def drain(sch: Scheduler) -> int:
        total = 0
        while n := await sch.run_due():
            total += n
            await asyncio.sleep(0)
        return total

    fired = await asyncio.gather(*(drain(r) for r in replicas))
    assert sum(fired) == 300
    assert await _count(sessions, outbox) == 300
    assert await _count(sessions, scheduled_jobs, scheduled_jobs.c.status == "done") == 300


async def test_job_never_deadlocks_with_a_user_transaction_holding_its_row(databases, db_kind):
    """A user locks a row and then cancels the job whose handler needs that row: both finish."""
    if db_kind != "postgresql":
        pytest.skip("row locks and lock_timeout are PostgreSQL's; SQLite serialises writers")
    from sqlalchemy import text

    url = await migrated(databases, "contracts")
    sessions = session_factory(create_engine(url))
    async with sessions.begin() as s:
        await s.execute(text("CREATE TABLE lockme (id int PRIMARY KEY, n int NOT NULL)"))
        await s.execute(text("INSERT INTO lockme VALUES (1, 0)"))
        await schedule(s, "touch", "row-1", utcnow() - timedelta(seconds=1))
    scheduler = Scheduler(sessions)

    @scheduler.handles("touch")
    async def touch(session, job: Job) -> None:
        await session.execute(text("UPDATE lockme SET n = n + 1 WHERE id = 1"))

    locked = asyncio.Event()

    async def user() -> None:
        async with sessions.begin() as s:
            await s.execute(text("SELECT n FROM lockme WHERE id = 1 FOR UPDATE"))
            locked.set()
            await asyncio.sleep(0.5)  # the scheduler claims the job meanwhile and needs this row
            await cancel(s, "touch", "row-1")

    async def tick() -> int:
        await locked.wait()
        return await scheduler.run_due()

    _, fired = await asyncio.gather(user(), tick())
    assert fired == 0
    async with sessions() as s:
        job = (await s.execute(select(scheduled_jobs).where(scheduled_jobs.c.key == "row-1"))).one()
        n = await s.scalar(text("SELECT n FROM lockme WHERE id = 1"))
    assert job.status == "cancelled" and job.attempts == 0 and job.last_error is None
    assert n == 0
