"""Corrective and preventive actions (issue 19): linked to tickets and/or a cause, due at close of
business of a working day, open → in_progress → done → verified by someone else (or rejected back),
overdue announced once; lists with filters."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tickets_helpers import AGENT, ENG, SUP, body, drain, outbox_events, tickets_app, time_machine

from aftersales_testing.support import auth, running

SH = ZoneInfo("Asia/Shanghai")
TECH = auth("technical", sub="tech-sun")
OTHER_TECH = auth("technical", sub="tech-qian")
DELIVERY = auth("delivery", sub="dlv-zhou")
SALES = auth("sales", sub="rep-li")
MANAGER = auth("manager", sub="mgr-wu")
# friday-close (Friday 27 November 2026 17:59) + 2 working days → Tuesday 1 December, 18:00
DUE = datetime(2026, 12, 1, 18, 0, tzinfo=SH)


def action(**kw: Any) -> dict[str, Any]:
    return {
        "title": "加严密封件来料检验",
        "owner_department": "delivery",
        "cause_category": "material_supplier",
        "product_line": "XK",
        "failed_part": "SEAL",
        "due_working_days": 2,
        **kw,
    }


async def step(client: Any, no: str, what: str, who: dict, payload: dict | None = None) -> Any:
    return await client.post(f"/corrective-actions/{no}/{what}", json=payload or {}, headers=who)


async def test_an_action_runs_its_course_verified_by_another_and_is_overdue_once(
    databases, streams_ready, clock
):
    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        t = await client.post("/tickets", json=body(customer_name="客户"), headers=AGENT)
        ticket_no = t.json()["ticket_no"]

        # who may open one, and what it must say
        assert (
            await client.post("/corrective-actions", json=action(), headers=ENG)
        ).status_code == 403
        bad = [
            (action(cause_category=None), "ticket"),  # linked to nothing
            (action(ticket_nos=["SV-NONE"]), "SV-NONE"),
            (action(due_working_days=None, due_date="2026-11-28"), "2026-11-30"),  # a Saturday
            (action(due_working_days=None, due_date="2026-11-20"), "past"),
            (action(due_date="2026-12-01"), "either"),
            (action(failed_part="NOPE"), "NOPE"),
        ]
        for payload, says in bad:
            r = await client.post("/corrective-actions", json=payload, headers=TECH)
            assert r.status_code == 422 and says in r.json()["detail"], (payload, r.text)
        r = await client.post(
            "/corrective-actions", json=action(ticket_nos=[ticket_no]), headers=TECH
        )
        assert r.status_code == 201, r.text
        created = r.json()
        no = created["action_no"]
        assert (
            datetime.fromisoformat(created["due_at"]) == DUE and created["due_date"] == "2026-12-01"
        )
        assert created["status"] == "open" and created["ticket_nos"] == [ticket_no]

        # the owner department works on it; another department may not
        assert (await step(client, no, "start", SALES)).status_code == 403
        assert (await step(client, no, "done", DELIVERY, {"result": "x"})).status_code == 409
        r = await step(client, no, "start", DELIVERY, {"note": "已通知供应商"})
        assert r.status_code == 200 and r.json()["status"] == "in_progress"

        # past its due date, on two replicas: announced once, to nobody again later
        await drain(time_machine(app, DUE - timedelta(minutes=1)))
        assert await outbox_events(app, "CorrectiveActionOverdue.v1", no) == []
        after = DUE + timedelta(minutes=1)
        await drain(time_machine(app, after), time_machine(app, after))
        await drain(time_machine(app, after + timedelta(days=10)))
        [overdue] = await outbox_events(app, "CorrectiveActionOverdue.v1", no)
        assert {
            k: overdue[k] for k in ("owner_department", "status", "due_date", "ticket_nos")
        } == {
            "owner_department": "delivery",
            "status": "in_progress",
            "due_date": "2026-12-01",
            "ticket_nos": [ticket_no],
        }
        assert overdue["cause_category"] == "material_supplier" and overdue["product_line"] == "XK"

        # done by a manager; the same manager may not verify it; someone else rejects, then accepts
        r = await step(client, no, "done", MANAGER, {"result": "更换供应商，来料全检"})
        assert r.status_code == 200 and r.json()["done_by"] == "mgr-wu"
        r = await step(client, no, "verify", MANAGER)
        assert r.status_code == 409 and "someone other" in r.json()["detail"]
        assert (await step(client, no, "verify", DELIVERY)).status_code == 403
        r = await step(client, no, "reject", TECH, {"reason": "抽检仍有渗漏"})
        assert r.status_code == 200 and r.json()["status"] == "in_progress"
        assert r.json()["rejections"] == 1
        await drain(time_machine(app, after + timedelta(days=20)))  # already announced: not again
        assert len(await outbox_events(app, "CorrectiveActionOverdue.v1", no)) == 1
        assert (await step(client, no, "done", DELIVERY, {"result": "二次整改"})).status_code == 200
        r = await step(client, no, "verify", TECH, {"note": "连续三批合格"})
        assert r.status_code == 200 and r.json()["status"] == "verified", r.text
        assert r.json()["verified_by"] == "tech-sun"
        assert [h["action"] for h in r.json()["history"]] == [
            "created",
            "started",
            "overdue",
            "done",
            "rejected",
            "done",
            "verified",
        ]
        # each step told the reports (and, when opened, the owner department): one event per step
        changes = await outbox_events(app, "CorrectiveActionChanged.v1", no)
        assert [(c["change"], c["status"]) for c in changes] == [
            ("created", "open"),
            ("started", "in_progress"),
            ("done", "done"),
            ("rejected", "in_progress"),
            ("done", "done"),
            ("verified", "verified"),
        ]
        assert changes[0]["owner_department"] == "delivery" and changes[0]["ticket_nos"] == [
            ticket_no
        ]
        assert changes[3]["note"] == "抽检仍有渗漏" and changes[-1]["changed_by"] == "tech-sun"

        # lists filter by what the departments ask
        for params, expected in (
            ({"ticket_no": ticket_no}, [no]),
            ({"ticket_no": ticket_no, "kind": "corrective"}, [no]),
            ({"ticket_no": ticket_no, "kind": "preventive"}, []),
            ({"status": "verified", "owner_department": "delivery"}, [no]),
            ({"overdue": True, "cause_category": "material_supplier"}, [no]),
            ({"status": "open"}, []),
            ({"owner_department": "sales"}, []),
        ):
            r = await client.get("/corrective-actions", params=params, headers=SALES)
            assert [a["action_no"] for a in r.json()["items"]] == expected, params
        assert (
            await client.get("/corrective-actions", headers=auth("dealer", dealer_id="D"))
        ).status_code == 403


async def test_done_in_time_is_never_overdue_but_rejected_after_its_due_date_is(
    databases, streams_ready, clock
):
    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        nos = []
        for owner in ("technical", "purchasing"):
            r = await client.post(
                "/corrective-actions",
                json=action(owner_department=owner, owner_id="buyer-ma", kind="preventive"),
                headers=SUP,
            )
            assert r.status_code == 201, r.text
            nos.append(r.json()["action_no"])
        kept, reopened = nos
        # the technical department does its own; purchasing has no role: its named owner does
        for no, who in ((kept, TECH), (reopened, auth("engineer", sub="buyer-ma"))):
            assert (await step(client, no, "start", who)).status_code == 200
            assert (await step(client, no, "done", who, {"result": "已完成"})).status_code == 200
        after = DUE + timedelta(minutes=1)
        await drain(time_machine(app, after), time_machine(app, after))
        assert await outbox_events(app, "CorrectiveActionOverdue.v1") == []
        # rejected after its due date: it was not done in time after all — overdue, once
        assert (
            await step(client, reopened, "reject", OTHER_TECH, {"reason": "无效"})
        ).status_code == 200
        later = after + timedelta(hours=1)
        await drain(time_machine(app, later), time_machine(app, later))
        await drain(time_machine(app, later + timedelta(days=5)))
        [overdue] = await outbox_events(app, "CorrectiveActionOverdue.v1")
        assert overdue["action_no"] == reopened and overdue["owner_department"] == "purchasing"
        assert overdue["kind"] == "preventive" and overdue["owner_id"] == "buyer-ma"
