"""Rebuilding the read model from the ARCHIVE stream: ``python -m reports rebuild [--since DAY]``.

The producer streams keep 30 days; ARCHIVE keeps a copy of every event for 4 years
(aftersales_shared.streams). A new or lost database is migrated, then fed every archived event of
the subjects this service consumes, in ARCHIVE's order, through the service's own inbox: the same
decoding, fact use cases and dedupe as live consumption. Events the database already holds (fed
live, or by an earlier run) are duplicates and change nothing; one that cannot be decoded becomes a
dead letter, as it would live.

Reading: one consumer per consumed subject (its NATS user may create only those, each filtered on
its subject: natsauth.archive_permissions), pulled without acks and merged by stream sequence; they
are deleted at the end, and vanish by themselves INACTIVE_SECONDS after a run that died.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import ssl
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

import nats
import nats.errors
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from aftersales_shared.events import Envelope, MalformedEvent
from aftersales_shared.inbox import Inbox, Outcome, Subscription
from aftersales_shared.migrations import upgrade
from aftersales_shared.natsauth import rebuild_consumer_name, tls_context
from aftersales_shared.runner import settings_message
from aftersales_shared.streams import ARCHIVE

from .settings import ReportsSettings

INACTIVE_SECONDS = 600.0  # a consumer nobody pulled for this long is removed by the server
KEEPALIVE_SECONDS = 120.0  # pull again from a waiting consumer before it looks abandoned
PROGRESS_SECONDS = 5.0
FETCH_TIMEOUT = 5.0

Say = Callable[[str], None]


class RebuildError(Exception):
    """Why a rebuild cannot start or go on, said so a person can act on it."""


@dataclass
class Tally:
    total: int = 0
    seen: int = 0
    handled: int = 0
    duplicate: int = 0
    dead_lettered: int = 0
    started: float = field(default_factory=time.monotonic)

    def count(self, outcome: Outcome) -> None:
        self.seen += 1
        if outcome.result == "handled":
            self.handled += 1
        elif outcome.result == "duplicate":
            self.duplicate += 1
        else:
            self.dead_lettered += 1

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def line(self) -> str:
        rate = self.seen / self.seconds if self.seconds > 0 else 0.0
        share = 100.0 * self.seen / self.total if self.total else 100.0
        return (
            f"rebuild: {self.seen:,}/{self.total:,} events ({share:.1f} %), {rate:,.0f}/s — "
            f"new {self.handled:,}, already there {self.duplicate:,}, "
            f"dead letters {self.dead_lettered:,}"
        )


@dataclass
class Reader:
    """One subject's consumer on ARCHIVE: pulled in stream order until its share is read."""

    sub: Subscription
    consumer: str
    pull: Any
    remaining: int
    batch: int
    buffer: deque[Any] = field(default_factory=deque)
    last_pull: float = field(default_factory=time.monotonic)

    async def fill(self, js: Any) -> None:
        """Pull the next messages (at most what is left of this run's share)."""
        if self.remaining <= 0:
            return
        want = min(self.batch, self.remaining)
        self.last_pull = time.monotonic()
        try:
            msgs = await self.pull.fetch(want, timeout=FETCH_TIMEOUT)
        except NatsTimeout:
            msgs = []
        if not msgs:
            # the share counted at the start shrank (aged out of ARCHIVE meanwhile): none left?
            info = await js.consumer_info(ARCHIVE, self.consumer)
            if info.num_pending == 0:
                self.remaining = 0
            return
        msgs = msgs[: self.remaining]
        self.remaining -= len(msgs)
        self.buffer.extend(msgs)

    async def head(self, js: Any) -> Any | None:
        while not self.buffer and self.remaining > 0:
            await self.fill(js)
        return self.buffer[0] if self.buffer else None


def connect_options(settings: ReportsSettings) -> dict[str, Any]:
    """nats.connect keyword arguments from the service's settings: its user (or .creds file), TLS,
    and its own inbox prefix (the only one its NATS user may read)."""
    opts: dict[str, Any] = {"inbox_prefix": settings.nats_inbox_prefix, "connect_timeout": 10}
    if settings.nats_creds_file:
        opts["user_credentials"] = str(settings.nats_creds_file)
    elif settings.nats_user:
        opts["user"] = settings.nats_user
        opts["password"] = (
            settings.nats_password.get_secret_value() if settings.nats_password else ""
        )
    context: ssl.SSLContext | None = tls_context(settings)
    if context is not None:
        opts["tls"] = context
        if settings.nats_tls_hostname:
            opts["tls_hostname"] = settings.nats_tls_hostname
    return opts


def start_time(since: date | None, timezone: str) -> datetime | None:
    """Midnight at the start of `since` in the business time zone."""
    return None if since is None else datetime.combine(since, dtime(), ZoneInfo(timezone))


async def open_readers(
    js: Any, inbox: Inbox, service: str, since: datetime | None, batch: int, force: bool
) -> list[Reader]:
    subs = sorted(inbox.subscriptions.values(), key=lambda s: s.subject)
    names = [rebuild_consumer_name(service, s.subject) for s in subs]
    leftovers = [n for n in names if await _exists(js, n)]
    if leftovers and not force:
        raise RebuildError(
            f"{len(leftovers)} rebuild consumer(s) already exist on {ARCHIVE} "
            f"({leftovers[0]}, …): another rebuild is running, or one stopped less than "
            f"{INACTIVE_SECONDS / 60:.0f} minutes ago. Wait, or run again with --force to take "
            "over (a running rebuild would then stop with an error). "
            "另一个重建正在进行；请稍候或加 --force。"
        )
    for name in leftovers:
        await js.delete_consumer(ARCHIVE, name)
    readers = []
    for sub, name in zip(subs, names, strict=True):
        config = ConsumerConfig(
            name=name,
            filter_subject=sub.subject,
            ack_policy=AckPolicy.NONE,  # a cursor, not a work queue: a re-run starts over
            deliver_policy=DeliverPolicy.BY_START_TIME if since else DeliverPolicy.ALL,
            opt_start_time=since,
            inactive_threshold=INACTIVE_SECONDS,
            description=f"{service} rebuild of its read model (python -m {service} rebuild)",
        )
        info = await js.add_consumer(ARCHIVE, config=config)
        pull = await js.pull_subscribe_bind(name, ARCHIVE)
        readers.append(Reader(sub, name, pull, info.num_pending, batch))
    return readers


async def _exists(js: Any, consumer: str) -> bool:
    try:
        await js.consumer_info(ARCHIVE, consumer)
    except NotFoundError:
        return False
    return True


async def close_readers(js: Any, readers: list[Reader]) -> None:
    for reader in readers:
        try:
            await reader.pull.unsubscribe()
            await js.delete_consumer(ARCHIVE, reader.consumer)
        except Exception:  # gone already (or NATS went away): it expires by itself
            pass


async def replay(
    js: Any, inbox: Inbox, readers: list[Reader], tally: Tally, say: Say, per_commit: int
) -> None:
    """Merge the readers by stream sequence and hand the messages to the inbox in that order,
    `per_commit` of them to a transaction."""
    heap: list[tuple[int, int]] = []
    for i, reader in enumerate(readers):
        msg = await reader.head(js)
        if msg is not None:
            heap.append((msg.metadata.sequence.stream, i))
    heapq.heapify(heap)
    batch: list[tuple[Subscription, Envelope[Any], Any]] = []
    shown = time.monotonic()
    while heap:
        _, i = heapq.heappop(heap)
        reader = readers[i]
        msg = reader.buffer.popleft()
        try:
            batch.append((reader.sub, inbox.decode(reader.sub, msg.headers, msg.data), msg))
        except MalformedEvent:  # kept as a dead letter, in its place in the order
            await commit(inbox, batch, tally)
            tally.count(await deliver(inbox, reader.sub, msg))
        if len(batch) >= per_commit:
            await commit(inbox, batch, tally)
        nxt = await reader.head(js)
        if nxt is not None:
            heapq.heappush(heap, (nxt.metadata.sequence.stream, i))
        now = time.monotonic()
        if now - shown >= PROGRESS_SECONDS:
            shown = now
            say(tally.line())
            await keep_alive(js, readers, now)
    await commit(inbox, batch, tally)


async def commit(
    inbox: Inbox, batch: list[tuple[Subscription, Envelope[Any], Any]], tally: Tally
) -> None:
    """The batch's facts and inbox ids in one transaction; if that fails, each message on its own
    as a live delivery (retried, then a dead letter), so one bad event holds back no other."""
    if not batch:
        return
    try:
        fresh = await inbox.handle_together([(sub, env) for sub, env, _ in batch])
    except Exception:
        for sub, _, msg in batch:
            tally.count(await deliver(inbox, sub, msg))
    else:
        for handled in fresh:
            tally.count(Outcome(ack=True, result="handled" if handled else "duplicate"))
    batch.clear()


async def keep_alive(js: Any, readers: list[Reader], now: float) -> None:
    """A consumer whose buffered messages wait behind others' is not pulled from: pull it now and
    then, or the server removes it as inactive."""
    for reader in readers:
        if reader.remaining > 0 and now - reader.last_pull > KEEPALIVE_SECONDS:
            await reader.fill(js)


async def deliver(inbox: Inbox, sub: Subscription, msg: Any) -> Outcome:
    """One archived message through the inbox as live consumption would take it: retried with the
    service's back-off, a dead letter after CONSUMER_MAX_DELIVER failed attempts."""
    deliveries = 1
    while True:
        outcome = await inbox.process(
            sub, msg.headers, msg.data, deliveries, msg.subject, msg.metadata.sequence.stream
        )
        if outcome.result != "retry":
            return outcome
        await asyncio.sleep(outcome.delay)
        deliveries += 1


async def rebuild(
    settings: ReportsSettings,
    *,
    since: date | None = None,
    batch: int = 500,
    per_commit: int = 200,
    force: bool = False,
    say: Say = print,
) -> Tally:
    """Migrate the configured database, then replay ARCHIVE into it. Returns the counts."""
    from .app import create_app  # the whole service: its handlers, as live consumption has them

    try:
        await upgrade("reports", settings.database_url)
    except Exception as exc:
        raise RebuildError(f"cannot migrate the database: {exc}") from exc
    say(f"rebuild: database migrated; reading {ARCHIVE} at {settings.nats_url}")
    rt = create_app(settings).state["runtime"]
    service = settings.durable_prefix

    async def quiet(_: Exception) -> None:  # the reason is said once, as a RebuildError
        return None

    try:
        nc = await nats.connect(
            settings.nats_url, error_cb=quiet, max_reconnect_attempts=5, **connect_options(settings)
        )
    except Exception as exc:
        await rt.engine.dispose()
        raise RebuildError(f"cannot connect to NATS at {settings.nats_url}: {exc}") from exc
    js = nc.jetstream(timeout=10)
    readers: list[Reader] = []
    tally = Tally()
    try:
        try:
            readers = await open_readers(
                js, rt.inbox, service, start_time(since, settings.business_timezone), batch, force
            )
        except NotFoundError as exc:
            raise RebuildError(
                f"no {ARCHIVE} stream on {settings.nats_url}: apply the streams first "
                "(aftersales streams apply). 未找到归档流。"
            ) from exc
        tally.total = sum(r.remaining for r in readers)
        say(f"rebuild: {tally.total:,} archived events to replay over {len(readers)} subjects")
        try:
            await replay(js, rt.inbox, readers, tally, say, per_commit)
        except nats.errors.Error as exc:  # NATS went away, or a --force run took over
            raise RebuildError(
                f"stopped after {tally.seen:,} of {tally.total:,} events: {exc!r}; running it "
                "again is safe (what is already there is skipped). 重建中断，可重新运行。"
            ) from exc
        say(tally.line() + f"; done in {tally.seconds:.1f} s")
        return tally
    finally:
        await close_readers(js, readers)
        await nc.close()
        await rt.engine.dispose()


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write YYYY-MM-DD, e.g. 2024-01-01 (日期格式 YYYY-MM-DD)"
        ) from None


def main(argv: list[str]) -> int:
    """``python -m reports rebuild``: 0 when done, 2 with the reason when it cannot run."""
    parser = argparse.ArgumentParser(
        prog="python -m reports rebuild",
        description="Replay the ARCHIVE stream into the reports database (REPORTS_DATABASE_URL), "
        "migrating it first. Safe to run again, and on a database fed live.",
    )
    parser.add_argument(
        "--since",
        type=parse_day,
        help="only events archived from this day on (YYYY-MM-DD, business time zone)",
    )
    parser.add_argument("--batch", type=int, default=500, help="messages per pull (1–5000)")
    parser.add_argument(
        "--force", action="store_true", help="take over from a rebuild that stopped midway"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= 5000:
        parser.error(f"--batch must be 1–5000, not {args.batch}")
    try:
        settings = ReportsSettings.offline()
    except ValidationError as exc:
        print(f"error: {settings_message(exc)}", file=sys.stderr, flush=True)
        return 2
    if args.since and args.since > datetime.now(ZoneInfo(settings.business_timezone)).date():
        parser.error(f"--since {args.since} is in the future")

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        asyncio.run(
            rebuild(settings, since=args.since, batch=args.batch, force=args.force, say=say)
        )
    except RebuildError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0
