"""End to end over real JetStream, SMTP and the SMS gateway: an edit of the rules through the API
changes who the next event's notification goes to, without a restart."""

from __future__ import annotations

import pytest
from notif_support import all_deliveries, make_app, phone, recipient, streams, ticket_opened, uid

from aftersales_testing.support import auth, publish, running, wait_until

pytestmark = pytest.mark.deadlines

ADMIN = auth("admin", sub="admin-wang")
SUP = auth("service_supervisor", sub="sup-1")


async def test_an_edited_rule_sends_the_next_event_to_the_new_recipients(
    databases, own_nats, servers
):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    async with running(app) as client:
        # no quiet hours: the suite also runs as if on a Sunday evening (AFTERSALES_TEST_NOW), when
        # a supervisor's default quiet hours would hold the message till morning
        sup = recipient(
            f"sup-{ref}", groups=["service_supervisor"], channels=["email"], quiet_hours=None
        )
        assert (await client.post("/recipients", json=sup, headers=SUP)).status_code == 201
        before = ticket_opened(f"{ref}a", email=f"wang-{ref}@example.com", tel=phone())
        await publish(own_nats.url, before)
        rows = await wait_until(
            lambda: all_deliveries(client, event_id=before.id, status="sent", n=2),
            what="the customer's acknowledgement by SMS and e-mail",
        )
        assert {r["rule_id"] for r in rows} == {"ticket-opened-ack"}

        shown = (await client.get("/rules", headers=SUP)).json()
        ack = next(r for r in shown["rules"] if r["id"] == "ticket-opened-ack")
        moved = ack | {"recipients": ["group:service_supervisor"], "channels": ["email"]}
        edit = {"expected_version": shown["version"], "rule": moved, "note": "试点：只告知主管"}
        r = await client.put("/rules/items/ticket-opened-ack", json=edit, headers=ADMIN)
        assert r.status_code == 200, r.text

        after = ticket_opened(f"{ref}b", email=f"li-{ref}@example.com", tel=phone())
        await publish(own_nats.url, after)
        (sent,) = await wait_until(
            lambda: all_deliveries(client, event_id=after.id, status="sent", n=1),
            what="the acknowledgement to the supervisor only",
        )
        assert sent["recipient_key"] == f"sup-{ref}" and sent["channel"] == "email"
        assert smtp.to(f"sup-{ref}@example.com") and not smtp.to(f"li-{ref}@example.com")
