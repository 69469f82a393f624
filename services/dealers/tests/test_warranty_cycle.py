"""The 三包 cycle over HTTP: cards on day 19 and 21, one repair through return, inspection and
deduction."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import event

from aftersales_shared.events.compat import SAMPLES_DIR
from aftersales_testing.support import running, runtime_of

pytestmark = pytest.mark.deadlines


async def test_card_on_day_19_is_recognised_and_on_day_21_is_kept_but_not(dealers_app, kit):
    async with running(dealers_app) as client:
        _, dealer = await kit.new_dealer(client)
        s19 = await kit.sell(client, dealer, days_ago=19)
        s21 = await kit.sell(client, dealer, days_ago=21)
        c19 = await kit.card(client, dealer, s19)
        c21 = await kit.card(client, dealer, s21)
        assert (c19["day"], c19["on_time"], c19["warranty_recognised"], c19["reason"]) == (
            19,
            True,
            True,
            None,
        )
        assert (c21["day"], c21["on_time"], c21["warranty_recognised"]) == (21, False, False)
        assert "第21天" in c21["reason"] and "not recognised" in c21["reason"]

        # the late unit cannot get warranty service; the on-time one can
        r = await client.post(
            "/repair-records",
            json={"serial_no": s21, "kind": "warranty", "fault_description": "不能启动"},
            headers=dealer,
        )
        assert r.status_code == 422 and "有偿服务" in r.json()["detail"], r.text
        r = await client.post(
            "/repair-records",
            json={"serial_no": s19, "kind": "warranty", "fault_description": "不能启动"},
            headers=dealer,
        )
        assert r.status_code == 201, r.text

        # a manager overrides the late card with a note; then warranty service is accepted
        r = await client.post(
            f"/cards/{c21['id']}/override", json={"note": ""}, headers=kit.MANAGER
        )
        assert r.status_code == 400
        r = await client.post(
            f"/cards/{c21['id']}/override", json={"note": "客户住院，经理特批"}, headers=dealer
        )
        assert r.status_code == 403
        r = await client.post(
            f"/cards/{c21['id']}/override", json={"note": "客户住院，经理特批"}, headers=kit.MANAGER
        )
        assert r.status_code == 200 and r.json()["warranty_recognised"] is True
        assert (
            r.json()["override_by"] == "mgr-li" and r.json()["reason"]
        )  # the original reason stays on record
        r = await client.post(
            "/repair-records",
            json={"serial_no": s21, "kind": "warranty", "fault_description": "不能启动"},
            headers=dealer,
        )
        assert r.status_code == 201, r.text

        events = await kit.outbox_events(dealers_app, "WarrantyCardRegistered")
        by_serial = {}
        for e in events:
            by_serial.setdefault(e["serial_no"], []).append(e)
        assert [e["warranty_recognised"] for e in by_serial[s19]] == [True]
        assert [e["warranty_recognised"] for e in by_serial[s21]] == [False, True]
        assert by_serial[s21][1]["override_note"] == "客户住院，经理特批"


async def test_bad_cards_are_refused_with_the_reason(dealers_app, kit):
    async with running(dealers_app) as client:
        _, dealer = await kit.new_dealer(client)
        _, other = await kit.new_dealer(client)
        serial = await kit.sell(client, dealer, days_ago=2)
        r = await client.post(
            "/cards", json={"serial_no": "NO-SUCH-SERIAL", "customer_name": "某"}, headers=dealer
        )
        assert r.status_code == 422 and "序列号" in r.json()["detail"]
        r = await client.post(
            "/cards", json={"serial_no": serial, "customer_name": "某"}, headers=other
        )
        assert r.status_code == 422  # another dealer's unit reads like an unknown one
        await kit.card(client, dealer, serial)
        r = await client.post(
            "/cards", json={"serial_no": serial, "customer_name": "某"}, headers=dealer
        )
        assert r.status_code == 409 and "已登记" in r.json()["detail"]
        r = await client.post(
            "/units",
            json={
                "serial_no": serial,
                "model": "X",
                "sale_date": str(kit.today()),
                "customer_name": "某",
            },
            headers=dealer,
        )
        assert r.status_code == 409
        r = await client.get("/cards", params={"serial_no": serial}, headers=kit.MANAGER)
        assert r.json()["total"] == 1  # nothing half-written by the refused attempts


async def test_one_repair_through_return_inspection_and_deduction(dealers_app, kit):
    async with running(dealers_app) as client:
        dealer_id, dealer = await kit.new_dealer(client)
        _, intruder = await kit.new_dealer(client)
        serial = await kit.sell(client, dealer, days_ago=30)
        await kit.card(client, dealer, serial)  # late → not recognised
        serial = await kit.sell(client, dealer, days_ago=3)
        await kit.card(client, dealer, serial)
        record = await kit.repaired(client, dealer, serial)
        # 2 × 123.45 + 1 × 0.10 + labour 80.00 + travel 50.05
        assert Decimal(record["claim_amount"]) == Decimal("377.05")
        assert record["claim_status"] == "awaiting_return" and record["confirmed_by"] == "王工"
        assert all(p["status"] == "owed" and p["return_due"] for p in record["parts"])

        period = {
            "dealer_id": dealer_id,
            "period_start": str(kit.today() - timedelta(days=1)),
            "period_end": str(kit.today()),
        }
        r = await client.post("/deduction-notices", json=period, headers=kit.FINANCE)
        assert r.status_code == 422, "a claim without its returned part is not reimbursable"

        r = await client.post(
            "/part-shipments", json={"record_ids": [record["id"]]}, headers=intruder
        )
        assert r.status_code == 422 and "不属于" in r.json()["detail"]
        inspected = await kit.returned_and_inspected(client, dealer, record)
        assert inspected["claim_status"] == "approved"
        assert [p["verdict"] for p in inspected["parts"]] == ["reusable", "scrap"]
        stores = {}
        for store in ("reusable", "scrap"):
            r = await client.get(
                "/stock-entries", params={"store": store, "dealer_id": dealer_id}, headers=kit.TECH
            )
            stores[store] = [(e["part_no"], e["quantity"]) for e in r.json()["items"]]
        assert stores == {"reusable": [("P-100", 2)], "scrap": [("P-200", 1)]}

        r = await client.post("/deduction-notices", json=period, headers=kit.FINANCE)
        assert r.status_code == 201, r.text
        notice = r.json()
        assert (
            Decimal(notice["total"])
            == sum(Decimal(ln["amount"]) for ln in notice["lines"])
            == Decimal("377.05")
        )
        r = await client.post("/deduction-notices", json=period, headers=kit.FINANCE)
        assert r.status_code == 422, "a claim sits on one notice at a time"

        line = notice["lines"][0]["id"]
        r = await client.post(f"/deduction-notices/{notice['id']}/confirm", headers=dealer)
        assert r.status_code == 422 and "未确认" in r.json()["detail"]
        r = await client.post(
            f"/deduction-notices/{notice['id']}/lines/{line}/answer",
            json={"decision": "disputed"},
            headers=dealer,
        )
        assert r.status_code == 422  # a dispute needs its reason
        r = await client.post(
            f"/deduction-notices/{notice['id']}/lines/{line}/answer",
            json={"decision": "confirmed"},
            headers=dealer,
        )
        assert r.status_code == 200
        r = await client.post(f"/deduction-notices/{notice['id']}/confirm", headers=intruder)
        assert r.status_code == 404
        r = await client.post(f"/deduction-notices/{notice['id']}/confirm", headers=dealer)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "confirmed" and Decimal(
            r.json()["confirmed_amount"]
        ) == Decimal("377.05")
        r = await client.post(f"/deduction-notices/{notice['id']}/confirm", headers=dealer)
        assert r.status_code == 409

        issued = await kit.outbox_events(dealers_app, "DeductionIssued")
        assert [(e["notice_no"], e["amount"], e["lines"]) for e in issued] == [
            (notice["notice_no"], "377.05", 1)
        ]
        r = await client.get(f"/repair-records/{record['id']}", headers=dealer)
        assert r.json()["claim_status"] == "paid"
        r = await client.post("/deduction-notices", json=period, headers=kit.FINANCE)
        assert r.status_code == 422, "a paid claim is never paid again"
        r = await client.get(f"/deduction-notices/{notice['id']}/export.csv", headers=dealer)
        assert r.status_code == 200 and "377.05" in r.text and record["record_no"] in r.text


async def test_the_shipment_list_counts_each_shipment_s_parts_in_one_query(dealers_app, kit):
    async with running(dealers_app) as client:
        dealer_id, dealer = await kit.new_dealer(client)
        shipped: dict[str, int] = {}
        for lines in (2, 1, 3):
            serial = await kit.sell(client, dealer, days_ago=3)
            await kit.card(client, dealer, serial)
            parts = [
                {"part_no": f"P-{i}", "name": "轴承", "quantity": 1, "unit_cost": "10.00"}
                for i in range(lines)
            ]
            record = await kit.repaired(client, dealer, serial, parts=parts)
            r = await client.post(
                "/part-shipments", json={"record_ids": [record["id"]]}, headers=dealer
            )
            assert r.status_code == 201 and r.json()["parts"] == lines, r.text
            shipped[r.json()["id"]] = lines
        for shipment_id, lines in shipped.items():
            r = await client.get(f"/part-shipments/{shipment_id}", headers=dealer)
            assert r.json()["parts"] == lines

        reads: list[str] = []

        def on_statement(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
            if "repair_parts" in statement:
                reads.append(statement)

        engine = runtime_of(dealers_app).engine.sync_engine
        event.listen(engine, "before_cursor_execute", on_statement)
        try:
            r = await client.get(
                "/part-shipments", params={"dealer_id": dealer_id}, headers=kit.MANAGER
            )
        finally:
            event.remove(engine, "before_cursor_execute", on_statement)
        assert r.status_code == 200, r.text
        assert {s["id"]: s["parts"] for s in r.json()["items"]} == shipped
        assert len(reads) == 1, reads  # one query for the page's counts, not one per shipment


async def test_not_a_warranty_fault_rejects_the_claim_and_disputed_lines_go_back(dealers_app, kit):
    async with running(dealers_app) as client:
        dealer_id, dealer = await kit.new_dealer(client)
        s1, s2 = (
            await kit.sell(client, dealer, days_ago=3),
            await kit.sell(client, dealer, days_ago=3),
        )
        await kit.card(client, dealer, s1)
        await kit.card(client, dealer, s2)
        bad = await kit.repaired(client, dealer, s1)
        r = await client.post("/part-shipments", json={"record_ids": [bad["id"]]}, headers=dealer)
        r = await client.post(f"/part-shipments/{r.json()['id']}/receive", headers=kit.TECH)
        part = bad["parts"][0]["id"]
        r = await client.post(
            f"/parts/{part}/inspection", json={"verdict": "not_warranty_fault"}, headers=kit.TECH
        )
        assert r.status_code == 422  # the reason is required
        r = await client.post(
            f"/parts/{part}/inspection",
            json={"verdict": "not_warranty_fault", "reason": "人为进水损坏"},
            headers=kit.TECH,
        )
        assert r.status_code == 200
        assert r.json()["claim_status"] == "rejected" and "人为进水损坏" in r.json()["claim_reason"]
        r = await client.post(
            f"/parts/{part}/inspection", json={"verdict": "scrap"}, headers=kit.TECH
        )
        assert r.status_code == 409

        good = await kit.repaired(client, dealer, s2, parts=[], labour="100.00", travel="0.00")
        assert good["claim_status"] == "approved"  # labour only: nothing to return
        period = {
            "dealer_id": dealer_id,
            "period_start": str(kit.today()),
            "period_end": str(kit.today()),
        }
        notice = (await client.post("/deduction-notices", json=period, headers=kit.FINANCE)).json()
        assert [ln["record_no"] for ln in notice["lines"]] == [good["record_no"]]
        line = notice["lines"][0]["id"]
        await client.post(
            f"/deduction-notices/{notice['id']}/lines/{line}/answer",
            json={"decision": "disputed", "reason": "工时费应为120元"},
            headers=dealer,
        )
        r = await client.post(f"/deduction-notices/{notice['id']}/confirm", headers=dealer)
        assert r.json()["status"] == "disputed" and Decimal(r.json()["confirmed_amount"]) == 0
        assert await kit.outbox_events(dealers_app, "DeductionIssued") == []
        r = await client.post("/deduction-notices", json=period, headers=kit.FINANCE)
        assert r.status_code == 201, "a disputed claim returns to finance for the next notice"


async def test_out_of_warranty_is_paid_service_with_travel_and_labour_only(dealers_app, kit):
    async with running(dealers_app) as client:
        _, dealer = await kit.new_dealer(client)
        serial = await kit.sell(
            client, dealer, days_ago=400, warranty_end=str(kit.today() - timedelta(days=35))
        )
        r = await client.post(
            "/repair-records",
            json={"serial_no": serial, "kind": "warranty", "fault_description": "不能启动"},
            headers=dealer,
        )
        assert r.status_code == 422  # no card
        record = await kit.repaired(
            client, dealer, serial, kind="paid", labour="150.00", travel="60.00"
        )
        assert record["kind"] == "paid" and Decimal(record["customer_charge"]) == Decimal("210.00")
        assert Decimal(record["claim_amount"]) == 0 and record["claim_status"] == "none"
        assert all(p["status"] == "not_owed" for p in record["parts"])
        r = await client.post(
            "/part-shipments", json={"record_ids": [record["id"]]}, headers=dealer
        )
        assert r.status_code == 422


async def test_a_contract_takes_a_serial_another_dealer_registered_and_a_manager_closes_the_conflict(  # noqa: E501
    dealers_app, kit
):
    import json as _json

    from aftersales_shared.events import Envelope, registry
    from aftersales_testing.support import runtime_of

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=dealers_app), base_url="http://t"
    ) as c:
        a_id, a = await kit.new_dealer(c)
        b_id, b = await kit.new_dealer(c)
        serial = await kit.sell(c, a, days_ago=3)  # dealer A registers the serial itself first
        sample = _json.loads(
            (SAMPLES_DIR / "cn.aftersales.contracts.ContractSigned.v1.json").read_text()
        )
        contract = kit.uid("HT")
        data = registry.get(sample["headers"]["ce-type"]).model_validate(
            sample["body"]
            | {
                "contract_no": contract,
                "dealer_id": b_id,
                "signed_at": datetime.now(kit.TZ).isoformat(),
                "products": [
                    {"model": "XK-200", "serial_no": serial, "warranty_end": "2029-01-01"}
                ],
            }
        )
        rt = runtime_of(dealers_app)
        assert await rt.inbox.handle(
            rt.inbox.subscriptions["dealers-contracts-contract_signed-v1"],
            Envelope(data=data, source="/tests"),
        )

        assert (await c.get(f"/units/{serial}", headers=a)).status_code == 404  # no longer A's
        unit = (await c.get(f"/units/{serial}", headers=b)).json()
        assert (
            unit["dealer_id"] == b_id
            and unit["source"] == "contract"
            and unit["contract_no"] == contract
        )
        assert (await c.get("/unit-conflicts", headers=a)).status_code == 403
        page = (
            await c.get("/unit-conflicts", params={"status": "open"}, headers=kit.MANAGER)
        ).json()
        [conflict] = [x for x in page["items"] if x["serial_no"] == serial]
        assert (
            conflict["registered_by_dealer"],
            conflict["contract_dealer"],
            conflict["contract_no"],
        ) == (a_id, b_id, contract)
        r = await c.post(
            f"/unit-conflicts/{conflict['id']}/resolve",
            headers=kit.MANAGER,
            json={"resolution": "registration_was_wrong", "note": "A 登记了 B 的销售"},
        )
        assert (
            r.status_code == 200
            and r.json()["status"] == "resolved"
            and r.json()["decided_by"] == "mgr-li"
        )
        r = await c.post(
            f"/unit-conflicts/{conflict['id']}/resolve",
            headers=kit.MANAGER,
            json={"resolution": "contract_confirmed", "note": "again"},
        )
        assert r.status_code == 409


async def test_registering_another_dealers_serial_reveals_nothing_and_opens_a_conflict(
    dealers_app, kit
):
    """No existence oracle: B's serial registered by A gets the answer of a serial nobody has; the
    unit stays B's; a manager sees the claim; A's own duplicate is still a 409."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=dealers_app), base_url="http://t"
    ) as c:
        a_id, a = await kit.new_dealer(c)
        b_id, b = await kit.new_dealer(c)
        held = await kit.sell(c, b, days_ago=3)
        body = {
            "model": "XK-200",
            "sale_date": str(kit.today() - timedelta(days=1)),
            "customer_name": "某某机电",
        }
        fresh = await c.post("/units", json=body | {"serial_no": kit.uid("SN")}, headers=a)
        claim = await c.post("/units", json=body | {"serial_no": held}, headers=a)
        assert fresh.status_code == claim.status_code == 201, claim.text
        assert set(fresh.json()) == set(claim.json()) and claim.json()["dealer_id"] == a_id
        assert claim.json()["source"] == fresh.json()["source"] == "dealer"
        again = await c.post(
            "/units", json=body | {"serial_no": held}, headers=a
        )  # same answer, one conflict
        assert again.status_code == 201

        assert (await c.get(f"/units/{held}", headers=b)).json()["dealer_id"] == b_id  # still B's
        assert (await c.get(f"/units/{held}", headers=a)).status_code == 404
        assert (
            await c.post("/units", json=body | {"serial_no": held}, headers=b)
        ).status_code == 409  # B's own
        page = (
            await c.get("/unit-conflicts", params={"status": "open"}, headers=kit.MANAGER)
        ).json()
        claims = [x for x in page["items"] if x["serial_no"] == held]
        assert [(x["registered_by_dealer"], x["contract_dealer"]) for x in claims] == [(a_id, b_id)]
