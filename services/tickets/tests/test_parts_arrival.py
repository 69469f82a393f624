"""PartsArrivedForTicket (parts service) resumes a ticket waiting for parts through the ordinary
resume, once no other reservation of it still waits; redelivery changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tickets_helpers import AGENT, ENG, SUP, body, tickets_app

from aftersales_shared.events import Envelope, PartsArrivedForTicketV1
from aftersales_testing.support import running, runtime_of


def arrival(no: str, still_waiting: int, reservation_id: str) -> Envelope[Any]:
    return Envelope(
        data=PartsArrivedForTicketV1(
            reservation_id=reservation_id,
            ticket_no=no,
            part_no="XK-BRG-6205",
            part_name="主轴轴承",
            quantity=2,
            location_id="VAN-ZHANG",
            arrived_at=datetime.now(UTC),
            still_waiting=still_waiting,
        ),
        subject=no,
    )


async def deliver(app: Any, env: Envelope[Any]) -> bool:
    rt = runtime_of(app)
    sub = next(s for s in rt.inbox.subscriptions.values() if isinstance(env.data, s.accepts))
    return await rt.inbox.handle(sub, env)


async def test_parts_arrival_resumes_a_ticket_waiting_for_parts(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        r = await client.post(
            "/tickets", json=body(customer_name="苏州客户", urgency="normal"), headers=AGENT
        )
        no = r.json()["ticket_no"]
        r = await client.post(
            f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"}
        )
        assert r.status_code == 200, r.text
        await client.post(f"/tickets/{no}/respond", headers=ENG, json={})
        r = await client.post(
            f"/tickets/{no}/pause", headers=ENG, json={"reason": "waiting_parts", "note": "缺轴承"}
        )
        assert r.json()["status"] == "waiting_parts"

        await deliver(app, arrival(no, still_waiting=1, reservation_id="res-1"))
        r = await client.get(f"/tickets/{no}", headers=SUP)
        assert r.json()["status"] == "waiting_parts"  # another part is still on its way

        last = arrival(no, still_waiting=0, reservation_id="res-2")
        await deliver(app, last)
        r = await client.get(f"/tickets/{no}", headers=SUP)
        assert r.json()["status"] == "assigned"
        assert {c["kind"]: c["state"] for c in r.json()["clocks"]}["resolution"] == "running"
        log = (await client.get(f"/tickets/{no}/progress", headers=SUP)).json()
        entries = log["items"] if isinstance(log, dict) else log
        assert any("res-2" in e["text"] and e["author"] == "parts:arrival" for e in entries), (
            entries
        )

        # the same event again, and an arrival for a ticket not waiting: nothing happens
        assert await deliver(app, last) is False
        await deliver(app, arrival(no, still_waiting=0, reservation_id="res-3"))
        r = await client.get(f"/tickets/{no}", headers=SUP)
        assert r.json()["status"] == "assigned"
