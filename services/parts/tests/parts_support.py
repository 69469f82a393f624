"""Helpers of the parts tests: a kit around one app (HTTP in-process, its outbox), and steps that
set up parts, locations and stock over the API."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy import select

from aftersales_shared.db import outbox
from aftersales_testing.support import auth, runtime_of

KEEPER = auth("service_supervisor", sub="sup-wang")
MANAGER = auth("manager", sub="mgr-li")


def engineer(sub: str) -> dict[str, str]:
    return auth("engineer", sub=sub)


def uid(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


class PartsKit:
    """One parts app on its own database."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.rt = runtime_of(app)

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """HTTP in-process without the broker: events stay in the outbox, read by `events`."""
        transport = httpx.ASGITransport(app=self.app)
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", timeout=60
            ) as client:
                yield client
        finally:
            await self.rt.engine.dispose()

    async def events(self, name: str) -> list[dict[str, Any]]:
        async with self.rt.sessions() as s:
            rows = (
                await s.execute(
                    select(outbox.c.headers, outbox.c.body).order_by(outbox.c.created_at)
                )
            ).all()
        return [
            json.loads(b)
            for h, b in rows
            if json.loads(h)["ce-type"] == f"cn.aftersales.parts.{name}.v1"
        ]


async def new_part(client: httpx.AsyncClient, **kw: Any) -> dict[str, Any]:
    body = {
        "part_no": uid("BRG-"),
        "name": "主轴轴承",
        "unit": "件",
        "unit_price": "123.45",
        "warranty_part": True,
        "compatible_models": ["XK-200"],
        "reorder_point": 0,
        "reorder_quantity": 10,
    } | kw
    r = await client.post("/parts", json=body, headers=MANAGER)
    assert r.status_code == 201, r.text
    return r.json()


async def new_location(client: httpx.AsyncClient, kind: str, **kw: Any) -> str:
    location_id = kw.pop("location_id", uid(f"{kind.upper()}-"))
    body = {"location_id": location_id, "name": f"库位{location_id}", "kind": kind} | kw
    r = await client.post("/locations", json=body, headers=MANAGER)
    assert r.status_code == 201, r.text
    return location_id


async def move(
    client: httpx.AsyncClient, headers: dict[str, str], expect: int = 201, **body: Any
) -> dict[str, Any]:
    body.setdefault("idempotency_key", uid("key-"))
    r = await client.post("/movements", json=body, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


async def stock_of(client: httpx.AsyncClient, part_no: str, location_id: str) -> dict[str, Any]:
    r = await client.get(
        "/stock", params={"part_no": part_no, "location_id": location_id}, headers=KEEPER
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    return items[0] if items else {"on_hand": 0, "reserved": 0, "available": 0, "faulty": 0}
