"""Sales' forms in Chromium over real HTTP at 1366×768 and on a 390×844 phone, against the real
contracts (and tickets) services: 李明 registers a customer (a credit code with a wrong check digit
refused at the form, what was typed kept), drafts its contract from the customer's page, submits it
for review; after the three departments' sign-offs signs it with the reviewed version's SHA-256 and
archives the originals. Nothing fetched from outside the console, nothing wider than the window,
axe on every page. Screenshots 70–74 in test-artifacts/console/."""

from __future__ import annotations

import shutil

import pytest
from contracts_flow import REP, REVIEWER, code, uid
from sales_support import open_sales
from test_pages_browser import LAPTOP, SCREENS, _shot, _submit
from test_work_pages_browser import _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE


@pytest.mark.long(50)
async def test_sales_day_in_chromium(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_sales(*desk_parts) as world, serving(world.console_app) as base:
        async with chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "demo-sales", "/customers")
                async with page.expect_navigation():
                    await page.click("a[href='/sales/customers/new']")
                cid, no, credit = f"CU-{uid()}", f"HT-{uid()}", code()
                await page.fill("input[name=customer_id]", cid)
                await page.fill("input[name=name]", f"无锡精密机床{name}有限公司")
                wrong = credit[:17] + ("1" if credit[17] != "1" else "2")
                await page.fill("input[name=credit_code]", wrong)
                await page.fill("input[name=contact_name]", "王建国")
                await page.fill("input[name=contact_phone]", "13912345678")
                await page.fill("input[name=address]", "无锡市新吴区长江路 8 号")
                await _submit(page, "#customer-form")
                said = await page.locator("#form-error").inner_text()
                assert said.startswith("统一社会信用代码校验位错误")
                assert await page.input_value("input[name=contact_name]") == "王建国"
                await _shot(page, size, name, "70-customer-new", shots)
                await page.fill("input[name=credit_code]", credit)
                await _submit(page, "#customer-form")
                assert page.url == f"{base}/customers/{cid}", page.url

                async with page.expect_navigation():
                    await page.click(f"a[href='/sales/contracts/new?customer={cid}']")
                assert await page.input_value("input[name=customer_id]") == cid
                await page.fill("input[name=contract_no]", no)
                await page.fill("input[name=model_0]", "XK-200")
                await page.fill("input[name=serial_no_0]", f"{no}-SN1")
                await page.fill("input[name=warranty_end_0]", "2028-12-31")
                await page.fill("input[name=batch_no_0]", "B2026-11")
                await page.fill("input[name=model_1]", "XK-300")
                await page.fill("input[name=serial_no_1]", f"{no}-SN2")
                await page.fill("input[name=warranty_end_1]", "2029-06-30")
                await page.fill("input[name=dealer_id]", "D-ZJ-01")
                await page.click("details.levels summary")  # the optional service levels
                await page.fill("input[name=response_critical]", "0.5")
                await page.fill("input[name=resolution_critical]", "12")
                await _shot(page, size, name, "71-contract-draft", shots)
                await _submit(page, "#draft-form")
                assert page.url == f"{base}/contracts/{no}", page.url
                levels = await page.locator("#levels + table").inner_text()
                assert "30 分钟" in levels and "12 小时" in levels, levels
                await _shot(page, size, name, "72-contract-drafted", shots)
                await _submit(page, "#submit-form")
                assert "已提交评审" in await page.locator("main").inner_text()

                for part, headers in REVIEWER.items():
                    decided = await world.contracts.post(
                        f"/contracts/{no}/reviews/{part}",
                        json={"decision": "approve", "comments": "同意"},
                        headers=headers,
                    )
                    assert decided.status_code == 200, decided.text
                sha = decided.json()["document_sha256"]
                await page.goto(f"{base}/contracts/{no}")
                async with page.expect_navigation():
                    await page.click(f"a[href='/sales/contracts/{no}/sign']")
                await page.fill("input[name=document_sha256]", sha)
                await page.fill("input[name=company_signer]", "销售经理 李明")
                await page.fill("input[name=customer_signer]", "王建国")
                await page.select_option("select[name=customer_method]", "e_signature")
                await _shot(page, size, name, "73-contract-sign", shots)
                await _submit(page, "#sign-form")
                assert "已签署" in await page.locator("main").inner_text()

                async with page.expect_navigation():
                    await page.click(f"a[href='/sales/contracts/{no}/archive']")
                await page.fill("input[name=location]", "档案室 A-3 柜")
                await _shot(page, size, name, "74-contract-archive", shots)
                await _submit(page, "#archive-form")
                assert "已归档" in await page.locator("main").inner_text()
                await _shot(page, size, name, "75-contract-archived", shots)
                kept = await world.contracts.get(f"/contracts/{no}", headers=REP)
                assert kept.json()["status"] == "archived"
                assert outside == [], outside
                await context.close()
    SCREENS.mkdir(exist_ok=True)
    for png in sorted(shots.glob("*-7[0-5]-*.png")):
        shutil.copy(png, SCREENS / png.name)
