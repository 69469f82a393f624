r"""How long a rebuild of the reports read model from ARCHIVE takes (python -m reports rebuild).

Publishes `--events` events on the producer streams as the producers would (per ticket: opened,
assigned, completed, answered; a breach for one ticket in ten; a contract of ten units for every ten
tickets), waits until ARCHIVE holds them, then rebuilds a fresh PostgreSQL database from ARCHIVE
and rebuilds it a second time (every event already there). Prints events/s, the time per million
events (extrapolated from this run: the rate per event does not depend on the archive's size, the
facts are keyed) and ARCHIVE's bytes per event (for sizing it: bytes per event × events per month ×
48).

    uv run python services/reports/bench/rebuild_rate.py [--events 50000] \
        [--database postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the event builders
from report_events import answered, assigned, breached, completed, contract, opened  # noqa: E402

from aftersales_shared.streams import ARCHIVE, apply_streams  # noqa: E402
from aftersales_tools.natsserver import NatsServer  # noqa: E402


def events(n: int) -> list[Any]:
    out: list[Any] = []
    start = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)
    i = 0
    while len(out) < n:
        serials = [f"BN-{uuid.uuid4().hex[:8]}" for _ in range(10)]
        out.append(contract(serials, "XK-200", f"B{i % 7}", "2026-06-01T02:00:00Z"))
        for k, serial in enumerate(serials):
            at = start + timedelta(minutes=7 * (i * 10 + k))
            t = opened(at, serial_no=serial)
            out += [t, assigned(t.data, at + timedelta(hours=1))]
            out.append(completed(t.data, at + timedelta(hours=6), cause_category="wear"))
            out.append(answered(t.data, at + timedelta(hours=8), (5, 4, 4)))
            if k == 0:
                out.append(breached(t.data))
        i += 1
    return out[:n]


async def publish(js: Any, envs: list[Any]) -> None:
    for lo in range(0, len(envs), 500):
        chunk = envs[lo : lo + 500]
        await asyncio.gather(
            *(js.publish(e.nats_subject, e.body(), headers=e.headers()) for e in chunk)
        )


async def fresh_database(admin_url: str) -> tuple[str, str]:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(admin_url)
    name = f"bench_rebuild_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, u.set(database=name).render_as_string(hide_password=False)


async def drop_database(admin_url: str, name: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(admin_url)
    conn = await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    import nats
    from reports.rebuild import rebuild
    from reports.settings import ReportsSettings

    work = Path(tempfile.mkdtemp(prefix="rebuild-rate-"))
    server = NatsServer(work / "nats").start()
    name, url = await fresh_database(args.database)
    try:
        nc = await nats.connect(server.url)
        js = nc.jetstream(timeout=30)
        await apply_streams(js, replicas=1)
        envs = events(args.events)
        t0 = time.perf_counter()
        await publish(js, envs)
        while (await js.stream_info(ARCHIVE)).state.messages < len(envs):
            await asyncio.sleep(0.2)
        state = (await js.stream_info(ARCHIVE)).state
        print(
            f"published and archived {len(envs):,} events in {time.perf_counter() - t0:.1f} s; "
            f"ARCHIVE {state.bytes / state.messages:.0f} bytes per event"
        )
        await nc.close()
        settings = ReportsSettings.offline(
            database_url=url, nats_url=server.url, nats_user=None, nats_password=None
        )
        for label in ("fresh database", "second run (all already there)"):
            cpu = time.process_time()
            tally = await rebuild(settings, batch=args.batch, say=lambda _: None)
            cpu_ms = 1000 * (time.process_time() - cpu) / max(1, tally.seen)
            rate = tally.seen / tally.seconds
            print(
                f"rebuild, {label}: {tally.seen:,} events in {tally.seconds:.1f} s = "
                f"{rate:,.0f} events/s (new {tally.handled:,}, already there "
                f"{tally.duplicate:,}; this process {cpu_ms:.2f} ms CPU per event); "
                f"per million events {1e6 / rate / 60:.0f} min (extrapolated); "
                f"load average {os.getloadavg()[0]:.1f}"
            )
    finally:
        server.stop()
        await drop_database(args.database, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--database", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test", help="admin URL"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
