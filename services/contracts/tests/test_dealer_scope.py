"""A dealer's token (role dealer, its dealer_id) reads the contracts sold through it — the list, one
contract, its versions and its review decisions — and nothing else: another dealer's or a direct
sale is the same 404 as a contract nobody has, a filter naming another dealer lists nothing, and
it changes nothing."""

from __future__ import annotations

from contracts_flow import REP, app_on, draft, new_customer, ok, uid

from aftersales_testing.support import auth, migrated, running


async def _draft(c, dealer: str | None) -> str:
    no = f"HT-{uid()}"
    customer = await new_customer(c)
    extra = {"dealer_id": dealer} if dealer else {}
    ok(
        await c.post("/contracts", json=draft(no, customer["customer_id"], **extra), headers=REP),
        201,
    )
    return no


async def test_a_dealer_reads_only_the_contracts_sold_through_it(databases, streams_ready):
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        mine = await _draft(c, "D-ZJ-01")
        theirs = await _draft(c, "D-OTHER")
        direct = await _draft(c, None)
        me = auth("dealer", sub="dealer-chen", dealer_id="D-ZJ-01")

        page = ok(await c.get("/contracts", headers=me))
        assert [x["contract_no"] for x in page["items"]] == [mine] and page["total"] == 1
        other = ok(await c.get("/contracts", params={"dealer_id": "D-OTHER"}, headers=me))
        assert other == {"items": [], "total": 0, "limit": 50, "offset": 0}
        for path in ("", "/versions", "/reviews"):
            assert (await c.get(f"/contracts/{mine}{path}", headers=me)).status_code == 200
            for hidden in (theirs, direct):
                r = await c.get(f"/contracts/{hidden}{path}", headers=me)
                assert r.status_code == 404, (path, r.text)
                assert r.json()["detail"] == f"合同{hidden}不存在 (contract not found)"
        for method, path in (
            ("POST", f"/contracts/{mine}/submit"),
            ("GET", "/customers"),
            ("GET", f"/contracts/{mine}/history"),
        ):
            r = await c.request(method, path, headers=me)
            assert r.status_code == 403, (method, path, r.text)
        # company staff still see every dealer's
        everyone = ok(await c.get("/contracts", headers=auth("service_supervisor")))
        assert {mine, theirs, direct} <= {x["contract_no"] for x in everyone["items"]}
