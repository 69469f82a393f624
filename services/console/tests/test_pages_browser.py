"""The sign-in page, the board and the ticket page in a real headless Chromium over real HTTP, at
1366×768 and on a 390×844 phone: a demo user signs in by clicking, the board shows the tickets with
their countdowns, a filter narrows it, a ticket opens; nothing is fetched from outside the console
(no CDN), nothing is wider than the window. Screenshots: test-artifacts/console/ and
/tmp/console-screens/."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import uvicorn
from a11y import accessible
from console_support import open_desk

from aftersales_testing.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, free_port, require_chromium

LAPTOP = {"width": 1366, "height": 768}
SCREENS = Path("/tmp/console-screens")


async def _fits(page: Any, width: int) -> None:
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide in a {width}px window"


async def _shot(page: Any, size: dict, name: str, step: str, shots: Path) -> None:
    """A page as the test left it: no wider than the window, its screenshot kept, axe run on it."""
    await _fits(page, size["width"])
    await page.screenshot(path=str(shots / f"{name}-{step}.png"), full_page=True)
    await accessible(page, f"{name}-{step}", shots)


async def _submit(page: Any, form: str) -> None:
    """Press a form's submit button and wait for the page it leads to."""
    async with page.expect_navigation():
        await page.click(f"{form} button[type=submit]")


async def _journey(browser: Any, base: str, size: dict, name: str, desk: Any, shots: Path) -> None:
    phone = size is PHONE
    context = await browser.new_context(
        viewport=size,
        locale="zh-CN",
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
    )
    outside: list[str] = []

    async def only_local(route: Any) -> None:
        if route.request.url.startswith(base):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_local)
    page = await context.new_page()
    response = await page.goto(base + "/board")
    assert response.status == 200 and page.url.startswith(base + "/login")
    assert await page.title() == "登录 · Aftersales"
    await _fits(page, size["width"])
    await page.screenshot(path=str(shots / f"{name}-1-sign-in.png"), full_page=True)
    await accessible(page, f"{name}-1-sign-in", shots)

    async with page.expect_navigation():
        await page.click("#as-sup-zhang")
    assert page.url.startswith(base + "/board")
    assert "张主管" in await page.locator("header").inner_text()
    rows = page.locator("tr.row")
    assert await rows.count() == 3
    text = await page.locator("table.tickets").inner_text()
    assert desk.opened["critical"] in text and desk.opened["assigned"] not in text
    assert "非工作时间·计时暂停" in text
    await _fits(page, size["width"])
    await page.screenshot(path=str(shots / f"{name}-2-board.png"), full_page=True)
    await accessible(page, f"{name}-2-board", shots)

    await page.select_option("select[name=urgency]", "critical")
    async with page.expect_navigation():
        await page.click(".filters button[type=submit]")
    assert await rows.count() == 1
    await page.screenshot(path=str(shots / f"{name}-3-board-critical.png"), full_page=True)
    await accessible(page, f"{name}-3-board-critical", shots)

    async with page.expect_navigation():
        await page.click(f"text={desk.opened['critical']}")
    assert page.url == f"{base}/tickets/{desk.opened['critical']}"
    assert await page.title() == f"工单 {desk.opened['critical']} · Aftersales"
    assert await page.locator("table.clocks tr.row").count() >= 3
    assert "整机无法启动" in await page.locator(".description").inner_text()
    await _fits(page, size["width"])
    await page.screenshot(path=str(shots / f"{name}-4-ticket.png"), full_page=True)
    await accessible(page, f"{name}-4-ticket", shots)
    # an error page: what is wrong, in words a person can act on, as accessible as the rest
    response = await page.goto(base + "/board?tab=nope")
    assert response.status == 400
    await page.screenshot(path=str(shots / f"{name}-4b-error.png"), full_page=True)
    await accessible(page, f"{name}-4b-error", shots)
    await page.go_back()
    assert outside == [], f"fetched from outside the console: {outside}"
    css = await page.evaluate("getComputedStyle(document.querySelector('.sla')).backgroundColor")
    assert css != "rgba(0, 0, 0, 0)", "the countdown has no colour"
    await context.close()


async def test_sign_in_and_the_board_on_a_laptop_and_a_phone(desk_parts, artifacts_dir):
    require_chromium()
    from playwright.async_api import async_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_desk(*desk_parts) as desk:
        server = uvicorn.Server(
            uvicorn.Config(desk.console_app, host="127.0.0.1", port=port, log_level="warning")
        )
        serving = asyncio.create_task(server.serve())
        try:
            for _ in range(200):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            assert server.started, "uvicorn did not start"
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    await _journey(browser, base, LAPTOP, "laptop", desk, shots)
                    await _journey(browser, base, PHONE, "phone", desk, shots)
                finally:
                    await browser.close()
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, timeout=10)
    SCREENS.mkdir(exist_ok=True)
    for png in sorted(shots.glob("*.png")):
        assert png.stat().st_size > 5000, png.name
        shutil.copy(png, SCREENS / png.name)
