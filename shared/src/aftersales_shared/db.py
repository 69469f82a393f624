"""Database wiring shared by the services: engines, UTC timestamps, and the messaging tables."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from .events.base import MAX_EVENT_ID

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is UTC:  # most values (a batch's rows read back): nothing to convert
            return value
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: timestamps are stored in UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# how far ahead of this service's clock a time a client states (a signature, a receipt, a call)
# may be: its clock may run a little fast; anything later is refused as "in the future"
CLOCK_SKEW = timedelta(minutes=5)


messaging_metadata = MetaData(naming_convention=NAMING)

outbox = Table(
    "outbox",
    messaging_metadata,
    Column("id", String(64), primary_key=True, comment="event id = Nats-Msg-Id"),
    Column("subject", String(255), nullable=False),
    Column("headers", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Index(
        "ix_outbox_unpublished",
        "created_at",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
)

inbox = Table(
    "inbox",
    messaging_metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(MAX_EVENT_ID), primary_key=True),
    Column("event_type", String(255), nullable=False),
    Column("handled_at", UTCDateTime, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    messaging_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer", String(100), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("event_id", String(MAX_EVENT_ID), nullable=True),
    Column("event_type", String(255), nullable=True),
    Column("headers", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("reason", String(20), nullable=False, comment="malformed | failed"),
    Column("error", Text, nullable=False),
    Column("deliveries", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("replayed_at", UTCDateTime, nullable=True),
    Column("replay_error", Text, nullable=True),
    UniqueConstraint("consumer", "event_id", "reason", name="uq_dead_letters_consumer_event"),
    Index("ix_dead_letters_open", "consumer", "replayed_at"),
)


scheduled_jobs = Table(
    "scheduled_jobs",
    messaging_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(100), nullable=False),
    Column("key", String(200), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(20), nullable=False, comment="pending | done | cancelled"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("fired_at", UTCDateTime, nullable=True),
    UniqueConstraint("kind", "key", name="uq_scheduled_jobs_kind_key"),
    Index(
        "ix_scheduled_jobs_due",
        "due_at",
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
)


calendar_copies = Table(
    "calendar_copies",
    messaging_metadata,
    Column("calendar_id", String(64), primary_key=True),
    Column("definition", Text, nullable=False, comment="CalendarChanged v1 body"),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)


async def paged(
    session: AsyncSession, query: Any, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of a query's rows in `order_by`, and how many rows match in all."""
    total = (
        await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    rows = (await session.scalars(query.order_by(*order_by).limit(limit).offset(offset))).all()
    return list(rows), total


def wake_after_commit(sessions: async_sessionmaker[AsyncSession], key: str, wake: Any) -> None:
    """Call `wake` right after a session of this factory commits with `session.info[key]` set."""

    def _after_commit(session: Any) -> None:
        if session.info.pop(key, False):
            wake()

    event.listen(sessions.kw["sync_session_class"], "after_commit", _after_commit)


def upsert_insert(session: Any, table: Any) -> Any:
    """INSERT with ON CONFLICT for the session's backend (PostgreSQL in production, SQLite
    locally)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if is_postgresql(session) else sqlite.insert)(table)


def insert_rows(
    session: Any,
    table: Table,
    rows: list[dict[str, Any]],
    returning: Sequence[Any] = (),
    skip_conflicts: bool = False,
) -> Any:
    """Many rows into one table with one statement (an awaitable; its result carries `returning`).

    On PostgreSQL: `INSERT … SELECT … FROM unnest(one array per column)` — one statement text
    whatever the number of rows (prepared once, cached by the driver) executed once; an executemany
    runs the INSERT once per row and a multi-row VALUES is a new statement text (a new prepare and
    plan) for every batch size. Elsewhere (SQLite) an ordinary INSERT of the rows. Every row must
    carry every key of the first row. `skip_conflicts`: rows that violate a unique key are left out
    (ON CONFLICT DO NOTHING; RETURNING then names only the rows written).
    """
    if not rows:
        raise ValueError("insert_rows needs at least one row")
    if not is_postgresql(session):
        if skip_conflicts:
            stmt = upsert_insert(session, table).values(rows).on_conflict_do_nothing()
            return session.execute(stmt.returning(*returning) if returning else stmt)
        stmt = table.insert()
        return session.execute(stmt.returning(*returning) if returning else stmt, rows)
    part = unnest_insert(table, tuple(rows[0]), "p", dialect_of(session))
    key = (part, tuple(c.name for c in returning), skip_conflicts)
    if key not in _statements:
        sql = part.sql + (" ON CONFLICT DO NOTHING" if skip_conflicts else "")
        stmt = text(
            sql + (" RETURNING " + ", ".join(f'"{c.name}"' for c in returning) if returning else "")
        )
        _statements[key] = stmt.columns(*returning) if returning else stmt
    return session.execute(_statements[key], part.params(rows))


@dataclass(frozen=True)
class UnnestInsert:
    """`INSERT INTO table (names) SELECT … FROM unnest(:<prefix>0, …)` for PostgreSQL, with what
    turns rows into its array parameters; parts with distinct prefixes compose into one statement
    (CTEs)."""

    sql: str
    names: tuple[str, ...]
    prefix: str
    processors: tuple[Any, ...]
    # the rows as a query, `SELECT … FROM unnest(…) AS u(names)`: the source of an UPDATE … FROM
    source: str = ""

    def params(self, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
        out = {}
        for i, (name, process) in enumerate(zip(self.names, self.processors, strict=True)):
            values = [row[name] for row in rows]
            out[f"{self.prefix}{i}"] = (
                [process(v) for v in values] if process is not None else values
            )
        return out


_statements: dict[tuple[Any, ...], Any] = {}


@lru_cache(maxsize=256)
def unnest_insert(table: Table, names: tuple[str, ...], prefix: str, dialect: Any) -> UnnestInsert:
    arrays, selects, processors = [], [], []
    for i, name in enumerate(names):
        col = table.c[name]
        impl = col.type.dialect_impl(dialect)
        json_like = isinstance(col.type, JSON) or isinstance(getattr(col.type, "impl", None), JSON)
        # strings travel as text[]: the assignment into varchar(n) then fails on a value that is too
        # long, where a cast to varchar(n)[] would cut it without a word (PostgreSQL's explicit
        # casts truncate)
        as_text = json_like or isinstance(col.type, String)
        sql_type = "text" if as_text else col.type.compile(dialect=dialect)
        arrays.append(f"CAST(:{prefix}{i} AS {sql_type}[])")
        selects.append(
            f'CAST("{name}" AS {col.type.compile(dialect=dialect)})' if json_like else f'"{name}"'
        )
        processors.append(
            impl.bind_processor(dialect)
            if (json_like or isinstance(col.type, TypeDecorator))
            else None
        )
    cols = ", ".join(f'"{n}"' for n in names)
    source = f"SELECT {', '.join(selects)} FROM unnest({', '.join(arrays)}) AS u({cols})"
    sql = f'INSERT INTO "{table.name}" ({cols}) {source}'
    return UnnestInsert(sql, names, prefix, tuple(processors), source)


def one_of(session: Any, column: Any, values: Any) -> Any:
    """`column IN values` as `column = ANY(:array)` on PostgreSQL: one parameter and one statement
    text whatever the number of values. An expanded `IN ($1, …, $n)` is a new statement per n and,
    under a generic plan or a sequential scan, rebuilds its array for every row it tests."""
    values = list(values)
    if not is_postgresql(session):
        return column.in_(values)
    from sqlalchemy import any_, bindparam
    from sqlalchemy.dialects.postgresql import ARRAY

    # text[] for string columns: a varchar(n)[] parameter is coerced element by element, per row
    # tested
    element = Text() if isinstance(column.type, String) else column.type
    return column == any_(bindparam(None, values, type_=ARRAY(element)))


def dialect_of(session: Any) -> Any:
    """The dialect of an AsyncSession (through its bind) or of an AsyncConnection (None if
    unbound)."""
    if isinstance(session, AsyncSession):
        return session.bind.dialect if session.bind is not None else None
    return getattr(session, "dialect", None)


def is_postgresql(session: Any) -> bool:
    """Whether a session or connection talks to PostgreSQL (else SQLite, the laptop default)."""
    dialect = dialect_of(session)
    return dialect is not None and dialect.name == "postgresql"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and its folder created."""
    if is_sqlite(url):
        db = make_url(url).database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # take the write lock up front: a read-then-write transaction can otherwise fail with
            # "database is locked" when another writer commits in between (busy_timeout can't help)
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_when_idle(engine)
    return engine


PING_AFTER_IDLE_SECONDS = 10.0


def ping_when_idle(engine: AsyncEngine, after: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Check a pooled connection before use only when it sat idle `after` seconds or more.

    SQLAlchemy's pool_pre_ping asks the server on every checkout: one more round trip per
    transaction, most of them on a connection returned milliseconds ago (issue 24). A connection
    that waited longer (the database restarted, a proxy cut it) is still checked, and a dead one is
    replaced before the caller sees it (DisconnectionError makes the pool take another). A database
    that restarts while connections are busy fails those transactions as before (inbox deliveries
    are retried; a request answers 503)."""
    sync = engine.sync_engine

    @event.listens_for(sync, "connect")
    def _fresh(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync, "checkout")
    def _check(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < after:
            return
        try:
            alive = sync.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection is dead: {exc}") from exc
        if alive is False:
            raise DisconnectionError("pooled connection did not answer")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory with its own Session subclass, so listeners (outbox wake-up) stay local."""
    sync_class = type("ServiceSession", (Session,), {})
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=sync_class)
