"""Pooled connections are checked only after sitting idle (issue 24: no round trip per checkout),
and a dead idle one is replaced before anybody uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from aftersales_shared.db import create_engine, ping_when_idle


async def _kill_backend(url: str, pid: int) -> None:
    other = create_engine(url, pool_pre_ping=True)
    async with other.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await other.dispose()


async def _backend_pid(engine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT pg_backend_pid()"))


async def test_a_dead_idle_connection_is_replaced_and_a_fresh_one_is_not_pinged(databases, db_kind):
    if not db_kind.startswith("postgresql"):
        pytest.skip("a backend to terminate exists on PostgreSQL only")  # SQLite: no pool ping
    url = await databases.new("tickets")
    # idle at least 0 s: every checkout is checked, so a killed connection is replaced unseen
    engine = create_async_engine(url, pool_size=1, max_overflow=0)
    ping_when_idle(engine, after=0)
    first = await _backend_pid(engine)
    await _kill_backend(url, first)
    second = await _backend_pid(engine)
    assert second != first
    await engine.dispose()
    # used a moment ago (under the idle limit): not pinged — the killed connection's failure shows
    hot = create_engine(url, pool_size=1, max_overflow=0)  # the default: ping after 10 s idle
    pid = await _backend_pid(hot)
    await _kill_backend(url, pid)
    with pytest.raises(DBAPIError):
        await _backend_pid(hot)
    assert await _backend_pid(hot) != pid  # the pool let the dead one go and opened another
    await hot.dispose()
