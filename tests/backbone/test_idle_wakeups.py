"""Idle services ask nothing of the database or NATS until something happens (issue 24), yet
deadlines fire on time and consumers resume at once after NATS restarts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from backbone.test_outbox import _sign_one, _streams
from sqlalchemy import func, select

from aftersales_shared.db import create_engine, outbox, session_factory, utcnow
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import Job, Scheduler, schedule
from aftersales_testing.support import contract_signed, migrated, running, runtime_of, wait_until
from contracts.app import create_app as contracts_app
from contracts.settings import ContractsSettings
from tickets.app import create_app as tickets_app
from tickets.models import EntitlementRow
from tickets.settings import TicketsSettings

LONG = 60.0  # a sleep or pull request far longer than any wait below: waking must come otherwise


async def _outbox_rows(sessions) -> int:
    async with sessions() as s:
        return await s.scalar(select(func.count()).select_from(outbox))


@pytest.mark.deadlines
async def test_a_job_armed_while_the_scheduler_sleeps_fires_at_its_due_time(databases):
    sessions = session_factory(create_engine(await migrated(databases, "contracts")))
    scheduler = Scheduler(sessions, max_sleep_seconds=LONG)
    scheduler.watch(sessions)

    @scheduler.handles("archive_due")
    async def fire(session, job: Job) -> None:
        await enqueue(session, contract_signed(job.key))

    async with sessions.begin() as s:  # the loop plans to sleep until this one, an hour away
        await schedule(s, "archive_due", "far", utcnow() + timedelta(hours=1))
    scheduler.start()
    try:
        await asyncio.sleep(0.3)
        async with sessions.begin() as s:  # armed after the loop went to sleep
            await schedule(s, "archive_due", "soon", utcnow() + timedelta(seconds=1))
        await wait_until(
            lambda: _count_is(sessions, 1), timeout=15, what="the job armed during the sleep"
        )

        # a later job than the planned wake-up does not wake the loop (no query per commit)
        async def asleep() -> bool:
            return scheduler._planned is not None

        await wait_until(asleep, timeout=15, what="the scheduler asleep again")
        planned = scheduler._planned
        async with sessions.begin() as s:
            await schedule(s, "archive_due", "later", utcnow() + timedelta(hours=2))
        await asyncio.sleep(0.2)
        assert scheduler._planned == planned
    finally:
        await scheduler.stop()
    assert scheduler.fired_total == 1


async def _count_is(sessions, n: int) -> bool:
    return await _outbox_rows(sessions) == n


async def test_consumers_resume_at_once_after_nats_restarts_with_long_pull_requests(
    databases, own_nats
):
    await _streams(own_nats.url)
    c_app = contracts_app(
        ContractsSettings(
            database_url=await migrated(databases, "contracts"),
            nats_url=own_nats.url,
            outbox_max_backoff_seconds=0.5,
        )
    )
    t_app = tickets_app(
        TicketsSettings(
            database_url=await migrated(databases, "tickets"),
            nats_url=own_nats.url,
            consumer_fetch_seconds=LONG,
        )
    )
    c_rt, t_rt = runtime_of(c_app), runtime_of(t_app)

    async def entitlements(n: int) -> bool:
        async with t_rt.sessions() as s:
            return await s.scalar(select(func.count()).select_from(EntitlementRow)) == n

    async with running(c_app), running(t_app):
        await _sign_one(c_rt, "IDLE-0001")
        await wait_until(lambda: entitlements(1), timeout=30, what="the first entitlement")
        own_nats.kill()
        await asyncio.sleep(0.5)
        own_nats.start()

        async def reconnected() -> bool:
            return t_rt.kick.kicks >= 1

        await wait_until(reconnected, timeout=30, what="tickets reconnected")
        await _sign_one(c_rt, "IDLE-0002")
        # without the kick, the consumer would wait out its 60 s pull request at the dead server
        await wait_until(lambda: entitlements(2), timeout=25, what="the entitlement after restart")
