"""The working pages in a real headless Chromium over real HTTP, at 1366×768 and on a 390×844
phone: the service desk takes a call on the phone intake page (the caller's contract looked up,
knowledge-base suggestions appearing under the description as it is typed), opens the ticket,
lands on its page and acknowledges it with the page's form; the dealer's portal and one of its
deduction notices answered; the finance department's review inbox and a sign-off. Nothing fetched
from outside the console, nothing wider than the window. Screenshots: test-artifacts/console/ and
/tmp/console-screens/."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from a11y import accessible
from console_support import open_desk
from dealer_support import open_dealers
from review_support import open_reviews
from test_knowledge import completed_ticket, published_article
from test_pages_browser import LAPTOP, SCREENS, _fits

from aftersales_testing.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, free_port, require_chromium


@asynccontextmanager
async def serving(app: Any, lifespan: str = "auto", port: int = 0) -> AsyncIterator[str]:
    """An app (the console's) over real HTTP on 127.0.0.1; its base URL. `lifespan="off"` for an
    app whose lifespan already runs (support.running)."""
    port = port or free_port()
    # an open page's event stream (/live) does not hold the shutdown up for long
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=3,
        lifespan=lifespan,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def _page(browser: Any, base: str, size: dict, outside: list[str]) -> tuple[Any, Any]:
    phone = size is PHONE
    context = await browser.new_context(
        viewport=size,
        locale="zh-CN",
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
    )

    async def only_local(route: Any) -> None:
        if route.request.url.startswith(base):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_local)
    return context, await context.new_page()


async def _sign_in(page: Any, base: str, sub: str, start: str) -> None:
    await page.goto(base + start)
    async with page.expect_navigation():
        await page.click(f"#as-{sub}")
    assert page.url == base + start, page.url


async def _intake(browser: Any, base: str, size: dict, name: str, desk: Any, shots: Path) -> None:
    outside: list[str] = []
    context, page = await _page(browser, base, size, outside)
    width = size["width"]
    await _sign_in(page, base, "agent-zhou", "/intake")
    assert await page.title() == "电话受理 · Aftersales"
    await page.fill("input[name=contract_no]", desk.contract_no)
    async with page.expect_navigation():
        await page.click("form.lookup button[type=submit]")
    levels = await page.locator("table.levels").inner_text()
    assert "1小时" in levels and "公司默认标准" in levels
    assert await page.input_value("input[name=contact_name]") == "赵工"
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-5-intake.png"), full_page=True)
    await accessible(page, f"{name}-5-intake", shots)

    await page.select_option("select[name=urgency]", "urgent")
    await page.click("textarea[name=description]")
    await page.keyboard.type("主轴有异响")  # typed: the suggestions come while typing
    hint = page.locator("#suggestions li")
    await hint.first.wait_for(state="visible", timeout=15000)
    assert "主轴轴承磨损导致异响" in await page.locator("#suggestions").inner_text()
    await hint.first.locator("summary").click()
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-6-intake-suggestions.png"), full_page=True)
    await accessible(page, f"{name}-6-intake-suggestions", shots)

    async with page.expect_navigation():
        await page.click("#intake-form button[type=submit]")
    assert "/tickets/" in page.url and await page.title() == (
        f"工单 {page.url.rsplit('/', 1)[1]} · Aftersales"
    )
    assert "主轴有异响" in await page.locator(".description").inner_text()
    await page.click("#action-acknowledge summary")
    await page.click("#action-progress summary")
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-7-ticket-actions.png"), full_page=True)
    await accessible(page, f"{name}-7-ticket-actions", shots)
    async with page.expect_navigation():
        await page.click("#action-acknowledge button[type=submit]")
    assert "已完成：受理" in await page.locator(".flash").inner_text()
    assert await page.locator("#action-acknowledge").count() == 0
    await page.click("#action-pause summary")
    await page.select_option("#action-pause select[name=reason]", "waiting_customer")
    await page.fill("#action-pause textarea[name=note]", "客户要求周二再联系")
    async with page.expect_navigation():
        await page.click("#action-pause button[type=submit]")
    assert "等待客户" in await page.locator("dl.facts").inner_text()
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-8-ticket-paused.png"), full_page=True)
    await accessible(page, f"{name}-8-ticket-paused", shots)
    assert outside == [], f"fetched from outside the console: {outside}"
    await context.close()


async def _portal(browser: Any, base: str, size: dict, name: str, world: Any, shots: Path) -> None:
    outside: list[str] = []
    context, page = await _page(browser, base, size, outside)
    width = size["width"]
    await _sign_in(page, base, "dealer-chen", "/dealer")
    assert await page.title() == "经销商门户 · Aftersales"
    units = await page.locator("#units").inner_text()
    assert "剩 15 天" in units and world.theirs["waiting"] not in units
    await page.click(f"#card-{world.ours['waiting']} summary")
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-9-dealer.png"), full_page=True)
    await accessible(page, f"{name}-9-dealer", shots)

    async with page.expect_navigation():  # the laptop's day below ships other parts than these
        await page.locator("#returns a.no", has_text=world.ours["owing"]["record_no"]).click()
    assert await page.title() == f"维修记录 {world.ours['owing']['record_no']} · Aftersales"
    assert "主轴轴承 ×2" in await page.locator("table.grid").inner_text()
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-9b-dealer-repair.png"), full_page=True)
    await accessible(page, f"{name}-9b-dealer-repair", shots)
    async with page.expect_navigation():
        await page.click(".crumbs a")

    async with page.expect_navigation():
        await page.click(f"text={world.ours['notice']['notice_no']}")
    line = page.locator("li.line").first
    async with page.expect_navigation():
        await line.locator("button[value=disputed]").click()
    assert "请填写异议原因" in await page.locator(".flash").inner_text()
    await page.locator("li.line").first.locator("input[name=reason]").fill("人工费与派工单不符")
    async with page.expect_navigation():
        await page.locator("li.line").first.locator("button[value=disputed]").click()
    assert "有异议" in await page.locator("li.line").first.inner_text()
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-10-dealer-notice.png"), full_page=True)
    await accessible(page, f"{name}-10-dealer-notice", shots)

    # the stocking plan of the summer season: the laptop pastes it with a mistake and mends it;
    # the phone finds it submitted
    summer = world.seasons[1]
    await page.goto(f"{base}/dealer")
    async with page.expect_navigation():
        await page.click(f"#plans a[href='/dealer/plans/{summer}']")
    if "laptop" in name:
        await page.fill("textarea[name=lines]", "P-100\t主轴轴承\t0\nP-200\t液压泵密封圈\t50")
        async with page.expect_navigation():
            await page.click("form[action^='/dealer/plans'] button[type=submit]")
        assert "第1行：数量应为" in await page.locator(".flash-error").inner_text()
        await page.fill("textarea[name=lines]", "P-100\t主轴轴承\t20\nP-200\t液压泵密封圈\t50")
        async with page.expect_navigation():
            await page.click("form[action^='/dealer/plans'] button[type=submit]")
    assert "已按时提交" in await page.locator("dl.facts").inner_text()
    assert "液压泵密封圈" in await page.locator("table.grid").inner_text()
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-10b-dealer-plan.png"), full_page=True)
    await accessible(page, f"{name}-10b-dealer-plan", shots)
    await _dealer_day(page, base, width, name, world, shots)
    assert outside == [], f"fetched from outside the console: {outside}"
    await context.close()


async def _dealer_day(page: Any, base: str, width: int, name: str, world: Any, shots: Path) -> None:
    """A unit sold, a repair record opened, arranged and completed with a part, its old part
    shipped back with a waybill — each from the portal's forms."""
    await page.goto(f"{base}/dealer")
    serial = f"SN-{name}-{uuid.uuid4().hex[:6]}"
    await page.click("#sale summary")
    await page.fill("#sale input[name=serial_no]", serial)
    await page.fill("#sale input[name=model]", "XK-300")
    await page.fill("#sale input[name=customer_name]", "绍兴某某纺机")
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-9c-dealer-sale.png"), full_page=True)
    await accessible(page, f"{name}-9c-dealer-sale", shots)
    async with page.expect_navigation():
        await page.click("#sale button[type=submit]")
    assert f"{serial} 已登记销售" in await page.locator(".flash").inner_text()

    await page.click("#repair-new summary")
    await page.fill("#repair-new input[name=serial_no]", world.ours["carded"])
    await page.fill("#repair-new textarea[name=fault_description]", "液压站漏油")
    async with page.expect_navigation():
        await page.click("#repair-new button[type=submit]")
    assert "前安排服务" in await page.locator(".flash").inner_text()
    record = page.url.rsplit("/", 1)[1]
    await page.fill("#arrange input[name=engineer]", "李师傅")
    await page.fill("#arrange input[name=appointment_at]", "2026-11-30T09:30")
    async with page.expect_navigation():
        await page.click("#arrange button[type=submit]")
    assert "服务已安排" in await page.locator(".flash").inner_text()
    await page.fill("#complete textarea[name=repair_description]", "更换液压泵密封圈")
    for field, value in (("part_no_1", "P-200"), ("name_1", "液压泵密封圈"), ("qty_1", "3")):
        await page.fill(f"#complete input[name={field}]", value)
    await page.fill("#complete input[name=cost_1]", "12.50")
    await page.fill("#complete input[name=confirmed_by]", "王工")
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-9d-dealer-repair-steps.png"), full_page=True)
    await accessible(page, f"{name}-9d-dealer-repair-steps", shots)
    async with page.expect_navigation():
        await page.click("#complete button[type=submit]")
    assert "维修已完成" in await page.locator(".flash").inner_text()
    assert "¥37.50" in await page.locator("table.grid").inner_text()

    await page.goto(f"{base}/dealer#returns")
    await page.check(f"#returns input[name='record:{record}']")
    await page.fill("#shipment input[name=carrier]", "顺丰速运")
    await page.fill("#shipment input[name=waybill]", f"SF-{name}-001")
    async with page.expect_navigation():
        await page.click("#shipment button[type=submit]")
    assert "旧件已寄出" in await page.locator(".flash").inner_text()
    assert f"SF-{name}-001" in await page.locator("#shipped").inner_text()
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-9e-dealer-shipment.png"), full_page=True)
    await accessible(page, f"{name}-9e-dealer-shipment", shots)


async def _review(browser: Any, base: str, size: dict, name: str, world: Any, shots: Path) -> None:
    outside: list[str] = []
    context, page = await _page(browser, base, size, outside)
    width = size["width"]
    await _sign_in(page, base, "fin-qian", "/reviews")
    assert await page.title() == "合同评审 · Aftersales"
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-11-reviews.png"), full_page=True)
    await accessible(page, f"{name}-11-reviews", shots)
    no = world.submitted[0 if size is LAPTOP else 1]
    async with page.expect_navigation():
        await page.click(f"text={no}")
    assert await page.title() == f"合同 {no} · Aftersales"
    await page.fill("#review-finance textarea[name=comments]", "付款期限 30 天，同意")
    await _fits(page, width)
    await page.screenshot(path=str(shots / f"{name}-12-review.png"), full_page=True)
    await accessible(page, f"{name}-12-review", shots)
    async with page.expect_navigation():
        await page.click("#review-finance button[value=approve]")
    assert page.url == base + "/reviews"
    assert f"合同 {no} 财务评审已通过" in await page.locator(".flash").inner_text()
    assert outside == [], f"fetched from outside the console: {outside}"
    await context.close()


def _keep(shots: Path, prefix: str) -> None:
    SCREENS.mkdir(exist_ok=True)
    for png in sorted(shots.glob(f"*-{prefix}*.png")):
        assert png.stat().st_size > 5000, png.name
        shutil.copy(png, SCREENS / png.name)


async def test_phone_intake_and_ticket_actions_on_a_laptop_and_a_phone(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_desk(*desk_parts) as desk:
        solved = await completed_ticket(
            desk.tickets, "主轴异响，转速越高声音越大", desk.serial_no, work=[("更换轴承", [])]
        )
        await published_article(desk.tickets, solved, title="主轴轴承磨损导致异响")
        async with serving(desk.console_app) as base, chromium() as browser:
            await _intake(browser, base, LAPTOP, "laptop", desk, shots)
            await _intake(browser, base, PHONE, "phone", desk, shots)
    for n in (5, 6, 7, 8):
        _keep(shots, str(n))


@pytest.mark.long(80)
async def test_the_dealer_portal_on_a_laptop_and_a_phone(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_dealers(*desk_parts) as world:
        async with serving(world.console_app) as base, chromium() as browser:
            await _portal(browser, base, LAPTOP, "laptop", world, shots)
            # the laptop disputed the notice's line; the phone sees it answered and can change it
            await _portal(browser, base, PHONE, "phone", world, shots)
    for n in (9, 10):
        _keep(shots, str(n))


async def test_the_review_inbox_on_a_laptop_and_a_phone(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_reviews(*desk_parts) as world:
        async with serving(world.console_app) as base, chromium() as browser:
            await _review(browser, base, LAPTOP, "laptop", world, shots)
            await _review(browser, base, PHONE, "phone", world, shots)
    for n in (11, 12):
        _keep(shots, str(n))
