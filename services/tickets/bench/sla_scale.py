r"""SLA scheduler at scale: breach detection lag and per-tick cost with 10k and with 1,000,000 open
tickets.

    uv run python services/tickets/bench/sla_scale.py \
        [--sizes 10000 1000000] [--window 60] [--rate 5]

One PostgreSQL database (created and dropped here) is migrated, then filled with open tickets by
generate_series (not through the API): each ticket has --clocks running SLA clocks, each clock its
one pending job (the warning; its handler schedules the breach), due between 1 hour and 30 days
ahead. At each size:

1. claim query: EXPLAIN (ANALYZE, BUFFERS) of the scheduler's claim query (same SQL as
   aftersales_shared.scheduler.Scheduler.run_due) with nothing due and with 20 rows due;
2. lag: the real Scheduler of the real tickets app (its real job handlers, SKIP LOCKED, outbox) runs
   in this process while --rate jobs per second come due for --window seconds (half breaches, half
   warnings, on existing open tickets); lag = breached_at (or warned_at) − due time, and fired_at −
   due_at;
3. per-tick cost: run_due() timed with the same 10 due rows per tick (fake clock far ahead, real
   handlers) and with nothing due, plus the scheduler's next-due query.

The 1M figures are then compared with the 10k figures (target: within 2x; lag p99 < 1 s).
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intake import ADMIN_URL, _pg, create_db, drop_db, load  # noqa: E402

CLAIM_SQL = (
    "SELECT * FROM scheduled_jobs WHERE status = 'pending' AND due_at <= $1 "
    "AND kind IN ('sla_warning', 'sla_breach', 'sla_escalate', 'calendar_year_check') "
    "ORDER BY due_at LIMIT 100 FOR UPDATE SKIP LOCKED"
)


async def pick_clocks(conn: Any, n: int, used: set[int]) -> list[int]:
    """n running clocks not used by an earlier phase, spread over the table."""
    total = await conn.fetchval("SELECT max(id) FROM sla_clocks")
    step = max(1, total // (n + len(used) + 1))
    ids = [i for i in range(step // 2 + 1, total + 1, step) if i not in used][:n]
    used.update(ids)
    return ids


async def arm_stream(
    conn: Any, clock_ids: list[int], start: datetime, rate: float
) -> list[tuple[str, int, datetime]]:
    """Jobs coming due at `rate` per second from `start`: even positions breach, odd positions
    warn."""
    stream = []
    for n, cid in enumerate(clock_ids):
        due = start + timedelta(seconds=n / rate)
        if n % 2 == 0:  # the breach: deadline = due, its warning already done
            await conn.execute(
                "UPDATE sla_clocks SET deadline = $2, warned_at = $3 WHERE id = $1",
                cid,
                due,
                due - timedelta(hours=1),
            )
            await warned(conn, cid, due)
            stream.append(("sla_breach", cid, due))
        else:  # the warning: 75 % mark = due, deadline later
            await conn.execute(
                "UPDATE sla_clocks SET deadline = $2 WHERE id = $1", cid, due + timedelta(hours=2)
            )
            await conn.execute(
                "UPDATE scheduled_jobs SET due_at = $2 WHERE kind = 'sla_warning' AND key = $1",
                str(cid),
                due,
            )
            stream.append(("sla_warning", cid, due))
    return stream


async def warned(conn: Any, clock_id: int, deadline: datetime) -> None:
    """The clock's warning has fired: its one job is now the breach at `deadline` (as the warning
    handler leaves it)."""
    await conn.execute(
        "UPDATE scheduled_jobs SET kind = 'sla_breach', due_at = $2, payload = $3 WHERE kind = "
        "'sla_warning' AND key = $1",
        str(clock_id),
        deadline,
        json.dumps({"deadline": deadline.isoformat()}),
    )


async def explain_claim(conn: Any, now: datetime) -> dict[str, Any]:
    async with (
        conn.transaction()
    ):  # FOR UPDATE takes row locks: released at the end, nothing is changed
        plan = json.loads(
            await conn.fetchval("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + CLAIM_SQL, now)
        )[0]
    top = plan["Plan"]
    return {
        "ms": plan["Execution Time"],
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "rows": top["Actual Rows"],
        "node": _index_node(top),
    }


def _index_node(plan: dict[str, Any]) -> str:
    if "Index Name" in plan:
        return f"{plan['Node Type']} using {plan['Index Name']}"
    for child in plan.get("Plans", []):
        found = _index_node(child)
        if found:
            return found
    return ""


def runtime_for(url: str) -> Any:
    """The real tickets app's runtime (scheduler with the SLA job handlers); no HTTP, no broker
    needed."""
    from tickets.app import create_app
    from tickets.settings import TicketsSettings

    app = create_app(TicketsSettings(database_url=url, nats_url="nats://127.0.0.1:1"))
    return app.state["runtime"]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


async def measure(
    url: str, conn: Any, size: int, args: argparse.Namespace, used: set[int]
) -> dict[str, Any]:
    from aftersales_shared.scheduler import Scheduler
    from tickets import messaging

    rt = runtime_for(url)
    out: dict[str, Any] = {"size": size}

    # 2. lag with the real scheduler running
    n_stream = int(args.rate * args.window)
    stream_ids = await pick_clocks(conn, n_stream, used)
    start = datetime.now(UTC) + timedelta(seconds=3)
    stream = await arm_stream(conn, stream_ids, start, args.rate)
    rt.scheduler.start()
    try:
        await asyncio.sleep((start - datetime.now(UTC)).total_seconds() + args.window + 3)
    finally:
        await rt.scheduler.stop()
    lags, fired_lags, missing = [], [], 0
    for kind, cid, due in stream:
        row = await conn.fetchrow(
            "SELECT warned_at, breached_at FROM sla_clocks WHERE id = $1", cid
        )
        job = await conn.fetchrow(
            "SELECT fired_at FROM scheduled_jobs WHERE kind = $1 AND key = $2", kind, str(cid)
        )
        at = row["breached_at"] if kind == "sla_breach" else row["warned_at"]
        if at is None or job["fired_at"] is None:
            missing += 1
            continue
        lags.append((at - due).total_seconds())
        fired_lags.append((job["fired_at"] - due).total_seconds())
    events = await conn.fetchval("SELECT count(*) FROM outbox WHERE subject LIKE 'tickets.sla_%'")
    out["lag"] = {
        "jobs": len(stream),
        "fired": len(lags),
        "missing": missing,
        "events": events,
        "p50_ms": 1000 * pct(lags, 0.5),
        "p99_ms": 1000 * pct(lags, 0.99),
        "max_ms": 1000 * max(lags or [0]),
        "fired_p50_ms": 1000 * pct(fired_lags, 0.5),
        "fired_p99_ms": 1000 * pct(fired_lags, 0.99),
    }

    # 1. the claim query's plan and buffers, with 20 rows due at a moment long past (nothing else is
    #    due then: every other job lies ahead) and with nothing due
    past = datetime.now(UTC) - timedelta(days=400)
    tick_ids = await pick_clocks(conn, 10 * args.ticks + 20, used)
    for n, cid in enumerate(tick_ids):
        due = past + timedelta(seconds=n // 10)
        await conn.execute(
            "UPDATE sla_clocks SET deadline = $2, warned_at = $2 WHERE id = $1", cid, due
        )
        await warned(conn, cid, due)
    await conn.execute("ANALYZE scheduled_jobs")
    out["claim_empty"] = await explain_claim(conn, past - timedelta(seconds=1))
    out["claim_20_due"] = await explain_claim(conn, past + timedelta(seconds=1.5))

    # 3. per-tick cost: run_due with 10 due rows per tick (fake clock), empty ticks, next-due query
    clock = {"now": past}
    fake = Scheduler(rt.sessions, clock=lambda: clock["now"])
    messaging.register_sla_jobs(fake, rt.settings, lambda: clock["now"])
    clock["now"] = past + timedelta(seconds=1.5)
    assert await fake.run_due() == 20  # the EXPLAIN's rows (untimed warm-up)
    busy, empty, nexts = [], [], []
    for tick in range(args.ticks):
        clock["now"] = past + timedelta(
            seconds=tick + 2.5
        )  # the first 20 went to the EXPLAIN above
        t0 = time.perf_counter()
        fired = await fake.run_due()
        busy.append(time.perf_counter() - t0)
        if fired != 10:
            print(f"    warning: tick {tick} fired {fired} jobs, expected 10", flush=True)
        t0 = time.perf_counter()
        assert await fake.run_due() == 0
        empty.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await fake._sleep_for()
        nexts.append(time.perf_counter() - t0)
    out["tick"] = {
        "busy_ms": 1000 * statistics.median(busy),
        "empty_ms": 1000 * statistics.median(empty),
        "next_due_ms": 1000 * statistics.median(nexts),
    }
    out["pending_jobs"] = await conn.fetchval(
        "SELECT count(*) FROM scheduled_jobs WHERE status = 'pending'"
    )
    await rt.engine.dispose()
    return out


def report(r: dict[str, Any]) -> None:
    lag, tick = r["lag"], r["tick"]
    print(f"  open tickets {r['size']:>9,}  pending jobs {r['pending_jobs']:>9,}")
    print(
        f"    claim query  nothing due: {r['claim_empty']['ms']:.3f} ms, "
        f"{r['claim_empty']['buffers']} buffers ({r['claim_empty']['node']});"
        f"  20 due: {r['claim_20_due']['ms']:.3f} ms, {r['claim_20_due']['buffers']} buffers, "
        f"{r['claim_20_due']['rows']} rows"
    )
    print(
        f"    lag          {lag['fired']}/{lag['jobs']} fired (missing {lag['missing']}), "
        f"p50 {lag['p50_ms']:.0f} ms, p99 {lag['p99_ms']:.0f} ms, max {lag['max_ms']:.0f} ms "
        f"(fired_at - due_at: p50 {lag['fired_p50_ms']:.0f} ms, p99 {lag['fired_p99_ms']:.0f} ms)"
    )
    print(
        f"    per tick     run_due with 10 due: {tick['busy_ms']:.2f} ms, empty: "
        f"{tick['empty_ms']:.2f} ms, "
        f"next-due query: {tick['next_due_ms']:.2f} ms"
    )


async def bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    import asyncpg

    from aftersales_shared.migrations import upgrade

    name = f"bench_sla_{uuid.uuid4().hex[:8]}"
    url = await create_db(args.admin_url, name)
    results = []
    try:
        await upgrade("tickets", url)
        conn = await asyncpg.connect(**_pg(url))
        loaded, used = 0, set()
        try:
            for size in sorted(args.sizes):
                took = await load(conn, loaded + 1, size, args.clocks)
                print(
                    f"  loaded {size - loaded:,} tickets ({args.clocks} clocks, {args.clocks} "
                    f"pending jobs each) in {took:.0f} s",
                    flush=True,
                )
                loaded = size
                r = await measure(url, conn, size, args, used)
                report(r)
                results.append(r)
        finally:
            await conn.close()
    finally:
        await drop_db(args.admin_url, name)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument(
        "--clocks", type=int, default=2, choices=[1, 2, 3, 4], help="running clocks per ticket"
    )
    parser.add_argument("--window", type=float, default=60.0, help="seconds of jobs coming due")
    parser.add_argument("--rate", type=float, default=5.0, help="jobs coming due per second")
    parser.add_argument("--ticks", type=int, default=30, help="timed run_due ticks")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL", ADMIN_URL))
    args = parser.parse_args()
    print(
        f"SLA scheduler benchmark: sizes {args.sizes}, {args.rate:g} jobs/s due for "
        f"{args.window:g} s, {os.cpu_count()} CPUs",
        flush=True,
    )
    results = asyncio.run(bench(args))
    if len(results) >= 2:
        small, big = results[0], results[-1]
        print(f"ratio {big['size']:,} / {small['size']:,} open:")
        for label, a, b in (
            ("run_due with 10 due", small["tick"]["busy_ms"], big["tick"]["busy_ms"]),
            ("run_due, nothing due", small["tick"]["empty_ms"], big["tick"]["empty_ms"]),
            (
                "claim query buffers (20 due)",
                small["claim_20_due"]["buffers"],
                big["claim_20_due"]["buffers"],
            ),
            ("claim query time (20 due)", small["claim_20_due"]["ms"], big["claim_20_due"]["ms"]),
        ):
            print(f"  {label:32s} {b / a:5.2f}x  ({a:.2f} -> {b:.2f})  (target <= 2x)")
        print(
            f"  breach detection lag p99: {small['lag']['p99_ms']:.0f} ms (10k), "
            f"{big['lag']['p99_ms']:.0f} ms (1M)  (target < 1000 ms)"
        )


if __name__ == "__main__":
    main()
