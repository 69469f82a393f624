"""TICKETS_ENGINEERS is only the seed: written once into the empty roster. Two replicas starting
together on PostgreSQL (here with different seeds, as in a rolling deploy that changed the setting)
write exactly one seed, never a mix of both; a restart after supervisors changed the roster writes
nothing again."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from tickets_helpers import SUP

from aftersales_shared.db import create_engine, session_factory
from aftersales_testing.support import migrated, running
from tickets.app import create_app
from tickets.models import EngineerRow, QualityAuditRow
from tickets.settings import Engineer, TicketsSettings
from tickets.usecases import engineers

NOW = datetime(2026, 11, 29, 12, 57, tzinfo=UTC)
FIRST = [Engineer(id="eng-zhang", name="张工"), Engineer(id="eng-wang", name="王工")]
SECOND = [Engineer(id="eng-zhang", name="张工"), Engineer(id="eng-li", name="李工")]


async def _waiting_on_a_lock(url: str) -> None:
    """Until another connection of this database waits on a lock (the second replica blocked)."""
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            async with engine.connect() as conn:
                waiting = await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    )
                )
            if waiting:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the second replica never waited for the first")
    finally:
        await engine.dispose()


async def test_two_replicas_starting_together_write_one_seed(databases):
    url = await migrated(databases, "tickets")
    one, two = create_engine(url), create_engine(url)
    first, second = session_factory(one), session_factory(two)
    try:
        if databases.kind == "postgresql":
            async with first.begin() as a:
                assert await engines_seed(a, FIRST) == 2  # written, not yet committed
                late = asyncio.create_task(seed_in(second, SECOND))
                await _waiting_on_a_lock(url)
            assert await late == 0, "the second replica found the roster already written"
        else:  # SQLite has one writer: the replicas take turns by themselves
            assert await seed_in(first, FIRST) == 2
            assert await seed_in(second, SECOND) == 0
        async with first() as s:
            ids = sorted((await s.scalars(select(EngineerRow.id))).all())
            audited = await s.scalar(
                select(func.count()).where(QualityAuditRow.entity == "engineer")
            )
        assert ids == ["eng-wang", "eng-zhang"], "one seed, not a mix of both"
        assert audited == 2
    finally:
        await one.dispose()
        await two.dispose()


async def engines_seed(session, roster) -> int:
    return await engineers.seed(session, roster, NOW)


async def seed_in(sessions, roster) -> int:
    async with sessions.begin() as s:
        return await engines_seed(s, roster)


async def test_a_restart_does_not_bring_back_what_supervisors_changed(
    databases, streams_ready, clock
):
    clock.at("sunday-evening")
    url = await migrated(databases, "tickets")
    seed = [{"id": "eng-zhang", "name": "张工"}, {"id": "eng-wang", "name": "王工"}]
    app = create_app(TicketsSettings(database_url=url, nats_url=streams_ready, engineers=seed))
    async with running(app) as api:
        r = await api.patch("/engineers/eng-wang", json={"active": False}, headers=SUP)
        assert r.status_code == 200, r.text
        r = await api.patch("/engineers/eng-zhang", json={"name": "张建国"}, headers=SUP)
        assert r.status_code == 200, r.text
    later = [*seed, {"id": "eng-new", "name": "新工"}]  # the setting changed since: only a seed
    again = create_app(TicketsSettings(database_url=url, nats_url=streams_ready, engineers=later))
    async with running(again) as api:
        listed = await api.get("/engineers", params={"include_inactive": "true"}, headers=SUP)
        got = sorted((e["id"], e["name"], e["active"]) for e in listed.json())
        assert got == [("eng-wang", "王工", False), ("eng-zhang", "张建国", True)]
