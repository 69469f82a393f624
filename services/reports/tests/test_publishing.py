"""Publishing the monthly report: on the first working day of the next month (调休 and closures
on the calendar count), exactly once however many replicas fire, kept as it was sent, announced
by ReportPublished (what notifications sends to product, production, sales and management), and
again on demand as a new version."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from reports.domain import Month, first_working_day, next_publication, publication_due
from reports.jobs import register_publication
from reports.usecases import publishing
from reports.usecases.publishing import Schedule
from sqlalchemy import select
from test_monthly_report import seed_october

from aftersales_shared.calendars import builtin_calendar, save_copy
from aftersales_shared.db import outbox, scheduled_jobs
from aftersales_shared.events import CalendarChangedV1
from aftersales_shared.scheduler import Scheduler
from aftersales_testing.support import auth

SH = ZoneInfo("Asia/Shanghai")
CALENDAR = builtin_calendar("default")
NINE = time(9, 0)
MANAGER = auth("manager", sub="mgr-wang")
SAMPLES = Path(__file__).parents[3] / "shared/src/aftersales_shared/events/samples"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)  # type: ignore[misc]


# ------------------------------------------------------------------ the schedule (pure)


@pytest.mark.parametrize(
    ("report_month", "day"),
    [
        ("2025-12", "2026-01-04"),  # 1-3 January 2026 off; Sunday 4 January is a 调休 working day
        ("2026-01", "2026-02-02"),  # 1 February 2026 is a Sunday
        ("2026-04", "2026-05-06"),  # Labour Day holiday 1-5 May
        ("2026-09", "2026-10-08"),  # National Day holiday 1-7 October
        ("2026-10", "2026-11-02"),  # 1 November 2026 is a Sunday
    ],
)
def test_the_report_is_due_on_the_first_working_day_of_the_next_month(report_month, day):
    month = Month.parse(report_month)
    assert str(first_working_day(month.shifted(1), CALENDAR)) == day
    due = publication_due(month, CALENDAR, NINE, "Asia/Shanghai")
    assert due.astimezone(SH) == datetime.fromisoformat(f"{day}T09:00:00+08:00")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(2026, 11, 29, 20, 57), "2026-11"),  # the Sunday-evening moment: November's is next
        (at(2026, 11, 1, 23, 0), "2026-10"),  # Sunday 1 November: October's still ahead (2nd)
        (at(2026, 11, 2, 8, 59), "2026-10"),
        (at(2026, 11, 2, 9, 0), "2026-11"),  # due now: armed by the previous one, next is next
        (at(2026, 12, 31, 23, 59), "2026-12"),  # 31 December: December's due in January
        (at(2026, 1, 3, 12, 0), "2025-12"),  # New Year holiday: December's waits for the 4th
    ],
)
def test_the_next_publication_is_the_first_not_yet_due(now, expected):
    assert str(next_publication(now, CALENDAR, NINE, "Asia/Shanghai")) == expected


# ------------------------------------------------------------------ against the database


def _schedule() -> Schedule:
    return Schedule(at=NINE, base_url="https://aftersales.example.cn")


async def _jobs(kit: Any) -> list[Any]:
    async with kit.rt.sessions() as s:
        rows = await s.execute(
            select(scheduled_jobs).where(scheduled_jobs.c.kind == publishing.JOB)
        )
        return list(rows.all())


async def _published_events(kit: Any) -> list[dict[str, Any]]:
    async with kit.rt.sessions() as s:
        rows = (await s.execute(select(outbox.c.subject, outbox.c.body))).all()
    return [json.loads(r.body) for r in rows if r.subject == "reports.report_published.v1"]


async def test_the_scheduled_report_fires_once_across_replicas_and_arms_the_next(make_kit):
    kit = await make_kit()
    await seed_october(kit)
    policy, schedule = kit.rt.settings.policy(), _schedule()
    saturday = at(2026, 10, 31, 23, 0)
    async with kit.rt.sessions.begin() as s:
        month, due = await publishing.arm_next(s, policy, schedule, saturday)
    assert (str(month), due) == ("2026-10", at(2026, 11, 2, 9, 0))
    async with kit.rt.sessions.begin() as s:  # arming again (a restart) changes nothing
        await publishing.arm_next(s, policy, schedule, saturday)
    assert len(await _jobs(kit)) == 1

    monday_nine = at(2026, 11, 2, 9, 0, 30)
    replicas = []
    for _ in range(2):
        replica = Scheduler(kit.rt.sessions, clock=lambda: monday_nine)
        register_publication(replica, policy, schedule, lambda: monday_nine)
        replicas.append(replica)
    before = Scheduler(kit.rt.sessions, clock=lambda: at(2026, 11, 2, 8, 59))
    register_publication(before, policy, schedule, lambda: at(2026, 11, 2, 8, 59))
    assert await before.run_due() == 0  # not before 09:00 on the first working day
    fired = [await r.run_due() for r in replicas]
    assert sorted(fired) == [0, 1]

    events = await _published_events(kit)
    assert len(events) == 1
    body = events[0]
    assert body["month"] == "2026-10" and body["trigger"] == "scheduled"
    assert body["version"] == 1 and body["month_complete"] is True
    # the headline is the report's own figures (seed_october: 16 tickets, 14 failures on 300 units)
    assert body["headline"]["tickets"] == 16
    assert body["headline"]["failures"] == 14
    assert body["headline"]["failures_per_thousand"] == 46.67
    assert body["headline"]["abnormal_batches"] == 1
    assert body["links"]["pdf"].startswith("https://aftersales.example.cn/reports/published/")

    jobs = {r.key: r for r in await _jobs(kit)}
    assert jobs["2026-10"].status == "done"
    # November's is armed for Tuesday 1 December 09:00
    assert jobs["2026-11"].status == "pending"
    assert jobs["2026-11"].due_at == at(2026, 12, 1, 9, 0)

    # the kept report reads back as it was sent, in every format
    async with kit.client() as client:
        r = await client.get("/reports/published", headers=MANAGER)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == 1 and page["items"][0]["month"] == "2026-10"
        rid = page["items"][0]["report_id"]
        kept = (await client.get(f"/reports/published/{rid}", headers=MANAGER)).json()
        assert kept["report"]["failures"]["failures"] == 14
        pdf = await client.get(f"/reports/published/{rid}/pdf", headers=MANAGER)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        xlsx = await client.get(f"/reports/published/{rid}/xlsx", headers=MANAGER)
        assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
        html = await client.get(f"/reports/published/{rid}/html", headers=MANAGER)
        assert "2026-10" in html.text and "<svg" in html.text


async def test_a_closure_on_the_first_working_day_moves_the_publication(make_kit):
    kit = await make_kit()
    policy, schedule = kit.rt.settings.policy(), _schedule()
    saturday = at(2026, 10, 31, 23, 0)
    async with kit.rt.sessions.begin() as s:
        await publishing.arm_next(s, policy, schedule, saturday)
    # the company closes on Monday 2 November (a calendar change reaches reports' copy)
    sample = json.loads((SAMPLES / "cn.aftersales.tickets.CalendarChanged.v1.json").read_text())
    hours = [
        {"weekday": d, "start": a, "end": b}
        for d in range(5)
        for a, b in (("09:00", "12:00"), ("13:00", "18:00"))
    ]
    body = sample["body"] | {
        "hours": hours,
        "closures": [{"date": "2026-11-02", "kind": "holiday", "name": "厂休"}],
        "changed_at": "2026-10-31T03:00:00Z",
    }
    async with kit.rt.sessions.begin() as s:
        await save_copy(s, CalendarChangedV1.model_validate(body))
    # a job armed before the change fires at the old time: it publishes nothing, re-arms itself
    async with kit.rt.sessions.begin() as s:
        early = await publishing.fire_scheduled(
            s, "2026-10", policy, schedule, at(2026, 11, 2, 9, 0)
        )
    assert early is None
    assert await _published_events(kit) == []
    moved = [j for j in await _jobs(kit) if j.key.startswith("2026-10@")]
    assert [j.due_at for j in moved] == [at(2026, 11, 3, 9, 0)]
    # and a restart after the change moves a pending job to the calendar's day
    async with kit.rt.sessions.begin() as s:
        await publishing.arm_next(s, policy, schedule, at(2026, 11, 1, 12, 0))
    jobs = {j.key: j for j in await _jobs(kit)}
    assert jobs["2026-10"].due_at == at(2026, 11, 3, 9, 0)


async def test_on_demand_publication_is_a_new_version_by_its_publisher(make_kit):
    kit = await make_kit(public_base_url="https://aftersales.example.cn/")
    await seed_october(kit)
    async with kit.client() as client:
        first = await client.post("/reports/monthly/2026-10/publish", headers=MANAGER)
        second = await client.post("/reports/monthly/2026-10/publish", headers=MANAGER)
        assert first.status_code == 201, first.text
        assert second.status_code == 201, second.text
        assert (first.json()["version"], second.json()["version"]) == (1, 2)
        assert second.json()["published_by"] == "mgr-wang"
        assert second.json()["trigger"] == "on_demand"
        listed = await client.get("/reports/published?month=2026-10", headers=MANAGER)
        assert [i["version"] for i in listed.json()["items"]] == [2, 1]
    events = await _published_events(kit)
    assert sorted(e["version"] for e in events) == [1, 2]
    assert all(
        e["links"]["html"].startswith("https://aftersales.example.cn/reports/") for e in events
    )


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        ("/reports/monthly/2099-01/publish", MANAGER, 422, "month_not_begun"),
        ("/reports/monthly/2026-13/publish", MANAGER, 400, None),
        ("/reports/monthly/2026-10/publish", auth("dealer", dealer_id="D-ZJ-01"), 403, None),
        ("/reports/monthly/2026-10/publish", auth("engineer"), 403, None),
    ],
)
async def test_publishing_is_refused_with_a_reason(make_kit, path, headers, status, code):
    kit = await make_kit()
    async with kit.client() as client:
        r = await client.post(path, headers=headers)
        assert r.status_code == status, r.text
        if code:
            assert r.json()["code"] == code
            assert "尚未开始" in r.json()["detail"]
    assert await _published_events(kit) == []


async def test_an_unknown_published_report_is_a_404(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        r = await client.get("/reports/published/nope", headers=MANAGER)
        assert r.status_code == 404
        assert "nope" in r.json()["detail"]
        r = await client.get("/reports/published/nope/pdf", headers=MANAGER)
        assert r.status_code == 404
        r = await client.get("/reports/published?month=2026-1", headers=MANAGER)
        assert r.status_code == 400
