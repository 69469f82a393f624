"""A burst of alerts about one ticket to one person: the first goes out at once, the rest wait for
the end of the digest window and go out as one message that lists them — over real NATS and the SMS
gateway."""

from __future__ import annotations

import collections

from notif_support import all_deliveries, make_app, recipient, sla_warning, streams, uid

from aftersales_shared.events import Envelope
from aftersales_testing.support import auth, publish, running, wait_until

SUP = auth("service_supervisor", sub="sup-1")


async def test_a_burst_of_alerts_about_one_ticket_becomes_the_first_and_one_digest(
    databases, own_nats, servers
):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw, alert_digest_seconds=1.5)
    ref = uid()
    async with running(app) as client:
        sup = recipient(
            f"sup-{ref}", groups=["service_supervisor"], channels=["sms"], quiet_hours=None
        )
        assert (await client.post("/recipients", json=sup, headers=SUP)).status_code == 201
        first = sla_warning(ref)
        burst = [
            Envelope(
                data=first.data.model_copy(update={"fraction": f}),
                source="/t",
                subject=first.subject,
            )
            for f in (0.8, 0.85, 0.9)
        ]
        other_ticket = sla_warning(f"{ref}x")  # another subject: its own first message
        await publish(own_nats.url, first)
        await wait_until(
            lambda: all_deliveries(client, recipient=sup["id"], status="sent", n=1),
            what="the first alert sent at once",
        )
        for env in [*burst, other_ticket]:
            await publish(own_nats.url, env)
        rows = await wait_until(
            lambda: all_deliveries(client, recipient=sup["id"], status="sent", n=3),
            what="the first, the other ticket's and one digest sent",
            timeout=15,
        )
        statuses = collections.Counter(
            r["status"]
            for r in await all_deliveries(client, recipient=sup["id"], n=5)  # type: ignore[union-attr]
        )
        assert statuses == {"sent": 3, "merged": 2}
        to_sup = [r.body["text"] for r in gw.accepted if r.body["to"] == f"+86{sup['phone']}"]
        assert len(to_sup) == 3  # 5 alerts, 3 messages
        digest = next(t for t in to_sup if "条提醒" in t)
        assert f"SV-{ref}共3条提醒" in digest and digest.startswith("【")
        # a cloud SMS provider sends registered templates only: the digest names its own template
        # with its own parameters (not the carrier's SLA template with none)
        sent = next(r.body for r in gw.accepted if "条提醒" in r.body["text"])
        assert sent["template"] == "alert_digest"
        assert sent["params"]["subject"] == f"SV-{ref}" and sent["params"]["count"] == "3"
        assert sent["params"]["first"] and len(sent["params"]["first"]) <= 35
        merged = [
            r
            for r in await all_deliveries(client, recipient=sup["id"], n=5) or []
            if r["status"] == "merged"
        ]
        carrier = next(
            r for r in rows if r["subject"] == first.subject and "条提醒" in r["body_text"]
        )
        assert {r["merged_into"] for r in merged} == {carrier["id"]}
        # the log filters by the rule that planned a delivery
        by_rule = await client.get(
            "/deliveries", params={"rule_id": "sla-warning", "recipient": sup["id"]}, headers=SUP
        )
        assert by_rule.json()["total"] == 5
        other = await client.get(
            "/deliveries",
            params={"rule_id": "sla-breached-supervisor", "recipient": sup["id"]},
            headers=SUP,
        )
        assert other.json()["total"] == 0
