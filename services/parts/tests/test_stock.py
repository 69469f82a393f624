"""The parts service over HTTP on the real database: the part master, the ledger and balances,
concurrent issues of the last unit, idempotent retries, costs per ticket, reorder points,
reservations and dealer isolation."""

from __future__ import annotations

import asyncio

from parts_support import KEEPER, MANAGER, engineer, move, new_location, new_part, stock_of, uid

from aftersales_testing.support import auth


async def test_part_master_is_created_validated_changed_and_listed(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        part = await new_part(c, part_no="xk-brg-6205", compatible_models=["XK-200", "XK-300"])
        assert part["part_no"] == "XK-BRG-6205" and part["unit_price"] == "123.45"
        r = await c.post(
            "/parts",
            json={"part_no": "XK-BRG-6205", "name": "x", "unit_price": "1"},
            headers=MANAGER,
        )
        assert r.status_code == 409 and "已存在" in r.json()["detail"]
        r = await c.post(
            "/parts", json={"part_no": "坏 编号", "name": "x", "unit_price": "1"}, headers=MANAGER
        )
        assert r.status_code == 422 and "备件编号" in r.json()["detail"]
        r = await c.post(
            "/parts", json={"part_no": "P-NEG", "name": "x", "unit_price": "-1"}, headers=MANAGER
        )
        assert r.status_code == 400
        # an engineer reads the master but does not write it
        r = await c.post(
            "/parts",
            json={"part_no": "P-ENG", "name": "x", "unit_price": "1"},
            headers=engineer("eng-zhang"),
        )
        assert r.status_code == 403
        assert (await c.get("/parts/xk-brg-6205", headers=engineer("eng-zhang"))).status_code == 200
        r = await c.patch("/parts/XK-BRG-6205", json={"unit_price": "130.00"}, headers=KEEPER)
        assert r.status_code == 200 and r.json()["unit_price"] == "130.00"
        await new_part(
            c,
            part_no="XK-FUSE-10A",
            name="保险丝",
            warranty_part=False,
            compatible_models=["XK-300"],
        )
        r = await c.get("/parts", params={"model": "XK-200"}, headers=KEEPER)
        assert [p["part_no"] for p in r.json()["items"]] == ["XK-BRG-6205"]
        r = await c.get("/parts", params={"warranty_part": "false"}, headers=KEEPER)
        assert [p["part_no"] for p in r.json()["items"]] == ["XK-FUSE-10A"]
        r = await c.get("/parts", params={"limit": 1, "offset": 1}, headers=KEEPER)
        assert r.json()["total"] == 2 and [p["part_no"] for p in r.json()["items"]] == [
            "XK-FUSE-10A"
        ]
        assert (await c.get("/parts/NOPE-1", headers=KEEPER)).status_code == 404


async def test_two_engineers_issuing_the_last_unit_at_once_one_gets_409(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        part = (await new_part(c))["part_no"]
        store = await new_location(c, "regional", region="浙江")
        await move(c, KEEPER, kind="receive", part_no=part, quantity=1, to_location=store)
        zhang, wang = engineer("eng-zhang"), engineer("eng-wang")

        def issue(who: dict[str, str], ticket: str):
            return c.post(
                "/movements",
                headers=who,
                json={
                    "kind": "issue",
                    "part_no": part,
                    "quantity": 1,
                    "from_location": store,
                    "ticket_no": ticket,
                    "idempotency_key": uid("key-"),
                },
            )

        answers = await asyncio.gather(issue(zhang, "SV-1"), issue(wang, "SV-2"))
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        lost = next(a for a in answers if a.status_code == 409)
        assert "可用库存不足" in lost.json()["detail"]
        assert (await stock_of(c, part, store))["on_hand"] == 0
        r = await c.get("/movements", params={"part_no": part, "kind": "issue"}, headers=KEEPER)
        assert r.json()["total"] == 1
        assert len(await kit.events("PartIssued")) == 1


async def test_a_retried_movement_returns_the_first_result_and_writes_nothing(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        part = (await new_part(c))["part_no"]
        store = await new_location(c, "central")
        body = {
            "kind": "receive",
            "part_no": part,
            "quantity": 5,
            "to_location": store,
            "idempotency_key": "po-2026-0001-line-1",
        }
        first = await c.post("/movements", json=body, headers=KEEPER)
        again = await c.post("/movements", json=body, headers=KEEPER)
        assert first.status_code == 201 and again.status_code == 200
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        both = await asyncio.gather(
            *(
                c.post("/movements", json=body | {"idempotency_key": "po-race-1"}, headers=KEEPER)
                for _ in range(2)
            )
        )
        assert sorted(a.status_code for a in both) == [200, 201], [a.text for a in both]
        assert both[0].json()["movement_id"] == both[1].json()["movement_id"]
        assert (await stock_of(c, part, store))["on_hand"] == 10
        r = await c.post("/movements", json=body | {"quantity": 6}, headers=KEEPER)
        assert r.status_code == 409 and "幂等键" in r.json()["detail"]
        assert (await c.get("/movements", params={"part_no": part}, headers=KEEPER)).json()[
            "total"
        ] == 2


async def test_issue_and_return_make_the_ticket_cost_at_the_price_at_issue(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        part = (await new_part(c, unit_price="100.00"))["part_no"]
        fuse = (await new_part(c, unit_price="0.35", warranty_part=False, name="保险丝"))["part_no"]
        van = await new_location(c, "van", engineer_id="eng-zhang")
        zhang, ticket = engineer("eng-zhang"), uid("SV-")
        await move(c, KEEPER, kind="receive", part_no=part, quantity=5, to_location=van)
        await move(c, KEEPER, kind="receive", part_no=fuse, quantity=10, to_location=van)
        issued = await move(
            c, zhang, kind="issue", part_no=part, quantity=2, from_location=van, ticket_no=ticket
        )
        assert issued["unit_price"] == "100.00"
        await c.patch(f"/parts/{part}", json={"unit_price": "120.00"}, headers=MANAGER)
        await move(
            c, zhang, kind="issue", part_no=part, quantity=1, from_location=van, ticket_no=ticket
        )
        await move(
            c, zhang, kind="issue", part_no=fuse, quantity=3, from_location=van, ticket_no=ticket
        )
        returned = await move(
            c,
            zhang,
            kind="return_unused",
            part_no=part,
            quantity=1,
            to_location=van,
            ticket_no=ticket,
        )
        assert returned["unit_price"] == "120.00"  # the newest price still out
        await move(
            c,
            zhang,
            422,
            kind="return_unused",
            part_no=part,
            quantity=3,
            to_location=van,
            ticket_no=ticket,
        )
        r = await c.get(f"/tickets/{ticket}/costs", headers=auth("service_agent"))
        costs = r.json()
        assert [
            (ln["part_no"], ln["unit_price"], ln["quantity"], ln["amount"]) for ln in costs["lines"]
        ] == sorted(
            [
                (part, "100.00", 2, "200.00"),
                (part, "120.00", 0, "0.00"),
                (fuse, "0.35", 3, "1.05"),
            ]
        )
        assert costs["total"] == "201.05" and costs["warranty_total"] == "200.00"
        assert (await stock_of(c, part, van))["on_hand"] == 3
        assert [e["quantity"] for e in await kit.events("PartIssued")] == [2, 1, 3]
        [back] = await kit.events("PartReturned")
        assert back["ticket_no"] == ticket and back["unit_price"] == "120.00"
        # another engineer's van is not theirs to issue from
        await move(
            c,
            engineer("eng-wang"),
            403,
            kind="issue",
            part_no=part,
            quantity=1,
            from_location=van,
            ticket_no=ticket,
        )
        # a faulty part comes back apart from good stock, and is scrapped from there
        await move(
            c,
            zhang,
            kind="faulty_returned",
            part_no=part,
            quantity=1,
            to_location=van,
            ticket_no=ticket,
        )
        assert (await stock_of(c, part, van))["faulty"] == 1
        await move(
            c,
            KEEPER,
            kind="scrap",
            part_no=part,
            quantity=1,
            from_location=van,
            stock="faulty",
            reason="轴承磨损，检验报废",
        )
        assert (await stock_of(c, part, van))["faulty"] == 0


async def test_the_reorder_point_is_announced_once_per_crossing(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        part = (await new_part(c, reorder_point=2, reorder_quantity=10))["part_no"]
        a, b = await new_location(c, "central"), await new_location(c, "regional")
        await move(c, KEEPER, kind="receive", part_no=part, quantity=3, to_location=a)
        await move(c, KEEPER, kind="receive", part_no=part, quantity=2, to_location=b)
        assert await kit.events("StockBelowReorderPoint") == []
        await move(
            c, KEEPER, kind="transfer", part_no=part, quantity=2, from_location=a, to_location=b
        )  # (the total does not change)
        await move(
            c, KEEPER, kind="issue", part_no=part, quantity=2, from_location=b, ticket_no="SV-R1"
        )  # total 3: above the point
        assert await kit.events("StockBelowReorderPoint") == []
        await move(
            c, KEEPER, kind="issue", part_no=part, quantity=1, from_location=b, ticket_no="SV-R2"
        )  # total 2: at the point
        await move(
            c, KEEPER, kind="scrap", part_no=part, quantity=1, from_location=a, reason="跌落损坏"
        )  # total 1: still below, no second event
        [event] = await kit.events("StockBelowReorderPoint")
        assert event["on_hand"] == 2 and event["reorder_quantity"] == 10
        r = await c.get("/reorder-suggestions", headers=KEEPER)
        [suggestion] = [s for s in r.json()["items"] if s["part_no"] == part]
        assert suggestion["on_hand"] == 1 and suggestion["suggested_quantity"] == 10
        await move(c, KEEPER, kind="receive", part_no=part, quantity=10, to_location=a)
        assert part not in [
            s["part_no"]
            for s in (await c.get("/reorder-suggestions", headers=KEEPER)).json()["items"]
        ]
        await move(
            c, KEEPER, kind="scrap", part_no=part, quantity=9, from_location=a, reason="批次召回"
        )  # re-armed: 11 → 2 announces again
        assert [e["on_hand"] for e in await kit.events("StockBelowReorderPoint")] == [2, 2]


async def test_a_reservation_keeps_stock_for_its_ticket_and_announces_the_arrival(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        part = (await new_part(c))["part_no"]
        store = await new_location(c, "regional")
        zhang, wang = engineer("eng-zhang"), engineer("eng-wang")
        r = await c.post(
            "/reservations",
            headers=zhang,
            json={"part_no": part, "location_id": store, "ticket_no": "SV-WAIT", "quantity": 2},
        )
        assert r.status_code == 201, r.text
        waiting = r.json()
        assert waiting["status"] == "open" and waiting["covered_at"] is None
        await move(c, KEEPER, kind="receive", part_no=part, quantity=1, to_location=store)
        assert await kit.events("PartsArrivedForTicket") == []  # one of two: still waiting
        await move(c, KEEPER, kind="receive", part_no=part, quantity=2, to_location=store)
        [arrived] = await kit.events("PartsArrivedForTicket")
        assert arrived["reservation_id"] == waiting["reservation_id"]
        assert arrived["ticket_no"] == "SV-WAIT" and arrived["still_waiting"] == 0
        assert (await stock_of(c, part, store)) | {"part_no": None, "location_id": None} == {
            "part_no": None,
            "location_id": None,
            "on_hand": 3,
            "reserved": 2,
            "available": 1,
            "faulty": 0,
        }
        # the reserved units are not another ticket's
        await move(
            c,
            wang,
            409,
            kind="issue",
            part_no=part,
            quantity=2,
            from_location=store,
            ticket_no="SV-OTHER",
        )
        await move(
            c,
            wang,
            kind="issue",
            part_no=part,
            quantity=1,
            from_location=store,
            ticket_no="SV-OTHER",
        )
        # its own ticket takes them and fulfils the reservation
        await move(
            c,
            zhang,
            kind="issue",
            part_no=part,
            quantity=2,
            from_location=store,
            ticket_no="SV-WAIT",
        )
        r = await c.get(f"/reservations/{waiting['reservation_id']}", headers=KEEPER)
        assert r.json()["status"] == "fulfilled" and r.json()["remaining"] == 0
        assert (await stock_of(c, part, store))["reserved"] == 0
        # a covered reservation cancelled frees its units; a closed one cannot be cancelled
        await move(c, KEEPER, kind="receive", part_no=part, quantity=1, to_location=store)
        r = await c.post(
            "/reservations",
            headers=zhang,
            json={"part_no": part, "location_id": store, "ticket_no": "SV-3", "quantity": 1},
        )
        assert r.json()["covered_at"] is not None
        assert (await stock_of(c, part, store))["available"] == 0
        r = await c.post(
            f"/reservations/{r.json()['reservation_id']}/cancel",
            headers=zhang,
            json={"reason": "客户自行更换"},
        )
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        assert (await stock_of(c, part, store))["available"] == 1
        r = await c.post(
            f"/reservations/{waiting['reservation_id']}/cancel", headers=zhang, json={"reason": "x"}
        )
        assert r.status_code == 422 and "不能再取消" in r.json()["detail"]


async def test_a_dealer_sees_and_moves_only_its_own_store(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        part = (await new_part(c))["part_no"]
        mine = await new_location(c, "dealer", dealer_id="D-ZJ-01")
        theirs = await new_location(c, "dealer", dealer_id="D-JS-02")
        central = await new_location(c, "central")
        dealer = auth("dealer", sub="u-zj", dealer_id="D-ZJ-01")
        r = await c.post(
            "/locations",
            headers=MANAGER,
            json={"location_id": "VAN-NOBODY", "name": "车", "kind": "van"},
        )
        assert r.status_code == 422 and "engineer_id" in r.json()["detail"]
        await move(c, dealer, kind="receive", part_no=part, quantity=4, to_location=mine)
        await move(c, KEEPER, kind="receive", part_no=part, quantity=4, to_location=theirs)
        await move(c, dealer, 404, kind="receive", part_no=part, quantity=1, to_location=theirs)
        await move(
            c,
            dealer,
            404,
            kind="transfer",
            part_no=part,
            quantity=1,
            from_location=central,
            to_location=mine,
        )
        r = await c.get("/locations", headers=dealer)
        assert [loc["location_id"] for loc in r.json()["items"]] == [mine]
        assert (await c.get(f"/locations/{theirs}", headers=dealer)).status_code == 404
        r = await c.get("/stock", params={"part_no": part}, headers=dealer)
        assert [(s["location_id"], s["on_hand"]) for s in r.json()["items"]] == [(mine, 4)]
        r = await c.get("/movements", params={"part_no": part}, headers=dealer)
        assert [m["to_location"] for m in r.json()["items"]] == [mine]
        r = await c.get("/stock", params={"part_no": part}, headers=KEEPER)
        assert r.json()["total"] == 2
        # the ledger has no way to change or remove a line
        r = await c.get("/movements", params={"part_no": part}, headers=KEEPER)
        first = r.json()["items"][0]["movement_id"]
        for method in ("PUT", "PATCH", "DELETE"):
            answer = await c.request(method, f"/movements/{first}", headers=MANAGER)
            assert answer.status_code in (404, 405)


async def test_many_concurrent_issues_take_exactly_the_stock_there_is(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        part = (await new_part(c))["part_no"]
        store = await new_location(c, "central")
        await move(c, KEEPER, kind="receive", part_no=part, quantity=3, to_location=store)

        def issue(n: int):
            return c.post(
                "/movements",
                headers=KEEPER,
                json={
                    "kind": "issue",
                    "part_no": part,
                    "quantity": 1,
                    "from_location": store,
                    "ticket_no": f"SV-{n}",
                    "idempotency_key": uid("key-"),
                },
            )

        answers = await asyncio.gather(*(issue(n) for n in range(6)))
        assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 3
        assert (await stock_of(c, part, store))["on_hand"] == 0
        r = await c.get("/movements", params={"part_no": part, "kind": "issue"}, headers=KEEPER)
        assert r.json()["total"] == 3


async def test_a_reservation_and_an_issue_racing_for_the_last_unit_never_both_get_it(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        part = (await new_part(c))["part_no"]
        store = await new_location(c, "regional")
        await move(c, KEEPER, kind="receive", part_no=part, quantity=1, to_location=store)
        reserve = c.post(
            "/reservations",
            headers=KEEPER,
            json={"part_no": part, "location_id": store, "ticket_no": "SV-A", "quantity": 1},
        )
        issue = c.post(
            "/movements",
            headers=KEEPER,
            json={
                "kind": "issue",
                "part_no": part,
                "quantity": 1,
                "from_location": store,
                "ticket_no": "SV-B",
                "idempotency_key": uid("key-"),
            },
        )
        reserved, issued = await asyncio.gather(reserve, issue)
        assert reserved.status_code == 201, reserved.text
        covered = reserved.json()["covered_at"] is not None
        assert (issued.status_code, covered) in {(201, False), (409, True)}, issued.text
        balance = await stock_of(c, part, store)
        assert balance["on_hand"] == (0 if issued.status_code == 201 else 1)
        assert balance["reserved"] == (1 if covered else 0) and balance["available"] == 0


async def test_the_database_refuses_to_change_or_delete_a_ledger_row(make_kit):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    kit = await make_kit()
    async with kit.client() as c:
        part = (await new_part(c))["part_no"]
        store = await new_location(c, "central")
        await move(c, KEEPER, kind="receive", part_no=part, quantity=2, to_location=store)
        for statement in (
            "UPDATE movements SET quantity = 1",
            "DELETE FROM movements",
        ):
            async with kit.rt.sessions() as s:
                try:
                    await s.execute(text(statement))
                    await s.commit()
                except DBAPIError as exc:
                    assert "append-only" in str(exc)
                else:
                    raise AssertionError(f"{statement} was allowed")
        r = await c.get("/movements", params={"part_no": part}, headers=KEEPER)
        assert [m["quantity"] for m in r.json()["items"]] == [2]
