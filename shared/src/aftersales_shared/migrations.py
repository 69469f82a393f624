"""Alembic glue: every service's env.py calls `run_env`; the launcher, CLI and tests call
`upgrade`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from .db import create_engine, is_sqlite, messaging_metadata

MESSAGING = "aftersales_shared:messaging_migrations"
MESSAGING_VERSION_TABLE = "alembic_version_messaging"


def alembic_config(package: str, database_url: str) -> Config:
    """A service's own history (`package` = its module), or the shared messaging history
    (MESSAGING)."""
    cfg = Config()
    cfg.set_main_option("script_location", package if ":" in package else f"{package}:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def _configure(connection: Connection, metadata: Any, **options: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()


def not_a_version_table(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate's filter for a service's history: Alembic's version tables are no model's (the
    messaging history keeps its own beside the service's), nor are SQLite FTS5 tables (`*_fts` and
    their shadow tables `*_fts_data`, …), which a migration makes for SQLite alone."""
    if type_ != "table":
        return True
    return not ((name or "").startswith("alembic_version") or _FTS_TABLE.search(name or ""))


_FTS_TABLE = re.compile(r"_fts(_[a-z]+)?$")


def a_messaging_table(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate's filter for the messaging history: only its own tables (the rest is the
    service's)."""
    return type_ != "table" or name in messaging_metadata.tables


def run_env(metadata: MetaData) -> None:
    """Body of a service's migrations/env.py (online mode only)."""
    _run_env([metadata, messaging_metadata], include_name=not_a_version_table)


def run_messaging_env() -> None:
    """Body of the shared messaging history's env.py: its own version table in each service's
    database."""
    _run_env(
        messaging_metadata, version_table=MESSAGING_VERSION_TABLE, include_name=a_messaging_table
    )


def _run_env(metadata: Any, **options: Any) -> None:
    cfg = context.config
    connection = cfg.attributes.get("connection")
    if connection is not None:
        _configure(connection, metadata, **options)
        return

    async def _run() -> None:
        engine = create_engine(cfg.get_main_option("sqlalchemy.url") or "")
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: _configure(c, metadata, **options))
        await engine.dispose()

    asyncio.run(_run())


async def upgrade(
    package: str, database_url: str, revision: str = "head", *, down: bool = False
) -> None:
    """Bring a service's database to `revision` from inside a running event loop (`down`: downgrade
    to it).

    Upgrading also brings the shared messaging history to its head, after the service's own (whose
    early revisions made those tables for the five first services); a downgrade steps back the
    service's own only."""
    cfg = alembic_config(package, database_url)
    messaging = alembic_config(MESSAGING, database_url)
    engine = create_engine(database_url)

    def _do(sync_conn: Connection, *_: Any) -> None:
        cfg.attributes["connection"] = sync_conn
        (command.downgrade if down else command.upgrade)(cfg, revision)
        if not down:
            messaging.attributes["connection"] = sync_conn
            command.upgrade(messaging, "heads")

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


__all__ = [
    "MESSAGING",
    "MESSAGING_VERSION_TABLE",
    "a_messaging_table",
    "alembic_config",
    "is_sqlite",
    "not_a_version_table",
    "run_env",
    "run_messaging_env",
    "upgrade",
]


def widen_event_id_columns(extra: Sequence[tuple[str, str, bool]], *, to: int, old: int) -> None:
    """Inside a migration: every column that keeps an event id, from `old` to `to` characters (the
    migration names both numbers: what it did must not change when MAX_EVENT_ID does). `extra`: the
    service's own (table, column, nullable)."""
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
