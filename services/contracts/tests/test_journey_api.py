"""Sales, legal, finance and delivery take one contract from lead to archive with their own
tokens."""

from __future__ import annotations

from contracts_flow import (
    ALL_ITEMS,
    ASSISTANT,
    DELIVERY,
    FINANCE,
    LEGAL,
    MANAGER,
    OTHER_REP,
    REP,
    Watcher,
    app_on,
    code,
    draft,
    ok,
    signatures,
    uid,
)

from aftersales_testing.support import auth, migrated, running


async def test_lead_to_archived_contract(databases, streams_ready):
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    no, cid = f"HT-{uid()}", f"C-{uid()}"
    async with running(app) as c:
        # lead, graded A, converted into a customer
        lead = ok(
            await c.post(
                "/leads",
                json={
                    "company_name": "苏州精工机床有限公司",
                    "industry": "机械制造",
                    "source": "trade_show",
                    "grade": "A",
                    "contact": {"name": "王建国", "phone": "13800138001"},
                    "need": "两台数控机床及三年维保",
                },
                headers=REP,
            ),
            201,
        )
        assert lead["owner"] == "rep-li" and lead["follow_up_by"] is not None
        customer = ok(
            await c.post(
                f"/leads/{lead['lead_id']}/convert",
                json={"customer_id": cid, "credit_code": code()},
                headers=REP,
            ),
            201,
        )
        assert (
            customer["contacts"][0]["name"] == "王建国" and customer["from_lead"] == lead["lead_id"]
        )
        assert ok(await c.get(f"/leads/{lead['lead_id']}", headers=REP))["status"] == "converted"
        r = await c.post(
            f"/leads/{lead['lead_id']}/convert",
            json={"customer_id": f"C-{uid()}", "credit_code": code()},
            headers=REP,
        )
        assert r.status_code == 409

        # requirement form confirmed by the customer
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
                    "lines": [
                        {
                            "product": "数控机床",
                            "model": "XK-200",
                            "spec": "行程 800mm",
                            "quantity": 2,
                        }
                    ],
                },
                headers=REP,
            ),
            201,
        )
        conf = ok(
            await c.post(
                f"/requirements/{req_no}/confirm", json={"confirmed_by": "王建国"}, headers=REP
            )
        )
        assert (
            conf["status"] == "confirmed"
            and conf["confirmed_by"] == "王建国"
            and conf["confirmed_at"]
        )

        # quote with a discount above the 10 % limit: only a sales manager approves it
        q_no = f"BJ-{uid()}"
        quote = ok(
            await c.post(
                "/quotes",
                json={
                    "quote_no": q_no,
                    "customer_id": cid,
                    "requirement_no": req_no,
                    "lead_time_days": 45,
                    "valid_until": "2099-12-31",
                    "lines": [
                        {
                            "model": "XK-200",
                            "quantity": 2,
                            "unit_price": "250000.00",
                            "discount_pct": "12.5",
                        }
                    ],
                    "instalments": [
                        {"label": "预付款", "percent": "30", "due": "签约后7日内"},
                        {"label": "到货款", "percent": "70", "due": "到货验收后30日内"},
                    ],
                },
                headers=REP,
            ),
            201,
        )
        assert quote["status"] == "pending_approval" and quote["net_total"] == "437500.00"
        assert [i["amount"] for i in quote["instalments"]] == ["131250.00", "306250.00"]
        r = await c.post("/contracts", json=draft(no, cid, quote_no=q_no), headers=REP)
        assert r.status_code == 409 and "未获批准" in r.json()["detail"]
        assert (
            await c.post(f"/quotes/{q_no}/decision", json={"approve": True}, headers=REP)
        ).status_code == 403
        assert (
            ok(
                await c.post(
                    f"/quotes/{q_no}/decision",
                    json={"approve": True, "reason": "战略客户"},
                    headers=MANAGER,
                )
            )["status"]
            == "approved"
        )

        # the draft, reviewed: finance rejects with reasons, the rep edits, the review starts over
        created = ok(
            await c.post(
                "/contracts", json=draft(no, cid, quote_no=q_no, requirement_no=req_no), headers=REP
            ),
            201,
        )
        assert (
            created["status"] == "draft"
            and created["version"] == 1
            and created["customer_name"] == "苏州精工机床有限公司"
        )
        r = await c.post(
            f"/contracts/{no}/sign", json=signatures(created["document_sha256"]), headers=REP
        )
        assert r.status_code == 409 and r.json()["missing_sign_offs"] == [
            "legal",
            "finance",
            "delivery",
        ]
        ok(await c.post(f"/contracts/{no}/submit", headers=REP))
        assert (
            await c.post(
                f"/contracts/{no}/reviews/legal", json={"decision": "approve"}, headers=FINANCE
            )
        ).status_code == 403
        ok(
            await c.post(
                f"/contracts/{no}/reviews/legal",
                json={"decision": "approve", "comments": "主体与条款无误"},
                headers=LEGAL,
            )
        )
        r = await c.post(
            f"/contracts/{no}/reviews/finance", json={"decision": "reject"}, headers=FINANCE
        )
        assert r.status_code == 422 and "理由" in r.json()["detail"]
        back = ok(
            await c.post(
                f"/contracts/{no}/reviews/finance",
                json={"decision": "reject", "comments": "付款账期应为15日"},
                headers=FINANCE,
            )
        )
        assert back["status"] == "draft" and back["sign_offs"] == [] and back["review_round"] == 1
        assert (
            await c.patch(f"/contracts/{no}", json={"dealer_id": "D-1"}, headers=OTHER_REP)
        ).status_code == 403
        terms = draft(no, cid)["terms"] | {"payment_due_days": 15}
        edited = ok(await c.patch(f"/contracts/{no}", json={"terms": terms}, headers=REP))
        assert edited["document_sha256"] != created["document_sha256"]

        # all three approve; editing now voids their sign-offs; approve again and sign the reviewed
        # text
        ok(await c.post(f"/contracts/{no}/submit", headers=REP))
        for part, headers in (("legal", LEGAL), ("finance", FINANCE), ("delivery", DELIVERY)):
            approved = ok(
                await c.post(
                    f"/contracts/{no}/reviews/{part}",
                    json={"decision": "approve", "comments": "同意"},
                    headers=headers,
                )
            )
        assert approved["status"] == "approved" and approved["missing_sign_offs"] == []
        voided = ok(await c.patch(f"/contracts/{no}", json={"calendar": "24x7"}, headers=REP))
        assert (
            voided["status"] == "draft"
            and voided["sign_offs"] == []
            and voided["missing_sign_offs"] == ["legal", "finance", "delivery"]
        )
        ok(await c.post(f"/contracts/{no}/submit", headers=REP))
        for part, headers in (("legal", LEGAL), ("finance", FINANCE), ("delivery", DELIVERY)):
            approved = ok(
                await c.post(
                    f"/contracts/{no}/reviews/{part}",
                    json={"decision": "approve", "comments": "同意"},
                    headers=headers,
                )
            )
        r = await c.post(
            f"/contracts/{no}/sign", json=signatures(created["document_sha256"]), headers=REP
        )
        assert r.status_code == 409 and "not the reviewed version" in r.json()["detail"]

        async with Watcher(streams_ready, "contracts.>") as watch:
            signed = ok(
                await c.post(
                    f"/contracts/{no}/sign",
                    json=signatures(approved["document_sha256"]),
                    headers=REP,
                )
            )
            assert signed["status"] == "signed" and signed["archive_due_at"] and signed["term_end"]
            [event] = [
                e for e in await watch.collect(no) if e["_type"].endswith("ContractSigned.v1")
            ]
        assert event["document_sha256"] == approved["document_sha256"] and event["version"] == 1
        assert (
            event["customer"]["credit_code"] == customer["credit_code"]
            and event["customer"]["contacts"][0]["name"] == "王建国"
        )
        assert [p["serial_no"] for p in event["products"]] == [f"{no}-SN1", f"{no}-SN2"]
        assert {p["warranty_end"] for p in event["products"]} == {"2028-12-31"}
        # the reports' failure-rate denominator: each unit's batch (when known) and product line
        assert [(p["batch_no"], p["product_line"]) for p in event["products"]] == [
            ("B2026-10", "XK"),
            (None, "XK"),
        ]
        levels = {s["urgency"]: s for s in event["service_levels"]}
        assert levels["urgent"] == {
            "urgency": "urgent",
            "response_minutes": 60,
            "resolution_minutes": 720,
            "onsite_minutes": 240,
            "loaner_after_minutes": 2880,
        }
        assert (
            levels["normal"]["resolution_minutes"] == 48 * 60
            and levels["critical"]["response_minutes"] == 30
        )
        assert event["calendar"] == "24x7" and event["entitlement"]["always_open"] is True
        assert event["entitlement"]["scope"] == [
            "repair",
            "replacement",
            "technical_support",
            "inspection",
        ]
        assert (
            event["entitlement"]["loaner_promised"] is True
            and event["entitlement"]["inspections_per_year"] == 4
        )

        # immutable once signed; archived once by the sales assistant
        r = await c.patch(f"/contracts/{no}", json={"dealer_id": "D-9"}, headers=REP)
        assert r.status_code == 409 and "amendment" in r.json()["detail"]
        assert (
            await c.post(
                f"/contracts/{no}/sign", json=signatures(approved["document_sha256"]), headers=REP
            )
        ).status_code == 409
        assert (
            await c.post(f"/contracts/{no}/archive", json={"items": ALL_ITEMS}, headers=LEGAL)
        ).status_code == 403
        r = await c.post(
            f"/contracts/{no}/archive", json={"items": ALL_ITEMS[:3]}, headers=ASSISTANT
        )
        assert r.status_code == 422 and r.json()["missing"] == ["review_form"]
        async with Watcher(streams_ready, "contracts.contract_archived.v1") as watch:
            archived = ok(
                await c.post(
                    f"/contracts/{no}/archive",
                    json={"items": ALL_ITEMS, "location": "档案室 A-3"},
                    headers=ASSISTANT,
                )
            )
            [arch] = await watch.collect(no)
        assert (
            archived["status"] == "archived"
            and archived["archived_by"] == "assistant-wu"
            and archived["archived_on_time"] is True
        )
        assert arch["on_time"] is True and arch["archived_by"] == "assistant-wu"
        r = await c.post(f"/contracts/{no}/archive", json={"items": ALL_ITEMS}, headers=ASSISTANT)
        assert r.status_code == 409 and "already archived" in r.json()["detail"]

        # the audit trail says who did what, when
        history = ok(await c.get(f"/contracts/{no}/history", headers=REP))
        steps = [(h["action"], h["actor"]) for h in history["items"]]
        assert steps[0] == ("drafted", "rep-li") and steps[-1] == ("archived", "assistant-wu")
        assert ("review_rejected", "fin-sun") in steps and ("signed", "rep-li") in steps
        assert [
            h["detail"]["sign_offs_voided"] for h in history["items"] if h["action"] == "edited"
        ] == [False, True]
        reviews = ok(await c.get(f"/contracts/{no}/reviews", headers=LEGAL))
        assert (
            len(reviews) == 8 and reviews[1]["comments"] == "付款账期应为15日"
        )  # rejected rounds stay as evidence
        audit = ok(await c.get("/audit", params={"entity": "quote", "key": q_no}, headers=MANAGER))
        assert [(a["action"], a["actor"]) for a in audit["items"]] == [
            ("created", "rep-li"),
            ("approved", "mgr-chen"),
        ]
        assert (await c.get("/audit", headers=REP)).status_code == 403


async def test_amendment_is_a_new_version_and_the_signed_one_stays(databases, streams_ready):
    from contracts_flow import review_all, signed_contract

    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        v1 = await signed_contract(c)
        no = v1["contract_no"]
        assert (
            await c.post(
                f"/contracts/{no}/amendments", json={"reason": "增加一台"}, headers=OTHER_REP
            )
        ).status_code == 403
        v2 = ok(
            await c.post(f"/contracts/{no}/amendments", json={"reason": "延长保修"}, headers=REP),
            201,
        )
        assert (v2["version"], v2["status"], v2["amendment_reason"]) == (2, "draft", "延长保修")
        products = [p | {"warranty_end": "2029-12-31"} for p in v1["products"]]
        ok(await c.patch(f"/contracts/{no}", json={"products": products}, headers=REP))
        assert (
            await c.post(f"/contracts/{no}/amendments", json={"reason": "x"}, headers=REP)
        ).status_code == 409
        approved = await review_all(c, no)
        async with Watcher(streams_ready, "contracts.contract_signed.v1") as watch:
            ok(
                await c.post(
                    f"/contracts/{no}/sign",
                    json=signatures(approved["document_sha256"]),
                    headers=REP,
                )
            )
            [event] = await watch.collect(no)
        assert event["version"] == 2 and event["products"][0]["warranty_end"] == "2029-12-31"
        old = ok(await c.get(f"/contracts/{no}", params={"version": 1}, headers=REP))
        assert old["status"] == "signed" and old["products"][0]["warranty_end"] == "2028-12-31"
        assert old["document_sha256"] == v1["document_sha256"]
        versions = ok(await c.get(f"/contracts/{no}/versions", headers=REP))
        assert [v["version"] for v in versions] == [1, 2]
        listed = ok(
            await c.get("/contracts", params={"customer_id": v1["customer_id"]}, headers=REP)
        )
        assert [(i["contract_no"], i["version"]) for i in listed["items"]] == [(no, 2)]
        # version 1 is still due for archiving on its own
        archived = ok(
            await c.post(
                f"/contracts/{no}/archive",
                params={"version": 1},
                json={"items": ALL_ITEMS},
                headers=ASSISTANT,
            )
        )
        assert archived["version"] == 1 and archived["status"] == "archived"


async def test_lists_filter_and_paginate(databases, streams_ready):
    from contracts_flow import new_customer, signed_contract

    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        signed = await signed_contract(c)
        customer = await new_customer(c)
        drafts = [f"HT-{uid()}" for _ in range(3)]
        for no in drafts:
            ok(
                await c.post(
                    "/contracts", json=draft(no, customer["customer_id"]), headers=OTHER_REP
                ),
                201,
            )
        page1 = ok(
            await c.get(
                "/contracts",
                params={"customer_id": customer["customer_id"], "limit": 2},
                headers=LEGAL,
            )
        )
        page2 = ok(
            await c.get(
                "/contracts",
                params={"customer_id": customer["customer_id"], "limit": 2, "offset": 2},
                headers=LEGAL,
            )
        )
        assert page1["total"] == 3 and len(page1["items"]) == 2 and len(page2["items"]) == 1
        assert {i["contract_no"] for i in page1["items"] + page2["items"]} == set(drafts)
        by_owner = ok(
            await c.get(
                "/contracts", params={"owner": "rep-zhao", "status": "draft"}, headers=LEGAL
            )
        )
        assert {i["contract_no"] for i in by_owner["items"]} >= set(drafts)
        assert all(i["sales_rep"] == "rep-zhao" for i in by_owner["items"])
        signed_at = signed["signed_at"]
        window = ok(
            await c.get(
                "/contracts",
                params={
                    "status": "signed",
                    "signed_from": signed_at,
                    "customer_id": signed["customer_id"],
                },
                headers=LEGAL,
            )
        )
        assert [i["contract_no"] for i in window["items"]] == [signed["contract_no"]]
        assert (
            await c.get("/contracts", params={"status": "bogus"}, headers=LEGAL)
        ).status_code == 400
        assert (await c.get("/contracts", params={"limit": 0}, headers=LEGAL)).status_code == 400
        assert (await c.get("/contracts", headers=auth("engineer"))).status_code == 403
        found = ok(await c.get("/customers", params={"q": customer["credit_code"]}, headers=REP))
        assert [x["customer_id"] for x in found["items"]] == [customer["customer_id"]]
        leads = ok(await c.get("/leads", params={"grade": "A", "limit": 1}, headers=REP))
        assert leads["limit"] == 1
