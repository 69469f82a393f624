"""Deadlines (card reminder/overdue, 2-hour arrangement, part returns, stocking plans) and consumed
events."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from aftersales_shared.db import utcnow
from aftersales_shared.events import Envelope, registry
from aftersales_shared.events.compat import SAMPLES_DIR
from aftersales_shared.scheduler import Scheduler
from aftersales_testing.support import migrated, publish, running, runtime_of, wait_until
from dealers import messaging
from dealers.app import create_app
from dealers.models import MeasurementRow
from dealers.settings import DealersSettings

SAMPLES = SAMPLES_DIR


def _event(name: str, **fields) -> Envelope:
    sample = json.loads((SAMPLES / f"cn.aftersales.{name}.v1.json").read_text())
    cls = registry.get(sample["headers"]["ce-type"])
    return Envelope(data=cls.model_validate(sample["body"] | fields), source="/tests")


async def _client(app):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def _measured(app, dealer_id: str) -> dict[str, int]:
    async with runtime_of(app).sessions() as s:
        rows = (
            await s.execute(
                select(MeasurementRow.kind, func.count())
                .where(MeasurementRow.dealer_id == dealer_id)
                .group_by(MeasurementRow.kind)
            )
        ).all()
    return dict(rows)


pytestmark = pytest.mark.deadlines


async def test_deadlines_fire_once_with_their_events(databases, kit, clock):
    clock.start("friday-close")
    app = create_app(
        DealersSettings(
            database_url=await migrated(databases, "dealers"), nats_url="nats://127.0.0.1:1"
        )
    )
    async with await _client(app) as c:
        a_id, a = await kit.new_dealer(c)
        b_id, _ = await kit.new_dealer(c)
        forgotten = await kit.sell(c, a, days_ago=5)
        carded = await kit.sell(c, a, days_ago=15)
        await kit.card(c, a, carded)
        on_time = await kit.repaired(c, a, carded)  # parts owed back by the next fixed date
        r = await c.post(
            "/repair-records",
            json={
                "serial_no": carded,
                "kind": "warranty",
                "requested_at": (utcnow() - timedelta(days=10)).isoformat(),
                "fault_description": "漏油",
            },
            headers=a,
        )
        waiting = r.json()
        season = kit.uid("S")
        today = kit.today()
        r = await c.post(
            "/seasons",
            json={"code": season, "name": "春季", "starts_on": str(today + timedelta(days=40))},
            headers=kit.MANAGER,
        )
        assert r.json()["plan_due"] == str(
            today + timedelta(days=10)
        )  # 30 days before the season starts
        r = await c.post(
            "/stocking-plans",
            json={
                "season_code": season,
                "lines": [{"part_no": "P-1", "name": "滤芯", "quantity": 20}],
            },
            headers=a,
        )
        assert r.status_code == 201 and r.json()["on_time"] is True

        clock = utcnow() + timedelta(days=200)
        scheduler = Scheduler(runtime_of(app).sessions, clock=lambda: clock)
        messaging.register_deadlines(scheduler)
        assert await scheduler.run_due() >= 5
        assert await scheduler.run_due() == 0

        soon = await kit.outbox_events(app, "CardDueSoon")
        overdue = await kit.outbox_events(app, "CardOverdue")
        assert [e["serial_no"] for e in soon] == [forgotten] and [
            e["serial_no"] for e in overdue
        ] == [forgotten]
        late_service = await kit.outbox_events(app, "WarrantyServiceOverdue")
        assert [e["record_id"] for e in late_service] == [waiting["id"]]
        returns = await kit.outbox_events(app, "PartsReturnOverdue")
        assert [(e["dealer_id"], e["repair_record_ids"], e["parts"]) for e in returns] == [
            (a_id, [on_time["id"]], 3)
        ]
        missed = await kit.outbox_events(app, "StockingPlanMissed")
        assert [e["dealer_id"] for e in missed if e["season_code"] == season] == [b_id]

        r = await c.get(f"/units/{forgotten}", headers=a)
        assert r.json()["card_status"] == "overdue"
        r = await c.get(f"/repair-records/{on_time['id']}", headers=a)
        assert {p["status"] for p in r.json()["parts"]} == {"overdue"} and r.json()[
            "claim_status"
        ] == "awaiting_return"
        # arranging late afterwards counts once; overdue parts can still be shipped
        r = await c.post(
            f"/repair-records/{waiting['id']}/arrange",
            json={
                "engineer": "李师傅",
                "appointment_at": datetime.now(kit.TZ).isoformat(),
                "user_informed": True,
                "reported_to_technical": True,
            },
            headers=a,
        )
        assert r.json()["arranged_late"] is True
        r = await c.post("/part-shipments", json={"record_ids": [on_time["id"]]}, headers=a)
        assert r.status_code == 201 and r.json()["parts"] == 2
        assert await _measured(app, a_id) == {
            "late_card": 1,
            "late_arrangement": 1,
            "late_return": 1,
        }
        assert await _measured(app, b_id) == {"missing_stock_plan": 1}


async def test_arrange_clock_runs_on_the_dealers_working_calendar(databases, kit, clock):
    clock.at("2026-11-20T17:30:00+08:00")  # half an hour after the request below
    app = create_app(
        DealersSettings(
            database_url=await migrated(databases, "dealers"), nats_url="nats://127.0.0.1:1"
        )
    )
    async with await _client(app) as c:
        _, office = await kit.new_dealer(c)
        _, always = await kit.new_dealer(c, calendar_id="24x7")
        friday_17h = "2026-11-20T17:00:00+08:00"
        for token, due in ((office, "2026-11-23T02:00:00Z"), (always, "2026-11-20T11:00:00Z")):
            serial = await kit.sell(c, token, days_ago=2)
            r = await c.post(
                "/repair-records",
                json={
                    "serial_no": serial,
                    "kind": "paid",
                    "requested_at": friday_17h,
                    "fault_description": "报警",
                },
                headers=token,
            )
            assert r.status_code == 201, r.text
            assert datetime.fromisoformat(r.json()["arrange_due"]) == datetime.fromisoformat(due)


async def test_events_feed_units_and_measured_service_then_a_manager_confirms_demotion(
    databases, streams_ready, kit
):
    app = create_app(
        DealersSettings(database_url=await migrated(databases, "dealers"), nats_url=streams_ready)
    )
    async with running(app) as c:
        dealer_id, dealer = await kit.new_dealer(c)
        contract = kit.uid("HT")
        signed = _event(
            "contracts.ContractSigned",
            contract_no=contract,
            dealer_id=dealer_id,
            # signed now: its cards are not yet due, whatever the day
            signed_at=utcnow().isoformat(),
            products=[
                {"model": "XK-200", "serial_no": f"{contract}-1", "warranty_end": "2029-01-01"},
                {"model": "XK-300", "serial_no": f"{contract}-2", "warranty_end": "2029-01-01"},
            ],
        )
        await publish(streams_ready, signed)
        await publish(
            streams_ready, signed, msg_id=str(uuid.uuid4())
        )  # the same event again, past JetStream's dedupe

        async def units():
            r = await c.get("/units", params={"dealer_id": dealer_id}, headers=kit.MANAGER)
            return r.json()["total"] == 2 and r.json()

        page = await wait_until(units, what="units learnt from ContractSigned")
        assert {u["source"] for u in page["items"]} == {"contract"}
        assert all(u["card_status"] == "pending" for u in page["items"])

        for _ in range(6):
            ticket = str(uuid.uuid4())
            await publish(
                streams_ready,
                _event(
                    "tickets.TicketOpened",
                    ticket_id=ticket,
                    dealer_id=dealer_id,
                    opened_at=utcnow().isoformat(),
                ),
            )
            await publish(
                streams_ready,
                _event(
                    "tickets.SlaBreached",
                    ticket_id=ticket,
                    dealer_id=dealer_id,
                    breached_at=utcnow().isoformat(),
                ),
            )
        await publish(
            streams_ready,
            _event(
                "tickets.ServiceCompleted",
                ticket_id=str(uuid.uuid4()),
                dealer_id=dealer_id,
                completed_at=utcnow().isoformat(),
            ),
        )
        for score in (1, 2, 3, 2, 2):
            await publish(
                streams_ready,
                _event(
                    "surveys.SurveyAnswered",
                    survey_id=str(uuid.uuid4()),
                    dealer_id=dealer_id,
                    answered_at=utcnow().isoformat(),
                    efficiency=score,
                    attitude=score,
                    professionalism=score,
                ),
            )
        await publish(
            streams_ready,
            _event("tickets.SlaBreached", ticket_id=str(uuid.uuid4()), dealer_id=None),
        )

        async def measured():
            r = await c.get(f"/dealers/{dealer_id}/measures", headers=dealer)
            m = r.json()
            return (
                m["sla_breaches"] == 6
                and m["surveys"] == 5
                and m["completions"] == 1
                and m["tickets"] == 6
                and m
            )

        m = await wait_until(measured, what="measured service from events")
        assert m["mean_score"] == "2.00"
        assert len(m["demotion_reasons"]) == 2

        r = await c.post(f"/dealers/{dealer_id}/grade-reviews", json={}, headers=dealer)
        assert r.status_code == 403
        r = await c.post(f"/dealers/{dealer_id}/grade-reviews", json={}, headers=kit.MANAGER)
        assert r.status_code == 201 and (r.json()["current_grade"], r.json()["proposed_grade"]) == (
            "B",
            "C",
        )
        review = r.json()["id"]
        r = await c.get(f"/dealers/{dealer_id}", headers=dealer)
        assert r.json()["grade"] == "B", "a proposal alone changes nothing"
        r = await c.post(
            f"/grade-reviews/{review}/decision",
            json={"confirm": True, "note": "季度考核确认"},
            headers=kit.MANAGER,
        )
        assert r.status_code == 200 and r.json()["status"] == "confirmed"
        r = await c.post(
            f"/grade-reviews/{review}/decision",
            json={"confirm": False, "note": "再来一次"},
            headers=kit.MANAGER,
        )
        assert r.status_code == 409
        history = (await c.get(f"/dealers/{dealer_id}/grade-history", headers=dealer)).json()
        assert [(h["from_grade"], h["to_grade"]) for h in history] == [(None, "B"), ("B", "C")]
        assert "季度考核确认" in history[1]["reason"]
