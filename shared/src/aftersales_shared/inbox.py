"""Inbox: durable pull consumers whose effects and handled event ids commit together; dead
letters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import correlation
from .bulkconsume import BulkConsumers
from .db import inbox, insert_rows, upsert_insert, utcnow
from .deadletterstore import DeadLetterStore
from .events import Envelope, EventData, EventRegistry, MalformedEvent, registry
from .groupcommit import GroupCommit
from .natsauth import consumer_name
from .settings import ServiceSettings
from .streams import stream_for_subject

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope[Any]], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, list[Envelope[Any]]], Awaitable[None]]
# the fields of an event's data a consumer reads (dotted paths: "customer.contacts.phone"), declared
# beside its handler; tests/events/test_consumer_reads.py proves each exists in the producer's
# committed JSON Schema
Reads = Collection[str] | Mapping[type[EventData], Collection[str]]


def _reads_of(reads: Reads, cls: type[EventData]) -> frozenset[str]:
    if isinstance(reads, Mapping):
        return frozenset(reads.get(cls, ()))
    return frozenset(reads)


@dataclass(frozen=True)
class Outcome:
    ack: bool
    delay: float = 0.0
    result: str = "handled"  # handled | duplicate | dead_lettered | retry


@dataclass
class Subscription:
    consumer: str
    subject: str
    accepts: tuple[type[EventData], ...]
    handler: Handler
    group: GroupCommit[Envelope[Any], bool] | None = (
        None  # batch handlers: deliveries share transactions
    )
    max_workers: int = 1  # >1: FastStream keeps fetching while handlers run
    reads: frozenset[str] = frozenset()  # fields of the event's data this consumer uses
    # batch handlers: claim and handle many envelopes in the caller's transaction
    write_many: Callable[[AsyncSession, list[Envelope[Any]]], Awaitable[list[bool]]] | None = None
    bulk: bool = False  # pulled by a BulkConsumers loop, not by FastStream


@dataclass
class Inbox(DeadLetterStore):
    """Registers this service's event handlers and runs each delivery through inbox and dead
    letter."""

    settings: ServiceSettings
    sessions: async_sessionmaker[AsyncSession]
    events: EventRegistry = field(default_factory=lambda: registry)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    # documents the bulk subscriptions in the AsyncAPI document; never connected or started
    spec_broker: NatsBroker = field(default_factory=NatsBroker)
    bulk: BulkConsumers = field(init=False)

    def __post_init__(self) -> None:
        self.bulk = BulkConsumers(self)

    def handles(self, *classes: type[EventData], reads: Reads = ()) -> Callable[[Handler], Handler]:
        """Decorator: the handler gets a session (its transaction) and the decoded envelope.

        `reads` declares the data fields the handler uses (per class when it takes several)."""

        def register(handler: Handler) -> Handler:
            for cls in classes:
                name = self._consumer_name(cls)
                self.subscriptions[name] = Subscription(
                    name, cls.subject(), (cls,), handler, reads=_reads_of(reads, cls)
                )
            return handler

        return register

    def _consumer_name(self, cls: type[EventData]) -> str:
        return consumer_name(self.settings.durable_prefix, cls.subject())

    def handles_batch(
        self,
        *classes: type[EventData],
        max_batch: int | None = None,
        concurrency: int = 1,
        reads: Reads = (),
        bulk: bool = False,
    ) -> Callable[[BatchHandler], BatchHandler]:
        """Decorator for a handler of many events in one transaction (group commit).

        Deliveries that arrive together (a pulled batch is handled concurrently) are claimed in the
        inbox with one statement and handed to the handler together; each message is acked after the
        transaction that holds its effect committed. If a shared transaction fails, each event is
        handled again on its own, so a poison event is retried and dead-lettered alone. With
        `concurrency` > 1 several such transactions run at once and the pull consumer keeps fetching
        while they do (the handler must then be safe to run concurrently with itself).

        `bulk`: the deliveries are pulled by a BulkConsumers loop instead (hundreds per transaction,
        no per-message FastStream pipeline: a read model fed by many small events)."""

        def register(handler: BatchHandler) -> BatchHandler:
            async def one(session: AsyncSession, env: Envelope[Any]) -> None:  # replays: one event
                await handler(session, [env])

            for cls in classes:
                name = self._consumer_name(cls)
                sub = Subscription(name, cls.subject(), (cls,), one, reads=_reads_of(reads, cls))
                sub.write_many = self._batch_writer(name, handler)
                sub.bulk = bulk
                sub.group = GroupCommit(
                    self.sessions,
                    sub.write_many,
                    max_batch=max_batch or max(1, self.settings.consumer_batch_size),
                    concurrency=concurrency,
                    name=f"inbox-{name}",
                )
                sub.max_workers = (
                    self.settings.consumer_batch_size * (concurrency + 1) if concurrency > 1 else 1
                )
                self.subscriptions[name] = sub
            return handler

        return register

    def _batch_writer(self, consumer: str, handler: BatchHandler):  # type: ignore[no-untyped-def]
        async def write(session: AsyncSession, envs: list[Envelope[Any]]) -> list[bool]:
            fresh = await self._claim_many(session, consumer, envs)
            todo, first = [], set()
            for env in envs:
                if env.id in fresh and env.id not in first:
                    first.add(env.id)
                    todo.append(env)
            if todo:
                await handler(session, todo)
            # True once per handled event id; a second copy in the same batch is a duplicate
            results = []
            for env in envs:
                results.append(env.id in first)
                first.discard(env.id)
            return results

        return write

    async def _claim_many(
        self, session: AsyncSession, consumer: str, envs: list[Envelope[Any]]
    ) -> set[str]:
        now = utcnow()
        rows = {
            e.id: dict(consumer=consumer, event_id=e.id, event_type=e.type, handled_at=now)
            for e in envs
        }
        result = await insert_rows(
            session, inbox, list(rows.values()), returning=[inbox.c.event_id], skip_conflicts=True
        )
        return set(result.scalars().all())

    def bind(self, broker: NatsBroker) -> None:
        """Create one durable pull consumer per subscription on the broker (the bulk ones on the
        documentation broker only: BulkConsumers pulls them)."""
        for sub in self.subscriptions.values():
            self._bind_one(self.spec_broker if sub.bulk else broker, sub)

    async def write_together(self, sub: Subscription, envs: list[Envelope[Any]]) -> list[bool]:
        """Claim and handle a bulk subscription's envelopes in one transaction; per envelope,
        False if it was handled before (or earlier in the list)."""
        assert sub.write_many is not None, f"{sub.consumer} is not a batch subscription"
        async with self.sessions.begin() as session:
            return await sub.write_many(session, envs)

    def consumer_config(self, sub: Subscription) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=sub.consumer,
            ack_wait=self.settings.consumer_ack_wait_seconds,
            # the service dead-letters at consumer_max_deliver itself (so the last attempt can keep
            # the message); the broker stops a few deliveries later whatever happens — a message
            # that kills the process every time is not redelivered forever (the advisory then makes
            # it a dead letter: watch_max_deliveries)
            max_deliver=self.settings.consumer_max_deliver + BROKER_HEADROOM,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=JsAckPolicy.EXPLICIT,
            filter_subject=sub.subject,
            max_ack_pending=max(1000, self.settings.consumer_batch_size * 4),
        )

    async def ensure_consumers(self, js: Any) -> None:
        """Create or update every durable consumer with today's config before FastStream binds to it
        (binding to an existing durable would keep an older config, e.g. an unbounded
        max_deliver)."""
        for sub in self.subscriptions.values():
            await js.add_consumer(
                stream_for_subject(sub.subject).name, config=self.consumer_config(sub)
            )

    def _bind_one(self, broker: NatsBroker, sub: Subscription) -> None:
        cfg = self.consumer_config(sub)

        async def on_message(msg):  # type: ignore[no-untyped-def]  # the message itself (decoder below)
            raw = msg.raw_message
            meta = raw.metadata
            outcome = await self.process(
                sub, raw.headers, raw.data, meta.num_delivered, raw.subject, meta.sequence.stream
            )
            if outcome.ack:
                await msg.ack()
            else:
                await msg.nack(delay=outcome.delay)

        broker.subscriber(
            sub.subject,
            stream=JStream(stream_for_subject(sub.subject).name, declare=False),
            durable=sub.consumer,
            config=cfg,
            pull_sub=PullSub(
                batch_size=self.settings.consumer_batch_size,
                timeout=self.settings.consumer_fetch_seconds,
            ),
            # pulled messages arrive on the service's own inbox prefix (its NATS user may read no
            # other)
            inbox_prefix=(self.settings.nats_inbox_prefix + ".").encode(),
            ack_policy=AckPolicy.MANUAL,
            decoder=_whole_message,
            max_workers=sub.max_workers,
            title=sub.consumer,
            description=(
                f"{self.settings.service_name} consumes "
                f"{', '.join(c.ce_type() for c in sub.accepts)}"
            ),
        )(on_message)

    async def process(
        self,
        sub: Subscription,
        headers: dict[str, str] | None,
        body: bytes,
        deliveries: int,
        subject: str,
        stream_seq: int | None = None,
    ) -> Outcome:
        """Decide one delivery: handle once, retry later, or keep it as a dead letter."""
        headers = dict(headers or {})
        event_id = headers.get("ce-id") or headers.get("Nats-Msg-Id") or f"seq:{stream_seq}"
        try:
            env = self._decode(sub, headers, body)
        except MalformedEvent as exc:
            await self._dead_letter(
                sub, subject, event_id, headers, body, "malformed", str(exc), deliveries
            )
            # an operator sees every dead letter in the log, not only in GET /admin/dead-letters
            log.error(
                "inbox.dead_letter",
                consumer=sub.consumer,
                event_id=event_id[:200],
                reason="malformed",
                error=str(exc)[:500],
            )
            return Outcome(ack=True, result="dead_lettered")
        max_deliver = self.settings.consumer_max_deliver
        if deliveries > max_deliver:
            await self._dead_letter(
                sub,
                subject,
                env.id,
                headers,
                body,
                "failed",
                f"gave up after {deliveries - 1} deliveries without an answer",
                deliveries,
            )
            return Outcome(ack=True, result="dead_lettered")
        try:
            if sub.group is not None:
                correlation.bind(env.correlation_id or env.id)
                handled = await sub.group.submit(env)
            else:
                handled = await self.handle(sub, env)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if deliveries >= max_deliver:
                log.error("inbox.dead_letter", consumer=sub.consumer, event_id=env.id, error=error)
                await self._dead_letter(
                    sub, subject, env.id, headers, body, "failed", error, deliveries
                )
                return Outcome(ack=True, result="dead_lettered")
            log.warning(
                "inbox.retry",
                consumer=sub.consumer,
                event_id=env.id,
                error=error,
                delivery=deliveries,
            )
            return Outcome(ack=False, delay=self.settings.backoff_for(deliveries), result="retry")
        return Outcome(ack=True, result="handled" if handled else "duplicate")

    def decode(
        self, sub: Subscription, headers: Mapping[str, str] | None, body: bytes
    ) -> Envelope[Any]:
        """A delivery's envelope as `sub` accepts it, or MalformedEvent with the reason."""
        return self._decode(sub, dict(headers or {}), body)

    async def handle_together(
        self, deliveries: Sequence[tuple[Subscription, Envelope[Any]]]
    ) -> list[bool]:
        """Several decoded deliveries in one transaction (a replay from the archive: one commit per
        batch, not per event); per delivery, False if it was already handled. The deliveries of a
        batch subscription go to its batch writer together (its facts with a few statements),
        the others one by one in order. If one fails, nothing of the batch is kept and the error
        is raised: handle them one by one."""
        by_consumer: dict[str, tuple[Subscription, list[int]]] = {}
        for i, (sub, _) in enumerate(deliveries):
            by_consumer.setdefault(sub.consumer, (sub, []))[1].append(i)
        results = [False] * len(deliveries)
        async with self.sessions() as session, session.begin():
            for consumer, (sub, places) in by_consumer.items():
                # one claim statement per consumer, not per event (most of a replay that finds its
                # events already handled)
                write = sub.write_many or self._batch_writer(consumer, _one_by_one(sub.handler))
                flags = await write(session, [deliveries[i][1] for i in places])
                for i, first in zip(places, flags, strict=True):
                    results[i] = first
        return results

    def _decode(self, sub: Subscription, headers: dict[str, str], body: bytes) -> Envelope[Any]:
        env = self.events.decode(headers, body)
        if not isinstance(env.data, sub.accepts):
            raise MalformedEvent(f"event type {env.type!r} is not expected on {sub.subject!r}")
        return env

    async def handle(
        self,
        sub: Subscription,
        env: Envelope[Any],
        also: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> bool:
        """Run the handler and record the event id in one transaction; False if already handled."""
        correlation.bind(env.correlation_id or env.id)
        async with self.sessions() as session, session.begin():
            if not await self._claim(session, sub.consumer, env):
                if also is not None:
                    await also(session)
                return False
            await sub.handler(session, env)
            if also is not None:
                await also(session)
        return True

    async def _claim(self, session: AsyncSession, consumer: str, env: Envelope[Any]) -> bool:
        values = dict(consumer=consumer, event_id=env.id, event_type=env.type, handled_at=utcnow())
        result = await session.execute(
            upsert_insert(session, inbox).values(**values).on_conflict_do_nothing()
        )
        return result.rowcount == 1


BROKER_HEADROOM = 3


def _one_by_one(handler: Handler) -> BatchHandler:
    """A per-event handler over a list of envelopes, in order, each under its correlation id."""

    async def each(session: AsyncSession, envs: list[Envelope[Any]]) -> None:
        for env in envs:
            correlation.bind(env.correlation_id or env.id)
            await handler(session, env)

    return each


async def _whole_message(msg: Any) -> Any:
    """Decoder handing the handler the message itself: we decode (and dead-letter) the body
    ourselves, and the handler needs no `NatsMessage` (Context) parameter — FastDepends resolves
    such a parameter with a synchronous call it runs in a worker thread, a thread hop and a GIL
    hand-off for every message."""
    return msg
