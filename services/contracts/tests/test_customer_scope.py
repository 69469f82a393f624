"""A customer's token (role customer, its customer_id) sees its own signed contracts and nothing
else: not another customer's (the same 404 as a contract nobody has), not its own drafts, not a list
beyond its own; it changes nothing. A customer token without customer_id is refused."""

from __future__ import annotations

from contracts_flow import REP, app_on, draft, ok, signed_contract, uid

from aftersales_testing.support import auth, migrated, running


async def test_a_customer_sees_only_its_own_signed_contracts(databases, streams_ready):
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        mine = await signed_contract(c)
        theirs = await signed_contract(c)
        draft_no = f"HT-{uid()}"
        ok(await c.post("/contracts", json=draft(draft_no, mine["customer_id"]), headers=REP), 201)
        me = auth("customer", sub="wang", customer_id=mine["customer_id"])

        assert (
            ok(await c.get(f"/contracts/{mine['contract_no']}", headers=me))["contract_no"]
            == mine["contract_no"]
        )
        for hidden in (theirs["contract_no"], draft_no, f"HT-{uid()}"):
            r = await c.get(f"/contracts/{hidden}", headers=me)
            assert (
                r.status_code == 404
                and r.json()["detail"] == f"合同{hidden}不存在 (contract not found)"
            )
        page = ok(await c.get("/contracts", headers=me))
        assert [x["contract_no"] for x in page["items"]] == [mine["contract_no"]] and page[
            "total"
        ] == 1
        other = ok(
            await c.get("/contracts", params={"customer_id": theirs["customer_id"]}, headers=me)
        )
        assert other["items"] == [] and other["total"] == 0
        # reading only: no versions, reviews, customers, drafts or changes
        for method, path in (
            ("GET", f"/contracts/{mine['contract_no']}/versions"),
            ("GET", "/customers"),
            ("POST", "/contracts"),
            ("GET", f"/customers/{theirs['customer_id']}"),
        ):
            r = await c.request(method, path, headers=me, json={} if method == "POST" else None)
            assert r.status_code == 403, (method, path, r.text)
        r = await c.get(
            "/contracts", headers=auth("customer", sub="wang")
        )  # no customer_id in the token
        assert r.status_code == 401 and "customer_id" in r.json()["detail"]
