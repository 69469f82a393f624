"""Every service's migrations: head matches its models (no drift), and the newest step goes down and up again."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from aftersales_shared.db import create_engine, messaging_metadata
from aftersales_shared.migrations import upgrade

SERVICES = ["contracts", "tickets", "surveys", "notifications", "dealers"]


async def _drift(url: str, package: str) -> list[Any]:
    metadata = importlib.import_module(f"{package}.models").Base.metadata
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: Any) -> list[Any]:
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(ctx, [metadata, messaging_metadata])

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def _columns(url: str, table: str) -> dict[str, Any]:
    from sqlalchemy import inspect

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            cols = await conn.run_sync(lambda c: inspect(c).get_columns(table))
    finally:
        await engine.dispose()
    return {c["name"]: c["type"] for c in cols}


@pytest.mark.parametrize("package", SERVICES)
async def test_head_matches_the_models_and_the_last_step_goes_down_and_up(databases, package):
    url = await databases.new(f"mig_{package}")
    await upgrade(package, url)
    assert await _drift(url, package) == []
    assert getattr((await _columns(url, "inbox"))["event_id"], "length", None) in (
        200,
        None,
    )  # SQLite: no length
    await upgrade(package, url, "-1", down=True)  # one step back
    await upgrade(package, url)
    assert await _drift(url, package) == []
