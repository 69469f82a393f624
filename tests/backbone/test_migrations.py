"""Every service's migrations: head matches its models (no drift), and the newest step goes down and
up again."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from aftersales_shared.db import create_engine, messaging_metadata
from aftersales_shared.migrations import not_a_version_table, upgrade

SERVICES = ["contracts", "tickets", "surveys", "notifications", "dealers", "reports", "parts"]


async def _drift(url: str, package: str) -> list[Any]:
    metadata = importlib.import_module(f"{package}.models").Base.metadata
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: Any) -> list[Any]:
                opts = {"compare_type": True, "include_name": not_a_version_table}
                ctx = MigrationContext.configure(sync_conn, opts=opts)
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
    """The init container runs `python -m <service> migrate`: the image holds no developer tools."""
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


async def _versions(url: str, table: str) -> list[str]:
    from sqlalchemy import text

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return list(await conn.scalars(text(f"SELECT version_num FROM {table}")))
    finally:
        await engine.dispose()


async def test_the_messaging_tables_have_one_history_for_every_service(databases):
    """A new service's database gets the messaging tables from the shared history alone, exactly as
    the models say; an existing service's database (its own history made them) records the shared
    history without change."""
    from alembic import command

    from aftersales_shared.migrations import (
        MESSAGING,
        MESSAGING_VERSION_TABLE,
        a_messaging_table,
        alembic_config,
    )

    fresh = await databases.new("mig_messaging")
    cfg = alembic_config(MESSAGING, fresh)
    engine = create_engine(fresh)
    try:
        async with engine.begin() as conn:

            def run(sync_conn: Any) -> list[Any]:
                cfg.attributes["connection"] = sync_conn
                command.upgrade(cfg, "heads")
                opts = {"compare_type": True, "include_name": a_messaging_table}
                ctx = MigrationContext.configure(sync_conn, opts=opts)
                return compare_metadata(ctx, messaging_metadata)

            assert await conn.run_sync(run) == []
    finally:
        await engine.dispose()
    assert await _versions(fresh, MESSAGING_VERSION_TABLE) == ["m0001"]

    existing = await databases.new("mig_dealers_messaging")
    await upgrade("dealers", existing)
    await upgrade("dealers", existing)  # twice: nothing more to do
    assert await _versions(existing, MESSAGING_VERSION_TABLE) == ["m0001"]
    assert await _drift(existing, "dealers") == []
