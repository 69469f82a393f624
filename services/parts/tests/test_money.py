"""Money on a ticket over HTTP on the real database: coverage from TicketOpened (through the inbox)
and its audited override, labour and travel lines, the price list, a quote the customer accepts
on the public page (the gate on issuing parts), and the invoice request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from parts.usecases import quotes
from parts_support import KEEPER, MANAGER, engineer, move, new_location, new_part, uid
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from aftersales_shared.errors import Conflict
from aftersales_shared.events import Contact, Envelope, TicketOpenedV1
from aftersales_shared.sealing import dev_private_key, unseal
from aftersales_testing.support import auth, runtime_of

AGENT = auth("service_agent", sub="agent-chen")
FINANCE = auth("finance", sub="fin-zhao")
# 统一社会信用代码 with a valid check character (GB 32100-2015)
TAX_NO = "91320505MA1XYW123R"


def opened(ticket_no: str, in_warranty: bool | None) -> Envelope[Any]:
    return Envelope(
        data=TicketOpenedV1(
            ticket_id=uid("t-"),
            ticket_no=ticket_no,
            opened_at=datetime(2026, 11, 30, 1, 0, tzinfo=UTC),
            channel="phone",
            request_type="repair",
            urgency="normal",
            description="主轴异响",
            customer_name="苏州精密机械有限公司",
            contact=Contact(name="王工", phone="13800138000", email="wang@example.cn"),
            contract_no="HT-2024-001",
            product_model="XK-200",
            serial_no="SN-001",
            in_warranty=in_warranty,
        ),
        subject=ticket_no,
    )


async def deliver(kit: Any, env: Envelope[Any]) -> bool:
    rt = runtime_of(kit.app)
    sub = next(s for s in rt.inbox.subscriptions.values() if isinstance(env.data, s.accepts))
    return await rt.inbox.handle(sub, env)


async def price_list(c: Any) -> None:
    for code, body in {
        "LAB-STD": {"kind": "labour", "name": "工程师工时", "unit": "小时", "rate": "180.00"},
        "TRV-KM": {"kind": "travel", "name": "差旅里程", "unit": "公里", "rate": "2.50"},
        "SVC-CAL": {"kind": "service", "name": "精度校准", "unit": "次", "rate": "800.00"},
    }.items():
        r = await c.put(f"/price-list/{code}", json=body, headers=MANAGER)
        assert r.status_code == 200, r.text


async def stocked_part(c: Any, quantity: int = 5) -> tuple[str, str]:
    part = await new_part(c, unit_price="100.00")
    van = await new_location(c, "van", engineer_id="eng-zhang")
    await move(
        c, KEEPER, kind="receive", part_no=part["part_no"], to_location=van, quantity=quantity
    )
    return part["part_no"], van


def test_tax_no_fixture_is_valid():
    from aftersales_shared.creditcode import validate_credit_code

    assert validate_credit_code(TAX_NO) == TAX_NO


async def test_warranty_ticket_costs_labour_and_travel_needs_no_quote(make_kit):
    kit = await make_kit()
    no = uid("T-")
    async with kit.client() as c:
        env = opened(no, True)
        assert await deliver(kit, env) is True
        assert await deliver(kit, env) is False  # redelivered: nothing new
        r = await c.get(f"/tickets/{no}", headers=KEEPER)
        assert r.status_code == 200 and r.json()["coverage"] == "warranty", r.text
        await price_list(c)
        eng = engineer("eng-zhang")
        line = {
            "kind": "labour",
            "person": "eng-zhang",
            "quantity": "2.50",
            "price_code": "lab-std",
        }
        key = uid("key-")
        r = await c.post(
            f"/tickets/{no}/cost-lines", json=line | {"idempotency_key": key}, headers=eng
        )
        assert r.status_code == 201 and r.json()["amount"] == "450.00", r.text
        r = await c.post(
            f"/tickets/{no}/cost-lines", json=line | {"idempotency_key": key}, headers=eng
        )
        assert r.status_code == 200 and r.headers["Idempotent-Replayed"] == "true"
        # an engineer records only their own time
        r = await c.post(
            f"/tickets/{no}/cost-lines",
            json=line | {"person": "eng-li", "idempotency_key": uid("key-")},
            headers=eng,
        )
        assert r.status_code == 403
        fares = {
            "kind": "travel",
            "person": "eng-zhang",
            "amount": "63.50",
            "description": "高铁票",
        }
        r = await c.post(
            f"/tickets/{no}/cost-lines", json=fares | {"idempotency_key": uid("key-")}, headers=eng
        )
        assert r.status_code == 201, r.text
        r = await c.post(
            f"/tickets/{no}/cost-lines",
            json={"kind": "travel", "person": "eng-zhang", "idempotency_key": uid("key-")},
            headers=eng,
        )
        assert r.status_code == 422 and "二者选一" in r.json()["detail"]
        part_no, van = await stocked_part(c)
        await move(
            c, eng, kind="issue", part_no=part_no, from_location=van, quantity=2, ticket_no=no
        )
        r = await c.get(f"/tickets/{no}/costs", headers=FINANCE)
        costs = r.json()
        assert (costs["parts_total"], costs["labour_total"], costs["travel_total"]) == (
            "200.00",
            "450.00",
            "63.50",
        )
        assert costs["grand_total"] == "713.50" and costs["chargeable_total"] == "0.00"
        assert costs["coverage"] == "warranty" and len(costs["service_lines"]) == 2
        r = await c.post(
            f"/tickets/{no}/quotes", json={"lines": [{"price_code": "SVC-CAL"}]}, headers=AGENT
        )
        assert r.status_code == 409 and "保修" in r.json()["detail"]
        r = await c.post(
            f"/tickets/{no}/invoice",
            json={"buyer_name": "苏州精密", "buyer_tax_no": TAX_NO},
            headers=FINANCE,
        )
        assert r.status_code == 409
        # a ticket parts never heard of
        r = await c.post(
            f"/tickets/{uid('T-')}/quotes",
            json={"lines": [{"price_code": "SVC-CAL"}]},
            headers=AGENT,
        )
        assert r.status_code == 404 and "尚未收到工单" in r.json()["detail"]


async def test_coverage_override_needs_a_supervisor_and_a_reason_and_is_audited(make_kit):
    kit = await make_kit()
    no = uid("T-")
    async with kit.client() as c:
        await deliver(kit, opened(no, True))
        body = {"coverage": "chargeable", "reason": "人为损坏：设备进水，不属三包范围"}
        r = await c.put(f"/tickets/{no}/coverage", json=body, headers=AGENT)
        assert r.status_code == 403
        r = await c.put(f"/tickets/{no}/coverage", json=body | {"reason": "x"}, headers=KEEPER)
        assert r.status_code in (400, 422)
        r = await c.put(f"/tickets/{no}/coverage", json=body, headers=KEEPER)
        assert r.status_code == 200 and r.json()["coverage"] == "chargeable", r.text
        r = await c.put(f"/tickets/{no}/coverage", json=body, headers=KEEPER)
        assert r.status_code == 409  # already chargeable
        back = {"coverage": "warranty", "reason": "复核：进水为密封件缺陷所致，按三包处理"}
        assert (
            await c.put(f"/tickets/{no}/coverage", json=back, headers=MANAGER)
        ).status_code == 200
        r = await c.get(f"/tickets/{no}/coverage/history", headers=FINANCE)
        trail = [(h["from_coverage"], h["to_coverage"], h["actor"]) for h in r.json()]
        assert trail == [
            ("warranty", "chargeable", "sup-wang"),
            ("chargeable", "warranty", "mgr-li"),
        ]
        # a redelivered TicketOpened does not undo the override
        await deliver(kit, opened(no, False))
        assert (await c.get(f"/tickets/{no}", headers=KEEPER)).json()["coverage"] == "warranty"
        # the database itself keeps the trail: no update, no delete
        for statement in (
            "UPDATE coverage_changes SET reason = 'x'",
            "DELETE FROM coverage_changes",
        ):
            async with kit.rt.sessions() as s:
                try:
                    await s.execute(text(statement))
                    await s.commit()
                except DBAPIError as exc:
                    assert "append-only" in str(exc)
                else:
                    raise AssertionError(f"{statement} was allowed")
        r = await c.get(f"/tickets/{no}/coverage/history", headers=FINANCE)
        assert len(r.json()) == 2


async def test_chargeable_repair_waits_for_the_accepted_quote_then_is_invoiced(make_kit):
    kit = await make_kit()
    no = uid("T-")
    async with kit.client() as c:
        await deliver(kit, opened(no, False))
        await price_list(c)
        part_no, van = await stocked_part(c)
        eng = engineer("eng-zhang")
        issue = dict(kind="issue", part_no=part_no, from_location=van, quantity=1, ticket_no=no)
        r = await c.post("/movements", json=issue | {"idempotency_key": uid("key-")}, headers=eng)
        assert r.status_code == 409 and "尚未接受报价" in r.json()["detail"], r.text

        quote = {
            "lines": [
                {"price_code": "LAB-STD", "quantity": "3"},
                {"price_code": "TRV-KM", "quantity": "120"},
                {"part_no": part_no, "quantity": "1"},
            ],
            "note": "更换主轴轴承并校准",
        }
        r = await c.post(f"/tickets/{no}/quotes", json=quote, headers=engineer("eng-zhang"))
        assert r.status_code == 403
        r = await c.post(f"/tickets/{no}/quotes", json=quote, headers=AGENT)
        assert r.status_code == 201, r.text
        q = r.json()
        # 540 + 300 + 100 = 940; VAT 13 % = 122.20
        assert (q["net_amount"], q["tax_amount"], q["total"], q["status"]) == (
            "940.00",
            "122.20",
            "1062.20",
            "issued",
        )
        link = q["link"]
        token = link.rsplit("/", 1)[1]
        [issued] = await kit.events("QuoteIssued")
        assert issued["total"] == "1062.20" and token not in str(issued)
        assert unseal(dev_private_key(), issued["link_sealed"]) == link
        assert issued["contact"]["phone"] == "13800138000"
        r = await c.post(f"/tickets/{no}/quotes", json=quote, headers=AGENT)
        assert r.status_code == 409 and "等待客户确认" in r.json()["detail"]

        page = await c.get(f"/q/{token}")
        assert page.status_code == 200 and "¥1062.20" in page.text and "王工" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        r = await c.post(f"/q/{token}", data={"decision": "accept", "signer": ""})
        assert r.status_code == 422 and "确认人姓名" in r.text
        r = await c.post(
            f"/q/{token}",
            data={"decision": "accept", "signer": "王工"},
            headers={"sec-fetch-site": "cross-site"},
        )
        assert r.status_code == 403
        r = await c.post(f"/q/{token}", data={"decision": "accept", "signer": "王工"})
        assert r.status_code == 303, r.text
        r = await c.post(f"/q/{token}", data={"decision": "accept", "signer": "王工"})
        assert r.status_code == 303  # a double submit changes nothing
        r = await c.post(f"/q/{token}", data={"decision": "decline", "signer": "王工"})
        assert r.status_code == 409 and "不能更改" in r.text
        page = await c.get(f"/q/{token}")
        assert "已于" in page.text and "接受该报价" in page.text and "<form" not in page.text
        assert len(await kit.events("QuoteAccepted")) == 1
        assert not await kit.events("QuoteDeclined")
        assert (await c.get(f"/q/{'A' * 43}")).status_code == 404

        r = await c.post("/movements", json=issue | {"idempotency_key": uid("key-")}, headers=eng)
        assert r.status_code == 201, r.text
        r = await c.get(f"/tickets/{no}/quotes", headers=FINANCE)
        assert [x["status"] for x in r.json()] == ["accepted"]
        # the coverage cannot change once money was agreed
        r = await c.put(
            f"/tickets/{no}/coverage",
            json={"coverage": "warranty", "reason": "客户投诉后改为保修"},
            headers=KEEPER,
        )
        assert r.status_code == 409

        inv = {"buyer_name": "苏州精密机械有限公司", "buyer_tax_no": TAX_NO[:-1] + "0"}
        r = await c.post(f"/tickets/{no}/invoice", json=inv, headers=FINANCE)
        assert r.status_code == 422 and "校验位" in r.json()["detail"]
        inv["buyer_tax_no"] = TAX_NO
        r = await c.post(
            f"/tickets/{no}/invoice", json=inv | {"invoice_type": "special"}, headers=FINANCE
        )
        assert r.status_code == 422 and "专用发票" in r.json()["detail"]
        r = await c.post(f"/tickets/{no}/invoice", json=inv, headers=engineer("eng-zhang"))
        assert r.status_code == 403
        r = await c.post(f"/tickets/{no}/invoice", json=inv, headers=FINANCE)
        assert r.status_code == 201, r.text
        assert r.json()["total"] == "1062.20" and r.json()["quote_no"] == q["quote_no"]
        r = await c.post(f"/tickets/{no}/invoice", json=inv, headers=FINANCE)
        assert r.status_code == 409
        [requested] = await kit.events("InvoiceRequested")
        assert requested["buyer_tax_no"] == TAX_NO and requested["tax_amount"] == "122.20"
        assert len(requested["lines"]) == 3


async def test_a_declined_quote_allows_a_new_one_and_an_expired_link_decides_nothing(make_kit):
    kit = await make_kit()
    no = uid("T-")
    async with kit.client() as c:
        await deliver(kit, opened(no, None))  # unit unknown: paid service until told otherwise
        await price_list(c)
        r = await c.post(
            f"/tickets/{no}/quotes", json={"lines": [{"price_code": "SVC-CAL"}]}, headers=AGENT
        )
        token = r.json()["link"].rsplit("/", 1)[1]
        r = await c.post(
            f"/q/{token}", data={"decision": "decline", "signer": "王工", "reason": "价格太高"}
        )
        assert r.status_code == 303
        [declined] = await kit.events("QuoteDeclined")
        assert declined["reason"] == "价格太高"
        r = await c.post(
            f"/tickets/{no}/quotes",
            json={"lines": [{"price_code": "SVC-CAL"}], "tax_rate": "0.06"},
            headers=AGENT,
        )
        assert r.status_code == 201 and r.json()["quote_no"].endswith("-2"), r.text
        assert r.json()["tax_amount"] == "48.00"
        token = r.json()["link"].rsplit("/", 1)[1]
    # the named moment: eight days after issue, past the seven days the link works
    rt = kit.rt
    later = datetime.now(UTC) + timedelta(days=8)
    async with rt.sessions.begin() as s:
        with pytest.raises(Conflict, match="过期"):
            await quotes.decide(s, token, "accept", "王工", None, later)
    async with rt.sessions() as s:
        row = await quotes.by_token(s, token)
        assert row.status == "issued" and row.decided_at is None
        assert row.total == Decimal("848.00")


async def test_an_invoice_without_a_quote_bills_the_recorded_cost_and_freezes_coverage(make_kit):
    kit = await make_kit()
    no = uid("T-")
    async with kit.client() as c:
        await deliver(kit, opened(no, False))
        await price_list(c)
        inv = {"buyer_name": "苏州精密机械有限公司", "buyer_tax_no": TAX_NO.lower()}
        r = await c.post(f"/tickets/{no}/invoice", json=inv, headers=FINANCE)
        assert r.status_code == 409 and "没有可开票的费用" in r.json()["detail"]
        for line in (
            {"kind": "labour", "person": "eng-zhang", "quantity": "1.5", "price_code": "LAB-STD"},
            {"kind": "travel", "person": "eng-zhang", "amount": "45.00"},
        ):
            r = await c.post(
                f"/tickets/{no}/cost-lines",
                json=line | {"idempotency_key": uid("key-")},
                headers=KEEPER,
            )
            assert r.status_code == 201, r.text
        r = await c.post(f"/tickets/{no}/invoice", json=inv | {"tax_rate": "0.06"}, headers=FINANCE)
        assert r.status_code == 201, r.text
        # 270 + 45 = 315; 6 % = 18.90
        got = r.json()
        assert (got["net_amount"], got["tax_amount"], got["total"]) == ("315.00", "18.90", "333.90")
        assert got["buyer_tax_no"] == TAX_NO and got["quote_no"] is None
        assert (await c.get(f"/tickets/{no}/invoice", headers=FINANCE)).json()["total"] == "333.90"
        r = await c.put(
            f"/tickets/{no}/coverage",
            json={"coverage": "warranty", "reason": "复核后改为保修处理"},
            headers=KEEPER,
        )
        assert r.status_code == 409 and "已申请发票" in r.json()["detail"]


async def test_the_office_withdraws_an_unanswered_quote_and_the_link_then_says_so(make_kit):
    kit = await make_kit()
    no = uid("T-")
    async with kit.client() as c:
        await deliver(kit, opened(no, False))
        await price_list(c)
        r = await c.post(
            f"/tickets/{no}/quotes", json={"lines": [{"price_code": "SVC-CAL"}]}, headers=AGENT
        )
        quote_no, token = r.json()["quote_no"], r.json()["link"].rsplit("/", 1)[1]
        path = f"/tickets/{no}/quotes/{quote_no}/withdraw"
        why = "报价遗漏了更换主轴的工时"
        assert (await c.post(path, json={"reason": why}, headers=FINANCE)).status_code == 403
        r = await c.post(path, json={"reason": "错"}, headers=AGENT)
        assert r.status_code == 422 and "撤回原因" in r.json()["detail"]
        r = await c.post(
            f"/tickets/{no}/quotes/Q-NONE-1/withdraw", json={"reason": why}, headers=AGENT
        )
        assert r.status_code == 404
        r = await c.post(path, json={"reason": why}, headers=AGENT)
        assert r.status_code == 200 and r.json()["status"] == "withdrawn", r.text
        assert r.json()["withdrawal_reason"] == why and r.json()["withdrawn_by"] == "agent-chen"
        r = await c.post(path, json={"reason": why}, headers=AGENT)
        assert r.status_code == 409, "withdrawn once"

        # the customer's link says so and decides nothing
        page = await c.get(f"/q/{token}")
        assert page.status_code == 200 and "该报价已撤回" in page.text
        assert "接受报价" not in page.text and why in page.text
        r = await c.post(f"/q/{token}", data={"decision": "accept", "signer": "王工"})
        assert r.status_code == 409 and "该报价已由客服撤回" in r.text
        assert await kit.events("QuoteAccepted") == []

        # the gate still holds (nothing accepted); a new quote may be issued at once
        part, van = await stocked_part(c)
        await move(
            c,
            engineer("eng-zhang"),
            409,
            kind="issue",
            part_no=part,
            from_location=van,
            ticket_no=no,
            quantity=1,
        )
        r = await c.post(
            f"/tickets/{no}/quotes", json={"lines": [{"price_code": "SVC-CAL"}]}, headers=AGENT
        )
        assert r.status_code == 201 and r.json()["quote_no"].endswith("-2"), r.text
    (withdrawn,) = await kit.events("QuoteWithdrawn")
    assert withdrawn["quote_no"] == quote_no and withdrawn["reason"] == why
    assert withdrawn["ticket_no"] == no and withdrawn["total"] == "904.00"
