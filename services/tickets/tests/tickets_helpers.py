"""Helpers for the tickets tests: entitlements through the inbox, time travel for the scheduler."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy import select

from aftersales_shared.db import outbox
from aftersales_shared.events import ContractSignedV1, Envelope
from aftersales_shared.scheduler import Scheduler
from aftersales_testing import natsaccess
from aftersales_testing.support import auth, runtime_of
from tickets import messaging
from tickets.app import create_app
from tickets.settings import TicketsSettings

# the people of the API tests, a request body and a short unique suffix
AGENT = auth("service_agent", sub="agent-wu")
SUP = auth("service_supervisor", sub="sup-liu")
ENG = auth("engineer", sub="eng-zhang")
OTHER_ENG = auth("engineer", sub="eng-wang")


def body(serial: str | None = None, **kw):
    return {
        "channel": "phone",
        "request_type": "quality_issue",
        "urgency": "urgent",
        "description": "主轴异响，11月24日开始",
        "contact": {"name": "赵工", "phone": "13912345678"},
        **({"serial_no": serial} if serial else {}),
        **kw,
    }


def uid() -> str:
    return uuid.uuid4().hex[:8]


async def tickets_app(databases: Any, nats_url: str, **overrides: Any) -> Any:
    from aftersales_testing.support import migrated

    return create_app(
        TicketsSettings(
            database_url=await migrated(databases, "tickets"), nats_url=nats_url, **overrides
        )
    )


async def entitle(
    app: Any,
    contract_no: str,
    serials: list[str],
    *,
    dealer_id: str | None = None,
    calendar: str = "default",
    levels: list[dict] | None = None,
    warranty_end: str = "2029-12-31",
) -> None:
    """Record a signed contract's entitlement through the tickets inbox (as ContractSigned
    would)."""
    rt = runtime_of(app)
    data = ContractSignedV1.model_validate(
        {
            "contract_no": contract_no,
            "signed_at": "2026-11-01T02:00:00Z",
            "customer": {
                "customer_id": f"C-{contract_no}",
                "name": "无锡某某设备有限公司",
                "contacts": [{"name": "赵工", "phone": "13912345678"}],
            },
            "products": [
                {"model": "XK-200", "serial_no": s, "warranty_end": warranty_end} for s in serials
            ],
            "service_levels": levels
            or [
                {
                    "urgency": "urgent",
                    "response_minutes": 60,
                    "resolution_minutes": 480,
                    "onsite_minutes": 240,
                }
            ],
            "calendar": calendar,
            "dealer_id": dealer_id,
        }
    )
    env = Envelope(data=data, source="/tests")
    sub = rt.inbox.subscriptions["tickets-contracts-contract_signed-v1"]
    assert await rt.inbox.handle(sub, env)


def time_machine(app: Any, now: datetime) -> Scheduler:
    """A second scheduler replica on the same database whose clock reads `now`."""
    rt = runtime_of(app)
    scheduler = Scheduler(rt.sessions, clock=lambda: now)
    messaging.register_sla_jobs(scheduler, rt.settings, lambda: now)
    messaging.register_year_check(scheduler, rt.settings, lambda: now)
    messaging.register_quality_jobs(scheduler, lambda: now)
    return scheduler


async def drain(*replicas: Scheduler) -> int:
    """Run the replicas' ticks side by side until none fires anything (a warning schedules its
    breach for the next tick, a breach its escalation); how many jobs fired in all."""
    import asyncio

    total = 0
    while fired := sum(await asyncio.gather(*(r.run_due() for r in replicas))):
        total += fired
    return total


async def outbox_events(
    app: Any, ce_type_suffix: str, subject: str | None = None
) -> list[dict[str, Any]]:
    rt = runtime_of(app)
    async with rt.sessions() as s:
        rows = (
            await s.execute(select(outbox.c.headers, outbox.c.body).order_by(outbox.c.created_at))
        ).all()
    out = []
    for headers, body in rows:
        h = json.loads(headers)
        if h["ce-type"].endswith(ce_type_suffix) and (
            subject is None or h.get("ce-subject") == subject
        ):
            out.append(json.loads(body))
    return out


async def stream_types(nats_url: str, subject_filter: str, ce_subject: str) -> list[str]:
    """Event types on a subject filter for one business subject, in stream order (outside
    subscriber)."""
    nc = await natsaccess.connect(nats_url)
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        subject_filter, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    types: list[str] = []
    try:
        while True:
            try:
                msgs = await sub.fetch(200, timeout=1)
            except TimeoutError:  # nats raises both its own and asyncio's
                break
            for m in msgs:
                if m.headers.get("ce-subject") == ce_subject:
                    types.append(m.headers["ce-type"].split(".")[-2])
                await m.ack()
    finally:
        await sub.unsubscribe()
        await nc.close()
    return types
