"""Undoing an invoice request on the real database: a waiting request withdrawn with a reason (撤回)
and the ticket invoiced anew; an issued invoice reversed by a red-letter invoice (红冲) across the
new year (issued 31 December, reversed 2 January: the red number starts with the red invoice's
year, its date neither before the blue one nor in the future), its number unique in the register;
replays answer 200 once, other second calls and wrong states 409 in words; who may; two reversals
racing; InvoiceCancelled through the outbox once; v1 keeps the live requests, v2 sums them apart."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from parts_support import KEEPER, MANAGER, engineer
from test_invoice_register import AGENT, DEALER, OTHER_TAX_NO, digital_number, requested
from test_money import FINANCE, TAX_NO, price_list

SH = ZoneInfo("Asia/Shanghai")
NOBODY = (engineer("eng-zhang"), AGENT, DEALER)


async def issue(c: Any, inv: dict, number: str, day: str) -> dict:
    r = await c.post(
        f"/invoices/{inv['invoice_id']}/issue",
        json={"invoice_number": number, "issue_date": day},
        headers=FINANCE,
    )
    assert r.status_code == 200, r.text
    return r.json()


async def v2(c: Any, **params: Any) -> dict:
    r = await c.get("/v2/invoices", params=params, headers=FINANCE)
    assert r.status_code == 200, r.text
    return r.json()


def detail(r: Any) -> str:
    return str(r.json().get("detail", ""))


async def test_a_withdrawn_request_frees_the_ticket_for_a_new_one(make_kit, clock):
    clock.at("sunday-evening")
    kit = await make_kit()
    async with kit.client() as c:
        await price_list(c)
        inv = await requested(c, kit, "1.00", "苏州精密机械有限公司（填错）")
        no, cancel = inv["ticket_no"], f"/invoices/{inv['invoice_id']}/cancel"
        for who in NOBODY:
            r = await c.post(cancel, json={"reason": "购买方名称填错"}, headers=who)
            assert r.status_code == 403, r.text
        r = await c.post(cancel, json={"reason": " 错 "}, headers=FINANCE)
        assert r.status_code == 422 and "撤回原因（2–500字）" in detail(r), r.text
        r = await c.post(cancel, json={"reason": "错" * 501}, headers=FINANCE)
        assert r.status_code == 400, r.text  # the schema's bound, before any use case
        assert await kit.events("InvoiceCancelled") == []

        # a new request for the ticket is refused while this one is live
        body = {"buyer_name": "苏州精密机械有限公司", "buyer_tax_no": OTHER_TAX_NO}
        r = await c.post(f"/tickets/{no}/invoice", json=body, headers=FINANCE)
        assert r.status_code == 409 and "请先撤回申请或红冲发票" in detail(r), r.text

        r = await c.post(cancel, json={"reason": "购买方名称填错"}, headers=FINANCE)
        assert r.status_code == 200 and r.headers["idempotent-replayed"] == "false", r.text
        done = r.json()
        assert (done["status"], done["cancel_reason"], done["cancelled_by"]) == (
            "cancelled",
            "购买方名称填错",
            "fin-zhao",
        )
        assert done["cancelled_at"].startswith("2026-11-29T12:57")
        again = await c.post(cancel, json={"reason": "购买方名称填错"}, headers=KEEPER)
        assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
        assert again.json() == done  # the same record, nothing rewritten
        r = await c.post(cancel, json={"reason": "客户要求暂缓开票"}, headers=FINANCE)
        assert r.status_code == 409 and "已撤回（原因：购买方名称填错）" in detail(r), r.text
        red = {"red_invoice_number": digital_number(), "red_issue_date": "2026-11-29"}
        r = await c.post(
            f"/invoices/{inv['invoice_id']}/reverse",
            json=red | {"reason": "billing_error"},
            headers=FINANCE,
        )
        assert r.status_code == 409 and "已撤回（cancelled）" in detail(r), r.text
        r = await c.post(
            f"/invoices/{inv['invoice_id']}/issue",
            json={"invoice_number": digital_number(), "issue_date": "2026-11-29"},
            headers=FINANCE,
        )
        assert r.status_code == 409 and "已撤回（cancelled）" in detail(r), r.text
        [event] = await kit.events("InvoiceCancelled")
        assert (event["invoice_id"], event["kind"], event["reason"]) == (
            inv["invoice_id"],
            "withdrawn",
            "购买方名称填错",
        )
        assert event["red_invoice_number"] is None and event["cancelled_by"] == "fin-zhao"

        # the ticket has no live invoice now; a new request is its invoice
        r = await c.get(f"/tickets/{no}/invoice", headers=FINANCE)
        assert r.status_code == 404, r.text
        r = await c.post(f"/tickets/{no}/invoice", json=body, headers=FINANCE)
        assert r.status_code == 201, r.text
        anew = r.json()
        assert anew["invoice_id"] != inv["invoice_id"] and anew["buyer_tax_no"] == OTHER_TAX_NO
        r = await c.get(f"/tickets/{no}/invoice", headers=FINANCE)
        assert r.status_code == 200 and r.json()["invoice_id"] == anew["invoice_id"]
        r = await c.post(f"/tickets/{no}/invoice", json=body, headers=FINANCE)
        assert r.status_code == 409, r.text  # still one live request a ticket

        # v1 knows the live request only; v2 lists both and sums the withdrawn one apart
        v1 = (await c.get("/invoices", params={"ticket_no": no}, headers=FINANCE)).json()
        assert [i["invoice_id"] for i in v1["items"]] == [anew["invoice_id"]]
        page = await v2(c, ticket_no=no)
        assert [i["status"] for i in page["items"]] == ["requested", "cancelled"]
        assert page["total"] == 2 and page["voided_count"] == 1
        assert page["sums"]["total"] == anew["total"]
        assert page["voided"]["total"] == inv["total"]
        gone = await v2(c, ticket_no=no, status="cancelled")
        assert [i["invoice_id"] for i in gone["items"]] == [inv["invoice_id"]]
        assert gone["sums"]["total"] == "0.00" and gone["voided"]["total"] == inv["total"]
        r = await c.get("/invoices", params={"status": "cancelled"}, headers=FINANCE)
        assert r.status_code == 400, r.text  # v1's states are requested and issued

        # an issued invoice is not withdrawn: it is reversed
        await issue(c, anew, digital_number(), "2026-11-29")
        r = await c.post(
            f"/invoices/{anew['invoice_id']}/cancel", json={"reason": "重开"}, headers=FINANCE
        )
        assert r.status_code == 409 and "已开票（issued）" in detail(r) and "请红冲" in detail(r)
        r = await c.post(
            "/invoices/no-such-request/cancel", json={"reason": "重开"}, headers=FINANCE
        )
        assert r.status_code == 404


async def test_reversing_an_issued_invoice_across_the_new_year(make_kit, clock):
    kit = await make_kit()
    async with kit.client() as c:
        await price_list(c)
        clock.at(datetime(2026, 12, 30, 10, 0, tzinfo=SH))
        inv = await requested(c, kit, "1.00", "苏州精密机械有限公司")
        other = await requested(c, kit, "2.00", "无锡某某设备有限公司", OTHER_TAX_NO)
        waiting = await requested(c, kit, "3.00", "常州某某机械有限公司")
        clock.at(datetime(2026, 12, 31, 16, 0, tzinfo=SH))
        blue = digital_number(2026)
        await issue(c, inv, blue, "2026-12-31")
        taken = digital_number(2026)
        await issue(c, other, taken, "2026-12-31")

        clock.at(datetime(2027, 1, 2, 9, 30, tzinfo=SH))  # a Saturday: finance works on 2 Jan
        path = f"/invoices/{inv['invoice_id']}/reverse"
        red = digital_number(2027)
        good = {"red_invoice_number": red, "red_issue_date": "2027-01-02", "reason": "sales_return"}
        bad = [
            ({"red_invoice_number": digital_number(2026)}, 422, "前两位应为开票年度27"),
            ({"red_invoice_number": red[:19]}, 422, "应为20位数字（现为19位）"),
            (
                {"red_issue_date": "2026-12-30", "red_invoice_number": "26" + red[2:]},
                422,
                "早于原发票开票日期2026-12-31",
            ),
            ({"red_issue_date": "2027-01-03"}, 422, "晚于今天2027-01-02"),
            ({"reason": "bogus"}, 400, ""),
            ({"note": "注" * 501}, 400, ""),
        ]
        for change, status, said in bad:
            r = await c.post(path, json=good | change, headers=FINANCE)
            assert r.status_code == status and said in r.text, (change, r.text)
        # an invoice number already in the register (the blue one itself, or another's)
        for number, day in ((blue, "2026-12-31"), (taken, "2026-12-31")):
            r = await c.post(
                path,
                json=good | {"red_invoice_number": number, "red_issue_date": day},
                headers=FINANCE,
            )
            assert r.status_code == 409 and f"发票号码{number}已登记" in detail(r), r.text
        for who in NOBODY:
            r = await c.post(path, json=good, headers=who)
            assert r.status_code == 403, r.text
        r = await c.post(f"/invoices/{waiting['invoice_id']}/reverse", json=good, headers=FINANCE)
        assert r.status_code == 409 and "待开票（requested）" in detail(r), r.text
        assert "请撤回" in detail(r)
        assert await kit.events("InvoiceCancelled") == []

        r = await c.post(path, json=good | {"note": " 客户退货，原票全额冲红 "}, headers=MANAGER)
        assert r.status_code == 200 and r.headers["idempotent-replayed"] == "false", r.text
        done = r.json()
        assert (done["status"], done["red_invoice_number"], done["red_issue_date"]) == (
            "reversed",
            red,
            "2027-01-02",
        )
        assert (done["cancel_reason"], done["cancel_note"], done["cancelled_by"]) == (
            "sales_return",
            "客户退货，原票全额冲红",
            "mgr-li",
        )
        assert done["invoice_number"] == blue  # the reversed invoice stays on the row
        again = await c.post(path, json=good | {"note": "客户退货，原票全额冲红"}, headers=FINANCE)
        assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
        assert again.json() == done
        for change in (
            {"red_invoice_number": digital_number(2027)},
            {"reason": "billing_error"},
            {"red_issue_date": "2026-12-31", "red_invoice_number": "26" + red[2:]},
        ):
            r = await c.post(path, json=good | change, headers=FINANCE)
            assert r.status_code == 409 and f"已红冲，红字发票{red}" in detail(r), (change, r.text)
        r = await c.post(
            f"/invoices/{inv['invoice_id']}/cancel", json={"reason": "重开"}, headers=FINANCE
        )
        assert r.status_code == 409 and "已红冲（reversed）" in detail(r), r.text
        [event] = await kit.events("InvoiceCancelled")
        assert (event["kind"], event["reason"], event["invoice_number"]) == (
            "reversed",
            "sales_return",
            blue,
        )
        assert (event["red_invoice_number"], event["red_issue_date"]) == (red, "2027-01-02")
        assert event["total"] == inv["total"] and event["cancelled_by"] == "mgr-li"

        # the red number is an invoice number too: no other invoice may carry it
        r = await c.post(
            f"/invoices/{other['invoice_id']}/reverse",
            json=good | {"reason": "billing_error"},
            headers=FINANCE,
        )
        assert r.status_code == 409 and f"发票号码{red}已登记在工单{inv['ticket_no']}" in detail(r)
        r = await c.post(
            f"/invoices/{waiting['invoice_id']}/issue",
            json={"invoice_number": red, "issue_date": "2027-01-02"},
            headers=FINANCE,
        )
        assert r.status_code == 409 and f"发票号码{red}已登记" in detail(r), r.text
        # a paper red invoice: code + number
        paper = {"red_invoice_code": "032001900111", "red_invoice_number": "00123456"}
        r = await c.post(
            f"/invoices/{other['invoice_id']}/reverse", json=good | paper, headers=KEEPER
        )
        assert r.status_code == 200, r.text
        assert (r.json()["red_invoice_code"], r.json()["red_invoice_number"]) == tuple(
            paper.values()
        )

        # both tickets may be invoiced anew; the reversed ones sum apart
        body = {"buyer_name": "苏州精密机械有限公司", "buyer_tax_no": TAX_NO}
        r = await c.post(f"/tickets/{inv['ticket_no']}/invoice", json=body, headers=FINANCE)
        assert r.status_code == 201, r.text
        page = await v2(c, status="reversed")
        assert {i["invoice_id"] for i in page["items"]} >= {inv["invoice_id"], other["invoice_id"]}
        assert page["sums"]["total"] == "0.00" and page["voided_count"] == page["total"]

        # the export has the reversed rows with their red invoice and why, in words
        r = await c.get("/invoices/export.xlsx", params={"status": "reversed"}, headers=FINANCE)
        assert r.status_code == 200, r.text
        rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
        mine = [dict(zip(rows[0], x, strict=True)) for x in rows[1:] if x[0] == inv["ticket_no"]]
        assert [(m["状态"], m["红字发票号码"], m["撤回/红冲原因"]) for m in mine] == [
            ("已红冲", red, "销货退回")
        ]
        assert mine[0]["撤回/红冲人"] == "mgr-li" and mine[0]["发票号码"] == blue


async def test_two_reversals_at_once_one_wins_the_other_is_409(make_kit, clock):
    """On PostgreSQL the row lock orders them: the second sees the first's red invoice."""
    clock.at("sunday-evening")
    kit = await make_kit()
    async with kit.client() as c:
        await price_list(c)
        for _ in range(3):
            inv = await requested(c, kit, "1.00", "苏州精密机械有限公司")
            await issue(c, inv, digital_number(), "2026-11-29")
            path = f"/invoices/{inv['invoice_id']}/reverse"
            reds = [digital_number(), digital_number()]
            answers = await asyncio.gather(
                *(
                    c.post(
                        path,
                        json={
                            "red_invoice_number": red,
                            "red_issue_date": "2026-11-29",
                            "reason": "billing_error",
                        },
                        headers=who,
                    )
                    for red, who in zip(reds, (FINANCE, KEEPER), strict=True)
                )
            )
            codes = sorted(r.status_code for r in answers)
            assert codes == [200, 409], [r.text for r in answers]
            won = next(r.json() for r in answers if r.status_code == 200)
            lost = next(r for r in answers if r.status_code == 409)
            assert f"已红冲，红字发票{won['red_invoice_number']}" in detail(lost)
            mine = [
                e
                for e in await kit.events("InvoiceCancelled")
                if e["invoice_id"] == inv["invoice_id"]
            ]
            assert [e["red_invoice_number"] for e in mine] == [won["red_invoice_number"]]
