"""Helpers of the console tests: the real tickets app (its own database, real NATS) reached
in-process by the console's HTTP client, tickets opened over HTTP, signing in through the form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from tickets_helpers import AGENT, SUP, body, entitle, tickets_app, uid

from aftersales_testing.support import running
from console.app import create_app
from console.settings import ConsoleSettings

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass
class Desk:
    """The tickets service with a few tickets in it, and the console in front of it."""

    tickets: httpx.AsyncClient
    tickets_app: Any
    console_app: Any
    opened: dict[str, str]  # what each ticket is for -> its number
    dealer_id: str
    contract_no: str = ""  # the dealer's contract (its entitlement) and its unit
    serial_no: str = ""

    def console(self) -> httpx.AsyncClient:
        """A browser-like client of the console (keeps its cookies)."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.console_app),
            base_url="http://console.test",
            timeout=30,
        )


async def sign_in(client: httpx.AsyncClient, sub: str) -> httpx.Response:
    """Through the sign-in page's form, with the CSRF token it carries."""
    page = await client.get("/login")
    assert page.status_code == 200, page.text
    token = CSRF_FIELD.search(page.text)
    assert token, "the sign-in form carries no CSRF token"
    return await client.post("/login", data={"sub": sub, "_csrf_token": token[1]})


async def open_ticket(client: httpx.AsyncClient, **kw: Any) -> str:
    response = await client.post("/tickets", json=body(**kw), headers=AGENT)
    assert response.status_code == 201, response.text
    return response.json()["ticket_no"]


@asynccontextmanager
async def open_desk(databases: Any, nats_url: str, clock: Any) -> AsyncIterator[Desk]:
    """Tickets opened at the named moment sunday-evening, so their countdowns are known."""
    clock.at("sunday-evening")
    app = await tickets_app(databases, nats_url)
    async with running(app) as tickets:
        dealer = f"D-T-{uid()}"
        serial, contract = f"SN-{uid()}", f"HT-{uid()}"
        await entitle(app, contract, [serial], dealer_id=dealer)
        opened = {
            "critical": await open_ticket(
                tickets,
                urgency="critical",
                customer_name="苏州某某精工",
                description="整机无法启动",
            ),
            "question": await open_ticket(
                tickets,
                urgency="normal",
                request_type="usage_question",
                customer_name="无锡某某设备有限公司",
                product_model="XK-300",
            ),
            "dealer": await open_ticket(tickets, serial=serial),
            "assigned": await open_ticket(tickets, customer_name="常州某某机械"),
        }
        assign = {"assignee_id": "eng-zhang", "assignee_name": "张工", "reason": "就近派工"}
        response = await tickets.post(
            f"/tickets/{opened['assigned']}/assign", json=assign, headers=SUP
        )
        assert response.status_code == 200, response.text
        console = create_app(
            ConsoleSettings(local_dev=True, tickets_url="http://tickets.test", nats_url=nats_url),
            transport=httpx.ASGITransport(app=app),
        )
        yield Desk(tickets, app, console, opened, dealer, contract, serial)
