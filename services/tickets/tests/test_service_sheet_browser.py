"""The customer signs the 维修服务单 in a real headless Chromium over real HTTP: on a phone
(390×844, touch) the signature is drawn with a finger on the canvas, "清除" wipes it, an empty pad
is not sent, the signed sheet comes back read-only with the signature; at 1366×768 another
customer signs with the mouse. No request leaves 127.0.0.1. Screenshots:
test-artifacts/service-sheet/."""

from __future__ import annotations

import asyncio
import hashlib
import io
from typing import Any

import uvicorn
from PIL import Image
from test_service_sheet import deliver, part_event, resolved_ticket, token_of
from tickets_helpers import AGENT, ENG, SUP, tickets_app

from aftersales_testing.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    free_port,
    require_chromium,
)
from aftersales_testing.support import running
from tickets.usecases import service_sheet

LAPTOP = {"width": 1366, "height": 768}
STROKES = [
    [(30, 120), (60, 50), (90, 130), (120, 60), (150, 125)],
    [(180, 60), (200, 130), (240, 70), (280, 120), (320, 90)],
]


async def _fits(page: Any, width: int) -> None:
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide in a {width}px window"


async def _pad(page: Any) -> dict[str, float]:
    await page.locator("#pad").scroll_into_view_if_needed()
    box = await page.locator("#pad").bounding_box()
    assert box and box["height"] >= 150, box
    return box


async def _finger(page: Any, cdp: Any) -> None:
    """Touch strokes (the events a finger makes: touchStart, touchMove…, touchEnd)."""
    box = await _pad(page)
    for stroke in STROKES:
        points = [{"x": box["x"] + x, "y": box["y"] + y} for x, y in stroke]
        await cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points[:1]}
        )
        for point in points[1:]:
            for step in range(1, 6):  # a finger moves in small steps
                prev = points[points.index(point) - 1]
                at = {
                    "x": prev["x"] + (point["x"] - prev["x"]) * step / 5,
                    "y": prev["y"] + (point["y"] - prev["y"]) * step / 5,
                }
                await cdp.send(
                    "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [at]}
                )
        await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


async def _mouse(page: Any) -> None:
    box = await _pad(page)
    for stroke in STROKES:
        x, y = stroke[0]
        await page.mouse.move(box["x"] + x, box["y"] + y)
        await page.mouse.down()
        for x, y in stroke[1:]:
            await page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
        await page.mouse.up()


async def _ink(page: Any) -> int:
    """Dark pixels on the canvas, counted in the page."""
    return await page.evaluate(
        """() => { const c = document.getElementById('pad');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++; return n; }"""
    )


async def test_the_customer_signs_with_a_finger_on_a_phone_and_with_a_mouse(
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
    shots = artifacts_dir / "service-sheet"
    shots.mkdir(exist_ok=True)
    outside: list[str] = []

    async def only_here(route: Any) -> None:
        if route.request.url.startswith(base):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    async with running(app) as client:
        serving = asyncio.create_task(server.serve())
        try:
            for _ in range(200):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            assert server.started, "uvicorn did not start"
            no = await resolved_ticket(client)
            other = await resolved_ticket(client)
            for ticket, n in ((no, 1), (other, 2)):  # parts the parts service issued, priced
                await deliver(app, part_event(ticket, f"m-{n}a", "BRG-6205", 1, "123.45", True))
                await deliver(app, part_event(ticket, f"m-{n}b", "SEAL-40", 3, "8.80", True))
            frozen = (await client.post(f"/tickets/{no}/service-sheet", headers=ENG)).json()
            link = frozen["link"]
            assert token_of(link) and link.startswith(base)
            link2 = (await client.post(f"/tickets/{other}/service-sheet", headers=SUP)).json()[
                "link"
            ]

            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    context = await browser.new_context(
                        viewport=PHONE,
                        device_scale_factor=2,
                        is_mobile=True,
                        has_touch=True,
                        locale="zh-CN",
                    )
                    await context.route("**/*", only_here)
                    phone = await context.new_page()
                    errors: list[str] = []
                    phone.on("pageerror", lambda e: errors.append(str(e)))
                    cdp = await context.new_cdp_session(phone)

                    # 1. the sheet on the phone: the work, parts, fees, the hash, an empty pad
                    assert (await phone.goto(link)).status == 200
                    assert await phone.title() == f"维修服务单 {no}"
                    text = await phone.locator("main").inner_text()
                    assert "轴承 6205" in text and "¥120.50" in text and "张工" in text
                    assert "× 3 @ ¥8.80" in text and "¥149.85" in text  # priced parts
                    assert frozen["content_sha256"] in text
                    assert await phone.input_value("#signer") == "赵工"  # the contact, prefilled
                    await _fits(phone, PHONE["width"])
                    await phone.screenshot(path=str(shots / "1-phone-sheet.png"), full_page=True)

                    # 2. an empty pad is not sent: the hint turns into an error, no request
                    await phone.click("button[type=submit]")
                    assert "error" in (await phone.get_attribute("#pad-hint", "class") or "")
                    assert phone.url == link

                    # 3. a finger signs; 清除 wipes it; the finger signs again
                    await _finger(phone, cdp)
                    assert await _ink(phone) > 200
                    assert "signed" in (await phone.get_attribute("#sign-form", "class") or "")
                    await phone.click("#clear")
                    assert await _ink(phone) == 0
                    await _finger(phone, cdp)
                    assert await _ink(phone) > 200
                    await phone.fill("#signer", "王建国")
                    await phone.locator("label[for=score-4]").click()
                    await phone.locator("#signature-field").screenshot(
                        path=str(shots / "2-phone-signed-pad.png")
                    )
                    async with phone.expect_navigation():
                        await phone.click("button[type=submit]")

                    # 4. the signed sheet comes back read-only with the signature
                    assert phone.url == link
                    assert "已签字确认" in await phone.locator(".signed-banner").inner_text()
                    assert await phone.locator("form").count() == 0
                    shown = phone.locator(".sig img")
                    assert await shown.evaluate("i => i.complete && i.naturalWidth") > 0
                    await _fits(phone, PHONE["width"])
                    await phone.screenshot(path=str(shots / "3-phone-done.png"), full_page=True)
                    assert errors == []

                    # 5. at 1366×768 another customer signs with the mouse
                    laptop_context = await browser.new_context(viewport=LAPTOP, locale="zh-CN")
                    await laptop_context.route("**/*", only_here)
                    laptop = await laptop_context.new_page()
                    assert (await laptop.goto(link2)).status == 200
                    await _fits(laptop, LAPTOP["width"])
                    assert "¥149.85" in await laptop.locator("main").inner_text()
                    await _mouse(laptop)
                    assert await _ink(laptop) > 100
                    await laptop.fill("#signer", "李明")
                    await laptop.screenshot(path=str(shots / "4-laptop-sheet.png"), full_page=True)
                    async with laptop.expect_navigation():
                        await laptop.click("button[type=submit]")
                    assert "已签字确认" in await laptop.locator(".signed-banner").inner_text()
                    await laptop.screenshot(path=str(shots / "5-laptop-done.png"), full_page=True)
                finally:
                    await browser.close()
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, timeout=10)

        assert outside == []
        staff = (await client.get(f"/tickets/{no}/service-sheet", headers=SUP)).json()
        signed = staff["signature"]
        assert signed["signer_name"] == "王建国" and signed["score"] == 4
        assert signed["content_sha256"] == frozen["content_sha256"]
        picture = (await client.get(signed["image_url"], headers=SUP)).content
        service_sheet.check_png(picture)  # a real PNG with ink on it
        with Image.open(io.BytesIO(picture)) as image:
            assert image.format == "PNG" and image.width == 2 * round(image.width / 2)
            assert image.width >= 2 * 300  # drawn at the phone's device pixel ratio
        (shots / "signature.png").write_bytes(picture)
        second = (await client.get(f"/tickets/{other}/service-sheet", headers=SUP)).json()
        assert second["signature"]["signer_name"] == "李明"
        assert second["signature"]["score"] is None
    for name in ("1-phone-sheet", "2-phone-signed-pad", "3-phone-done", "4-laptop-sheet"):
        assert (shots / f"{name}.png").stat().st_size > 5000, name


async def test_the_complaint_confirmation_signed_with_a_finger_on_a_phone(
    databases, streams_ready, clock, artifacts_dir
):
    """The 投诉处理确认书 (/c/<token>) with JavaScript: the same pad, optional there; signed with a
    finger, the answer is recorded with method `signature` and the PNG."""
    require_chromium()
    from playwright.async_api import async_playwright
    from test_complaints import TECH, link_of, ok, open_complaint

    clock.at("friday-close")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = await tickets_app(databases, streams_ready, public_base_url=base)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    shots = artifacts_dir / "service-sheet"
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
            await ok(client, no, "findings", TECH, {"findings": "安装时密封圈错装"})
            await ok(client, no, "resolution", SUP, {"resolution": "免费更换全部密封件"})
            link = base + await link_of(app, no)
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    context = await browser.new_context(
                        viewport=PHONE,
                        device_scale_factor=2,
                        is_mobile=True,
                        has_touch=True,
                        locale="zh-CN",
                    )
                    phone = await context.new_page()
                    cdp = await context.new_cdp_session(phone)
                    assert (await phone.goto(link)).status == 200
                    await _fits(phone, PHONE["width"])
                    await phone.check("#decision-accept")
                    await phone.fill("#signer", "王建国")
                    await _finger(phone, cdp)
                    assert await _ink(phone) > 200
                    await phone.screenshot(
                        path=str(shots / "6-phone-complaint-signed.png"), full_page=True
                    )
                    async with phone.expect_navigation():
                        await phone.click("button[type=submit]")
                    assert phone.url == link + "/done"
                    assert "您已接受处理方案" in await phone.locator("h2").inner_text()
                finally:
                    await browser.close()
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, timeout=10)
        c = (await client.get(f"/complaints/{no}", headers=SUP)).json()
        assert [(p["outcome"], p["method"]) for p in c["proposals"]] == [("accepted", "signature")]
        [signed] = (await client.get(f"/complaints/{no}/signatures", headers=SUP)).json()
        picture = (await client.get(signed["image_url"], headers=SUP)).content
        service_sheet.check_png(picture)
        assert hashlib.sha256(picture).hexdigest() == signed["image_sha256"]
