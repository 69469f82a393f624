"""Over real NATS JetStream and PostgreSQL: two replicas of parts on one database, each with its
scheduler and relay running, race for the submission deadlines of claims already past due — each
claim's ExpenseClaimOverdue reaches the PARTS stream exactly once. TicketAssigned, as tickets
publishes it, reaches parts' inbox and lets the engineer's claim name the ticket."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import nats
from nats.js.api import DeliverPolicy
from parts.app import create_app
from parts.settings import PartsSettings
from parts_support import uid
from sqlalchemy import func, select
from test_expenses import ENG_A, A, assigned

from aftersales_shared.db import outbox
from aftersales_testing import natsaccess
from aftersales_testing.support import migrated, publish, running, runtime_of, wait_until

SH = ZoneInfo("Asia/Shanghai")
CLAIMS = 3


async def _overdue_on_stream(nats_url: str) -> list[dict]:
    nc = await natsaccess.connect(nats_url)
    found: list[dict] = []
    try:
        sub = await nc.jetstream().subscribe(
            "parts.expense_claim_overdue.v1",
            deliver_policy=DeliverPolicy.ALL,
            ordered_consumer=True,
        )
        while True:
            try:
                msg = await sub.next_msg(timeout=2)
            except (TimeoutError, nats.errors.TimeoutError):
                break
            found.append(json.loads(msg.data) | {"_subject": msg.headers.get("ce-subject")})
        await sub.unsubscribe()
    finally:
        await nc.close()
    return found


async def test_two_replicas_raise_each_overdue_claim_once_on_nats(databases, streams_ready):
    url = await migrated(databases, "parts")
    settings = dict(database_url=url, nats_url=streams_ready, scheduler_max_sleep_seconds=0.2)
    apps = [create_app(PartsSettings(**settings)) for _ in range(2)]
    ticket = uid("SV-")
    # a trip that ended 40 days ago: its ten working days are past whatever today is
    end = datetime.now(SH).date() - timedelta(days=40)
    body = {
        "trip_start": str(end),
        "trip_end": str(end),
        "destination": "温州",
        "lines": [
            {
                "spent_on": str(end),
                "category": "meal_allowance",
                "amount": "100.00",
                "ticket_nos": [ticket],
            }
        ],
    }
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(running(apps[0]))
        await stack.enter_async_context(running(apps[1]))
        await publish(streams_ready, assigned(ticket, ENG_A))

        async def may_claim() -> bool:
            r = await first.post("/expense-claims", json=body, headers=A)
            assert r.status_code in (201, 422), r.text
            return r.status_code == 201

        await wait_until(may_claim, what="TicketAssigned consumed, the first claim created")
        for _ in range(CLAIMS - 1):
            assert (await first.post("/expense-claims", json=body, headers=A)).status_code == 201

        async def all_overdue_and_sent() -> bool:
            r = await first.get("/expense-claims", params={"overdue": "true"}, headers=A)
            async with runtime_of(apps[0]).sessions() as s:
                unsent = await s.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                )
            return r.json()["total"] == CLAIMS and unsent == 0

        await wait_until(all_overdue_and_sent, what="every claim overdue, every event published")
        await asyncio.sleep(1.0)  # five more rounds of both schedulers: nothing more may fire
        r = await first.get("/expense-claims", params={"overdue": "true"}, headers=A)
        numbers = sorted(i["claim_no"] for i in r.json()["items"])

    events = [e for e in await _overdue_on_stream(streams_ready) if e["_subject"] in numbers]
    assert sorted(e["claim_no"] for e in events) == numbers, events
    assert all(e["assignee_id"] == ENG_A and e["working_days"] == 10 for e in events)
