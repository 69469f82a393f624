"""The public survey page in a real headless Chromium on a phone-sized viewport, over real HTTP."""

from __future__ import annotations

import asyncio

import uvicorn

from aftersales_testing.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, free_port, require_chromium
from aftersales_testing.support import opened_link


async def _no_horizontal_scroll(page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"


async def test_customer_answers_on_a_phone_in_chromium(make_kit, artifacts_dir):
    require_chromium()
    from playwright.async_api import async_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    kit = await make_kit(public_base_url=base)
    server = uvicorn.Server(
        uvicorn.Config(kit.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    shots = artifacts_dir / "surveys"
    shots.mkdir(exist_ok=True)
    try:
        async with kit.client():
            for _ in range(200):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            assert server.started, "uvicorn did not start"
            data, path = await kit.invite()
            link = opened_link((await kit.events("SurveyRequested", data.ticket_no))[0])
            assert link == base + path

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

                    # 1. open the link: the form, in Chinese, fits the phone
                    response = await page.goto(link)
                    assert response.status == 200
                    assert await page.title() == "售后服务满意度调查"
                    assert await page.locator("legend").first.inner_text() == "效率 (必填)"
                    await _no_horizontal_scroll(page)
                    await page.screenshot(path=str(shots / "1-form.png"), full_page=True)

                    # 2. submit with a missing rating: the error is shown next to that rating
                    await page.check("#efficiency-5")
                    await page.check("#attitude-4")
                    await page.fill("#comment", "工程师上门很及时，问题已解决。")
                    async with page.expect_navigation():
                        await page.click("button[type=submit]")
                    error = page.locator("#professionalism-field .error")
                    assert await error.is_visible() and "请选择一个分数" in await error.inner_text()
                    assert await page.locator("#efficiency-field .error").count() == 0
                    described = await page.get_attribute(
                        "#professionalism-field", "aria-describedby"
                    )
                    assert "professionalism-error" in described
                    assert await page.is_checked("#efficiency-5") and await page.is_checked(
                        "#attitude-4"
                    )
                    assert await page.input_value("#comment") == "工程师上门很及时，问题已解决。"
                    await error.scroll_into_view_if_needed()
                    await _no_horizontal_scroll(page)
                    await page.screenshot(path=str(shots / "2-missing-rating.png"), full_page=True)

                    # 3. submit properly: the thank-you page
                    await page.check("#professionalism-4")
                    await page.check("#recommend-9")
                    async with page.expect_navigation():
                        await page.click("button[type=submit]")
                    assert page.url.startswith(link + "/thanks")
                    assert "提交成功，感谢您的反馈" in await page.locator("h2").inner_text()
                    await page.screenshot(path=str(shots / "3-thanks.png"), full_page=True)

                    # 4. reopen the link: already answered
                    response = await page.goto(link)
                    assert response.status == 409
                    assert await page.locator("h2").inner_text() == "该调查已提交"
                    await page.screenshot(
                        path=str(shots / "4-already-answered.png"), full_page=True
                    )
                finally:
                    await browser.close()

            survey = await kit.survey_of(data.ticket_id)
            assert await kit.count_answers(survey.id) == 1
            assert (
                survey.answer.efficiency,
                survey.answer.attitude,
                survey.answer.professionalism,
                survey.answer.recommend,
            ) == (5, 4, 4, 9)
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, timeout=10)
    for name in ("1-form", "2-missing-rating", "3-thanks", "4-already-answered"):
        assert (shots / f"{name}.png").stat().st_size > 5000, name
