"""Finance's invoice register on the real database: the list's filters (status, requested days in
the business time zone, buyer name or tax number, ticket), pages and the sums of the filtered set;
registering the issued invoice's number and date (bad lengths, letters, a future day, a day before
the request, twice) with InvoiceIssued through the outbox once; the Excel export."""

from __future__ import annotations

import io
import random
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from parts_support import KEEPER, engineer, uid
from test_money import FINANCE, TAX_NO, deliver, opened, price_list

from aftersales_shared.creditcode import credit_code_check_char
from aftersales_testing.support import auth

SH = ZoneInfo("Asia/Shanghai")
OTHER_TAX_NO = "91320200MA1ABC234" + credit_code_check_char("91320200MA1ABC234")
AGENT = auth("service_agent", sub="agent-chen")
DEALER = auth("dealer", sub="dlr-zj", dealer_id="D-ZJ-01")


def digital_number(year: int = 2026) -> str:
    """A 数电 number of that year: two digits of the year, then 18 others."""
    return f"{year % 100:02d}" + "".join(random.choices("0123456789", k=18))


async def requested(c: Any, kit: Any, hours: str, buyer: str, tax_no: str = TAX_NO) -> dict:
    """A chargeable ticket with `hours` of labour at 180.00 and its invoice request (13 %)."""
    no = uid("SV-")
    assert await deliver(kit, opened(no, False))
    line = {"kind": "labour", "person": "eng-zhang", "quantity": hours, "price_code": "LAB-STD"}
    r = await c.post(
        f"/tickets/{no}/cost-lines", json=line | {"idempotency_key": uid("key-")}, headers=KEEPER
    )
    assert r.status_code == 201, r.text
    body = {"buyer_name": buyer, "buyer_tax_no": tax_no}
    r = await c.post(f"/tickets/{no}/invoice", json=body, headers=FINANCE)
    assert r.status_code == 201, r.text
    return r.json()


def ids(page: dict) -> list[str]:
    return [i["ticket_no"] for i in page["items"]]


def summed(*invoices: dict) -> dict[str, str]:
    return {
        k: f"{sum(Decimal(i[k]) for i in invoices):.2f}"
        for k in ("net_amount", "tax_amount", "total")
    }


async def listed(c: Any, **params: Any) -> dict:
    r = await c.get("/invoices", params=params, headers=FINANCE)
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_register_filters_pages_and_sums_in_the_business_time_zone(make_kit, clock):
    kit = await make_kit()
    async with kit.client() as c:
        await price_list(c)
        clock.at(datetime(2026, 11, 28, 10, 0, tzinfo=SH))
        a = await requested(c, kit, "1.00", "苏州精密机械有限公司")
        clock.at("sunday-evening")  # Sun 29 Nov 20:57 in Shanghai
        b = await requested(c, kit, "2.50", "无锡某某设备有限公司", OTHER_TAX_NO)
        # Mon 30 Nov 00:30 in Shanghai is still Sunday in UTC: it counts as the 30th
        clock.at(datetime(2026, 11, 30, 0, 30, tzinfo=SH))
        cc = await requested(c, kit, "3.00", "常州某某机械有限公司")
        r = await c.post(
            f"/invoices/{b['invoice_id']}/issue",
            json={"invoice_number": digital_number(), "issue_date": "2026-11-30"},
            headers=FINANCE,
        )
        assert r.status_code == 200, r.text

        everything = await listed(c)
        assert ids(everything) == [cc["ticket_no"], b["ticket_no"], a["ticket_no"]]
        assert everything["total"] == 3 and everything["sums"] == summed(a, b, cc)
        first = await listed(c, limit=2)
        assert ids(first) == [cc["ticket_no"], b["ticket_no"]]
        assert first["total"] == 3 and first["sums"] == summed(a, b, cc)  # all, not the page
        assert ids(await listed(c, limit=2, offset=2)) == [a["ticket_no"]]

        issued = await listed(c, status="issued")
        assert ids(issued) == [b["ticket_no"]] and issued["sums"] == summed(b)
        assert issued["items"][0]["status"] == "issued"
        waiting = await listed(c, status="requested")
        assert ids(waiting) == [cc["ticket_no"], a["ticket_no"]]
        assert waiting["sums"] == summed(a, cc)

        assert ids(await listed(c, requested_from="2026-11-30")) == [cc["ticket_no"]]
        day29 = await listed(c, requested_from="2026-11-29", requested_to="2026-11-29")
        assert ids(day29) == [b["ticket_no"]] and day29["sums"] == summed(b)
        assert ids(await listed(c, requested_to="2026-11-28")) == [a["ticket_no"]]

        assert ids(await listed(c, q="无锡")) == [b["ticket_no"]]
        assert ids(await listed(c, q=OTHER_TAX_NO[:10].lower())) == [b["ticket_no"]]
        assert ids(await listed(c, q="机械有限")) == [cc["ticket_no"], a["ticket_no"]]
        assert ids(await listed(c, q="%")) == []  # a wildcard is a character, not "anything"
        assert ids(await listed(c, ticket_no=a["ticket_no"])) == [a["ticket_no"]]
        nothing = await listed(c, q="没有这个客户")
        assert nothing["total"] == 0 and nothing["sums"]["total"] == "0.00"

        r = await c.get(
            "/invoices",
            params={"requested_from": "2026-11-30", "requested_to": "2026-11-28"},
            headers=FINANCE,
        )
        assert r.status_code == 422 and "起日不能晚于止日" in r.json()["detail"]
        r = await c.get("/invoices", params={"requested_to": "9999-12-31"}, headers=FINANCE)
        assert r.status_code == 422 and "申请日期须在" in r.json()["detail"]
        for who in (engineer("eng-zhang"), AGENT, DEALER):
            assert (await c.get("/invoices", headers=who)).status_code == 403
        assert (await c.get("/invoices", headers=KEEPER)).status_code == 200


async def test_registering_the_issued_invoice_checks_the_number_and_date_once(make_kit, clock):
    clock.at("sunday-evening")  # today is Sun 29 Nov 2026 in Shanghai
    kit = await make_kit()
    async with kit.client() as c:
        await price_list(c)
        inv = await requested(c, kit, "1.00", "苏州精密机械有限公司")
        other = await requested(c, kit, "2.00", "无锡某某设备有限公司", OTHER_TAX_NO)
        issue = f"/invoices/{inv['invoice_id']}/issue"
        number = digital_number()
        bad = [
            ({"invoice_number": number[:19]}, "应为20位数字（现为19位）"),
            ({"invoice_number": number[:18] + "AB"}, "只能由数字组成"),
            ({"invoice_number": digital_number(2025)}, "前两位应为开票年度26"),
            ({"invoice_number": "12345678", "invoice_code": "12345678901"}, "10位或12位"),
            ({"invoice_number": "1234567", "invoice_code": "1234567890"}, "应为8位数字"),
            ({"invoice_number": "12345678", "invoice_code": "12345X7890"}, "只能由数字组成"),
            ({"invoice_number": number, "issue_date": "2026-11-30"}, "晚于今天2026-11-29"),
            ({"invoice_number": number, "issue_date": "2026-11-28"}, "早于开票申请日2026-11-29"),
        ]
        for body, said in bad:
            r = await c.post(issue, json={"issue_date": "2026-11-29"} | body, headers=FINANCE)
            assert r.status_code == 422 and said in r.json()["detail"], (body, r.text)
        r = await c.post(
            issue, json={"invoice_number": number, "issue_date": "2026-11-29"}, headers=AGENT
        )
        assert r.status_code == 403
        assert await kit.events("InvoiceIssued") == []
        still = (await c.get(f"/tickets/{inv['ticket_no']}/invoice", headers=FINANCE)).json()
        assert still["status"] == "requested" and still["invoice_number"] is None

        spaced = " ".join(number[i : i + 4] for i in range(0, 20, 4))  # copied as printed
        r = await c.post(
            issue, json={"invoice_number": spaced, "issue_date": "2026-11-29"}, headers=FINANCE
        )
        assert r.status_code == 200, r.text
        got = r.json()
        assert r.headers["idempotent-replayed"] == "false"
        assert (got["status"], got["invoice_number"], got["invoice_code"]) == (
            "issued",
            number,
            None,
        )
        assert (got["issue_date"], got["issued_by"]) == ("2026-11-29", "fin-zhao")
        r = await c.post(
            issue, json={"invoice_number": number, "issue_date": "2026-11-29"}, headers=FINANCE
        )
        assert r.status_code == 200 and r.headers["idempotent-replayed"] == "true"
        for again in (
            {"invoice_number": digital_number(), "issue_date": "2026-11-29"},
            {"invoice_number": number, "issue_date": "2026-11-28"},
        ):
            r = await c.post(issue, json=again, headers=FINANCE)
            assert r.status_code == 409 and "已登记为" in r.json()["detail"], r.text
        [event] = await kit.events("InvoiceIssued")
        assert event["invoice_id"] == inv["invoice_id"] and event["invoice_number"] == number
        assert (event["issue_date"], event["total"], event["issued_by"]) == (
            "2026-11-29",
            inv["total"],
            "fin-zhao",
        )

        # the same number cannot be another request's invoice; a paper one is code + number
        r = await c.post(
            f"/invoices/{other['invoice_id']}/issue",
            json={"invoice_number": number, "issue_date": "2026-11-29"},
            headers=FINANCE,
        )
        assert r.status_code == 409 and inv["ticket_no"] in r.json()["detail"]
        r = await c.post(
            f"/invoices/{other['invoice_id']}/issue",
            json={
                "invoice_number": "00123456",
                "invoice_code": "032001900111",
                "issue_date": "2026-11-29",
            },
            headers=KEEPER,
        )
        assert r.status_code == 200, r.text
        assert (r.json()["invoice_code"], r.json()["invoice_number"]) == (
            "032001900111",
            "00123456",
        )
        assert len(await kit.events("InvoiceIssued")) == 2
        r = await c.post(
            "/invoices/no-such-request/issue",
            json={"invoice_number": digital_number(), "issue_date": "2026-11-29"},
            headers=FINANCE,
        )
        assert r.status_code == 404


async def test_the_export_keeps_the_filters_and_amounts_as_numbers(make_kit, clock):
    clock.at("sunday-evening")
    kit = await make_kit()
    async with kit.client() as c:
        await price_list(c)
        plain = await requested(c, kit, "1.00", "苏州精密机械有限公司")
        formula = await requested(c, kit, "2.00", "=HYPERLINK(1)某某公司", OTHER_TAX_NO)
        r = await c.post(
            f"/invoices/{plain['invoice_id']}/issue",
            json={"invoice_number": digital_number(), "issue_date": "2026-11-29"},
            headers=FINANCE,
        )
        assert r.status_code == 200, r.text
        r = await c.get("/invoices/export.xlsx", params={"status": "requested"}, headers=FINANCE)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
        rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
        header, body = rows[0], rows[1:]
        assert header[0] == "工单号" and len(body) == 1  # the issued one is filtered out
        row = dict(zip(header, body[0], strict=True))
        assert row["工单号"] == formula["ticket_no"] and row["状态"] == "待开票"
        assert row["购买方名称"] == "'=HYPERLINK(1)某某公司"  # never run as a formula
        for column, key in (("金额（不含税）", "net_amount"), ("价税合计", "total")):
            assert isinstance(row[column], int | float), row[column]
            assert Decimal(str(row[column])) == Decimal(formula[key])
        # Shanghai's wall time (12:57 in UTC), as finance reads it
        assert datetime(2026, 11, 29, 20, 57) <= row["申请时间"] < datetime(2026, 11, 29, 20, 58)
        r = await c.get("/invoices/export.xlsx", headers=engineer("eng-zhang"))
        assert r.status_code == 403
