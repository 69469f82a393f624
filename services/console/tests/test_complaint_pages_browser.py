"""The complaint and return-visit pages in a real headless Chromium over real HTTP, at 1366×768 and
on a 390×844 phone, the tickets and surveys services really running (PostgreSQL, NATS): 张主管
opens a serious complaint's page (its step clocks standing still on the Sunday evening), takes the
acknowledgement with the page's form, and sees the page update itself — not reloaded — when the
time limit is told over the tickets API (ComplaintLimitTold on NATS); 周客服 opens the due list of
return visits and records a call on a visit's page. Nothing fetched from outside the console,
nothing wider than the window, axe finds nothing serious. Screenshots *-c1…c3, *-v1…v2."""

from __future__ import annotations

import httpx
import pytest
from a11y import accessible
from console_support import open_desk, open_ticket
from contract_support import Routes
from test_live import WAIT, _feed_connected
from test_pages_browser import LAPTOP, _fits
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving
from tickets_helpers import SUP
from visit_support import open_visits

from aftersales_testing.browser import PHONE

MARK = "window.__complaint = 'not reloaded'"


async def _shot(page, size: dict, name: str, shots) -> None:
    await _fits(page, size["width"])
    await page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    await accessible(page, name, shots)


async def _complaint(browser, base: str, size: dict, name: str, desk, shots) -> None:
    no = await open_ticket(
        desk.tickets,
        request_type="complaint",
        customer_name=f"嘉兴某某纺织{name}",
        complaint_level="serious",
        complaint_type="service_attitude",
        description="工程师态度恶劣，客户要求书面答复",
    )
    outside: list[str] = []
    context, page = await _page(browser, base, size, outside)
    await _sign_in(page, base, "sup-zhang", "/complaints")
    async with page.expect_navigation():
        await page.click(f"table.complaints a.no >> text={no}")
    assert page.url == f"{base}/complaints/{no}"
    assert await page.title() == f"投诉 {no} · Aftersales"
    assert await page.locator("#complaint-stage").inner_text() == "待受理确认"
    clocks = await page.locator("[data-live-part=complaint-clocks]").inner_text()
    assert "11-30 周一 09:00 恢复" in clocks  # Sunday evening: the clock stands still
    await _shot(page, size, f"{name}-c1-complaint", shots)

    form = page.locator("#step-acknowledge form")
    await form.locator("textarea[name=note]").fill("已致电客户，确认收到投诉")
    async with page.expect_navigation():
        await form.locator("button[type=submit]").click()
    assert "已完成：受理确认" in await page.locator("p.flash").inner_text()
    assert await page.locator("#complaint-stage").inner_text() == "待告知处理时限"
    await page.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
    await page.evaluate(MARK)
    told = {"promised_date": "2026-12-01", "via": "phone"}
    r = await desk.tickets.post(f"/complaints/{no}/limit", json=told, headers=SUP)
    assert r.status_code == 200, r.text
    await page.locator("#complaint-stage", has_text="调查中").wait_for(timeout=WAIT * 1000)
    assert await page.evaluate("window.__complaint") == "not reloaded", "the page reloaded"
    assert "工单已更新" in await page.locator("#live-status").inner_text()
    assert "告知处理时限" in await page.locator("#complaint-history").inner_text()
    await _shot(page, size, f"{name}-c2-complaint-live", shots)

    # the ticket page links to the complaint's
    await page.goto(f"{base}/tickets/{no}")
    async with page.expect_navigation():
        await page.click("#complaint-link")
    assert page.url == f"{base}/complaints/{no}"
    await page.goto(f"{base}/complaints")
    await _shot(page, size, f"{name}-c3-complaints", shots)
    assert outside == [], outside
    await context.close()


async def _visits(browser, base: str, size: dict, name: str, world, shots) -> None:
    outside: list[str] = []
    context, page = await _page(browser, base, size, outside)
    await _sign_in(page, base, "agent-zhou", "/return-visits")
    assert await page.title() == "回访 · Aftersales"
    assert await page.locator("table.visits tr.row").count() >= 2
    await _shot(page, size, f"{name}-v1-visits", shots)
    key = "mine" if size is LAPTOP else "persists"
    async with page.expect_navigation():
        await page.click(f"table.visits a.no >> text={world.nos[key]}")
    await page.check("input[name=outcome][value=not_reached]")
    await page.fill("textarea[name=note]", f"无人接听（{name}）")
    async with page.expect_navigation():
        await page.click("form.call-form button[type=submit]")
    assert "已记录回访" in await page.locator("p.flash").inner_text()
    assert f"无人接听（{name}）" in await page.locator("#visit-calls").inner_text()
    await _shot(page, size, f"{name}-v2-visit", shots)
    assert outside == [], outside
    await context.close()


@pytest.mark.long(45)
async def test_complaint_and_return_visit_pages_in_chromium(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_desk(*desk_parts) as desk:

        def both(surveys_app):
            return Routes({"tickets.test": desk.tickets_app, "surveys.test": surveys_app})

        async with (
            open_visits(*desk_parts, transport=both) as world,
            serving(world.console_app) as base,
        ):
            async with httpx.AsyncClient(base_url=base, timeout=WAIT) as probe:
                await _feed_connected(probe)
            async with chromium() as browser:
                for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                    await _complaint(browser, base, size, name, desk, shots)
                    await _visits(browser, base, size, name, world, shots)
    _keep(shots, "c")
    _keep(shots, "v")
