"""Helpers of the return-visit page tests: the real surveys app on its own database, its
consumer on the tests' NATS JetStream; three ServiceCompleted events published there as tickets
would (two of 陈经理's dealer D-ZJ-01, one of another dealer, long overdue) become the visits; the
console reaches surveys in-process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from aftersales_shared.events import Envelope, ServiceCompletedV1
from aftersales_testing.support import auth, migrated, publish, running, runtime_of, wait_until
from console.app import create_app
from console.settings import ConsoleSettings
from surveys.app import create_app as surveys_app
from surveys.settings import SurveysSettings

SH = ZoneInfo("Asia/Shanghai")
DESK = auth("service_supervisor", sub="sup-zhang")


def completed(completed_at: datetime, **extra: Any) -> Envelope[ServiceCompletedV1]:
    ref = uuid.uuid4().hex[:8]
    data = {
        "ticket_id": str(uuid.uuid4()),
        "ticket_no": f"SV-RV-{ref}",
        "completed_at": completed_at.isoformat(),
        "request_type": "quality_issue",
        "urgency": "critical",
        "channel": "phone",
        "customer_id": f"C-{ref}",
        "customer_name": "苏州某某精工",
        "contact": {"name": "王建国", "phone": "13800138000"},
        "confirmed_by": "王建国",
        "confirmation_method": "signature",
        "engineer_id": "eng-zhang",
        "dealer_id": "D-ZJ-01",
        "product_model": "XK-200",
    } | extra
    return Envelope(data=ServiceCompletedV1.model_validate(data), source="/tickets")


@dataclass
class Visits:
    surveys: httpx.AsyncClient
    surveys_app: Any
    console_app: Any
    ids: dict[str, str]  # mine / late / other → visit id
    nos: dict[str, str]  # … → ticket number

    def console(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.console_app),
            base_url="http://console.test",
            timeout=30,
        )


@asynccontextmanager
async def open_visits(
    databases: Any, nats_url: str, clock: Any, transport: Any = None
) -> AsyncIterator[Visits]:
    """At sunday-evening (Sunday 29 November 2026, 20:57): `mine` (critical, completed Friday
    17:59, due Wednesday 2 December 18:00 on the office calendar), `persists` (the same, engineer
    王工) — both D-ZJ-01's — and `late`, a complaint of dealer D-SH-09 completed on 20 November,
    due 25 November and marked overdue by the surveys scheduler. `transport(surveys_app)`: the
    console's transport when it needs more services than surveys."""
    clock.at("sunday-evening")
    app = surveys_app(
        SurveysSettings(
            database_url=await migrated(databases, "surveys"),
            nats_url=nats_url,
            return_visit_sample_percent=0,
        )
    )
    friday = datetime(2026, 11, 27, 17, 59, tzinfo=SH)
    events = {
        "mine": completed(friday, customer_name="苏州某某精工"),
        "persists": completed(friday, customer_name="常州某某机械", engineer_id="eng-wang"),
        "late": completed(
            datetime(2026, 11, 20, 16, 0, tzinfo=SH),
            request_type="complaint",
            urgency="normal",
            customer_name="上海别家经销商的客户",
            dealer_id="D-SH-09",
            engineer_id="eng-wang",
        ),
    }
    async with running(app) as surveys:
        for env in events.values():
            await publish(nats_url, env)
        nos = {k: e.data.ticket_no for k, e in events.items()}
        ids: dict[str, str] = {}

        async def planned() -> bool:
            for key, no in nos.items():
                r = await surveys.get("/return-visits", params={"ticket_no": no}, headers=DESK)
                if r.status_code == 200 and r.json()["items"]:
                    ids[key] = r.json()["items"][0]["id"]
            return len(ids) == len(nos)

        await wait_until(planned, timeout=30, what="surveys planned the three return visits")

        async def marked_overdue() -> bool:
            # the late one's deadline has passed: the scheduler (this call or the app's own
            # loop, whichever claims it) marks it
            await runtime_of(app).scheduler.run_due()
            r = await surveys.get(f"/return-visits/{ids['late']}", headers=DESK)
            return r.json()["overdue_at"] is not None

        await wait_until(marked_overdue, timeout=30, what="surveys marked the late visit overdue")
        console = create_app(
            ConsoleSettings(
                local_dev=True,
                surveys_url="http://surveys.test",
                tickets_url="http://tickets.test",
                nats_url=nats_url,
            ),
            transport=transport(app) if transport else httpx.ASGITransport(app=app),
        )
        yield Visits(surveys, app, console, ids, nos)
