"""The reports service (its own database) with a month of events in its read model, and the
console in front of it: October 2026 as the reports tests seed it (XK-200 in three batches, 14
failures and two questions, four resolution breaches), handed to its inbox as deliveries would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from report_events import assigned, breached, contract, opened
from reports.app import create_app as reports_app
from reports.settings import ReportsSettings
from test_monthly_report import TUESDAY_10

from aftersales_shared.events import Envelope
from aftersales_testing.support import migrated, runtime_of
from console.app import create_app
from console.settings import ConsoleSettings

MONTH = "2026-10"


@dataclass
class Reports:
    app: Any
    console_app: Any
    tickets: list[str]  # the numbers of the month's tickets
    late: list[str]  # those whose resolution clock breached

    def console(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.console_app),
            base_url="http://console.test",
            timeout=60,
        )


async def _deliver(app: Any, env: Envelope[Any]) -> None:
    inbox = runtime_of(app).inbox
    sub = next(s for s in inbox.subscriptions.values() if isinstance(env.data, s.accepts))
    assert await inbox.handle(sub, env)


@asynccontextmanager
async def open_reports(databases: Any, nats_url: str) -> AsyncIterator[Reports]:
    app = reports_app(
        ReportsSettings(database_url=await migrated(databases, "reports"), nats_url=nats_url)
    )
    from datetime import timedelta

    tickets = []
    for batch, failures in {"B1": 1, "B2": 1, "B3": 12}.items():
        serials = [f"XK-{batch}-{i:03d}" for i in range(100)]
        await _deliver(
            app, contract(serials, "XK-200", batch, "2026-06-01T02:00:00Z", dealer_id="D-ZJ-01")
        )
        for i in range(failures):
            tickets.append(opened(TUESDAY_10, serial_no=serials[i], dealer_id="D-ZJ-01"))
    tickets += [opened(TUESDAY_10, "usage_question"), opened(TUESDAY_10, "usage_question")]
    for env in tickets:
        await _deliver(app, env)
        await _deliver(app, assigned(env.data, TUESDAY_10 + timedelta(hours=1)))
    for env in tickets[:4]:
        await _deliver(app, breached(env.data))
    console = create_app(
        ConsoleSettings(local_dev=True, reports_url="http://reports.test", nats_url=nats_url),
        transport=httpx.ASGITransport(app=app),
    )
    try:
        yield Reports(
            app,
            console,
            [e.data.ticket_no for e in tickets],
            [e.data.ticket_no for e in tickets[:4]],
        )
    finally:
        await runtime_of(app).engine.dispose()
