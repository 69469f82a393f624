"""Alembic glue: every service's env.py calls `run_env`; the launcher, CLI and tests call `upgrade`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from .db import create_engine, is_sqlite, messaging_metadata


def alembic_config(package: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"{package}:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def _configure(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=[metadata, messaging_metadata],
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_env(metadata: MetaData) -> None:
    """Body of a service's migrations/env.py (online mode only)."""
    cfg = context.config
    connection = cfg.attributes.get("connection")
    if connection is not None:
        _configure(connection, metadata)
        return

    async def _run() -> None:
        engine = create_engine(cfg.get_main_option("sqlalchemy.url") or "")
        async with engine.begin() as conn:
            await conn.run_sync(_configure, metadata)
        await engine.dispose()

    asyncio.run(_run())


async def upgrade(
    package: str, database_url: str, revision: str = "head", *, down: bool = False
) -> None:
    """Bring a service's database to `revision` from inside a running event loop (`down`: downgrade to it)."""
    cfg = alembic_config(package, database_url)
    engine = create_engine(database_url)

    def _do(sync_conn: Connection, *_: Any) -> None:
        cfg.attributes["connection"] = sync_conn
        (command.downgrade if down else command.upgrade)(cfg, revision)

    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # replicas' init containers may migrate at once: one waits for the other
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                    {"key": f"alembic:{package}"},
                )
            await conn.run_sync(_do)
    finally:
        await engine.dispose()


__all__ = ["alembic_config", "is_sqlite", "run_env", "upgrade"]


def widen_event_id_columns(extra: Sequence[tuple[str, str, bool]], *, to: int, old: int) -> None:
    """Inside a migration: every column that keeps an event id, from `old` to `to` characters (the migration
    names both numbers: what it did must not change when MAX_EVENT_ID does). `extra`: the service's own
    (table, column, nullable)."""
    import sqlalchemy as sa
    from alembic import op

    for table, column, nullable in [
        ("inbox", "event_id", False),
        ("dead_letters", "event_id", True),
        *extra,
    ]:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                type_=sa.String(to),
                existing_type=sa.String(old),
                existing_nullable=nullable,
            )
