"""The contracts service (its own database, real NATS) with contracts submitted for review, and the
console in front of it (contracts_flow: the contracts tests' own steps)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from contracts_flow import REP, app_on, draft, new_customer, ok, uid

from aftersales_testing.support import migrated, running
from console.app import create_app
from console.settings import ConsoleSettings


@dataclass
class Reviews:
    client: httpx.AsyncClient
    console_app: Any
    submitted: list[str]  # contract numbers in review, oldest first
    customer: str

    def console(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.console_app),
            base_url="http://console.test",
            timeout=30,
        )


@asynccontextmanager
async def open_reviews(databases: Any, nats_url: str, clock: Any) -> AsyncIterator[Reviews]:
    clock.at("sunday-evening")
    app = app_on(await migrated(databases, "contracts"), nats_url)
    async with running(app) as client:
        customer = await new_customer(client)
        submitted = []
        for _ in range(2):
            no = f"HT-{uid()}"
            ok(
                await client.post(
                    "/contracts", json=draft(no, customer["customer_id"]), headers=REP
                ),
                201,
            )
            ok(await client.post(f"/contracts/{no}/submit", headers=REP))
            submitted.append(no)
        console = create_app(
            ConsoleSettings(
                local_dev=True, contracts_url="http://contracts.test", nats_url=nats_url
            ),
            transport=httpx.ASGITransport(app=app),
        )
        yield Reviews(client, console, submitted, customer["name"])
