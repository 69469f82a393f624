"""The money pages in Chromium over real HTTP at 1366×768 and on a 390×844 phone, against the real
tickets and parts services: 张工 on the ticket page issues a bearing from his van (the cost shows
it) and asks for more than the van holds (库存不足 said on the page); he creates an expense claim,
adds a line, photographs the receipt (the file input with the camera), submits; 张主管's approval
inbox and the claim; 钱会计's settlement list. Nothing fetched from outside the console, nothing
wider than the window, axe on every page. Screenshots 23–28 in test-artifacts/console/."""

from __future__ import annotations

import shutil

import pytest
from money_support import open_shop
from test_pages_browser import LAPTOP, SCREENS, _shot, _submit
from test_work_pages_browser import _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.mark.long(75)
async def test_money_pages_in_chromium(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_shop(*desk_parts) as shop, serving(shop.console_app) as base:
        no = shop.warranty_ticket
        async with chromium() as browser:
            for size, name, trip_end in (
                (LAPTOP, "laptop", "2026-11-27"),
                (PHONE, "phone", "2026-11-26"),
            ):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "eng-zhang", f"/tickets/{no}")
                issue = f"form[action='/tickets/{no}/money/issue']"
                await page.fill(f"{issue} input[name=quantity]", "1")
                await _submit(page, issue)
                money = await page.locator("#money").inner_text()
                assert "已领用备件到本工单" in money and shop.bearing in money
                await page.fill(f"{issue} input[name=quantity]", "9")
                await _submit(page, issue)
                assert "可用库存不足" in await page.locator("#money").inner_text()
                await page.locator("#money").scroll_into_view_if_needed()
                await _shot(page, size, name, "23-ticket-money", shots)

                await page.goto(base + "/expenses")
                if not await page.locator("#new-claim").get_attribute("open") == "":
                    await page.click("#new-claim summary")
                await page.fill("input[name=trip_start]", "2026-11-26")
                await page.fill("input[name=trip_end]", trip_end)
                await page.fill("input[name=destination]", "杭州市萧山区")
                await _submit(page, "#new-claim form")
                claim = page.url
                await page.fill("input[name=amount]", "128.50")
                await page.fill("input[name=ticket_nos]", no)
                await _submit(page, "#add-line form")
                assert "已添加费用行" in await page.locator("main").inner_text()
                camera = page.locator("input[type=file]")
                assert await camera.get_attribute("capture") == "environment"
                await camera.set_input_files(
                    {"name": "高铁票.png", "mimeType": "image/png", "buffer": PNG}
                )
                await _submit(page, "#add-receipt form")
                assert "已上传凭证" in await page.locator("main").inner_text()
                await _shot(page, size, name, "24-expense-claim", shots)
                await _submit(page, f"form[action='{claim.removeprefix(base)}/submit']")
                assert "已提交审核" in await page.locator("main").inner_text()
                await page.goto(base + "/expenses")
                await _shot(page, size, name, "25-my-expenses", shots)
                assert outside == [], outside
                await context.close()

                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "sup-zhang", "/expenses/approvals")
                await _shot(page, size, name, "26-expense-approvals", shots)
                async with page.expect_navigation():
                    await page.click(f"a[href='{claim.removeprefix(base)}']")
                await _submit(page, f"form[action='{claim.removeprefix(base)}/approve']")
                assert "已审核通过" in await page.locator("main").inner_text()
                await _shot(page, size, name, "27-expense-approved", shots)
                await context.close()

                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "fin-qian", "/expenses/settlement")
                assert "杭州市萧山区" in await page.locator("#claim-list").inner_text()
                await _shot(page, size, name, "28-expense-settlement", shots)
                assert outside == [], outside
                await context.close()
    SCREENS.mkdir(exist_ok=True)
    for png in sorted(shots.glob("*-2[3-8]-*.png")):
        shutil.copy(png, SCREENS / png.name)


async def test_stock_pages_in_chromium(desk_parts, artifacts_dir):
    """张主管's stock with its reorder suggestion and import form, a part's ledger reached by its
    link; 张工's stock on the phone (his van). Screenshots 30–32, axe."""
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_shop(*desk_parts) as shop, serving(shop.console_app) as base:
        async with chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "sup-zhang", "/stock")
                await page.check("input[name=in_stock]")
                await _submit(page, "form.filters")
                listed = await page.locator("#stock-list").inner_text()
                assert shop.bearing in listed and shop.belt in listed
                assert "补货建议" in await page.locator("main").inner_text()
                await _shot(page, size, name, "30-stock", shots)
                async with page.expect_navigation():
                    await page.click(f"#stock-list a:has-text('{shop.bearing}')")
                assert "入库" in await page.locator("main").inner_text()
                await _shot(page, size, name, "31-ledger", shots)
                await context.close()

                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "eng-zhang", "/stock")
                mine = await page.locator("#stock-list").inner_text()
                assert shop.bearing in mine and shop.belt not in mine
                await _shot(page, size, name, "32-stock-engineer", shots)
                assert outside == [], outside
                await context.close()
    SCREENS.mkdir(exist_ok=True)
    for png in sorted(shots.glob("*-3[0-2]-*.png")):
        shutil.copy(png, SCREENS / png.name)
