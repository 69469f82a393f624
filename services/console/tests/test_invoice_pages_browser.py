"""Finance's pages in Chromium over real HTTP at 1366×768 and on a 390×844 phone, against the real
tickets, parts and contracts services: 钱会计's invoice register, filtered to one buyer; a number
one digit short refused at its row with what was typed kept; the number registered (the row says
已开票); the customer search finding a customer by a contact's phone and opening its page. Nothing
fetched from outside the console, nothing wider than the window, axe on every page. Screenshots
60–64 in test-artifacts/console/."""

from __future__ import annotations

import shutil

from invoice_support import open_office
from test_pages_browser import LAPTOP, SCREENS, _shot, _submit
from test_work_pages_browser import _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE

NUMBERS = {"laptop": "26322000000012345678", "phone": "26322000000087654321"}


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
                await page.click(f"{row} summary")
                await page.fill(f"{row} input[name=invoice_number]", NUMBERS[name][:19])
                await _submit(page, f"{row} form")
                said = await page.locator(f"{row} [role=alert]").inner_text()
                assert "应为20位数字（现为19位）" in said
                kept = await page.input_value(f"{row} input[name=invoice_number]")
                assert kept == NUMBERS[name][:19]
                await page.locator(row).scroll_into_view_if_needed()
                await _shot(page, size, name, "61-invoice-refused", shots)

                await page.fill(f"{row} input[name=invoice_number]", NUMBERS[name])
                await _submit(page, f"{row} form")
                assert "已登记工单" in await page.locator("main").inner_text()
                assert page.url.endswith("/invoices?q=%E6%97%A0%E9%94%A1"), page.url
                assert "已开票" in await page.locator(row).inner_text()
                await _shot(page, size, name, "62-invoice-registered", shots)

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
    for png in sorted(shots.glob("*-6[0-4]-*.png")):
        shutil.copy(png, SCREENS / png.name)
