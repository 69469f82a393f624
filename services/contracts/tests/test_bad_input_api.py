"""Bad input gets a 4xx with an actionable message, never a 500, never a half-written record."""

from __future__ import annotations

from contracts_flow import (
    DELIVERY,
    LEGAL,
    MANAGER,
    REP,
    app_on,
    code,
    draft,
    new_customer,
    ok,
    signatures,
    uid,
)

from aftersales_testing.support import auth, credit_code, migrated, running


async def test_customer_and_quote_validation(databases, streams_ready):
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        good = code()
        bad_check = good[:17] + ("0" if good[17] != "0" else "1")
        r = await c.post(
            "/customers",
            json={"customer_id": f"C-{uid()}", "name": "某公司", "credit_code": bad_check},
            headers=REP,
        )
        assert (
            r.status_code == 422
            and r.json()["code"] == "invalid_credit_code"
            and f"应为“{good[17]}”" in r.json()["detail"]
        )
        r = await c.post(
            "/customers",
            json={
                "customer_id": f"C-{uid()}",
                "name": "某公司",
                "credit_code": "91310000O00000000X",
            },
            headers=REP,
        )
        assert r.status_code == 422 and "第9位字符“O”" in r.json()["detail"]
        first = ok(
            await c.post(
                "/customers",
                json={"customer_id": f"C-{uid()}", "name": "甲公司", "credit_code": good},
                headers=REP,
            ),
            201,
        )
        r = await c.post(
            "/customers",
            json={"customer_id": f"C-{uid()}", "name": "甲公司分部", "credit_code": good.lower()},
            headers=REP,
        )
        assert r.status_code == 409 and r.json()["customer_id"] == first["customer_id"]
        r = await c.post(
            "/customers",
            json={"customer_id": first["customer_id"], "name": "乙", "credit_code": code()},
            headers=REP,
        )
        assert r.status_code == 409
        assert (
            await c.post(
                "/customers",
                json={"customer_id": "x", "name": "乙", "credit_code": code()},
                headers=LEGAL,
            )
        ).status_code == 403
        assert (await c.get("/customers/NOPE", headers=REP)).status_code == 404

        def quote(**kw):  # type: ignore[no-untyped-def]
            body = {
                "quote_no": f"BJ-{uid()}",
                "customer_id": first["customer_id"],
                "lead_time_days": 30,
                "valid_until": "2099-01-01",
                "lines": [{"model": "XK-200", "quantity": 1, "unit_price": "1000.00"}],
                "instalments": [
                    {"label": "预付款", "percent": "30", "due": "签约后"},
                    {"label": "尾款", "percent": "70", "due": "验收后"},
                ],
            }
            return body | kw

        r = await c.post(
            "/quotes",
            json=quote(
                instalments=[
                    {"label": "预付款", "percent": "30", "due": "x"},
                    {"label": "尾款", "percent": "60", "due": "y"},
                ]
            ),
            headers=REP,
        )
        assert (
            r.status_code == 422
            and "100%" in r.json()["detail"]
            and r.json()["total_percent"] == "90"
        )
        r = await c.post(
            "/quotes",
            json=quote(lines=[{"model": "X", "quantity": 1, "unit_price": "-5.00"}]),
            headers=REP,
        )
        assert r.status_code == 422 and "不能为负" in r.json()["detail"]
        r = await c.post("/quotes", json=quote(customer_id="NO-SUCH"), headers=REP)
        assert r.status_code == 404 and "客户" in r.json()["detail"]
        r = await c.post("/quotes", json=quote(valid_until="2020-01-01"), headers=REP)
        assert r.status_code == 422
        r = await c.post(
            "/quotes",
            json=quote(lines=[{"model": "X", "quantity": 1, "unit_price": "1.001"}]),
            headers=REP,
        )
        assert r.status_code == 400  # more than two decimal places of CNY
        within = ok(
            await c.post(
                "/quotes",
                json=quote(
                    lines=[
                        {"model": "X", "quantity": 3, "unit_price": "0.10", "discount_pct": "10"}
                    ]
                ),
                headers=REP,
            ),
            201,
        )
        assert (
            within["status"] == "approved"
            and within["decided_by"] == "policy"
            and within["net_total"] == "0.27"
        )
        r = await c.post(
            f"/quotes/{within['quote_no']}/decision", json={"approve": True}, headers=MANAGER
        )
        assert r.status_code == 409

        # four eyes: a manager who issued an over-limit quote cannot approve it; another manager can
        own = ok(
            await c.post(
                "/quotes",
                json=quote(
                    lines=[
                        {"model": "X", "quantity": 1, "unit_price": "100.00", "discount_pct": "30"}
                    ]
                ),
                headers=MANAGER,
            ),
            201,
        )
        assert own["status"] == "pending_approval"
        r = await c.post(
            f"/quotes/{own['quote_no']}/decision", json={"approve": True}, headers=MANAGER
        )
        assert r.status_code == 409 and "four eyes" in r.json()["detail"], r.text
        assert (
            ok(await c.get(f"/quotes/{own['quote_no']}", headers=MANAGER))["status"]
            == "pending_approval"
        )
        other = auth("sales_manager", sub="mgr-wang")
        assert (
            ok(
                await c.post(
                    f"/quotes/{own['quote_no']}/decision",
                    json={"approve": True, "reason": "同意"},
                    headers=other,
                )
            )["decided_by"]
            == "mgr-wang"
        )


async def test_a_quote_rests_on_a_confirmed_requirement_form(databases, streams_ready):
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        cid = (await new_customer(c))["customer_id"]
        req_no = f"XQ-{uid()}"
        ok(
            await c.post(
                "/requirements",
                json={
                    "requirement_no": req_no,
                    "customer_id": cid,
                    "delivery_date": "2027-01-15",
                    "delivery_place": "苏州工业园区",
                    "quality_standard": "GB/T 16462",
                    "payment_terms": "30%预付，70%到货",
                    "lines": [{"product": "数控机床", "model": "XK-200", "quantity": 1}],
                },
                headers=REP,
            ),
            201,
        )
        body = {
            "quote_no": f"BJ-{uid()}",
            "customer_id": cid,
            "requirement_no": req_no,
            "lead_time_days": 30,
            "valid_until": "2099-01-01",
            "lines": [{"model": "XK-200", "quantity": 1, "unit_price": "1000.00"}],
            "instalments": [{"label": "全款", "percent": "100", "due": "签约后"}],
        }
        r = await c.post("/quotes", json=body, headers=REP)
        assert r.status_code == 409 and "尚未经客户确认" in r.json()["detail"], r.text
        assert f"/requirements/{req_no}/confirm" in r.json()["detail"]
        assert (await c.get(f"/quotes/{body['quote_no']}", headers=REP)).status_code == 404
        # another customer's confirmed form is refused too; the customer's own, confirmed, is fine
        ok(
            await c.post(
                f"/requirements/{req_no}/confirm", json={"confirmed_by": "王建国"}, headers=REP
            )
        )
        other = (await new_customer(c))["customer_id"]
        r = await c.post("/quotes", json=body | {"customer_id": other}, headers=REP)
        assert r.status_code == 422 and "属于其他客户" in r.json()["detail"], r.text
        quote = ok(await c.post("/quotes", json=body, headers=REP), 201)
        assert quote["requirement_no"] == req_no and quote["status"] == "approved"


async def test_four_eyes_the_author_of_a_contract_cannot_review_it(databases, streams_ready):
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        customer = await new_customer(c)
        no = f"HT-{uid()}"
        author = auth(
            "sales", "legal", sub="rep-legal-liu"
        )  # holds both roles: still may not review what he drafted
        ok(await c.post("/contracts", json=draft(no, customer["customer_id"]), headers=author), 201)
        ok(await c.post(f"/contracts/{no}/submit", headers=author))
        r = await c.post(
            f"/contracts/{no}/reviews/legal",
            json={"decision": "approve", "comments": "同意"},
            headers=author,
        )
        assert r.status_code == 409 and "four eyes" in r.json()["detail"], r.text
        shown = ok(await c.get(f"/contracts/{no}", headers=author))
        assert shown["status"] == "in_review"
        ok(
            await c.post(
                f"/contracts/{no}/reviews/legal",
                json={"decision": "approve", "comments": "同意"},
                headers=LEGAL,
            )
        )


async def test_contract_refusals_leave_nothing_half_written(databases, streams_ready):
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        customer = await new_customer(c)
        no = f"HT-{uid()}"
        assert (
            await c.post("/contracts", json=draft(no, "NO-SUCH"), headers=REP)
        ).status_code == 404
        ok(await c.post("/contracts", json=draft(no, customer["customer_id"]), headers=REP), 201)
        r = await c.post("/contracts", json=draft(no, customer["customer_id"]), headers=REP)
        assert r.status_code == 409 and "已存在" in r.json()["detail"]

        # an inline new customer plus a serial already sold: refused, and the customer is not
        # registered either
        other_no, new_cid = f"HT-{uid()}", f"C-{uid()}"
        body = draft(other_no, customer["customer_id"])
        body.pop("customer_id")
        body["customer"] = {"customer_id": new_cid, "name": "丙公司", "credit_code": code()}
        body["products"][0]["serial_no"] = f"{no}-SN1"
        r = await c.post("/contracts", json=body, headers=REP)
        assert r.status_code == 409 and f"{no}-SN1" in r.json()["detail"]
        assert (await c.get(f"/customers/{new_cid}", headers=REP)).status_code == 404
        assert (await c.get(f"/contracts/{other_no}", headers=REP)).status_code == 404

        body = draft(f"HT-{uid()}", customer["customer_id"])
        body["terms"]["loaner_promised"] = False
        r = await c.post("/contracts", json=body, headers=REP)
        assert r.status_code == 422 and "loaner_promised" in r.json()["detail"]
        body = draft(f"HT-{uid()}", customer["customer_id"])
        body["service_levels"] = [
            {"urgency": "normal", "response_minutes": 600, "resolution_minutes": 60}
        ]
        assert (await c.post("/contracts", json=body, headers=REP)).status_code == 422
        assert (
            await c.post(
                "/contracts",
                json={
                    **draft(f"HT-{uid()}", customer["customer_id"]),
                    "customer": {"customer_id": "x", "name": "y", "credit_code": credit_code(5)},
                },
                headers=REP,
            )
        ).status_code == 400

        # illegal transitions are 409 with the reason
        r = await c.post(
            f"/contracts/{no}/reviews/legal", json={"decision": "approve"}, headers=LEGAL
        )
        assert r.status_code == 409 and "not in review" in r.json()["detail"]
        r = await c.post(f"/contracts/{no}/archive", json={"items": ["original"]}, headers=REP)
        assert r.status_code == 409 and "only a signed contract" in r.json()["detail"]
        r = await c.post(f"/contracts/{no}/sign", json=signatures("ab" * 32), headers=REP)
        assert r.status_code == 409 and "missing: legal, finance, delivery" in r.json()["detail"]
        assert (
            await c.post(
                f"/contracts/{no}/reviews/quality", json={"decision": "approve"}, headers=LEGAL
            )
        ).status_code == 404
        assert (
            await c.post(
                f"/contracts/{no}/reviews/delivery", json={"decision": "approve"}, headers=REP
            )
        ).status_code == 403
        ok(await c.post(f"/contracts/{no}/submit", headers=REP))
        ok(
            await c.post(
                f"/contracts/{no}/reviews/delivery", json={"decision": "approve"}, headers=DELIVERY
            )
        )
        r = await c.post(
            f"/contracts/{no}/reviews/delivery", json={"decision": "approve"}, headers=DELIVERY
        )
        assert r.status_code == 409 and "already signed off" in r.json()["detail"]
        r = await c.post(f"/contracts/{no}/sign", json=signatures("ab" * 32), headers=REP)
        assert r.status_code == 409 and r.json()["missing_sign_offs"] == ["legal", "finance"]
        assert (
            await c.post("/orders", json={"contract_no": no, "delivery_place": "苏州"}, headers=REP)
        ).status_code == 409
        assert (
            await c.post(
                "/orders", json={"contract_no": "NOPE", "delivery_place": "苏州"}, headers=REP
            )
        ).status_code == 404
        assert (await c.post("/contracts/NOPE/submit", headers=REP)).status_code == 404
        r = await c.post(
            "/requirements",
            json={
                "requirement_no": f"XQ-{uid()}",
                "customer_id": "NOPE",
                "delivery_date": "2027-01-01",
                "delivery_place": "x",
                "quality_standard": "x",
                "payment_terms": "x",
                "lines": [{"product": "p", "model": "m", "quantity": 1}],
            },
            headers=REP,
        )
        assert r.status_code == 404
        history = ok(await c.get(f"/contracts/{no}/history", headers=auth("service_agent")))
        assert [h["action"] for h in history["items"]] == [
            "drafted",
            "submitted_for_review",
            "review_approved",
        ]
