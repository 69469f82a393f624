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


@pytest.mark.parametrize("package", ["dealers", "tickets"])
async def test_a_service_image_migrates_itself(databases, package):
    """The init container runs `python -m <service> migrate` (the image holds no developer tools)."""
    import os
    import subprocess
    import sys

    from sqlalchemy import text

    url = await databases.new(f"{package}_m")
    env = {k: v for k, v in os.environ.items() if not k.startswith(package.upper())}
    env[f"{package.upper()}_DATABASE_URL"] = url
    done = subprocess.run(
        [sys.executable, "-m", package, "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{package}: migrated to head" in done.stdout
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    assert version, "no Alembic revision recorded"
    wrong = subprocess.run(
        [sys.executable, "-m", package, "migrate", "--revision"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert wrong.returncode == 2 and "--revision" in wrong.stderr
