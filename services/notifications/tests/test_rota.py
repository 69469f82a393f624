"""The duty rota: a 特急 ticket at 20:00 on 除夕 reaches the supervisor on duty, not every
supervisor; in working time (a 调休 Saturday included) the whole group hears; nobody on duty: the
whole group. Every moment is named (aftersales_testing.clock.MOMENTS), never the wall clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from notif_support import make_app, recipient, streams, ticket_opened, uid

from aftersales_testing.clock import MOMENTS
from aftersales_testing.support import auth, running
from notifications.usecases import planning

SUP = auth("service_supervisor", sub="sup-1")
FESTIVAL = MOMENTS["spring-festival-eve"].at  # 除夕 2026 20:00, inside the nine-day holiday
MAKE_UP = MOMENTS["make-up-saturday"].at  # Saturday 10:00, a 调休 working day
SUNDAY = MOMENTS["sunday-evening"].at  # Sunday 20:57

pytestmark = pytest.mark.deadlines


async def test_the_rota_decides_who_hears_a_duty_alert_outside_working_time(
    databases, own_nats, servers
):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    a, b = f"sup-a-{ref}", f"sup-b-{ref}"
    async with running(app) as client:
        for rid, groups in ((a, ["service_supervisor"]), (b, ["service_supervisor"])):
            body = recipient(rid, groups=groups, quiet_hours=None)
            assert (await client.post("/recipients", json=body, headers=SUP)).status_code == 201
        eng = recipient(f"eng-{ref}", groups=["engineer"])
        assert (await client.post("/recipients", json=eng, headers=SUP)).status_code == 201
        shift = {
            "group": "service_supervisor",
            "recipient_id": b,
            "starts_at": (FESTIVAL - timedelta(hours=2)).isoformat(),
            "ends_at": (FESTIVAL + timedelta(hours=12)).isoformat(),
            "note": "除夕值班",
        }
        r = await client.post("/duty-shifts", json=shift, headers=SUP)
        assert r.status_code == 201, r.text
        shift_id = r.json()["id"]
        for wrong, reason in (
            ({"ends_at": shift["starts_at"]}, "结束时间须晚于开始时间"),
            ({"recipient_id": f"eng-{ref}"}, "不在分组service_supervisor中"),
            ({"recipient_id": "nobody"}, "未登记或已停用"),
            ({"ends_at": (FESTIVAL + timedelta(days=40)).isoformat()}, "最长31天"),
        ):
            r = await client.post("/duty-shifts", json=shift | wrong, headers=SUP)
            assert r.status_code == 422 and reason in r.text, r.text
        r = await client.post("/duty-shifts", json=shift, headers=auth("engineer"))
        assert r.status_code == 403

        async def on_duty(at):  # type: ignore[no-untyped-def]
            r = await client.get(
                "/duty-shifts/on-duty",
                params={"group": "service_supervisor", "at": at.isoformat()},
                headers=SUP,
            )
            assert r.status_code == 200, r.text
            mine = [p["id"] for p in r.json()["recipients"] if p["id"] in (a, b)]
            return r.json()["working_time"], mine

        assert await on_duty(FESTIVAL) == (False, [b])  # the holiday night: the rota
        assert await on_duty(MAKE_UP) == (True, [a, b])  # a 调休 Saturday morning: working time
        assert await on_duty(SUNDAY) == (False, [a, b])  # nobody on duty: everyone, not no one
        listed = await client.get("/duty-shifts", params={"at": FESTIVAL.isoformat()}, headers=SUP)
        assert [s["id"] for s in listed.json()["items"]] == [shift_id]

        # a critical ticket planned at that moment: the duty rule tells B alone
        critical = ticket_opened(ref, urgency="critical", tel="13800138000")
        rt = app.state["runtime"]
        async with rt.sessions.begin() as session:
            await planning.plan_notifications(session, critical, app.state["notifier"], FESTIVAL)
        r = await client.get("/deliveries", params={"event_id": critical.id}, headers=SUP)
        duty = [d for d in r.json()["items"] if d["rule_id"] == "ticket-opened-critical-duty"]
        assert {d["recipient_key"] for d in duty} == {b}
        assert all(d["urgent"] for d in duty)

        assert (await client.delete(f"/duty-shifts/{shift_id}", headers=SUP)).status_code == 204
        assert (await client.delete(f"/duty-shifts/{shift_id}", headers=SUP)).status_code == 404
        assert await on_duty(FESTIVAL) == (False, [a, b])
        # who was put on duty and taken off, by whom, stays in the person's history
        r = await client.get(f"/recipients/{b}/history", headers=SUP)
        shifts = [h for h in r.json() if h["action"].startswith("shift_")]
        assert [h["action"] for h in shifts] == ["shift_added", "shift_removed"], r.text
        assert all(h["changes"]["shift_id"] == shift_id for h in shifts)
        assert shifts[1]["changes"]["note"] == "除夕值班" and shifts[1]["changed_by"] == "sup-1"
