"""Bulk consumers: one pull loop per subscription that takes what the server holds (up to
`consumer_bulk_batch_size`), writes it in one transaction and acks it — for a read model fed by
many small events (the reports service).

Why not FastStream here: its per-message pipeline (middlewares, dependency injection, a task per
message) cost about 1 ms of CPU per event, twenty times a raw consume (services/reports/bench/
ingest.py), and its batch subscriber waits for a full batch or the fetch timeout (a lone event
would wait `consumer_fetch_seconds`, or idle consumers would poll). nats-py's fetch returns what is
there at once (the server ends the pull at its first "no messages"), so a lone event is handled at
once and a backlog goes through by the hundred. Every decision per delivery is the inbox's own:
malformed or delivered too often → dead letter (Inbox.process); claimed once in the inbox table
with the batch's facts; a batch whose transaction fails is handled again message by message
through Inbox.process (retry with backoff, a poison event dead-lettered alone). Messages are acked
only after the transaction holding their effect committed; one that dies in between is delivered
again and found in the inbox.

FastStream still documents these subscriptions (Inbox.spec_broker: AsyncAPI) — it does not run
them.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import structlog

from .pullkick import ReconnectKick
from .streams import stream_for_subject
from .tasks import cancel_and_wait

if TYPE_CHECKING:
    from .inbox import Inbox, Subscription

log = structlog.get_logger(__name__)


def deliveries(msg: Any) -> int:
    """How often JetStream delivered `msg`, read from its ack subject without building nats-py's
    whole Metadata (timestamps and all: a sixth of a bulk consumer's CPU):
    `$JS.ACK.<stream>.<consumer>.<delivered>.…` (9 tokens) or, with a domain and account hash,
    `$JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.…` (12 and more)."""
    tokens = (msg.reply or "").split(".")
    if len(tokens) == 9 and tokens[0] == "$JS":
        return int(tokens[4])
    if len(tokens) >= 12 and tokens[0] == "$JS":
        return int(tokens[6])
    return int(msg.metadata.num_delivered)  # anything else: nats-py decides (or raises)


class BulkConsumers:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._tasks: list[asyncio.Task[None]] = []
        self.batches = 0
        self.messages = 0

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self._tasks)

    def start(self, js: Any, kick: ReconnectKick | None = None) -> None:
        """A pull loop for every bulk subscription (their durable consumers exist:
        Inbox.ensure_consumers)."""
        if self._tasks:
            return
        for sub in self.inbox.subscriptions.values():
            if sub.bulk:
                self._tasks.append(
                    asyncio.create_task(self._run(sub, js, kick), name=f"bulk-{sub.consumer}")
                )

    async def stop(self) -> None:
        """Stop pulling; a batch being written is rolled back and its messages come again."""
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(*tasks)

    async def _run(self, sub: Subscription, js: Any, kick: ReconnectKick | None) -> None:
        settings = self.inbox.settings
        stream = stream_for_subject(sub.subject).name
        prefix = (settings.nats_inbox_prefix + ".").encode()
        pull: Any = None
        ahead: asyncio.Future[list[Any]] | None = None  # the next batch, asked for meanwhile
        delay = 0.5

        def fetch() -> asyncio.Future[list[Any]]:
            return asyncio.ensure_future(
                pull.fetch(
                    settings.consumer_bulk_batch_size, timeout=settings.consumer_fetch_seconds
                )
            )

        try:
            while True:
                try:
                    if pull is None:
                        pull = await js.pull_subscribe_bind(
                            durable=sub.consumer, stream=stream, inbox_prefix=prefix
                        )
                        if kick is not None:
                            kick.wrap(pull)
                    current, ahead = ahead or fetch(), None
                    try:
                        msgs = await current
                    except TimeoutError:  # nothing came (nats-py's TimeoutError is one too)
                        continue
                    if len(msgs) == settings.consumer_bulk_batch_size:
                        ahead = (
                            fetch()
                        )  # a backlog: the next pull travels while this one is written
                    await self.take(sub, msgs)
                    delay = 0.5
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # NATS away, the database away: try again, never die
                    log.warning(
                        "bulk.pull_failed",
                        consumer=sub.consumer,
                        error=f"{type(exc).__name__}: {exc}"[:500],
                        retry_in=delay,
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
        finally:
            if ahead is not None:
                await cancel_and_wait(ahead)

    async def take(self, sub: Subscription, msgs: list[Any]) -> None:
        """Handle pulled messages: the well-formed ones of a first delivery in one transaction,
        the rest (and all of them if that transaction fails) one by one."""
        inbox: Inbox = self.inbox
        limit = inbox.settings.consumer_max_deliver
        together: list[tuple[Any, Any]] = []
        alone: list[Any] = []
        for msg in msgs:
            if deliveries(msg) > limit:
                alone.append(msg)
                continue
            try:
                together.append((msg, inbox.decode(sub, msg.headers, msg.data)))
            except Exception:  # malformed: Inbox.process dead-letters it with the reason
                alone.append(msg)
        if together:
            try:
                await inbox.write_together(sub, [env for _, env in together])
            except Exception as exc:
                log.warning(
                    "bulk.batch_failed",
                    consumer=sub.consumer,
                    size=len(together),
                    error=f"{type(exc).__name__}: {exc}"[:500],
                )
                alone.extend(msg for msg, _ in together)
            else:
                for msg, _ in together:
                    await msg.ack()
        for msg in alone:
            await self._one(sub, msg)
        self.batches += 1
        self.messages += len(msgs)

    async def _one(self, sub: Subscription, msg: Any) -> None:
        meta = msg.metadata
        outcome = await self.inbox.process(
            sub, msg.headers, msg.data, meta.num_delivered, msg.subject, meta.sequence.stream
        )
        if outcome.ack:
            await msg.ack()
        else:
            await msg.nak(delay=outcome.delay)
