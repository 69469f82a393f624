"""A ContractSigned written by contracts' outbox reaches tickets' inbox over real JetStream."""

from __future__ import annotations

import uuid

from contracts.app import create_app as contracts_app
from contracts.settings import ContractsSettings
from support import auth, draft_body, migrated, running, sign_contract_via_api, wait_until
from tickets.app import create_app as tickets_app
from tickets.settings import TicketsSettings

SALES = auth("sales")
AGENT = auth("service_agent")


async def test_signed_contract_becomes_entitlement(databases, streams_ready):
    c_app = contracts_app(ContractsSettings(database_url=await migrated(databases, "contracts"), nats_url=streams_ready))
    t_app = tickets_app(TicketsSettings(database_url=await migrated(databases, "tickets"), nats_url=streams_ready))
    no = f"HT-{uuid.uuid4().hex[:8]}"
    async with running(c_app) as contracts, running(t_app) as tickets:
        r = await contracts.post("/contracts", json=draft_body(no), headers=SALES)
        assert r.status_code == 201, r.text
        r = await sign_contract_via_api(contracts, no, SALES)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "signed"

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
