"""Fixtures of the dealers tests: an app per test and a kit of steps of the 三包 cycle over HTTP."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from aftersales_shared.db import outbox
from aftersales_testing.support import auth, migrated, runtime_of
from dealers.app import create_app
from dealers.settings import DealersSettings

TZ = ZoneInfo("Asia/Shanghai")
MANAGER = auth("manager", sub="mgr-li")
FINANCE = auth("finance", sub="fin-zhao")
TECH = auth("technical", sub="tech-wu")


@pytest.fixture
async def dealers_app(databases, streams_ready):
    return create_app(
        DealersSettings(database_url=await migrated(databases, "dealers"), nats_url=streams_ready)
    )


def today() -> date:
    return datetime.now(TZ).date()


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def dealer_token(dealer_id: str) -> dict[str, str]:
    return auth("dealer", sub=f"user-of-{dealer_id}", dealer_id=dealer_id)


async def new_dealer(client: Any, **kw: Any) -> tuple[str, dict[str, str]]:
    dealer_id = kw.pop("dealer_id", uid("D"))
    body = {
        "dealer_id": dealer_id,
        "name": f"经销商{dealer_id}",
        "region": "浙江",
        "agreement_no": f"AG-{dealer_id}",
        "agreement_start": str(today() - timedelta(days=365)),
        "agreement_end": str(today() + timedelta(days=365)),
        "contacts": [{"name": "陈经理", "phone": "13900000000"}],
        "grade": "B",
    } | kw
    r = await client.post("/dealers", json=body, headers=MANAGER)
    assert r.status_code == 201, r.text
    return dealer_id, dealer_token(dealer_id)


async def sell(client: Any, token: dict[str, str], days_ago: int = 5, **kw: Any) -> str:
    serial = kw.pop("serial_no", uid("SN"))
    body = {
        "serial_no": serial,
        "model": "XK-200",
        "sale_date": str(today() - timedelta(days=days_ago)),
        "warranty_end": str(today() + timedelta(days=700)),
        "customer_name": "杭州某某机电",
    } | kw
    r = await client.post("/units", json=body, headers=token)
    assert r.status_code == 201, r.text
    return serial


async def card(client: Any, token: dict[str, str], serial: str) -> dict[str, Any]:
    r = await client.post(
        "/cards",
        json={
            "serial_no": serial,
            "customer_name": "杭州某某机电",
            "customer_phone": "0571-88888888",
        },
        headers=token,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def repaired(
    client: Any,
    token: dict[str, str],
    serial: str,
    parts: list[dict[str, Any]] | None = None,
    kind: str = "warranty",
    labour: str = "80.00",
    travel: str = "50.05",
) -> dict[str, Any]:
    """A repair requested, arranged and confirmed by the user."""
    r = await client.post(
        "/repair-records",
        json={
            "serial_no": serial,
            "kind": kind,
            "ticket_no": uid("T"),
            "fault_description": "主轴异响，无法启动",
        },
        headers=token,
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = await client.post(
        f"/repair-records/{rid}/arrange",
        json={
            "engineer": "张师傅",
            "appointment_at": (datetime.now(TZ) + timedelta(hours=3)).isoformat(),
            "user_informed": True,
            "reported_to_technical": True,
        },
        headers=token,
    )
    assert r.status_code == 200, r.text
    if parts is None:
        parts = [
            {"part_no": "P-100", "name": "主轴轴承", "quantity": 2, "unit_cost": "123.45"},
            {"part_no": "P-200", "name": "保险丝", "quantity": 1, "unit_cost": "0.10"},
        ]
    r = await client.post(
        f"/repair-records/{rid}/complete",
        json={
            "repair_description": "更换轴承和保险丝",
            "parts": parts,
            "labour_fee": labour,
            "travel_fee": travel,
            "confirmation": {
                "confirmed_by": "王工",
                "confirmed_at": datetime.now(TZ).isoformat(),
                "method": "signature",
            },
        },
        headers=token,
    )
    assert r.status_code == 200, r.text
    return r.json()


async def returned_and_inspected(
    client: Any,
    token: dict[str, str],
    record: dict[str, Any],
    verdicts: list[tuple[str, str | None]] | None = None,
) -> dict[str, Any]:
    r = await client.post(
        "/part-shipments", json={"record_ids": [record["id"]], "carrier": "顺丰"}, headers=token
    )
    assert r.status_code == 201, r.text
    shipment = r.json()
    r = await client.post(f"/part-shipments/{shipment['id']}/receive", headers=TECH)
    assert r.status_code == 200, r.text
    verdicts = verdicts or [("reusable", None), ("scrap", None)]
    out = record
    for part, (verdict, reason) in zip(record["parts"], verdicts):
        r = await client.post(
            f"/parts/{part['id']}/inspection",
            json={"verdict": verdict, "reason": reason},
            headers=TECH,
        )
        assert r.status_code == 200, r.text
        out = r.json()
    return out | {"shipment_id": shipment["id"]}


async def outbox_events(app: Any, ce_type: str) -> list[dict[str, Any]]:
    async with runtime_of(app).sessions() as s:
        rows = (await s.execute(select(outbox.c.headers, outbox.c.body))).all()
    return [
        json.loads(b)
        for h, b in rows
        if json.loads(h)["ce-type"] == f"cn.aftersales.dealers.{ce_type}.v1"
    ]


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    return SimpleNamespace(
        new_dealer=new_dealer,
        sell=sell,
        card=card,
        repaired=repaired,
        returned_and_inspected=returned_and_inspected,
        outbox_events=outbox_events,
        today=today,
        uid=uid,
        dealer_token=dealer_token,
        MANAGER=MANAGER,
        FINANCE=FINANCE,
        TECH=TECH,
        TZ=TZ,
    )
