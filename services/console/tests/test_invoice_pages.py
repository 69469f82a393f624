"""Finance's pages over HTTP against the real tickets, parts and contracts services: the invoice
register (filters, pages, the sums of the filtered set, the export as filtered, registering an
issued invoice with CSRF and post/redirect/get, parts' refusal shown in its words with the values
kept, who may see it) and the customer search (by name, credit code and contact phone, owner,
pages, each row linking to the customer's page; dealers and engineers refused)."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

from console_support import CSRF_FIELD, sign_in
from invoice_support import open_office
from openpyxl import load_workbook


def _total(*invoices: dict) -> str:
    return f"{sum(Decimal(i['total']) for i in invoices):.2f}"


async def test_the_invoice_register_page(desk_parts):
    async with open_office(*desk_parts, page_size=5) as office:
        first, wuxi, *_, last = office.invoices
        wuxi_too = office.invoices[4]
        async with office.console() as web:
            await sign_in(web, "fin-qian")
            page = await web.get("/invoices")
            assert page.status_code == 200, page.text
            assert 'href="/invoices"' in page.text  # the nav names it for finance
            # newest first, five a page, the sums of all six
            assert last["ticket_no"] in page.text and first["ticket_no"] not in page.text
            assert f"¥{_total(*office.invoices)}" in page.text and "第 1 / 2 页" in page.text
            # finance opens the ticket it invoices (read only: no step, no list of tickets)
            assert f'href="/tickets/{last["ticket_no"]}"' in page.text
            ticket = await web.get(f"/tickets/{last['ticket_no']}")
            assert ticket.status_code == 200 and last["ticket_no"] in ticket.text, ticket.text
            assert "/actions/" not in ticket.text  # no form for any step
            back = f'href="/invoices?ticket_no={last["ticket_no"]}"'
            assert back in ticket.text and 'href="/board"' not in ticket.text  # not the desk's
            assert (await web.get("/board")).status_code == 403  # tickets lists none to finance
            second = await web.get("/invoices", params={"page": 2})
            assert first["ticket_no"] in second.text and last["ticket_no"] not in second.text

            found = await web.get("/invoices", params={"q": "无锡"})
            assert wuxi["ticket_no"] in found.text and first["ticket_no"] not in found.text
            assert f"¥{_total(wuxi, wuxi_too)}" in found.text
            assert 'href="/invoices/export.xlsx?q=%E6%97%A0%E9%94%A1"' in found.text
            sheet = await web.get("/invoices/export.xlsx", params={"q": "无锡"})
            assert sheet.status_code == 200
            rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
            assert [r[0] for r in rows[1:]] == [wuxi_too["ticket_no"], wuxi["ticket_no"]]
            bad = await web.get("/invoices", params={"requested_from": "2026-13-01"})
            assert bad.status_code == 400 and "申请起日须为日期" in bad.text

            # a refused registration: parts' words at the row, what was typed kept, nothing done
            here = await web.get("/invoices", params={"q": "无锡"})
            token = CSRF_FIELD.search(here.text)[1]
            action = f"/invoices/{wuxi['invoice_id']}/issue?q=%E6%97%A0%E9%94%A1"
            assert html.escape(action) in here.text
            typed = {"invoice_number": "2632200000001234567", "issue_date": "2026-11-29"}
            refused = await web.post(action, data=typed | {"_csrf_token": token})
            assert refused.status_code == 422
            assert "应为20位数字（现为19位）" in refused.text
            assert 'value="2632200000001234567"' in refused.text
            no_csrf = await web.post(action, data=typed)
            assert no_csrf.status_code == 403
            typed["invoice_number"] = "26322000000012345678"
            done = await web.post(action, data=typed | {"_csrf_token": token})
            assert done.status_code in (302, 303)
            assert done.headers["location"] == "/invoices?q=%E6%97%A0%E9%94%A1"
            after = await web.get(done.headers["location"])
            assert "已登记工单" in after.text and "26322000000012345678" in after.text
            issued = await web.get("/invoices", params={"status": "issued"})
            assert wuxi["ticket_no"] in issued.text and first["ticket_no"] not in issued.text
            assert f"¥{_total(wuxi)}" in issued.text
            again = await web.post(
                action,
                data=typed | {"invoice_number": "26322000000087654321", "_csrf_token": token},
            )
            assert again.status_code == 409 and "已登记为26322000000012345678" in again.text

        async with office.console() as web:
            await sign_in(web, "sup-zhang")
            page = await web.get("/invoices")
            assert f'href="/tickets/{last["ticket_no"]}"' in page.text  # a supervisor can open it
        for who in ("eng-zhang", "agent-zhou", "dealer-chen"):
            async with office.console() as web:
                await sign_in(web, who)
                page = await web.get("/invoices")
                assert page.status_code == 403 and "发票登记仅限" in page.text, who
                assert 'href="/invoices"' not in page.text
                assert (await web.get("/invoices/export.xlsx")).status_code == 403


async def test_the_customer_search_finds_by_each_field(desk_parts):
    async with open_office(*desk_parts, page_size=5) as office:
        mill, cnc, press, *_ = office.customers
        tag = re.search(r"机床(\w{8})有限", mill["name"])[1]
        async with office.console() as web:
            await sign_in(web, "demo-sales")
            listed = await web.get("/customers", params={"q": tag})
            assert listed.status_code == 200, listed.text
            assert 'href="/customers"' in listed.text  # in the nav
            assert "共 6 家" in listed.text and "第 1 / 2 页" in listed.text
            rest = await web.get("/customers", params={"q": tag, "page": 2})
            assert len(re.findall(r'href="/customers/C-', rest.text)) == 1
            for q, who in (
                (mill["name"][:8], mill),
                (cnc["credit_code"], cnc),
                (press["credit_code"][:14].lower(), press),
                ("12345678", mill),
                ("0571-8888", cnc),
            ):
                page = await web.get("/customers", params={"q": q})
                ids = re.findall(r'href="/customers/(C-[0-9A-Za-z]+)"', page.text)
                assert ids == [who["customer_id"]], (q, ids)
            mine = await web.get("/customers", params={"q": tag, "owner": "rep-li"})
            ids = re.findall(r'href="/customers/(C-[0-9A-Za-z]+)"', mine.text)
            assert sorted(ids) == sorted([mill["customer_id"], cnc["customer_id"]])
            one = await web.get(f"/customers/{mill['customer_id']}")
            assert one.status_code == 200 and mill["credit_code"] in one.text
        async with office.console() as web:
            await sign_in(web, "fin-qian")
            assert (await web.get("/customers", params={"q": tag})).status_code == 200
        for who in ("dealer-chen", "eng-zhang"):
            async with office.console() as web:
                await sign_in(web, who)
                page = await web.get("/customers")
                assert page.status_code == 403 and "客户列表仅限" in page.text, who
                assert 'href="/customers"' not in page.text
