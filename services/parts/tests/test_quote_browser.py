"""The customer's quote page in a real headless Chromium on a phone-sized viewport (390×844), over
real HTTP: the quote reads in Chinese and fits the phone, a missing name is told on the page, the
customer accepts, and the decided quote shows its outcome instead of the form."""

from __future__ import annotations

import asyncio

import uvicorn
from parts_support import MANAGER, uid
from test_money import AGENT, deliver, opened, price_list

from aftersales_testing.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, free_port, require_chromium

WIDE = {"width": 1366, "height": 768}  # the office's laptop
# the intro's promise, true only while the quote awaits the customer's answer
PROMISE = "确认接受后我们将安排维修"


async def _no_horizontal_scroll(page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"


async def test_customer_accepts_a_quote_on_a_phone_in_chromium(make_kit, artifacts_dir):
    require_chromium()
    from playwright.async_api import async_playwright

    assert (PHONE["width"], PHONE["height"]) == (390, 844)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    kit = await make_kit(public_base_url=base)
    server = uvicorn.Server(
        uvicorn.Config(kit.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    shots = artifacts_dir / "parts"
    shots.mkdir(exist_ok=True)
    no = uid("T-")
    try:
        async with kit.client() as c:
            for _ in range(200):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            assert server.started, "uvicorn did not start"
            await deliver(kit, opened(no, False))
            await price_list(c)
            r = await c.post(
                f"/tickets/{no}/quotes",
                json={
                    "lines": [
                        {"price_code": "LAB-STD", "quantity": "3"},
                        {"price_code": "TRV-KM", "quantity": "120"},
                        {"price_code": "SVC-CAL", "description": "主轴精度校准（含检测报告）"},
                    ],
                    "note": "更换主轴轴承后做精度校准；备件费用按实际领用另计。",
                },
                headers=AGENT,
            )
            assert r.status_code == 201, r.text
            link = r.json()["link"]
            assert link.startswith(base + "/q/")

            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    context = await browser.new_context(
                        viewport=PHONE,
                        device_scale_factor=2,
                        is_mobile=True,
                        has_touch=True,
                        locale="zh-CN",
                        java_script_enabled=False,
                    )
                    page = await context.new_page()

                    # 1. the quote: lines, tax and total, in Chinese, fitting the phone
                    response = await page.goto(link)
                    assert response.status == 200
                    assert await page.title() == "维修服务报价"
                    text = await page.locator("main").inner_text()
                    assert "合计（含税）" in text and "¥1853.20" in text and "王工" in text
                    assert PROMISE in text  # awaiting an answer: the promise stands
                    await _no_horizontal_scroll(page)
                    await page.screenshot(path=str(shots / "1-quote.png"), full_page=True)

                    # 2. accept without a name: told on the page, the choice kept
                    await page.check("input[name=decision][value=accept]")
                    async with page.expect_navigation():
                        await page.click("button[type=submit]")
                    error = page.locator(".err")
                    assert await error.is_visible() and "确认人姓名" in await error.inner_text()
                    assert await page.is_checked("input[name=decision][value=accept]")
                    await _no_horizontal_scroll(page)
                    await page.screenshot(path=str(shots / "2-missing-name.png"), full_page=True)

                    # 3. accept with a name: the page shows the outcome, no form
                    await page.fill("#signer", "王工")
                    async with page.expect_navigation():
                        await page.click("button[type=submit]")
                    assert page.url == link
                    state = await page.locator(".state").inner_text()
                    assert "接受该报价" in state and "王工" in state
                    assert await page.locator("form").count() == 0
                    assert PROMISE not in await page.locator("main").inner_text()
                    await page.screenshot(path=str(shots / "3-accepted.png"), full_page=True)

                    # the decided quote on the office's laptop: no promise, no form either
                    wide = await browser.new_context(
                        viewport=WIDE, locale="zh-CN", java_script_enabled=False
                    )
                    desk = await wide.new_page()
                    assert (await desk.goto(link)).status == 200
                    assert PROMISE not in await desk.locator("main").inner_text()
                    assert "接受该报价" in await desk.locator(".state").inner_text()
                    await desk.screenshot(
                        path=str(shots / "3-accepted-desktop.png"), full_page=True
                    )
                    await wide.close()
                finally:
                    await browser.close()

            r = await c.get(f"/tickets/{no}/quotes", headers=MANAGER)
            assert [q["status"] for q in r.json()] == ["accepted"]
            assert len(await kit.events("QuoteAccepted")) == 1
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, timeout=10)
    for name in ("1-quote", "2-missing-name", "3-accepted", "3-accepted-desktop"):
        assert (shots / f"{name}.png").stat().st_size > 5000, name


async def test_a_withdrawn_quote_says_so_on_a_phone_and_a_desktop(make_kit, artifacts_dir):
    """The office withdrew the quote: the link shows why and when, and no form to accept."""
    require_chromium()
    from playwright.async_api import async_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    kit = await make_kit(public_base_url=base)
    server = uvicorn.Server(
        uvicorn.Config(kit.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    shots = artifacts_dir / "parts"
    shots.mkdir(exist_ok=True)
    no = uid("T-")
    try:
        async with kit.client() as c:
            for _ in range(200):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            assert server.started, "uvicorn did not start"
            await deliver(kit, opened(no, False))
            await price_list(c)
            r = await c.post(
                f"/tickets/{no}/quotes", json={"lines": [{"price_code": "SVC-CAL"}]}, headers=AGENT
            )
            quote_no, link = r.json()["quote_no"], r.json()["link"]
            r = await c.post(
                f"/tickets/{no}/quotes/{quote_no}/withdraw",
                json={"reason": "报价遗漏了更换主轴的工时，将重新报价"},
                headers=AGENT,
            )
            assert r.status_code == 200, r.text

            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    for name, viewport in (("phone", PHONE), ("desktop", WIDE)):
                        context = await browser.new_context(
                            viewport=viewport, locale="zh-CN", java_script_enabled=False
                        )
                        page = await context.new_page()
                        response = await page.goto(link)
                        assert response.status == 200
                        state = await page.locator(".state").inner_text()
                        assert state == "该报价已撤回，不能再确认"
                        text = await page.locator("main").inner_text()
                        assert "原因：报价遗漏了更换主轴的工时" in text and "有效期" not in text
                        assert PROMISE not in text
                        assert await page.locator("form").count() == 0
                        width = await page.evaluate("document.documentElement.scrollWidth")
                        assert width <= viewport["width"]
                        await page.screenshot(
                            path=str(shots / f"4-withdrawn-{name}.png"), full_page=True
                        )
                        await context.close()
                finally:
                    await browser.close()
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, timeout=10)
    for name in ("phone", "desktop"):
        assert (shots / f"4-withdrawn-{name}.png").stat().st_size > 5000, name
