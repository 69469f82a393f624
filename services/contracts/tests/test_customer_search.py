"""The customer list's search (the console's 客户 page calls it): `q` finds a customer by part of
its name, by its credit code (or the start of it), and by part of a contact's phone; `owner`
narrows to one sales rep's customers; a LIKE wildcard is just a character."""

from __future__ import annotations

from contracts_flow import OTHER_REP, REP, app_on, code, ok, uid

from aftersales_testing.support import auth, migrated, running

READER = auth("finance", sub="fin-sun")


async def _customer(c, headers, name: str, phone: str) -> dict:
    body = {
        "customer_id": f"C-{uid()}",
        "name": name,
        "credit_code": code(),
        "contacts": [{"name": "王建国", "phone": phone, "email": "wang@example.cn"}],
    }
    return ok(await c.post("/customers", json=body, headers=headers), 201)


async def _found(c, **params) -> list[str]:
    page = ok(await c.get("/customers", params=params, headers=READER))
    return [x["customer_id"] for x in page["items"]]


async def test_customers_are_found_by_name_credit_code_and_contact_phone(databases, streams_ready):
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        tag = uid()
        mill = await _customer(c, REP, f"苏州精工机床{tag}有限公司", "13912345678")
        press = await _customer(c, OTHER_REP, f"无锡冲压{tag}设备厂", "0510-88776655")
        assert await _found(c, q=tag) == [press["customer_id"], mill["customer_id"]]
        assert await _found(c, q=f"精工机床{tag}") == [mill["customer_id"]]
        assert await _found(c, q=mill["credit_code"]) == [mill["customer_id"]]
        assert await _found(c, q=mill["credit_code"][:14].lower()) == [mill["customer_id"]]
        assert await _found(c, q="12345678") == [mill["customer_id"]]
        assert await _found(c, q="0510-8877") == [press["customer_id"]]
        assert await _found(c, q=f" {tag} ", owner="rep-li") == [mill["customer_id"]]
        assert await _found(c, q="%") == []
        assert await _found(c, q="1234") == []  # too short to be a phone: names and codes only
        page = ok(await c.get("/customers", params={"q": tag, "limit": 1}, headers=READER))
        assert page["total"] == 2 and len(page["items"]) == 1
        engineer = auth("engineer", sub="eng-ma")
        assert (await c.get("/customers", headers=engineer)).status_code == 403
