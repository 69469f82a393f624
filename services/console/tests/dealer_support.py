"""The dealers service (its own database, real NATS) with two dealers' records in it, and the
console in front of it: D-ZJ-01 (the demo's 陈经理 signs in as its dealer) and another dealer.
The steps of the 三包 cycle over HTTP as the dealers tests take them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from aftersales_testing.support import auth, migrated, running
from console.app import create_app
from console.settings import ConsoleSettings
from dealers.app import create_app as dealers_app
from dealers.settings import DealersSettings

TZ = ZoneInfo("Asia/Shanghai")
MANAGER = auth("manager", sub="mgr-li")
FINANCE = auth("finance", sub="fin-zhao")
OURS = "D-ZJ-01"


def today() -> date:
    return datetime.now(TZ).date()


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def token(dealer_id: str) -> dict[str, str]:
    return auth("dealer", sub=f"user-of-{dealer_id}", dealer_id=dealer_id)


@dataclass
class Dealers:
    client: httpx.AsyncClient
    console_app: Any
    ours: dict[str, Any]  # what D-ZJ-01 has: serials, the repair, the notice
    theirs: dict[str, Any]  # the other dealer's
    other_id: str
    seasons: tuple[str, str]  # selling seasons: plans due in 10 and in 30 days (the other's in)

    def console(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.console_app),
            base_url="http://console.test",
            timeout=30,
        )


async def _dealer(client: httpx.AsyncClient, dealer_id: str) -> None:
    body = {
        "dealer_id": dealer_id,
        "name": f"经销商{dealer_id}",
        "region": "浙江",
        "agreement_no": f"AG-{dealer_id}",
        "agreement_start": str(today() - timedelta(days=365)),
        "agreement_end": str(today() + timedelta(days=365)),
        "contacts": [{"name": "陈经理", "phone": "13900000000"}],
        "grade": "B",
    }
    r = await client.post("/dealers", json=body, headers=MANAGER)
    assert r.status_code == 201, r.text


async def _sell(client: httpx.AsyncClient, dealer_id: str, days_ago: int, customer: str) -> str:
    serial = uid("SN")
    body = {
        "serial_no": serial,
        "model": "XK-200",
        "sale_date": str(today() - timedelta(days=days_ago)),
        "warranty_end": str(today() + timedelta(days=700)),
        "customer_name": customer,
    }
    r = await client.post("/units", json=body, headers=token(dealer_id))
    assert r.status_code == 201, r.text
    return serial


async def _card(client: httpx.AsyncClient, dealer_id: str, serial: str) -> None:
    body = {"serial_no": serial, "customer_name": "杭州某某机电", "customer_phone": "0571-88888888"}
    r = await client.post("/cards", json=body, headers=token(dealer_id))
    assert r.status_code == 201, r.text


async def _repaired(
    client: httpx.AsyncClient, dealer_id: str, serial: str, parts: list[dict[str, Any]]
) -> dict[str, Any]:
    who = token(dealer_id)
    r = await client.post(
        "/repair-records",
        json={
            "serial_no": serial,
            "kind": "warranty",
            "ticket_no": uid("T"),
            "fault_description": "主轴异响，无法启动",
        },
        headers=who,
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    arrange = {
        "engineer": "张师傅",
        "appointment_at": (datetime.now(TZ) + timedelta(hours=3)).isoformat(),
        "user_informed": True,
        "reported_to_technical": True,
    }
    r = await client.post(f"/repair-records/{rid}/arrange", json=arrange, headers=who)
    assert r.status_code == 200, r.text
    done = {
        "repair_description": "更换主轴轴承",
        "parts": parts,
        "labour_fee": "80.00",
        "travel_fee": "50.05",
        "confirmation": {
            "confirmed_by": "王工",
            "confirmed_at": datetime.now(TZ).isoformat(),
            "method": "signature",
        },
    }
    r = await client.post(f"/repair-records/{rid}/complete", json=done, headers=who)
    assert r.status_code == 200, r.text
    return r.json()


async def _world(client: httpx.AsyncClient, dealer_id: str, customer: str) -> dict[str, Any]:
    """Units (one with its card, one waiting for it), a repair owing a part back, a repair
    without parts (approved at once) on a deduction notice."""
    await _dealer(client, dealer_id)
    carded = await _sell(client, dealer_id, 3, customer)
    await _card(client, dealer_id, carded)
    waiting = await _sell(client, dealer_id, 5, customer)  # 15 of the 20 days left
    bearing = {"part_no": "P-100", "name": "主轴轴承", "quantity": 2, "unit_cost": "123.45"}
    owing = await _repaired(client, dealer_id, carded, [bearing])
    labour_only = await _repaired(client, dealer_id, carded, [])
    period = {"dealer_id": dealer_id, "period_start": str(today()), "period_end": str(today())}
    r = await client.post("/deduction-notices", json=period, headers=FINANCE)
    assert r.status_code == 201, r.text
    return {
        "carded": carded,
        "waiting": waiting,
        "owing": owing,
        "labour_only": labour_only,
        "notice": r.json(),
    }


THEIR_PART = {"part_no": "P-THEIRS-9", "name": "别家的液压泵", "quantity": 7}


async def _season(client: httpx.AsyncClient, name: str, starts_in_days: int) -> str:
    """A selling season starting in so many days (its plans due 30 days before)."""
    code = uid("S")
    body = {"code": code, "name": name, "starts_on": str(today() + timedelta(days=starts_in_days))}
    r = await client.post("/seasons", json=body, headers=MANAGER)
    assert r.status_code == 201, r.text
    return code


@asynccontextmanager
async def open_dealers(databases: Any, nats_url: str, clock: Any) -> AsyncIterator[Dealers]:
    clock.at("sunday-evening")
    app = dealers_app(
        DealersSettings(database_url=await migrated(databases, "dealers"), nats_url=nats_url)
    )
    async with running(app) as client:
        ours = await _world(client, OURS, "宁波某某机械")
        other = uid("D")
        theirs = await _world(client, other, "温州某某五金")
        seasons = (await _season(client, "春季", 40), await _season(client, "夏季", 60))
        plan = {"season_code": seasons[0], "lines": [THEIR_PART]}
        r = await client.post("/stocking-plans", json=plan, headers=token(other))
        assert r.status_code == 201, r.text
        console = create_app(
            ConsoleSettings(local_dev=True, dealers_url="http://dealers.test", nats_url=nats_url),
            transport=httpx.ASGITransport(app=app),
        )
        yield Dealers(client, console, ours, theirs, other, seasons)
