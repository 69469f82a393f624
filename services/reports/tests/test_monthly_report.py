"""The monthly report from events: figures checked by hand against a seeded month, the drill-down
behind them, redelivery, the month's edges in the business time zone, roles and bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from report_events import (
    acknowledged,
    action_changed,
    answered,
    assigned,
    breached,
    classified,
    complaint_overdue,
    completed,
    contract,
    from_sample,
    opened,
)

from aftersales_testing.support import auth

# Tuesday 13 Oct 2026, 10:00 in Shanghai: a working day, inside business hours
TUESDAY_10 = datetime(2026, 10, 13, 2, 0, tzinfo=UTC)
MANAGER = auth("manager")


async def seed_october(kit: Any) -> dict[str, Any]:
    """XK-200 in three batches of 100 units; October: 1 + 1 + 12 failures, 2 questions; 4
    resolution breaches; each ticket assigned one working hour after it was opened."""
    batches = {"B1": 1, "B2": 1, "B3": 12}
    tickets = []
    for batch, failures in batches.items():
        serials = [f"XK-{batch}-{i:03d}" for i in range(100)]
        assert await kit.deliver(
            contract(serials, "XK-200", batch, "2026-06-01T02:00:00Z", dealer_id="D-ZJ-01")
        )
        for i in range(failures):
            tickets.append(opened(TUESDAY_10, serial_no=serials[i], dealer_id="D-ZJ-01"))
    tickets += [opened(TUESDAY_10, "usage_question"), opened(TUESDAY_10, "usage_question")]
    for env in tickets:
        assert await kit.deliver(env)
        assert await kit.deliver(assigned(env.data, TUESDAY_10 + timedelta(hours=1)))
    late = [breached(env.data) for env in tickets[:4]]
    for env in late:
        assert await kit.deliver(env)
    # 00:30 on 1 November in Shanghai is still 31 October in UTC: a November ticket
    assert await kit.deliver(opened(datetime(2026, 10, 31, 16, 30, tzinfo=UTC), "usage_question"))
    return {"tickets": tickets, "late": late}


async def report(client: Any, month: str = "2026-10", **params: Any) -> dict[str, Any]:
    r = await client.get(f"/reports/monthly/{month}", params=params, headers=MANAGER)
    assert r.status_code == 200, r.text
    return r.json()


async def test_figures_match_a_count_by_hand(make_kit):
    kit = await make_kit()
    await seed_october(kit)
    async with kit.client() as client:
        data = await report(client)
    assert data["volume"]["total"] == 16
    assert {c["key"]: c["count"] for c in data["volume"]["by_type"]} == {
        "quality_issue": 14,
        "usage_question": 2,
    }
    failures = data["failures"]
    assert failures["units_in_service"] == 300 and failures["failures"] == 14
    (model,) = failures["by_model"]
    assert model["per_thousand"] == round(1000 * 14 / 300, 2) == 46.67
    batches = {b["batch_no"]: b for b in failures["by_batch"]}
    assert batches["B3"]["per_thousand"] == 120.0
    # p = 14/300; limit = p + 3·√(p(1−p)/100) = 0.1099: B3 (0.12) is above it, B1 (0.01) is not
    assert batches["B3"]["upper_limit_per_thousand"] == pytest.approx(109.9, abs=0.1)
    assert [b["batch_no"] for b in failures["abnormal_batches"]] == ["B3"]
    resolution = next(c for c in data["sla"]["by_clock"] if c["clock"] == "resolution")
    assert (resolution["tickets"], resolution["breached"], resolution["compliance"]) == (
        16,
        4,
        0.75,
    )
    assert data["times"]["response"]["median_minutes"] == 60.0
    assert data["times"]["response"]["p90_minutes"] == 60.0
    assert data["backlog"]["open_at_month_end"] == 16


async def test_the_tickets_behind_a_figure_are_as_many_as_it_counts(make_kit):
    kit = await make_kit()
    seeded = await seed_october(kit)
    async with kit.client() as client:
        data = await report(client)
        b3 = next(b for b in data["failures"]["by_batch"] if b["batch_no"] == "B3")
        r = await client.get(
            "/reports/monthly/2026-10/tickets",
            params={"figure": b3["figure"], "limit": 5},
            headers=MANAGER,
        )
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == 12 and len(page["items"]) == 5
        assert {t["batch_no"] for t in page["items"]} == {"B3"}
        r = await client.get(
            "/reports/monthly/2026-10/tickets",
            params={"figure": "sla_breached:resolution", "limit": 50},
            headers=MANAGER,
        )
        assert {t["ticket_id"] for t in r.json()["items"]} == {
            e.data.ticket_id for e in seeded["late"]
        }
        r = await client.get(
            "/reports/monthly/2026-10/tickets", params={"figure": "nonsense"}, headers=MANAGER
        )
        assert r.status_code == 422 and "unknown figure" in r.json()["detail"]


async def test_a_redelivered_event_changes_no_figure(make_kit):
    kit = await make_kit()
    seeded = await seed_october(kit)
    async with kit.client() as client:
        before = await report(client)
        # the same events again: the inbox has handled them (False), nothing changes
        for env in [*seeded["tickets"][:3], *seeded["late"]]:
            assert await kit.deliver(env) is False
        after = await report(client)
    before.pop("generated_at"), after.pop("generated_at")
    assert after == before


async def test_completion_classification_and_satisfaction(make_kit):
    kit = await make_kit()
    seeded = await seed_october(kit)
    done_at = TUESDAY_10 + timedelta(hours=3)
    for env in seeded["tickets"][:3]:
        cause = "design" if env is seeded["tickets"][0] else "wear"
        assert await kit.deliver(
            completed(env.data, done_at, cause_category=cause, failed_part="主轴轴承")
        )
        assert await kit.deliver(answered(env.data, done_at + timedelta(hours=1), (5, 4, 3)))
    async with kit.client() as client:
        data = await report(client)
    causes = {c["key"]: c for c in data["pareto"]["causes"]}
    assert (causes["wear"]["count"], causes["design"]["count"]) == (2, 1)
    assert causes["wear"]["vital_few"] and causes["design"]["cumulative"] == 1.0
    # 10:00 → 13:00 on the default calendar (09–12, 13–18): the lunch hour is not working time
    assert data["times"]["resolution"]["median_minutes"] == 120.0
    assert data["satisfaction"]["answers"] == 3 and data["satisfaction"]["overall"] == 4.0
    (engineer,) = data["engineers"]
    assert engineer["completed"] == 3 and engineer["first_time_fix"] == 1.0
    assert data["backlog"]["open_at_month_end"] == 13


async def test_the_month_is_the_business_time_zones(make_kit):
    kit = await make_kit()
    await seed_october(kit)
    async with kit.client() as client:
        november = await report(client, "2026-11")
    assert november["volume"]["total"] == 1


async def test_filters_narrow_every_figure(make_kit):
    kit = await make_kit()
    await seed_october(kit)
    async with kit.client() as client:
        mine = await report(client, dealer_id="D-ZJ-01")
        other = await report(client, dealer_id="D-NOBODY")
    assert mine["volume"]["total"] == 14 and mine["failures"]["units_in_service"] == 300
    assert other["volume"]["total"] == 0 and other["failures"]["per_thousand"] is None


@pytest.mark.parametrize("role,status", [("engineer", 403), ("service_agent", 403), ("admin", 200)])
async def test_only_managers_supervisors_and_admins_read_reports(make_kit, role, status):
    kit = await make_kit()
    async with kit.client() as client:
        r = await client.get("/reports/monthly/2026-10", headers=auth(role))
    assert r.status_code == status, r.text


@pytest.mark.parametrize("month", ["2026-13", "26-10", "2026-1"])
async def test_a_bad_month_is_refused_with_a_reason(make_kit, month):
    kit = await make_kit()
    async with kit.client() as client:
        r = await client.get(f"/reports/monthly/{month}", headers=MANAGER)
    assert r.status_code == 400, r.text


async def test_corrective_actions_opened_done_and_verified_in_the_month(make_kit):
    """Counted from CorrectiveActionChanged: distinct actions per step in the month; a step in
    another month or product line is not counted; a redelivered step changes nothing."""
    kit = await make_kit()
    a, b, c = (f"{i}-{uuid.uuid4()}" for i in "abc")
    steps = [
        action_changed(a, "created", "open", TUESDAY_10),
        action_changed(a, "done", "done", TUESDAY_10 + timedelta(days=2)),
        action_changed(a, "rejected", "in_progress", TUESDAY_10 + timedelta(days=3)),
        action_changed(a, "done", "done", TUESDAY_10 + timedelta(days=4)),  # done twice: once
        action_changed(a, "verified", "verified", TUESDAY_10 + timedelta(days=5)),
        action_changed(b, "created", "open", TUESDAY_10 + timedelta(days=1)),
        action_changed(c, "created", "open", TUESDAY_10, product_line="HX"),
        action_changed(c, "done", "done", datetime(2026, 11, 2, 2, 0, tzinfo=UTC)),  # November
    ]
    for env in steps:
        assert await kit.deliver(env)
    assert await kit.deliver(steps[0]) is False
    async with kit.client() as client:
        ca = (await report(client))["corrective_actions"]
        assert (ca["opened"], ca["done"], ca["verified"], ca["rejected"]) == (3, 1, 1, 1)
        xk = (await report(client, product_line="XK"))["corrective_actions"]
        assert (xk["opened"], xk["done"]) == (2, 1)
        november = (await report(client, "2026-11"))["corrective_actions"]
        assert (november["opened"], november["done"]) == (0, 1)


async def test_complaints_by_type_and_level_as_last_classified(make_kit):
    """Complaints opened in the month by what they are about and their level: the latest
    classification wins whatever order the events arrive in; escalations and missed steps counted
    once each, a redelivery changes nothing; each figure drills down to its complaints."""
    kit = await make_kit()
    t = [opened(TUESDAY_10, "complaint").data for _ in range(4)]
    later = TUESDAY_10 + timedelta(hours=2)
    events = [
        *[opened(TUESDAY_10, "complaint", ticket_id=x.ticket_id, ticket_no=x.ticket_no) for x in t],
        classified(t[0], "opened", "general", TUESDAY_10, "repair_quality"),
        # typed later, but delivered before the earlier re-grading: the later one stands
        classified(t[1], "typed", "major", later, "parts_supply"),
        classified(t[1], "level_changed", "major", TUESDAY_10 + timedelta(hours=1)),
        classified(t[1], "opened", "general", TUESDAY_10),
        classified(t[2], "opened", "major", TUESDAY_10, "repair_quality"),
        classified(t[2], "escalated", "serious", later, "repair_quality"),
        complaint_overdue(t[2], "limit", later),
        complaint_overdue(t[2], "investigation", later + timedelta(hours=1)),
        # t[3]: a complaint nobody has classified yet (its events not arrived): type unknown
    ]
    for env in events:
        assert await kit.deliver(env)
    assert not await kit.deliver(events[-1])  # redelivered: nothing changes
    async with kit.client() as client:
        data = await report(client)
        c = data["complaints"]
        assert c["total"] == 4
        assert {r["key"]: r["count"] for r in c["by_type"]} == {
            "repair_quality": 2,
            "parts_supply": 1,
            "未知": 1,
        }
        assert {r["key"]: r["count"] for r in c["by_level"]} == {
            "general": 1,
            "major": 1,
            "serious": 1,
            "未知": 1,
        }
        assert (c["escalated"], c["steps_overdue"]) == (1, 2)
        r = await client.get(
            "/reports/monthly/2026-10/tickets",
            params={"figure": "complaint_type:repair_quality"},
            headers=MANAGER,
        )
        assert {i["ticket_no"] for i in r.json()["items"]} == {t[0].ticket_no, t[2].ticket_no}
        r = await client.get(
            "/reports/monthly/2026-10/tickets",
            params={"figure": "complaints_escalated"},
            headers=MANAGER,
        )
        assert [i["ticket_no"] for i in r.json()["items"]] == [t[2].ticket_no]
        csv = (await client.get("/reports/monthly/2026-10/csv", headers=MANAGER)).text
        assert "投诉类型与等级" in csv and "配件供应" in csv


async def test_each_dealer_s_three_guarantees_measures_in_the_month(make_kit):
    """Per dealer: cards registered (on time, warranty not recognised), cards overdue, part
    returns and warranty services overdue, deductions and their amount — October's only."""
    kit = await make_kit()
    oct_ = {"registered_at": "2026-10-12T02:00:00Z"}
    events = [
        from_sample("WarrantyCardRegistered", card_id="c1", on_time=True, **oct_),
        from_sample("WarrantyCardRegistered", card_id="c2", on_time=False, **oct_),
        from_sample(
            "WarrantyCardRegistered", card_id="c3", warranty_recognised=False, on_time=True, **oct_
        ),
        from_sample("CardOverdue", serial_no="SN-LATE", due_date="2026-10-20"),
        from_sample("PartsReturnOverdue", due_date="2026-10-31"),
        from_sample("WarrantyServiceOverdue", arrange_due="2026-10-21T04:00:00Z"),
        from_sample("DeductionIssued", amount="1200.50", confirmed_at="2026-10-28T02:00:00Z"),
        from_sample("DeductionIssued", notice_id="dn-2", confirmed_at="2026-11-02T02:00:00Z"),
    ]
    for env in events:
        assert await kit.deliver(env)
    assert not await kit.deliver(events[3])
    async with kit.client() as client:
        [dealer] = (await report(client))["dealers"]
    assert dealer["dealer_id"] == "D-ZJ-01"
    assert {k: dealer[k] for k in dealer if k not in ("name", "region", "figure")} == {
        "dealer_id": "D-ZJ-01",
        "tickets": 0,
        "cards_registered": 3,
        "cards_on_time": 2,
        "cards_not_recognised": 1,
        "cards_overdue": 1,
        "parts_return_overdue": 1,
        "warranty_service_overdue": 1,
        "deductions": 1,
        "deduction_amount": "1200.50",
        "cards_on_time_rate": 0.6667,
    }


async def test_a_report_is_computed_once_per_read_model_version(make_kit):
    """Its formats and a second reader get the figures computed once; the next event that changes
    the read model makes the next request compute them again (and see the new ticket)."""
    kit = await make_kit()
    await seed_october(kit)
    cache = kit.app.state["report_cache"]
    async with kit.client() as client:
        first = await report(client)
        for fmt in ("html", "csv", "xlsx"):
            r = await client.get(f"/reports/monthly/2026-10/{fmt}", headers=MANAGER)
            assert r.status_code == 200, r.text
        again = await report(client)
        assert cache.computed == 1 and again == first
        assert await kit.deliver(opened(TUESDAY_10, "usage_question"))
        later = await report(client)
        assert cache.computed == 2
        assert later["volume"]["total"] == first["volume"]["total"] + 1
        other = await report(client, product_line="XK")  # another filter: its own entry
        assert cache.computed == 3 and other["filters"]["product_line"] == "XK"


async def test_first_response_per_channel_against_the_acknowledgement_clock(make_kit):
    """Issue 22: each channel's first response — acknowledged, late (SlaBreached on the
    acknowledgement clock), the wait until the first acknowledgement; the late ones drill down."""
    kit = await make_kit()
    due = TUESDAY_10 + timedelta(minutes=10)
    phone = [opened(TUESDAY_10, acknowledge_due=due.isoformat()) for _ in range(3)]
    wechat = [opened(TUESDAY_10, channel="wechat", acknowledge_due=due.isoformat())]
    waits = [4, 6, 30]  # minutes: the third phone call was acknowledged late
    for env, minutes in zip(phone, waits, strict=True):
        assert await kit.deliver(env)
        assert await kit.deliver(acknowledged(env.data, TUESDAY_10 + timedelta(minutes=minutes)))
    late = phone[2]
    assert await kit.deliver(breached(late.data, clock="acknowledge"))
    assert await kit.deliver(wechat[0])  # not acknowledged yet
    # a second acknowledgement of the same ticket (redelivered, or a later one) changes nothing
    assert await kit.deliver(acknowledged(phone[0].data, TUESDAY_10 + timedelta(minutes=50)))
    async with kit.client() as client:
        data = await report(client)
        rows = {r["channel"]: r for r in data["first_response"]["by_channel"]}
        assert rows["phone"] | {"median_minutes": None, "p90_minutes": None} == {
            "channel": "phone",
            "tickets": 3,
            "acknowledged": 3,
            "late": 1,
            "compliance": round(2 / 3, 4),
            "median_minutes": None,
            "p90_minutes": None,
            "figure": "first_response_late:phone",
        }
        assert rows["phone"]["median_minutes"] == 6.0
        assert rows["wechat"]["tickets"] == 1 and rows["wechat"]["acknowledged"] == 0
        assert rows["wechat"]["late"] == 0 and rows["wechat"]["median_minutes"] is None
        r = await client.get(
            "/reports/monthly/2026-10/tickets",
            params={"figure": "first_response_late:phone"},
            headers=MANAGER,
        )
        assert r.status_code == 200, r.text
        assert [t["ticket_no"] for t in r.json()["items"]] == [late.data.ticket_no]
        csv_text = (await client.get("/reports/monthly/2026-10/csv", headers=MANAGER)).text
        assert "first response per channel" in csv_text
