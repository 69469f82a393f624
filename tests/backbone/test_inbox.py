"""Inbox and dead letters against a real JetStream: one effect per event, failures kept and
replayable."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from aftersales_shared.db import inbox
from aftersales_shared.streams import apply_streams
from aftersales_testing import natsaccess
from aftersales_testing.support import (
    CallCounter,
    auth,
    contract_signed,
    migrated,
    publish,
    running,
    runtime_of,
    wait_until,
)
from tickets.app import create_app as tickets_app
from tickets.models import EntitlementRow
from tickets.settings import TicketsSettings

ADMIN = auth("admin")
AGENT = auth("service_agent")
CONSUMER = "tickets-contracts-contract_signed-v1"


async def _tickets(databases, nats_url, **overrides):
    nc = await natsaccess.connect(nats_url)
    await apply_streams(nc.jetstream())
    await nc.close()
    settings = TicketsSettings(
        database_url=await migrated(databases, "tickets"), nats_url=nats_url, **overrides
    )
    return tickets_app(settings)


async def _count(app, table_or_model, *where):
    rt = runtime_of(app)
    async with rt.sessions() as s:
        return await s.scalar(select(func.count()).select_from(table_or_model).where(*where))


async def test_same_event_delivered_twice_has_one_effect(databases, own_nats):
    app = await _tickets(databases, own_nats.url)
    counter = CallCounter(runtime_of(app).inbox.subscriptions[CONSUMER])
    env = contract_signed(f"HT-{uuid.uuid4().hex[:8]}")
    async with running(app) as client:
        # a partner re-sends the same event after JetStream's duplicate window: two stream messages
        first = await publish(own_nats.url, env, msg_id=f"{env.id}-a")
        second = await publish(own_nats.url, env, msg_id=f"{env.id}-b")
        assert not first.duplicate and not second.duplicate and second.seq == first.seq + 1
        marker = contract_signed(f"HT-{uuid.uuid4().hex[:8]}")
        await publish(own_nats.url, marker)
        await wait_until(
            lambda: _count(
                app, EntitlementRow, EntitlementRow.contract_no == marker.data.contract_no
            ),
            what="marker handled",
        )
        assert counter.successes == 2  # the event once, the marker once
        assert await _count(app, inbox, inbox.c.event_id == env.id) == 1
        r = await client.get(f"/entitlements/{env.data.contract_no}", headers=AGENT)
        assert r.status_code == 200
        # the same delivery processed again directly: still one effect
        sub = runtime_of(app).inbox.subscriptions[CONSUMER]
        outcome = await runtime_of(app).inbox.process(
            sub, env.headers(), env.body(), 1, env.nats_subject
        )
        assert outcome.ack and outcome.result == "duplicate"
        assert counter.successes == 2


async def test_failing_handler_is_dead_lettered_then_replayed_once(databases, own_nats):
    app = await _tickets(
        databases, own_nats.url, consumer_max_deliver=3, consumer_backoff_seconds=[0.05]
    )
    sub = runtime_of(app).inbox.subscriptions[CONSUMER]
    broken = CallCounter(sub, fail_with=RuntimeError("数据库约束冲突 simulated bug"))
    env = contract_signed(f"HT-{uuid.uuid4().hex[:8]}")
    async with running(app) as client:
        await publish(own_nats.url, env)

        async def dead():
            r = await client.get("/admin/dead-letters", headers=ADMIN)
            return r.json()["items"] if r.json()["total"] else None

        items = await wait_until(dead, what="dead letter")
        assert broken.calls == 3
        [item] = items
        assert item["consumer"] == CONSUMER and item["reason"] == "failed"
        assert item["event_id"] == env.id and item["deliveries"] == 3
        assert "RuntimeError: 数据库约束冲突 simulated bug" in item["error"]
        assert json.loads(item["body"])["contract_no"] == env.data.contract_no
        assert (
            await _count(app, EntitlementRow, EntitlementRow.contract_no == env.data.contract_no)
            == 0
        )

        # still broken: the replay fails, says why, and the letter stays open
        r = await client.post(f"/admin/dead-letters/{item['id']}/replay", headers=ADMIN)
        assert r.status_code == 409 and "simulated bug" in r.json()["detail"]

        sub.handler = broken.original  # the fix is deployed
        fixed = CallCounter(sub)
        r = await client.post(f"/admin/dead-letters/{item['id']}/replay", headers=ADMIN)
        assert r.status_code == 200 and r.json()["result"] == "handled"
        r = await client.post(f"/admin/dead-letters/{item['id']}/replay", headers=ADMIN)
        assert r.status_code == 409
        assert fixed.successes == 1
        assert (
            await _count(app, EntitlementRow, EntitlementRow.contract_no == env.data.contract_no)
            == 1
        )
        r = await client.get("/admin/dead-letters", params={"status": "open"}, headers=ADMIN)
        assert r.json()["total"] == 0
        r = await client.get("/admin/dead-letters", headers=AGENT)
        assert r.status_code == 403


async def test_malformed_events_are_dead_lettered_at_once_and_do_not_block(databases, own_nats):
    app = await _tickets(databases, own_nats.url)
    subject = "contracts.contract_signed.v1"
    good = contract_signed(f"HT-{uuid.uuid4().hex[:8]}")
    base = {k: v for k, v in good.headers().items() if k != "Nats-Msg-Id"}
    bad = [
        ({**base, "ce-id": "bad-json"}, b"{not json"),
        ({**base, "ce-id": "missing-field"}, json.dumps({"contract_no": "X"}).encode()),
        (
            {
                **base,
                "ce-id": "unknown-version",
                "ce-type": "cn.aftersales.contracts.ContractSigned.v9",
            },
            good.body(),
        ),
        ({"content-type": "application/json"}, good.body()),
    ]
    async with running(app) as client:
        nc = await natsaccess.connect(own_nats.url)
        js = nc.jetstream()
        for headers, body in bad:
            await js.publish(subject, body, headers=headers)
        await js.publish(subject, good.body(), headers=good.headers())
        await nc.close()
        await wait_until(
            lambda: _count(
                app, EntitlementRow, EntitlementRow.contract_no == good.data.contract_no
            ),
            what="good event after the malformed ones",
        )

        async def four():
            r = await client.get("/admin/dead-letters", headers=ADMIN)
            return r.json() if r.json()["total"] == 4 else None

        page = await wait_until(four, what="four dead letters")
        by_id = {i["event_id"]: i for i in page["items"]}
        assert all(i["reason"] == "malformed" and i["deliveries"] == 1 for i in page["items"])
        assert "not valid JSON" in by_id["bad-json"]["error"]
        assert (
            "customer" in by_id["missing-field"]["error"]
            and "Field required" in by_id["missing-field"]["error"]
        )
        assert "unknown event type or version" in by_id["unknown-version"]["error"]
        no_id = next(i for i in page["items"] if i["event_id"].startswith("seq:"))
        assert "missing CloudEvents header" in no_id["error"]


async def test_the_broker_bounds_redelivery_and_its_advisory_becomes_a_dead_letter(
    databases, own_nats
):
    from nats.js.api import ConsumerConfig

    from aftersales_shared.inbox import BROKER_HEADROOM

    nc = await natsaccess.connect(own_nats.url)
    js = nc.jetstream()
    await apply_streams(js)
    # a durable left by an older release, unbounded: the service bounds it when it starts
    await js.add_consumer(
        "CONTRACTS",
        ConsumerConfig(
            durable_name=CONSUMER, max_deliver=-1, filter_subject="contracts.contract_signed.v1"
        ),
    )
    app = await _tickets(databases, own_nats.url, consumer_max_deliver=2)
    box = runtime_of(app).inbox
    stuck = contract_signed(f"HT-{uuid.uuid4().hex[:8]}")
    async with running(app) as client:
        info = await js.consumer_info("CONTRACTS", CONSUMER)
        assert info.config.max_deliver == 2 + BROKER_HEADROOM
        # the message a process never finished (it died each time): published, then the broker's
        # advisory
        ack = await js.publish(stuck.nats_subject, stuck.body(), headers=stuck.headers())
        await wait_until(
            lambda: _count(
                app, EntitlementRow, EntitlementRow.contract_no == stuck.data.contract_no
            ),
            what="the event handled normally first",
        )
        # handled already: the advisory changes nothing
        assert not await box.dead_letter_exhausted(
            js, box.subscriptions[CONSUMER], "CONTRACTS", ack.seq, 5
        )
        other = contract_signed(f"HT-{uuid.uuid4().hex[:8]}")
        # a message this consumer never saw (another subject of the stream): say the broker gave up
        # on it
        raw = await js.publish(
            "contracts.contract_archived.v1", other.body(), headers=other.headers()
        )
        await nc.publish(
            f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.CONTRACTS.{CONSUMER}",
            json.dumps(
                {
                    "type": "io.nats.jetstream.advisory.v1.max_deliver",
                    "stream": "CONTRACTS",
                    "consumer": CONSUMER,
                    "stream_seq": raw.seq,
                    "deliveries": 5,
                }
            ).encode(),
        )
        await nc.flush()

        async def kept():
            r = await client.get("/admin/dead-letters", headers=ADMIN)
            return [i for i in r.json()["items"] if i["event_id"] == other.id] or None

        [letter] = await wait_until(kept, what="a dead letter from the advisory")
        assert (
            "max_deliver" in letter["error"]
            and letter["deliveries"] == 5
            and letter["reason"] == "failed"
        )
    await nc.close()
