"""The contracts and tickets services (their own databases, one real NATS: a signed contract's
ContractSigned reaches tickets as an entitlement) and the console in front of both, reached
in-process by host name. Contracts: 陈经理's dealer D-ZJ-01 sold OURS (signed, then amended: version
2 adds a unit and changes the term, in review with legal's sign-off), another dealer sold THEIRS to
another customer, and a direct sale; a ticket opened on OURS's unit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from contracts_flow import (
    REP,
    REVIEWER,
    app_on,
    draft,
    new_customer,
    ok,
    review_all,
    signatures,
    uid,
)
from tickets_helpers import AGENT, SUP, body, tickets_app

from aftersales_testing.support import migrated, running, wait_until
from console.app import create_app
from console.settings import ConsoleSettings

OUR_DEALER, OTHER_DEALER = "D-ZJ-01", f"D-X-{uid()}"


class Routes(httpx.AsyncBaseTransport):
    """One in-process app per host name (http://contracts.test → the contracts app …)."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.transports = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.transports.get(request.url.host)
        if transport is None:  # a service this test does not run: as if it were down
            raise httpx.ConnectError(
                f"no service at {request.url.host} in this test", request=request
            )
        return await transport.handle_async_request(request)


@dataclass
class Books:
    contracts: httpx.AsyncClient
    tickets: httpx.AsyncClient
    console_app: Any
    ours: dict[str, Any]  # the newest version of each
    theirs: dict[str, Any]
    direct: dict[str, Any]
    ticket_no: str

    def console(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.console_app),
            base_url="http://console.test",
            timeout=30,
        )


async def _signed(c: httpx.AsyncClient, dealer: str | None) -> dict[str, Any]:
    no = f"HT-{uid()}"
    customer = await new_customer(c)
    extra = {"dealer_id": dealer} if dealer else {}
    ok(
        await c.post("/contracts", json=draft(no, customer["customer_id"], **extra), headers=REP),
        201,
    )
    approved = await review_all(c, no)
    sign = signatures(approved["document_sha256"])
    return ok(await c.post(f"/contracts/{no}/sign", json=sign, headers=REP))


async def _amended(c: httpx.AsyncClient, signed: dict[str, Any]) -> dict[str, Any]:
    """Version 2: one unit more, 36 months instead of 24; submitted, legal has signed off."""
    no = signed["contract_no"]
    ok(await c.post(f"/contracts/{no}/amendments", json={"reason": "增购一台"}, headers=REP), 201)
    products = [
        *signed["products"],
        {"model": "XK-300", "serial_no": f"{no}-SN3", "warranty_end": "2029-06-30"},
    ]
    terms = {**signed["terms"], "term_months": 36}
    for key in [k for k, v in terms.items() if v is None]:
        terms.pop(key)
    ok(await c.patch(f"/contracts/{no}", json={"products": products, "terms": terms}, headers=REP))
    ok(await c.post(f"/contracts/{no}/submit", headers=REP))
    decided = {"decision": "approve", "comments": "法务同意"}
    return ok(
        await c.post(f"/contracts/{no}/reviews/legal", json=decided, headers=REVIEWER["legal"])
    )


@asynccontextmanager
async def open_books(
    databases: Any, nats_url: str, clock: Any, page_size: int = 25
) -> AsyncIterator[Books]:
    clock.at("sunday-evening")
    contracts_app = app_on(await migrated(databases, "contracts"), nats_url)
    tickets = await tickets_app(databases, nats_url)
    async with running(contracts_app) as c, running(tickets) as t:
        ours = await _signed(c, OUR_DEALER)
        theirs = await _signed(c, OTHER_DEALER)
        direct = await _signed(c, None)
        serial = ours["products"][0]["serial_no"]

        async def entitled() -> bool:
            r = await t.get(f"/entitlements/{ours['contract_no']}", headers=SUP)
            return r.status_code == 200

        await wait_until(entitled, timeout=30, what="tickets heard ContractSigned")
        opened = await t.post("/tickets", json=body(serial=serial), headers=AGENT)
        assert opened.status_code == 201, opened.text
        ours = await _amended(c, ours)
        for _ in range(3):  # drafts of the direct sale's customer: a second page at 5 a page
            no = f"HT-{uid()}"
            new = draft(no, direct["customer_id"])
            ok(await c.post("/contracts", json=new, headers=REP), 201)
        console = create_app(
            ConsoleSettings(
                local_dev=True,
                contracts_url="http://contracts.test",
                tickets_url="http://tickets.test",
                nats_url=nats_url,
                page_size=page_size,
            ),
            transport=Routes({"contracts.test": contracts_app, "tickets.test": tickets}),
        )
        yield Books(c, t, console, ours, theirs, direct, opened.json()["ticket_no"])
