"""Finance's pages in Chromium over real HTTP at 1366×768 and on a 390×844 phone, against the real
tickets, parts and contracts services: 钱会计's invoice register, filtered to one buyer; a number
one digit short refused at its row with what was typed kept; the number registered (the row says
已开票), then reversed by a red-letter invoice after one refusal (已红冲), and another buyer's
request withdrawn (已撤回); the customer search finding a customer by a contact's phone and opening
its page. Nothing fetched from outside the console, nothing wider than the window, axe on every
page. Screenshots 60–67 in test-artifacts/console/."""

from __future__ import annotations

import shutil

import pytest
from invoice_support import open_office
from test_pages_browser import LAPTOP, SCREENS, _shot, _submit
from test_work_pages_browser import _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE

NUMBERS = {"laptop": "26322000000012345678", "phone": "26322000000087654321"}
REDS = {"laptop": "26322000000055556666", "phone": "26322000000077778888"}


@pytest.mark.long(70)
async def test_invoice_register_and_customer_search_in_chromium(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_office(*desk_parts) as office, serving(office.console_app) as base:
        mill = office.customers[0]
        async with chromium() as browser:
            for size, name, which in ((LAPTOP, "laptop", 1), (PHONE, "phone", 4)):
                invoice = office.invoices[which]  # 无锡某某设备有限公司's, one for each size
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "fin-qian", "/invoices")
                listed = await page.locator("#invoice-list").inner_text()
                assert all(i["ticket_no"] in listed for i in office.invoices)
                await _shot(page, size, name, "60-invoices", shots)

                await page.fill("input[name=q]", "无锡")
                await _submit(page, "form.filters")
                row = f"#invoice-{invoice['invoice_id']}"
                await page.click(f"{row} summary:has-text('登记发票')")
                await page.fill(f"{row} input[name=invoice_number]", NUMBERS[name][:19])
                await _submit(page, f"{row} form[action*=issue]")
                said = await page.locator(f"{row} [role=alert]").inner_text()
                assert "应为20位数字（现为19位）" in said
                kept = await page.input_value(f"{row} input[name=invoice_number]")
                assert kept == NUMBERS[name][:19]
                await page.locator(row).scroll_into_view_if_needed()
                await _shot(page, size, name, "61-invoice-refused", shots)

                await page.fill(f"{row} input[name=invoice_number]", NUMBERS[name])
                await _submit(page, f"{row} form[action*=issue]")
                assert "已登记工单" in await page.locator("main").inner_text()
                assert page.url.endswith("/invoices?q=%E6%97%A0%E9%94%A1"), page.url
                assert "已开票" in await page.locator(row).inner_text()
                await _shot(page, size, name, "62-invoice-registered", shots)

                # reversed by a red-letter invoice (红冲): refused first, then done
                await page.click(f"{row} details.action summary:has-text('红冲')")
                await page.fill(f"{row} input[name=red_invoice_number]", REDS[name][:19])
                await page.select_option(f"{row} select[name=reason]", "billing_error")
                await page.fill(f"{row} textarea[name=note]", "购买方税号有误，重开")
                await _submit(page, f"{row} form[action*=reverse]")
                said = await page.locator(f"{row} [role=alert]").inner_text()
                assert "应为20位数字（现为19位）" in said
                assert await page.input_value(f"{row} select[name=reason]") == "billing_error"
                await page.locator(row).scroll_into_view_if_needed()
                await _shot(page, size, name, "65-invoice-reverse-refused", shots)
                await page.fill(f"{row} input[name=red_invoice_number]", REDS[name])
                await _submit(page, f"{row} form[action*=reverse]")
                assert "已红冲工单" in await page.locator("main").inner_text()
                reversed_row = await page.locator(row).inner_text()
                assert "已红冲" in reversed_row and REDS[name] in reversed_row
                assert "开票有误" in reversed_row
                await page.locator(row).scroll_into_view_if_needed()
                await _shot(page, size, name, "66-invoice-reversed", shots)

                # a waiting request withdrawn (撤回申请)
                other = office.invoices[which - 1]  # 苏州精密机械有限公司's
                await page.goto(base + "/invoices?q=%E8%8B%8F%E5%B7%9E")
                mine = f"#invoice-{other['invoice_id']}"
                await page.click(f"{mine} details.action summary:has-text('撤回申请')")
                await page.fill(f"{mine} textarea[name=reason]", "购买方名称填错，需重新申请")
                await _submit(page, f"{mine} form[action*=cancel]")
                assert "已撤回工单" in await page.locator("main").inner_text()
                assert "已撤回" in await page.locator(mine).inner_text()
                await page.locator(mine).scroll_into_view_if_needed()
                await _shot(page, size, name, "67-invoice-withdrawn", shots)

                await page.goto(base + "/customers")
                await page.fill("input[name=q]", "12345678")
                await _submit(page, "form.filters")
                found = await page.locator("#customer-list").inner_text()
                assert mill["name"] in found and office.customers[1]["name"] not in found
                await _shot(page, size, name, "63-customers", shots)
                async with page.expect_navigation():
                    await page.click(f"#customer-list a:has-text('{mill['name']}')")
                assert mill["credit_code"] in await page.locator("main").inner_text()
                await _shot(page, size, name, "64-customer", shots)
                assert outside == [], outside
                await context.close()
    SCREENS.mkdir(exist_ok=True)
    for png in sorted(shots.glob("*-6[0-7]-*.png")):
        shutil.copy(png, SCREENS / png.name)
