"""The complaint confirmation page (投诉处理确认书, /c/<token>) in a real headless Chromium over
real HTTP, at desktop and phone sizes, with JavaScript off: the proposal is readable, a rejection
without its reason is shown next to the field with what was typed kept, the acceptance lands, the
link works once. Screenshots: test-artifacts/complaints/."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from test_complaints import SUP, TECH, link_of, ok, open_complaint
from tickets_helpers import AGENT, tickets_app

from aftersales_testing.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    free_port,
    require_chromium,
)
from aftersales_testing.support import running

RESOLUTION = "免费更换液压站全部密封件，工程师上门复检一次，并延长整机保修一年。"


async def _fits(page: Any, width: int) -> None:
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide in a {width}px window"


async def test_the_customer_confirms_on_desktop_and_phone_in_chromium(
    databases, streams_ready, clock, artifacts_dir
):
    require_chromium()
    from playwright.async_api import async_playwright

    clock.at("friday-close")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = await tickets_app(databases, streams_ready, public_base_url=base)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    shots = artifacts_dir / "complaints"
    shots.mkdir(exist_ok=True)
    async with running(app) as client:
        serving = asyncio.create_task(server.serve())
        try:
            for _ in range(200):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            assert server.started, "uvicorn did not start"
            no = await open_complaint(client, complaint_level="major")
            await ok(client, no, "acknowledge", AGENT)
            await ok(client, no, "limit", SUP, {"promised_date": "2026-12-02", "via": "phone"})
            await ok(client, no, "findings", TECH, {"findings": "安装时密封圈错装，导致渗漏"})
            await ok(client, no, "resolution", SUP, {"resolution": RESOLUTION})
            link = base + await link_of(app, no)

            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    desktop = await (
                        await browser.new_context(
                            viewport=DESKTOP, locale="zh-CN", java_script_enabled=False
                        )
                    ).new_page()
                    # 1. the customer reads the proposal on a desktop
                    response = await desktop.goto(link)
                    assert response.status == 200
                    assert await desktop.title() == "投诉处理确认书"
                    assert RESOLUTION in await desktop.locator(".proposal p").inner_text()
                    assert no in await desktop.locator("dl").inner_text()
                    await _fits(desktop, DESKTOP["width"])
                    await desktop.screenshot(path=str(shots / "1-desktop-form.png"), full_page=True)

                    phone = await (
                        await browser.new_context(
                            viewport=PHONE,
                            device_scale_factor=2,
                            is_mobile=True,
                            has_touch=True,
                            locale="zh-CN",
                            java_script_enabled=False,
                        )
                    ).new_page()
                    # 2. on the phone: "not accepted" without a reason is shown at the field
                    assert (await phone.goto(link)).status == 200
                    await _fits(phone, PHONE["width"])
                    assert await phone.input_value("#signer") == "赵工"  # the contact, prefilled
                    await phone.screenshot(path=str(shots / "2-phone-form.png"), full_page=True)
                    await phone.check("#decision-reject")
                    await phone.fill("#signer", "王建国")
                    async with phone.expect_navigation():
                        await phone.click("button[type=submit]")
                    error = phone.locator("#reason-field .error")
                    assert await error.is_visible() and "不接受时请写明原因" in (
                        await error.inner_text()
                    )
                    assert await phone.is_checked("#decision-reject")
                    assert await phone.input_value("#signer") == "王建国"
                    assert await phone.locator("#error-summary").is_visible()
                    await _fits(phone, PHONE["width"])
                    await phone.screenshot(
                        path=str(shots / "3-phone-missing-reason.png"), full_page=True
                    )

                    # 3. the customer accepts after all
                    await phone.check("#decision-accept")
                    async with phone.expect_navigation():
                        await phone.click("button[type=submit]")
                    assert phone.url == link + "/done"
                    assert "您已接受处理方案" in await phone.locator("h2").inner_text()
                    await phone.screenshot(path=str(shots / "4-phone-accepted.png"), full_page=True)

                    # 4. the link worked once: the desktop tab reloaded says so
                    response = await desktop.goto(link)
                    assert response.status == 409
                    assert "该确认书已提交" in await desktop.locator("h2").inner_text()
                    await desktop.screenshot(path=str(shots / "5-desktop-used.png"), full_page=True)
                finally:
                    await browser.close()
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, timeout=10)
        c = (await client.get(f"/complaints/{no}", headers=SUP)).json()
        assert c["stage"] == "accepted"
        assert [(p["outcome"], p["method"], p["confirmed_by"]) for p in c["proposals"]] == [
            ("accepted", "link", "王建国")
        ]
    for name in ("1-desktop-form", "2-phone-form", "3-phone-missing-reason", "4-phone-accepted"):
        assert (shots / f"{name}.png").stat().st_size > 5000, name
