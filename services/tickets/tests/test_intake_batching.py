"""The lean intake path: group commit, per-request errors inside a batch, the calendar cache across
replicas."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from tickets_helpers import entitle, outbox_events, tickets_app

from aftersales_shared.db import outbox, scheduled_jobs
from aftersales_shared.events import Contact, Urgency
from aftersales_testing.support import auth, running, runtime_of
from tickets.app import create_app
from tickets.domain import RequestType
from tickets.http.encoding import created_ticket, ticket_out
from tickets.models import ClockRow, TicketRow
from tickets.settings import TicketsSettings
from tickets.usecases.intake import Intake, IntakeBatcher, TicketRequest, open_ticket

AGENT = auth("service_agent", sub="agent-wu")
ADMIN = auth("admin", sub="admin-chen")
SH = ZoneInfo("Asia/Shanghai")
BENCH = Path(__file__).resolve().parents[1] / "bench"


def body(**kw):
    return {
        "channel": "phone",
        "request_type": "quality_issue",
        "urgency": "urgent",
        "description": "主轴异响",
        "contact": {"name": "赵工", "phone": "13912345678"},
        **kw,
    }


def request(**kw) -> TicketRequest:
    return TicketRequest(
        **{
            "channel": "phone",
            "request_type": RequestType.QUALITY_ISSUE,
            "urgency": Urgency.NORMAL,
            "description": "批量",
            "customer_name": "客户",
            "contact": Contact(name="孙工"),
            **kw,
        }
    )


async def test_concurrent_intakes_share_commits_and_each_gets_its_own_ticket(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    contract, serial = f"HT-{uuid.uuid4().hex[:8]}", f"SN-{uuid.uuid4().hex[:8]}"
    async with running(app) as client:
        await entitle(app, contract, [serial])
        bodies = [
            body(serial_no=serial) if i % 3 == 0 else body(customer_name=f"客户{i}")
            for i in range(30)
        ]
        bodies[7] = body(
            serial_no=f"NOPE-{uuid.uuid4().hex[:6]}"
        )  # refused by a rule inside a batch
        responses = await asyncio.gather(
            *(client.post("/tickets", json=b, headers=AGENT) for b in bodies)
        )
        assert (
            responses[7].status_code == 422
            and "use_default_policy" in responses[7].json()["detail"]
        )
        created = [r.json() for i, r in enumerate(responses) if i != 7]
        assert all(r.status_code == 201 for i, r in enumerate(responses) if i != 7), [
            r.text for r in responses
        ]
        numbers = sorted(int(t["ticket_no"].rsplit("-", 1)[1]) for t in created)
        assert numbers == list(range(numbers[0], numbers[0] + 29))  # gapless, none twice
        entitled = [t for i, t in zip([i for i in range(30) if i != 7], created) if i % 3 == 0]
        assert all(
            t["contract_no"] == contract and t["policy"]["response_minutes"] == 60 for t in entitled
        )
        assert all(
            {c["kind"] for c in t["clocks"]} == {"acknowledge", "response", "onsite", "resolution"}
            for t in created
        )
        opened = await outbox_events(app, "TicketOpened.v1")
        assert sorted(e["ticket_no"] for e in opened) == sorted(t["ticket_no"] for t in created)
        rt = runtime_of(app)
        async with rt.sessions() as s:
            jobs = (
                await s.execute(
                    select(scheduled_jobs.c.kind, func.count()).group_by(scheduled_jobs.c.kind)
                )
            ).all()
            clocks = await s.scalar(select(func.count()).select_from(ClockRow))
        # one pending job per clock: its warning (whose handler schedules the breach)
        assert dict(jobs)["sla_warning"] == clocks == 29 * 4 and "sla_breach" not in dict(jobs)
        # what a batch wrote reads back the same as what the caller was told
        one = created[0]
        again = (await client.get(f"/tickets/{one['ticket_no']}", headers=AGENT)).json()
        assert again == one


async def test_a_failing_batch_is_retried_request_by_request(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)
    rt = runtime_of(app)
    ref = f"CC-{uuid.uuid4().hex[:8]}"
    async with rt.sessions.begin() as s:
        await open_ticket(s, request(external_ref=ref), "partner", datetime.now(UTC), rt.settings)
    batcher = IntakeBatcher(rt.sessions, rt.settings)
    now = datetime.now(UTC)
    intakes = [
        Intake(request(external_ref=ref if i == 2 else None), "agent", now) for i in range(5)
    ]
    results = await asyncio.gather(*(batcher.open(i) for i in intakes), return_exceptions=True)
    assert isinstance(results[2], IntegrityError)  # the duplicate partner reference, alone
    assert [type(r).__name__ for i, r in enumerate(results) if i != 2] == ["OpenedTicket"] * 4
    async with rt.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(TicketRow)) == 5
        assert await s.scalar(select(func.count()).select_from(outbox)) == 5


async def test_calendar_change_on_one_replica_reaches_the_others_cached_calendar(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    url = runtime_of(app).settings.database_url
    other = create_app(
        TicketsSettings(database_url=url, nats_url=streams_ready)
    )  # a second replica
    saturday = datetime(2026, 3, 7, 10, tzinfo=SH)

    async def ack_deadline(replica) -> datetime:
        rt = runtime_of(replica)
        async with rt.sessions.begin() as s:
            ticket = await open_ticket(s, request(), "agent", saturday, rt.settings)
        return next(c.deadline for c in ticket.clocks if c.kind == "acknowledge")

    assert await ack_deadline(other) == datetime(
        2026, 3, 9, 9, 10, tzinfo=SH
    )  # Monday, once the desk opens
    assert await ack_deadline(other) == datetime(
        2026, 3, 9, 9, 10, tzinfo=SH
    )  # (served from its cache)
    async with running(app) as client:
        r = await client.put(
            "/calendars/default", headers=ADMIN, json={"name": "全天候", "always_open": True}
        )
        assert r.status_code == 200, r.text
    assert await ack_deadline(other) == saturday + timedelta(minutes=10)


def test_fast_201_body_is_exactly_ticket_out():
    now = datetime(2026, 11, 25, 5, 6, 7, 891011, tzinfo=UTC)
    clocks = [
        SimpleNamespace(
            kind=k,
            state="running",
            target_seconds=s,
            deadline=now + timedelta(seconds=s * 2),
            provisional=k == "resolution",
            met_at=None,
            warned_at=None,
            breached_at=None,
            escalation_level=0,
            elapsed_seconds=0.0,
            running_since=now,
        )
        for k, s in (("acknowledge", 600), ("response", 7201), ("resolution", 86400))
    ]
    ticket = SimpleNamespace(
        ticket_no="SV-20261125-0001",
        id=str(uuid.uuid4()),
        status="new",
        channel="phone",
        request_type="quality_issue",
        urgency="urgent",
        description="异响",
        customer_id=None,
        customer_name="客户",
        contact_name="赵工",
        contact_phone="139",
        contact_email=None,
        contract_no="HT-1",
        product_model="XK-200",
        serial_no="SN-1",
        batch_no=None,
        dealer_id=None,
        calendar_id="default",
        policy={"urgency": Urgency.URGENT, "response_minutes": 60, "calendar": "default"},
        in_warranty=True,
        assignee_id=None,
        assignee_kind=None,
        assignee_name=None,
        parent_ticket_id=None,
        external_ref=None,
        sla_state="ok",
        opened_at=now,
        acknowledged_at=None,
        assigned_at=None,
        first_response_at=None,
        onsite_at=None,
        resolved_at=None,
        completed_at=None,
        reopen_count=0,
        clocks=clocks,
    )
    fast = created_ticket(ticket)  # type: ignore[arg-type]
    assert fast.status_code == 201
    assert fast.content == ticket_out(ticket).model_dump_json().encode()  # type: ignore[arg-type]


@pytest.mark.long(120)
def test_intake_bench_runs_small(db_kind):
    if db_kind != "postgresql":
        pytest.skip("the intake benchmark needs PostgreSQL")
    # 3 s of load: on a machine busy with other work a 1 s phase could end before its first answer
    r = subprocess.run(
        [
            sys.executable,
            str(BENCH / "intake.py"),
            "--duration",
            "3",
            "--warmup",
            "0.5",
            "--rounds",
            "1",
            "--concurrency",
            "4",
            "--no-nats",
            "--history",
            "500",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(r"ratio tickets/raw \(ORM baseline\): \d+\.\d\d", r.stdout), r.stdout
    assert re.search(r"ratio tickets/asyncpg \(raw limit\): \d+\.\d\d", r.stdout), r.stdout
    assert "0 other" in r.stdout, r.stdout
    assert "history: 500 tickets" in r.stdout and "database CPU" in r.stdout, r.stdout


def test_sla_bench_runs_small(db_kind):
    if db_kind != "postgresql":
        pytest.skip("the SLA scheduler benchmark needs PostgreSQL")
    r = subprocess.run(
        [
            sys.executable,
            str(BENCH / "sla_scale.py"),
            "--sizes",
            "200",
            "2000",
            "--window",
            "2",
            "--ticks",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "10/10 fired (missing 0)" in r.stdout and "breach detection lag p99" in r.stdout, (
        r.stdout
    )
    assert json.dumps(r.stdout)


def test_health_answers_through_a_burst_of_errors():
    """services/tickets/bench/health_burst.py, small: every /health probe during a burst of dead
    letters (each an ERROR line) and failing requests answers 200, and the errors were logged (the
    times are printed, not checked)."""
    r = subprocess.run(
        [
            sys.executable,
            str(BENCH / "health_burst.py"),
            "--events",
            "60",
            "--requests",
            "300",
            "--probes",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "non-200 probes: 0" in r.stdout and re.search(
        r"[1-9]\d* dead-letter ERROR lines logged", r.stdout
    ), r.stdout
    assert re.search(r"health p99 burst/rest = \d+\.\d\dx", r.stdout), r.stdout
