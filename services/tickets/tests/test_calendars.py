"""Calendars as data (issue 9): provisional deadlines, importing a year, recompute once, copies
elsewhere."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tickets_helpers import drain, outbox_events, tickets_app, time_machine

from aftersales_shared.calendars import load_calendar
from aftersales_shared.db import scheduled_jobs
from aftersales_shared.events import Contact, Urgency
from aftersales_testing.support import auth, migrated, running, runtime_of, wait_until
from contracts.app import create_app as contracts_app
from contracts.settings import ContractsSettings
from tickets.calendar_tables import parse_table
from tickets.domain import RequestType
from tickets.models import TicketRow
from tickets.usecases.calendars import YEAR_CHECK, apply_year, ensure_year_check, year_missing
from tickets.usecases.intake import TicketRequest, open_ticket

pytestmark = pytest.mark.deadlines

SH = ZoneInfo("Asia/Shanghai")
ADMIN = auth("admin", sub="admin-chen")
OFFICIAL_2027 = (
    "date,kind,name\n"
    "2027-01-01,holiday,元旦\n"
    "2027-01-02,workday,元旦调休\n"  # a make-up Saturday inside the span
    "2027-01-04,holiday,元旦补休\n"
    "2027-01-05,holiday,元旦补休\n"
    "2027-02-06,holiday,春节\n"
)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


async def _open_at(app, when: datetime) -> TicketRow:
    rt = runtime_of(app)
    req = TicketRequest(
        channel="phone",
        request_type=RequestType.QUALITY_ISSUE,
        urgency=Urgency.NORMAL,
        description="年底故障",
        customer_name="年末客户",
        contact=Contact(name="孙工", phone="13700000000"),
    )
    async with rt.sessions.begin() as s:
        ticket = await open_ticket(s, req, "agent", when, rt.settings)
        return ticket


async def test_provisional_deadline_moves_once_when_the_year_is_imported(
    databases, streams_ready, clock
):
    clock.at(sh(2026, 12, 28, 16))  # the app's own scheduler lives at the test's moment too
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        ticket = await _open_at(app, sh(2026, 12, 28, 16))
        no = ticket.ticket_no
        t = (await client.get(f"/tickets/{no}", headers=ADMIN)).json()
        clocks = {c["kind"]: c for c in t["clocks"]}
        # weekends + rule-based 2027 holidays (1 Jan): Dec 28 2h, 29–31 24h, Jan 4 8h, Jan 5 8h, Jan
        # 6 6h
        assert datetime.fromisoformat(clocks["resolution"]["deadline"]) == sh(2027, 1, 6, 16)
        assert clocks["resolution"]["provisional"] and t["deadlines_provisional"]
        assert datetime.fromisoformat(clocks["response"]["deadline"]) == sh(2026, 12, 31, 16)
        assert not clocks["response"]["provisional"]
        [opened] = await outbox_events(app, "TicketOpened.v1", no)
        assert opened["deadlines_provisional"] is True

        # the response deadline passes and breaches before the notice is imported
        assert await drain(time_machine(app, sh(2027, 1, 1, 10))) >= 1
        assert {e["clock"] for e in await outbox_events(app, "SlaBreached.v1", no)} == {
            "acknowledge",
            "response",
        }

        r = await client.put(
            "/calendars/national/years/2027",
            content=OFFICIAL_2027.encode(),
            headers=ADMIN | {"content-type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["entries"] == 5 and r.json()["deadlines_changed"] >= 1
        t = (await client.get(f"/tickets/{no}", headers=ADMIN)).json()
        clocks = {c["kind"]: c for c in t["clocks"]}
        # with the notice: Dec 28–31 26h, Sat Jan 2 8h, Jan 4–5 off, Wed Jan 6 8h, Thu Jan 7 6h →
        # 16:00
        assert datetime.fromisoformat(clocks["resolution"]["deadline"]) == sh(2027, 1, 7, 16)
        assert not clocks["resolution"]["provisional"] and not t["deadlines_provisional"]
        [changed] = await outbox_events(app, "SlaDeadlineChanged.v1", no)
        assert changed["clock"] == "resolution" and changed["deadline_provisional"] is False
        assert datetime.fromisoformat(changed["old_deadline"]) == sh(2027, 1, 6, 16)

        # the breach scheduled under the old deadline does not fire while the new one has not passed
        await drain(time_machine(app, sh(2027, 1, 6, 17)))
        assert {e["clock"] for e in await outbox_events(app, "SlaBreached.v1", no)} == {
            "acknowledge",
            "response",
        }
        await drain(time_machine(app, sh(2027, 1, 7, 16, 1)))
        # re-importing the same table changes nothing and fires nothing twice
        r = await client.put(
            "/calendars/national/years/2027",
            content=OFFICIAL_2027.encode(),
            headers=ADMIN | {"content-type": "text/csv"},
        )
        assert r.status_code == 200
        await drain(time_machine(app, sh(2027, 1, 8, 12)))
        breaches = [e["clock"] for e in await outbox_events(app, "SlaBreached.v1", no)]
        assert sorted(breaches) == ["acknowledge", "resolution", "response"]
        assert len(await outbox_events(app, "SlaDeadlineChanged.v1", no)) == 1

        export = await client.get(
            "/calendars/national/years/2027", params={"format": "csv"}, headers=ADMIN
        )
        assert export.headers["x-calendar-source"] == "imported"
        assert export.text.splitlines() == OFFICIAL_2027.strip().splitlines()
        assert (await client.get("/calendars/national/years/2026", headers=ADMIN)).headers[
            "x-calendar-source"
        ] == "package"
        assert (await client.get("/calendars/national/years/2028", headers=ADMIN)).headers[
            "x-calendar-source"
        ] == "provisional"
        audit = (await client.get("/calendars/audit", headers=ADMIN)).json()
        assert (
            audit[0]["actor"] == "admin-chen"
            and audit[0]["year"] == 2027
            and audit[0]["action"] == "import_year"
        )


BAD_FILES = [
    ("date,kind,name\n2027-01-01,holiday,元旦\n2026-12-31,holiday,跨年\n", "line 3", "outside"),
    ("date,kind,name\n2027-01-01,holiday,元旦\n2027-01-01,holiday,again\n", "line 3", "duplicate"),
    ("date,kind,name\n2027-01-02,workday,x\n2027-01-02,holiday,y\n", "line 3", ""),
    ("date,kind,name\n2027-01-01,vacation,元旦\n", "line 2", "unknown kind"),
    ("date,kind,name\n2027-13-01,holiday,x\n", "line 2", "not a date"),
    ("", "", "no dates"),
]


async def test_malformed_imports_name_the_line_and_change_nothing(databases, streams_ready, clock):
    clock.at(sh(2026, 12, 28, 16))  # no deadline of the ticket passes while the imports are tried
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        ticket = await _open_at(app, sh(2026, 12, 28, 16))
        before = (await client.get(f"/tickets/{ticket.ticket_no}", headers=ADMIN)).json()["clocks"]
        for content, line, words in BAD_FILES:
            r = await client.put(
                "/calendars/national/years/2027",
                content=content.encode(),
                headers=ADMIN | {"content-type": "text/csv"},
            )
            assert r.status_code == 422, (content, r.text)
            assert line in r.json()["detail"] and words in r.json()["detail"], r.json()
        r = await client.put(
            "/calendars/national/years/2027",
            params={"format": "yaml"},
            content=(
                "- {date: 2027-01-01, kind: holiday, name: 元旦}\n- {date: 2027-01-01, kind: "
                "workday}\n"
            ).encode(),
            headers=ADMIN,
        )
        assert r.status_code == 422 and "line 2" in r.json()["detail"]
        r = await client.put(
            "/calendars/plant-sz",
            headers=ADMIN,
            json={
                "name": "苏州工厂",
                "hours": [
                    {"weekday": 0, "start": "08:30", "end": "12:00"},
                    {"weekday": 0, "start": "11:30", "end": "17:30"},
                ],
            },
        )
        assert r.status_code == 422 and "overlap" in r.json()["detail"]
        r = await client.put(
            "/calendars/plant-sz",
            headers=ADMIN,
            json={"name": "苏州工厂", "hours": [{"weekday": 0, "start": "17:30", "end": "13:30"}]},
        )
        assert r.status_code == 422
        assert (
            await client.put(
                "/calendars/national/years/2027", content=b"x", headers=auth("service_agent")
            )
        ).status_code == 403
        after = (await client.get(f"/tickets/{ticket.ticket_no}", headers=ADMIN)).json()["clocks"]
        assert after == before
        assert (await client.get("/calendars/national/years/2027", headers=ADMIN)).headers[
            "x-calendar-source"
        ] == "provisional"
        assert (await client.get("/calendars/audit", headers=ADMIN)).json() == []


async def test_company_hours_and_closures_and_copies_in_contracts(databases, streams_ready):
    t_app = await tickets_app(databases, streams_ready)
    c_app = contracts_app(
        ContractsSettings(
            database_url=await migrated(databases, "contracts"), nats_url=streams_ready
        )
    )
    async with running(t_app) as client, running(c_app):
        r = await client.put(
            "/calendars/plant-sz",
            headers=ADMIN,
            json={
                "name": "苏州工厂",
                "hours": [
                    {"weekday": d, "start": s, "end": e}
                    for d in range(5)
                    for s, e in (("08:30", "12:00"), ("13:30", "17:30"))
                ],
            },
        )
        assert r.status_code == 200, r.text
        r = await client.put(
            "/calendars/plant-sz/years/2026",
            content="2026-12-30,holiday,年度停产检修\n".encode(),
            headers=ADMIN | {"content-type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        r = await client.put(
            "/calendars/national/years/2027",
            content=OFFICIAL_2027.encode(),
            headers=ADMIN | {"content-type": "text/csv"},
        )
        assert r.status_code == 200

        async def copy():
            async with runtime_of(c_app).sessions() as s:
                calendar = await load_calendar(s, "plant-sz")
            return calendar if calendar.year_tables.get(2027) and calendar.closures else None

        calendar = await wait_until(copy, what="contracts' copy of plant-sz with 2027")
        assert not calendar.is_working_day(sh(2026, 12, 30).date())  # company closure
        assert calendar.is_working_day(sh(2027, 1, 2).date())  # make-up Saturday from the notice
        assert not calendar.is_provisional(sh(2026, 12, 1), sh(2027, 3, 1))
        # 3 working days after Mon 2026-12-28 on this calendar: Tue 29, Thu 31 (30 closed), Sat Jan
        # 2 → 17:30
        assert calendar.add_working_days(sh(2026, 12, 28, 10), 3) == sh(2027, 1, 2, 17, 30)


async def test_year_missing_notice_from_november_until_imported(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)  # not started: the clock here is the test's
    rt = runtime_of(app)
    tz = rt.settings.business_timezone
    async with rt.sessions() as s:
        assert await year_missing(s, sh(2026, 10, 31, 12), tz) is None
        assert await year_missing(s, sh(2026, 11, 1, 9), tz) == 2027
        assert await year_missing(s, sh(2025, 11, 5, 9), tz) is None  # the package knows 2026
    async with rt.sessions.begin() as s:
        await ensure_year_check(s, sh(2026, 10, 31, 9), tz)
    for day in (31, 32, 33):  # 31 Oct: nothing to say; 1 and 2 Nov: the notice
        when = sh(2026, 10, 31, 9, 5) + timedelta(days=day - 31)
        assert await time_machine(app, when).run_due() == 1
    assert [n["year"] for n in await outbox_events(app, "CalendarYearMissing.v1")] == [2027, 2027]
    table = parse_table(OFFICIAL_2027.encode(), "csv", 2027)
    async with rt.sessions.begin() as s:
        await apply_year(s, "national", 2027, table, "admin", sh(2026, 11, 2, 12), rt.settings)
    assert (
        await time_machine(app, sh(2026, 11, 3, 9, 5)).run_due() == 1
    )  # the check runs and stays quiet
    assert len(await outbox_events(app, "CalendarYearMissing.v1")) == 2
    async with rt.sessions() as s:
        pending = (
            (
                await s.execute(
                    select(scheduled_jobs.c.key).where(
                        scheduled_jobs.c.kind == YEAR_CHECK, scheduled_jobs.c.status == "pending"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert pending == ["2026-11-04"]


def test_cli_imports_and_exports_with_the_same_validation(tmp_path):
    import asyncio

    from aftersales_shared.migrations import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'tickets.db'}"
    asyncio.run(upgrade("tickets", url))
    env = {"TICKETS_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    good, bad = tmp_path / "2027.csv", tmp_path / "bad.csv"
    good.write_text(OFFICIAL_2027, encoding="utf-8")
    bad.write_text("date,kind,name\n2027-01-01,holiday,a\n2028-01-01,holiday,b\n", encoding="utf-8")

    def run(*a: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tickets.calendar_cli", *a],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    r = run("import", str(bad), "--year", "2027")
    assert r.returncode == 2 and "line 3" in r.stderr
    r = run("import", str(good), "--year", "2027", "--actor", "ops-li")
    assert r.returncode == 0, r.stderr
    assert "5 days imported" in r.stdout
    r = run("export", "--year", "2027")
    assert (
        r.stdout.strip().splitlines() == OFFICIAL_2027.strip().splitlines()
        and "imported" in r.stderr
    )
