"""The contracts and tickets services (their own databases, one real NATS) and the console in
front of both, reached in-process by host name (contract_support.Routes): what sales' forms need
(the customer page reads the customer's tickets). One customer with one draft, registered through
the contracts API by the contracts tests' sales rep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from contract_support import Routes
from contracts_flow import REP, app_on, draft, new_customer, ok, uid
from tickets_helpers import tickets_app

from aftersales_testing.support import migrated, running
from console.app import create_app
from console.settings import ConsoleSettings


@dataclass
class Desk:
    contracts: httpx.AsyncClient
    console_app: Any
    customer: dict[str, Any]
    draft_no: str

    def console(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.console_app),
            base_url="http://console.test",
            timeout=30,
        )


@asynccontextmanager
async def open_sales(databases: Any, nats_url: str, clock: Any) -> AsyncIterator[Desk]:
    clock.at("sunday-evening")
    contracts_app = app_on(await migrated(databases, "contracts"), nats_url)
    tickets = await tickets_app(databases, nats_url)
    async with running(contracts_app) as c, running(tickets):
        customer = await new_customer(c)
        no = f"HT-{uid()}"
        ok(await c.post("/contracts", json=draft(no, customer["customer_id"]), headers=REP), 201)
        console = create_app(
            ConsoleSettings(
                local_dev=True,
                contracts_url="http://contracts.test",
                tickets_url="http://tickets.test",
                nats_url=nats_url,
            ),
            transport=Routes({"contracts.test": contracts_app, "tickets.test": tickets}),
        )
        yield Desk(c, console, customer, no)
