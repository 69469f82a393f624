"""SLA clocks of tickets through the HTTP API: breaches fire once across replicas and restarts, a
paused clock still warns and breaches once, an outside subscriber sees the events in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tickets_helpers import (
    AGENT,
    ENG,
    SUP,
    body,
    drain,
    outbox_events,
    stream_types,
    tickets_app,
    time_machine,
)

from aftersales_shared.db import utcnow
from aftersales_testing.support import running, wait_until

pytestmark = pytest.mark.deadlines


async def test_breach_fires_once_per_clock_across_replicas_and_restarts(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        nos = []
        for _ in range(3):
            r = await client.post(
                "/tickets", json=body(customer_name="客户", urgency="critical"), headers=AGENT
            )
            nos.append(r.json()["ticket_no"])
        await client.post(
            f"/tickets/{nos[2]}/acknowledge", headers=AGENT
        )  # one clock met before it was due
        later = utcnow() + timedelta(days=30)
        await drain(time_machine(app, later), time_machine(app, later))
        again = time_machine(
            app, later + timedelta(hours=5)
        )  # "restart": a new replica, past the 4 h escalation
        await drain(again)
        breaches = [e for e in await outbox_events(app, "SlaBreached.v1") if e["ticket_no"] in nos]
        per_clock = {(e["ticket_no"], e["clock"]) for e in breaches}
        assert len(breaches) == len(per_clock)  # never twice for a clock
        assert (nos[2], "acknowledge") not in per_clock and (nos[0], "acknowledge") in per_clock
        assert {c for _, c in per_clock} == {"acknowledge", "response", "onsite", "resolution"}
        escalations = [
            e for e in await outbox_events(app, "SlaEscalated.v1") if e["ticket_no"] in nos
        ]
        assert escalations and all(e["escalation_level"] == 2 for e in escalations)
        assert len(escalations) == len({(e["ticket_no"], e["clock"]) for e in escalations})
        r = await client.get(
            "/tickets", params={"sla_state": "breached", "open_only": True}, headers=SUP
        )
        assert {t["ticket_no"] for t in r.json()["items"]} >= set(nos)
        queue = (await client.get("/queue", headers=SUP)).json()
        assert set(nos) <= {t["ticket_no"] for t in queue["items"]}


async def test_a_paused_clock_that_runs_again_still_warns_and_breaches_once(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        no = (
            await client.post(
                "/tickets", json=body(customer_name="客户", urgency="normal"), headers=AGENT
            )
        ).json()["ticket_no"]
        await client.post(f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"})
        await client.post(f"/tickets/{no}/respond", headers=ENG, json={})
        r = await client.post(
            f"/tickets/{no}/pause", headers=ENG, json={"reason": "waiting_customer"}
        )
        assert {c["kind"]: c["state"] for c in r.json()["clocks"]}["resolution"] == "paused"
        later = utcnow() + timedelta(days=60)
        await drain(time_machine(app, later))  # paused: nothing about resolution may fire
        assert not [
            e for e in await outbox_events(app, "SlaBreached.v1", no) if e["clock"] == "resolution"
        ]
        r = await client.post(f"/tickets/{no}/resume", headers=ENG, json={})
        assert {c["kind"]: c["state"] for c in r.json()["clocks"]}["resolution"] == "running"
        await drain(time_machine(app, later), time_machine(app, later))
        warnings = [
            e for e in await outbox_events(app, "SlaWarning.v1", no) if e["clock"] == "resolution"
        ]
        breaches = [
            e for e in await outbox_events(app, "SlaBreached.v1", no) if e["clock"] == "resolution"
        ]
        assert len(warnings) == 1 and len(breaches) == 1
        assert (
            warnings[0]["warned_at"] < breaches[0]["breached_at"]
            or warnings[0]["warned_at"] == breaches[0]["breached_at"]
        )


async def test_outside_subscriber_sees_opened_warning_breached_completed_in_order(
    databases, own_nats
):
    from aftersales_shared.streams import apply_streams
    from aftersales_testing import natsaccess

    nc = await natsaccess.connect(own_nats.url)
    await apply_streams(nc.jetstream())
    await nc.close()
    app = await tickets_app(databases, own_nats.url)
    async with running(app) as client:
        r = await client.post(
            "/tickets", json=body(customer_name="客户", urgency="normal"), headers=AGENT
        )
        t = r.json()
        no = t["ticket_no"]
        await client.post(f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"})
        response = next(c for c in t["clocks"] if c["kind"] == "response")
        from datetime import datetime

        deadline = datetime.fromisoformat(response["deadline"])
        fired = await time_machine(
            app, deadline - timedelta(minutes=1)
        ).run_due()  # the 75 % warnings
        assert fired >= 1
        assert await time_machine(app, deadline + timedelta(seconds=1)).run_due() >= 1
        await client.post(
            f"/tickets/{no}/complete",
            headers=ENG,
            json={
                "document": "repair_sheet",
                "confirmed_by": "赵工",
                "confirmed_at": utcnow().isoformat(),
                "method": "phone",
                "fault": {"symptom": "NOISE", "cause_category": "wear"},
            },
        )

        async def seen():
            types = await stream_types(own_nats.url, "tickets.>", no)
            return types if "ServiceCompleted" in types else None

        types = await wait_until(seen, what="ServiceCompleted on the stream")
    order = [
        x for x in types if x in ("TicketOpened", "SlaWarning", "SlaBreached", "ServiceCompleted")
    ]
    first = {name: order.index(name) for name in reversed(order)}
    assert (
        first["TicketOpened"]
        < first["SlaWarning"]
        < first["SlaBreached"]
        < first["ServiceCompleted"]
    ), order
    assert order.count("ServiceCompleted") == 1
