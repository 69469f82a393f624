"""The tickets and parts services (their own databases, one real NATS: tickets' TicketOpened and
TicketAssigned reach parts through its inbox) and the console in front of both, reached in-process
by host name. Two tickets dispatched to 张工 (eng-zhang): one on a unit in its 三包 period
(warranty), one with no registered unit (chargeable); 张工's van holds 3 of a bearing, 王工's van
1 of a belt; the price list has a labour rate and a fixed-price calibration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from contract_support import Routes
from parts.app import create_app as parts_create_app
from parts.settings import PartsSettings
from tickets_helpers import AGENT, SUP, body, entitle, tickets_app, uid

from aftersales_testing.support import auth, migrated, running, wait_until
from console.app import create_app
from console.settings import ConsoleSettings

KEEPER = auth("service_supervisor", sub="sup-wang")
MANAGER = auth("manager", sub="mgr-li")


@dataclass
class Shop:
    tickets: httpx.AsyncClient
    parts: httpx.AsyncClient
    console_app: Any
    warranty_ticket: str
    chargeable_ticket: str
    bearing: str  # in 张工's van, 3 units at ¥100.00
    belt: str  # in 王工's van, 1 unit
    van: str  # 张工's
    other_van: str  # 王工's

    def console(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.console_app),
            base_url="http://console.test",
            timeout=30,
        )


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _part(parts: httpx.AsyncClient, prefix: str, name: str, price: str) -> str:
    no = f"{prefix}-{uid().upper()}"
    part = {
        "part_no": no,
        "name": name,
        "unit": "件",
        "unit_price": price,
        "warranty_part": True,
        "compatible_models": ["XK-200"],
        "reorder_point": 1,
        "reorder_quantity": 5,
    }
    ok(await parts.post("/parts", json=part, headers=MANAGER), 201)
    return no


async def _van(parts: httpx.AsyncClient, engineer: str, part_no: str, quantity: int) -> str:
    van = f"VAN-{uid().upper()}"
    loc = {"location_id": van, "name": f"{engineer}车载库", "kind": "van", "engineer_id": engineer}
    ok(await parts.post("/locations", json=loc, headers=MANAGER), 201)
    move = {
        "kind": "receive",
        "part_no": part_no,
        "to_location": van,
        "quantity": quantity,
        "idempotency_key": f"recv-{uid()}",
    }
    ok(await parts.post("/movements", json=move, headers=KEEPER), 201)
    return van


async def _dispatched(tickets: httpx.AsyncClient, parts: httpx.AsyncClient, **kw: Any) -> str:
    no = ok(await tickets.post("/tickets", json=body(**kw), headers=AGENT), 201)["ticket_no"]
    assign = {"assignee_id": "eng-zhang", "assignee_name": "张工", "reason": "就近派工"}
    ok(await tickets.post(f"/tickets/{no}/assign", json=assign, headers=SUP))

    async def heard() -> bool:
        return (await parts.get(f"/tickets/{no}", headers=SUP)).status_code == 200

    await wait_until(heard, timeout=30, what="parts heard TicketOpened")
    return no


@asynccontextmanager
async def open_shop(
    databases: Any, nats_url: str, clock: Any, page_size: int = 25
) -> AsyncIterator[Shop]:
    clock.at("sunday-evening")
    # a prefix of its own: every test's tickets service numbers from 0001 on the shared NATS, and
    # parts (its durable consumer shared across tests) must not take another test's ticket for this
    tickets = await tickets_app(databases, nats_url, ticket_prefix=f"P{uid().upper()}")
    parts_app = parts_create_app(
        PartsSettings(database_url=await migrated(databases, "parts"), nats_url=nats_url)
    )
    async with running(tickets) as t, running(parts_app) as p:
        serial, contract = f"SN-{uid()}", f"HT-{uid()}"
        await entitle(tickets, contract, [serial], warranty_end="2029-12-31")
        warranty = await _dispatched(t, p, serial=serial, customer_name="苏州某某精工")
        chargeable = await _dispatched(t, p, customer_name="无锡某某设备有限公司")
        for code, item in {
            "LAB-STD": {"kind": "labour", "name": "工程师工时", "unit": "小时", "rate": "180.00"},
            "SVC-CAL": {"kind": "service", "name": "精度校准", "unit": "次", "rate": "800.00"},
        }.items():
            ok(await p.put(f"/price-list/{code}", json=item, headers=MANAGER))
        bearing = await _part(p, "BRG", "主轴轴承", "100.00")
        belt = await _part(p, "BLT", "同步带", "40.00")
        van = await _van(p, "eng-zhang", bearing, 3)
        other_van = await _van(p, "eng-wang", belt, 1)
        console = create_app(
            ConsoleSettings(
                local_dev=True,
                tickets_url="http://tickets.test",
                parts_url="http://parts.test",
                nats_url=nats_url,
                page_size=page_size,
            ),
            transport=Routes({"tickets.test": tickets, "parts.test": parts_app}),
        )
        yield Shop(t, p, console, warranty, chargeable, bearing, belt, van, other_van)
