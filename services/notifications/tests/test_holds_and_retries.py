"""Held and retried deliveries over real JetStream, a real database, aiosmtpd and a local SMS
gateway: quiet hours, the rate limit, a permanent SMTP refusal and an SMTP server that is down for a
while."""

from __future__ import annotations

import collections
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from notif_support import (
    all_deliveries,
    deliveries,
    make_app,
    outbox_at_least,
    outbox_count,
    recipient,
    sla_warning,
    streams,
    ticket_assigned,
    ticket_opened,
    uid,
)

from aftersales_testing.support import auth, publish, running, wait_until

pytestmark = pytest.mark.deadlines

SUP = auth("service_supervisor", sub="sup-1")
FAILED = "notifications.notification_failed.v1"


async def test_quiet_hours_hold_non_urgent_and_let_urgent_through(databases, own_nats, servers):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    window = f"{(local - timedelta(hours=1)):%H:%M}-{(local + timedelta(hours=1)):%H:%M}"
    async with running(app) as client:
        eng = recipient(f"eng-{ref}", quiet_hours=window, channels=["sms"])
        assert (await client.post("/recipients", json=eng, headers=SUP)).status_code == 201
        normal = ticket_assigned(ref, eng["id"], urgency="normal")
        critical = ticket_assigned(ref + "c", eng["id"], urgency="critical")
        await publish(own_nats.url, normal)
        await publish(own_nats.url, critical)
        held = await wait_until(
            lambda: all_deliveries(client, event_id=normal.id, recipient=eng["id"], n=1),
            what="held",
        )
        assert held[0]["status"] == "held" and held[0]["hold_reason"] == f"quiet hours {window}"
        release = datetime.fromisoformat(held[0]["due_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
        assert release.strftime("%H:%M") == window[-5:] and release > local
        await wait_until(
            lambda: all_deliveries(
                client, event_id=critical.id, recipient=eng["id"], status="sent", n=1
            ),
            what="critical assignment sent in quiet hours",
        )
        assert len([r for r in gw.accepted if r.body["to"] == f"+86{eng['phone']}"]) == 1


async def test_rate_limit_holds_the_third_warning_within_the_hour(databases, own_nats, servers):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    async with running(app) as client:
        sup = recipient(
            f"sup-{ref}",
            groups=["service_supervisor"],
            channels=["email"],
            rate_limit_per_hour=2,
            quiet_hours=None,
        )
        assert (await client.post("/recipients", json=sup, headers=SUP)).status_code == 201
        events = [sla_warning(f"{ref}{i}") for i in range(3)]
        for env in events:
            await publish(own_nats.url, env)
        rows = await wait_until(
            lambda: all_deliveries(client, recipient=sup["id"], n=3), what="three warnings planned"
        )
        by_status = collections.Counter(r["status"] for r in rows)
        assert by_status["held"] == 1, [
            (r["status"], r["hold_reason"], r["due_at"], r["created_at"]) for r in rows
        ]
        held = next(r for r in rows if r["status"] == "held")
        assert held["hold_reason"] == "rate limit 2/h"
        await wait_until(
            lambda: all_deliveries(client, recipient=sup["id"], status="sent", n=2), what="two sent"
        )
        assert len(smtp.to(sup["email"])) == 2


async def test_permanent_smtp_refusal_fails_with_the_providers_reason(databases, own_nats, servers):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    smtp.reject[f"gone-{ref}@example.com"] = "550 5.1.1 用户不存在 mailbox unavailable"
    env = ticket_opened(ref, email=f"gone-{ref}@example.com")
    async with running(app) as client:
        await publish(own_nats.url, env)
        rows = await wait_until(
            lambda: all_deliveries(client, event_id=env.id, status="failed", channel="email", n=1),
            what="email failed",
        )
        assert rows[0]["attempts"] == 1 and "550 5.1.1" in rows[0]["last_error"]
        await wait_until(
            lambda: outbox_at_least(app, FAILED, 1), what="NotificationFailed (refused email)"
        )
        # the contact without a phone is a skipped delivery, not a failure: no NotificationFailed
        assert await outbox_count(app, FAILED) == 1


async def test_smtp_down_for_a_while_every_message_arrives_exactly_once(
    databases, own_nats, servers
):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    burst = [ticket_opened(f"{ref}{i}", email=f"burst-{ref}-{i}@example.com") for i in range(40)]
    async with running(app) as client:
        await publish(own_nats.url, burst[0])
        await wait_until(
            lambda: all_deliveries(client, event_id=burst[0].id, status="sent", n=1),
            what="first sent",
        )
        await smtp.stop()  # pooled connections are cut too
        for env in burst[1:]:
            await publish(own_nats.url, env)

        async def failing():
            rows = await deliveries(client, SUP, channel="email", status="retrying")
            return len(rows) >= 10 and all(
                r["attempts"] >= 1 and "unavailable" in r["last_error"] for r in rows
            )

        await wait_until(
            failing, timeout=30, what="deliveries failing and retrying while SMTP is down"
        )
        await wait_until(
            lambda: _attempts_at_least(client, 3), timeout=30, what="several retries each"
        )
        await smtp.start()
        await wait_until(
            lambda: all_deliveries(client, channel="email", status="sent", n=40),
            timeout=60,
            what="all 40 emails sent after SMTP came back",
        )
        ids = collections.Counter(m.message["X-Aftersales-Delivery-Id"] for m in smtp.received)
        assert len(ids) == 40 and set(ids.values()) == {1}, ids.most_common(3)
        assert {m.rcpt_tos[0] for m in smtp.received} == {
            f"burst-{ref}-{i}@example.com" for i in range(40)
        }
        rows = await deliveries(client, SUP, channel="email")
        assert sum(1 for r in rows if r["attempts"] > 1) >= 30


async def _attempts_at_least(client, n: int) -> bool:
    rows = await deliveries(client, SUP, channel="email")
    return sum(1 for r in rows if r["attempts"] >= n) >= 10
