"""The office behind finance's pages: the tickets, parts and contracts services (their own
databases, one real NATS: tickets' TicketOpened reaches parts through its inbox) and the console in
front of the three, reached in-process by host name. Six chargeable tickets, each with labour
recorded and its invoice requested by finance (1 to 6 hours at ¥180.00, 13 % VAT; the buyers take
turns, so every other name is asked for twice); six customers, the first three with distinct names,
credit codes and contact phones (two of them rep-li's), three more of rep-zhao's for a second
page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from contract_support import Routes
from contracts_flow import OTHER_REP, REP, app_on, code
from money_support import MANAGER, _dispatched, ok
from parts.app import create_app as parts_create_app
from parts.settings import PartsSettings
from tickets_helpers import tickets_app, uid

from aftersales_testing.support import auth, migrated, running
from console.app import create_app
from console.settings import ConsoleSettings

FINANCE = auth("finance", sub="fin-qian")
TAX_NO = "91320505MA1XYW123R"  # a valid 统一社会信用代码
BUYERS = ("苏州精密机械有限公司", "无锡某某设备有限公司", "常州某某机械有限公司")


@dataclass
class Office:
    console_app: Any
    invoices: list[dict[str, Any]]  # as requested, oldest first: BUYERS twice over
    customers: list[dict[str, Any]]  # the first two rep-li's, the rest rep-zhao's

    def console(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.console_app),
            base_url="http://console.test",
            timeout=30,
        )


async def _invoice(tickets: Any, parts: Any, buyer: str, hours: str) -> dict[str, Any]:
    """A chargeable ticket (opened, dispatched, heard by parts), labour on it, its invoice."""
    no = await _dispatched(tickets, parts, customer_name=buyer)
    line = {"kind": "labour", "person": "eng-zhang", "quantity": hours, "price_code": "LAB-STD"}
    line["idempotency_key"] = f"lab-{uid()}"
    ok(await parts.post(f"/tickets/{no}/cost-lines", json=line, headers=MANAGER), 201)
    body = {"buyer_name": buyer, "buyer_tax_no": TAX_NO}
    return ok(await parts.post(f"/tickets/{no}/invoice", json=body, headers=FINANCE), 201)


async def _customer(contracts: Any, headers: Any, name: str, phone: str) -> dict[str, Any]:
    body = {
        "customer_id": f"C-{uid()}",
        "name": name,
        "credit_code": code(),
        "industry": "机床制造",
        "contacts": [{"name": "王建国", "phone": phone, "email": "wang@example.cn"}],
    }
    return ok(await contracts.post("/customers", json=body, headers=headers), 201)


@asynccontextmanager
async def open_office(
    databases: Any, nats_url: str, clock: Any, page_size: int = 25
) -> AsyncIterator[Office]:
    clock.at("sunday-evening")
    tickets = await tickets_app(databases, nats_url, ticket_prefix=f"I{uid().upper()}")
    parts_app = parts_create_app(
        PartsSettings(database_url=await migrated(databases, "parts"), nats_url=nats_url)
    )
    contracts_app = app_on(await migrated(databases, "contracts"), nats_url)
    async with (
        running(tickets) as t,
        running(parts_app) as p,
        running(contracts_app) as c,
    ):
        labour = {"kind": "labour", "name": "工程师工时", "unit": "小时", "rate": "180.00"}
        ok(await p.put("/price-list/LAB-STD", json=labour, headers=MANAGER))
        invoices = [await _invoice(t, p, BUYERS[i % 3], f"{i + 1}.00") for i in range(6)]
        tag = uid()
        customers = [
            await _customer(c, REP, f"苏州精工机床{tag}有限公司", "13912345678"),
            await _customer(c, REP, f"杭州数控{tag}科技有限公司", "0571-88886666"),
            await _customer(c, OTHER_REP, f"无锡冲压{tag}设备厂", "13698765432"),
        ]
        for i in range(3):
            phone = f"1350000000{i}"
            customers.append(await _customer(c, OTHER_REP, f"配套{tag}五金厂{i}", phone))
        console = create_app(
            ConsoleSettings(
                local_dev=True,
                tickets_url="http://tickets.test",
                parts_url="http://parts.test",
                contracts_url="http://contracts.test",
                nats_url=nats_url,
                page_size=page_size,
            ),
            transport=Routes(
                {"tickets.test": tickets, "parts.test": parts_app, "contracts.test": contracts_app}
            ),
        )
        yield Office(console, invoices, customers)
