"""Complaints (issue 19 item 2) by the default rules, over real NATS, SMTP and an SMS gateway: a
missed step reaches the complaint's owner (the `owner` selector: a registered recipient by id) and
the supervisors; an escalation reaches management and the supervisors; the customer gets the time
limit told and the proposal with its confirmation link, in clear only in the message itself."""

from __future__ import annotations

import json

from notif_support import all_deliveries, from_sample, make_app, phone, recipient, streams, uid

from aftersales_shared.events import Contact, Envelope
from aftersales_shared.sealing import dev_public_key, mask_link, seal
from aftersales_testing.support import auth, publish, running, wait_until

SUP = auth("service_supervisor", sub="sup-1")


async def test_complaint_events_reach_owner_supervisors_management_and_the_customer(
    databases, own_nats, servers
):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    awake = {"quiet_hours": None, "channels": ["sms"]}
    people = {
        "owner": recipient(f"own-{ref}", groups=[], **awake),  # the complaint's supervisor
        "sup": recipient(f"sup-{ref}", groups=["service_supervisor"], **awake),
        "mgr": recipient(f"mgr-{ref}", groups=["manager"], **awake),
        "tech": recipient(f"tec-{ref}", groups=["technical"], **awake),
    }
    no, tel = f"SV-{ref}", phone()
    contact = Contact(name="王建国", phone=tel)
    token = "Tk" + ref * 5 + "Z"
    link = f"https://tickets.example.cn/c/{token}"
    events = {
        "overdue": from_sample("ComplaintOverdue", ticket_no=no, owner_id=people["owner"]["id"]),
        "escalated": from_sample("ComplaintEscalated", ticket_no=no),
        "serious": from_sample("ComplaintClassified", ticket_no=no, level="serious"),
        "told": from_sample("ComplaintLimitTold", ticket_no=no, contact=contact),
        "proposed": from_sample(
            "ComplaintResolutionProposed",
            ticket_no=no,
            contact=contact,
            link_masked=mask_link(link),
            link_sealed=seal(dev_public_key(), link),
        ),
    }
    # one subject each: alerts about one subject to one person within the digest window would wait
    # to go out together
    events = {what: Envelope(data=env.data, subject=f"{no}-{what}") for what, env in events.items()}
    expected = {
        "overdue": {people["owner"]["id"], people["sup"]["id"]},
        "escalated": {people["mgr"]["id"], people["sup"]["id"]},
        "serious": {people["mgr"]["id"], people["sup"]["id"]},
        "told": {f"contact:+86{tel}"},
        "proposed": {f"contact:+86{tel}"},
    }
    async with running(app) as client:
        for body in people.values():
            r = await client.post("/recipients", json=body, headers=SUP)
            assert r.status_code == 201, r.text
        for env in events.values():
            await publish(own_nats.url, env)
        for what, env in events.items():
            rows = await wait_until(
                lambda env=env, n=len(expected[what]): all_deliveries(
                    client, event_id=env.id, status="sent", channel="sms", n=n
                ),
                what=f"{what} sent to {expected[what]}",
            )
            assert {r["recipient_key"] for r in rows} == expected[what], what
        sms: dict[str, list[str]] = {}
        for r in gw.accepted:
            sms.setdefault(r.body["to"], []).append(r.body["text"])
        customer = " ".join(sms[f"+86{tel}"])
        assert "2026-11-25" in customer and link in customer  # the promise; the link in clear
        [to_owner] = sms[f"+86{people['owner']['phone']}"]
        assert no in to_owner and "调查结论" in to_owner and "已逾期" in to_owner
        assert f"+86{people['tech']['phone']}" not in sms  # nobody else
        assert any(
            "严重投诉" in text and no in text for text in sms[f"+86{people['mgr']['phone']}"]
        )
        rows = await all_deliveries(client, event_id=events["proposed"].id, channel="sms", n=1)
        assert rows is not None and token not in json.dumps(rows)  # staff see the masked link
