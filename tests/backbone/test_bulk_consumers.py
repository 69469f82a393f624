"""Bulk consumers (a read model's pull loops outside FastStream) against a real JetStream: a
backlog goes through in a few transactions, each event once; a malformed or poison event is
dead-lettered alone; a lone event does not wait out the long pull; NATS restarting does not stall
them."""

from __future__ import annotations

import asyncio
import time
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from aftersales_shared.bulkconsume import deliveries
from aftersales_shared.db import create_engine, dead_letters, inbox, session_factory
from aftersales_shared.events import ContractSignedV1
from aftersales_shared.inbox import Inbox
from aftersales_shared.pullkick import ReconnectKick
from aftersales_shared.streams import apply_streams
from aftersales_testing import natsaccess
from aftersales_testing.support import contract_signed, migrated, publish, wait_until
from tickets.settings import TicketsSettings

LONG = 30.0  # seconds a pull request waits at the server


async def _bulk(databases, nats_url, **overrides):
    """An inbox with one bulk batch subscription (ContractSigned), its consumer created, a NATS
    connection whose reconnects kick the pending pulls; what the handler saw in `batches`."""
    url = await migrated(databases, "tickets")  # any service's schema has the messaging tables
    engine = create_engine(url)
    settings = TicketsSettings(database_url=url, nats_url=nats_url, **overrides)
    box = Inbox(settings=settings, sessions=session_factory(engine))
    batches: list[list[str]] = []
    poison: set[str] = set()

    @box.handles_batch(ContractSignedV1, bulk=True)
    async def handle(session, envs):
        batches.append([e.data.contract_no for e in envs])
        if poison & {e.data.contract_no for e in envs}:
            raise RuntimeError("this contract cannot be written")

    kick = ReconnectKick()
    nc = await natsaccess.connect(
        nats_url,
        reconnected_cb=kick.reconnected,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.2,
    )
    js = nc.jetstream()
    await apply_streams(js)
    await box.ensure_consumers(js)
    return SimpleNamespace(
        engine=engine, box=box, batches=batches, poison=poison, kick=kick, nc=nc, js=js
    )


async def _close(b) -> None:
    await b.box.bulk.stop()
    await b.nc.close()
    await b.engine.dispose()


async def _count(b, table, *where) -> int:
    async with b.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table).where(*where))


async def test_a_backlog_goes_through_in_few_transactions_once_each_and_bad_events_alone(
    databases, own_nats
):
    b = await _bulk(
        databases,
        own_nats.url,
        consumer_max_deliver=2,
        consumer_backoff_seconds=[0.2],
        consumer_bulk_batch_size=100,
    )
    try:
        good = [contract_signed(f"BULK-{uuid.uuid4().hex[:6]}-{i:03d}") for i in range(240)]
        bad = contract_signed(f"POISON-{uuid.uuid4().hex[:6]}")
        b.poison.add(bad.data.contract_no)
        for env in good[:120]:
            await publish(own_nats.url, env)
        await publish(own_nats.url, good[5], msg_id=f"{good[5].id}-again")  # a partner re-sends
        await publish(own_nats.url, bad)
        nc = await natsaccess.connect(own_nats.url)  # well-formed headers, a body that is not JSON
        malformed = dict(good[0].headers()) | {"ce-id": "malformed-1", "Nats-Msg-Id": "malformed-1"}
        await nc.jetstream().publish(good[0].nats_subject, b'{"contract_no": ', headers=malformed)
        for env in good[120:]:
            await nc.jetstream().publish(env.nats_subject, env.body(), headers=env.headers())
        await nc.close()

        b.box.bulk.start(b.js, b.kick)
        handled = [e.id for e in good]

        async def all_in() -> bool:
            return await _count(b, inbox, inbox.c.event_id.in_(handled)) == len(good)

        await wait_until(all_in, timeout=60, what="every good event in the inbox")
        await wait_until(
            lambda: _count(b, dead_letters), timeout=30, what="the dead letters"
        )  # the poison event needs its second delivery (backoff 0.2 s)

        async def two_dead() -> bool:
            return await _count(b, dead_letters) == 2

        await wait_until(two_dead, timeout=30, what="malformed and poison dead-lettered")
        async with b.engine.connect() as conn:
            reasons = dict(
                (await conn.execute(select(dead_letters.c.event_id, dead_letters.c.reason))).all()
            )
        assert reasons == {"malformed-1": "malformed", bad.id: "failed"}
        # each good contract reached a committed transaction exactly once: the batches that
        # failed with the poison event were rolled back, and its neighbours written again alone
        committed = [c for batch in b.batches if bad.data.contract_no not in batch for c in batch]
        assert sorted(committed) == sorted(e.data.contract_no for e in good)
        # taken by the hundred, not one by one (242 deliveries, batches of at most 100)
        assert max(len(batch) for batch in b.batches) > 50
        assert b.box.bulk.batches < 20
        assert await _count(b, inbox, inbox.c.event_id == good[5].id) == 1
        assert await _count(b, inbox, inbox.c.event_id == bad.id) == 0
    finally:
        await _close(b)


async def test_a_lone_event_is_handled_at_once_and_after_nats_restarts(databases, own_nats):
    b = await _bulk(databases, own_nats.url, consumer_fetch_seconds=LONG)
    try:
        b.box.bulk.start(b.js, b.kick)
        await asyncio.sleep(1.0)  # the loop's pull request now waits at the server
        first = contract_signed(f"LONE-{uuid.uuid4().hex[:6]}")
        started = time.monotonic()
        await publish(own_nats.url, first)

        async def seen(env) -> bool:
            return await _count(b, inbox, inbox.c.event_id == env.id) == 1

        # a pull that waited for a full batch would take LONG seconds
        await wait_until(lambda: seen(first), timeout=LONG / 3, what="the lone event")
        assert time.monotonic() - started < LONG / 3

        own_nats.kill()
        await asyncio.sleep(0.5)
        own_nats.start()

        async def reconnected() -> bool:
            return b.kick.kicks >= 1

        await wait_until(reconnected, timeout=30, what="the client reconnected")
        second = contract_signed(f"LONE-{uuid.uuid4().hex[:6]}")
        await publish(own_nats.url, second)
        # without the kick the loop would wait out its pull request at the dead server
        await wait_until(lambda: seen(second), timeout=LONG / 2, what="the event after restart")
        assert b.box.bulk.running
    finally:
        await _close(b)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("$JS.ACK.CONTRACTS.reports-x.3.120.7.1764470000000000000.0", 3),
        ("$JS.ACK.hub.ACCHASH.CONTRACTS.reports-x.4.120.7.1764470000000000000.0.rnd", 4),
    ],
)
def test_deliveries_are_read_from_both_ack_subject_forms(reply, expected):
    assert deliveries(SimpleNamespace(reply=reply)) == expected


def test_deliveries_of_a_message_without_an_ack_subject_is_an_error():
    class NotJetStream:
        reply = "_INBOX.abc"

        @property
        def metadata(self):
            raise ValueError("not a JetStream message")

    with pytest.raises(ValueError):
        deliveries(NotJetStream())
