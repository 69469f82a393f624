"""A ContractSigned written by contracts' outbox reaches tickets' inbox over real JetStream."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from aftersales_shared.db import outbox
from aftersales_testing.support import (
    auth,
    draft_body,
    migrated,
    running,
    runtime_of,
    sign_contract_via_api,
    wait_until,
)
from contracts.app import create_app as contracts_app
from contracts.settings import ContractsSettings
from tickets.app import create_app as tickets_app
from tickets.settings import TicketsSettings

SALES = auth("sales")
AGENT = auth("service_agent")


async def test_signed_contract_becomes_entitlement(databases, streams_ready):
    c_app = contracts_app(
        ContractsSettings(
            database_url=await migrated(databases, "contracts"), nats_url=streams_ready
        )
    )
    t_app = tickets_app(
        TicketsSettings(database_url=await migrated(databases, "tickets"), nats_url=streams_ready)
    )
    no = f"HT-{uuid.uuid4().hex[:8]}"
    async with running(c_app) as contracts, running(t_app) as tickets:
        r = await contracts.post("/contracts", json=draft_body(no), headers=SALES)
        assert r.status_code == 201, r.text
        r = await sign_contract_via_api(contracts, no, SALES | {"X-Request-ID": f"req-{no}"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "signed"
        assert r.headers["x-request-id"] == f"req-{no}"
        async with runtime_of(c_app).sessions() as s:
            rows = [
                json.loads(h) for h in (await s.execute(select(outbox.c.headers))).scalars().all()
            ]
        [signed] = [h for h in rows if h["ce-type"].endswith("ContractSigned.v1")]
        assert signed["ce-correlationid"] == f"req-{no}"  # the request's id travels with its event

        async def arrived():
            resp = await tickets.get(f"/entitlements/{no}", headers=AGENT)
            return resp.json() if resp.status_code == 200 else None

        ent = await wait_until(arrived, what="entitlement in tickets")
        assert ent["customer_name"] == "上海某某机械有限公司"
        assert [u["serial_no"] for u in ent["units"]] == [f"{no}-SN1"]
        urgent = next(s for s in ent["service_levels"] if s["urgency"] == "urgent")
        assert urgent["response_minutes"] == 60
        normal = next(s for s in ent["service_levels"] if s["urgency"] == "normal")
        assert normal["resolution_minutes"] == 48 * 60
