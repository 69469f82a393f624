r"""The service desk board's first page with 10,000 open tickets (issue 21: p95 < 300 ms).

    uv run python services/console/bench/board.py [--tickets 10000] [--requests 200]

One PostgreSQL database (created and dropped here) is migrated and filled with open, unassigned
tickets by generate_series (services/tickets/bench/intake.py `load`: three running clocks each,
deadlines spread over 30 days). The real tickets app and the real console app run in this process;
the console reaches tickets over ASGI (no network hop: a deployment adds two loopback/cluster HTTP
hops). A supervisor signs in through the form; then, one request at a time after a warm-up:

- the board's first page, tab 新建/未分派 (all 10,000 match; next deadline first, 25 rows with their
  countdowns) — the figure;
- the same page filtered by urgency and by dealer, and the at-risk tab;
- the tickets API call the board makes, alone, to see what the console adds.

Prints p50/p95/p99 in ms and a JSON line. Never asserted anywhere: a benchmark prints figures.
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "services" / "tickets" / "bench"))
from intake import ADMIN_URL, _pg, create_db, drop_db, load  # noqa: E402

os.environ.setdefault("AFTERSALES_LOCAL_DEV", "1")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(times: list[float]) -> dict[str, float]:
    ms = [t * 1000 for t in times]
    return {
        "p50": round(statistics.median(ms), 1),
        "p95": round(pct(ms, 0.95), 1),
        "p99": round(pct(ms, 0.99), 1),
        "max": round(max(ms), 1),
    }


async def timed(client: httpx.AsyncClient, url: str, n: int, **kw: Any) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = await client.get(url, **kw)
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text[:300]
    return times


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    import asyncpg

    from aftersales_shared.auth import mint_token
    from aftersales_shared.migrations import upgrade
    from aftersales_shared.settings import DEV_JWT_SECRET
    from console.app import create_app as console_app
    from console.settings import ConsoleSettings
    from tickets.app import create_app as tickets_app
    from tickets.settings import TicketsSettings

    name = f"console_bench_{uuid.uuid4().hex[:8]}"
    url = await create_db(args.admin_url, name)
    try:
        await upgrade("tickets", url)
        conn = await asyncpg.connect(**_pg(url))
        try:
            seconds = await load(conn, 1, args.tickets, 3)
        finally:
            await conn.close()
        print(
            f"loaded {args.tickets} open tickets with 3 clocks each in {seconds:.1f} s", flush=True
        )
        tickets = tickets_app(
            TicketsSettings(local_dev=True, database_url=url, nats_url="nats://127.0.0.1:1")
        )
        console = console_app(
            ConsoleSettings(local_dev=True, tickets_url="http://tickets.bench"),
            transport=httpx.ASGITransport(app=tickets),
        )
        results: dict[str, Any] = {"tickets": args.tickets, "requests": args.requests}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=console), base_url="http://console.bench", timeout=60
        ) as browser:
            page = await browser.get("/login")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]
            await browser.post("/login", data={"sub": "sup-zhang", "_csrf_token": token})
            first = await browser.get("/board")
            rows = first.text.count('<tr class="row')
            print(f"board: {rows} rows of {args.tickets}", flush=True)
            await timed(browser, "/board", args.warmup)
            cases = {
                "board first page (new/unassigned, 10k match)": "/board",
                "board filtered by urgency": "/board?urgency=normal",
                "board filtered by dealer (none match)": "/board?dealer=D-NONE",
                "board page 40": "/board?page=40",
            }
            for label, path in cases.items():
                results[label] = summary(await timed(browser, path, args.requests))
                print(f"{label:<48} {results[label]}", flush=True)
        api_token = mint_token(DEV_JWT_SECRET, "sup-zhang", ["service_supervisor"])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=tickets), base_url="http://tickets.bench", timeout=60
        ) as api:
            params = {
                "open_only": "true",
                "unassigned": "true",
                "order": "deadline",
                "limit": 25,
            }
            headers = {"Authorization": f"Bearer {api_token}"}
            await timed(api, "/tickets", args.warmup, params=params, headers=headers)
            label = "tickets API alone (the board's query)"
            results[label] = summary(
                await timed(api, "/tickets", args.requests, params=params, headers=headers)
            )
            print(f"{label:<48} {results[label]}", flush=True)
        await tickets.state["runtime"].engine.dispose()
        return results
    finally:
        await drop_db(args.admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL", ADMIN_URL))
    results = asyncio.run(bench(parser.parse_args()))
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
