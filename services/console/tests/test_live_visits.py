"""Return visits live (issue 21): the console's NATS user hears `surveys.>`, so `/return-visits`
and a visit's page update themselves when surveys announce a visit's change (ReturnVisitRecorded,
ReturnVisitOverdue, …) — fetched again with the user's own session, never reloaded (a marker on
`window` survives). A dealer's list only reacts to its own dealer's visits; a visit's page only to
its visit; another dealer's visit is a 404, never a stream. Real surveys service, real NATS,
headless Chromium at 1366×768 and 390×844 (screenshots *-rv1…rv2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from a11y import accessible
from console_support import sign_in
from test_live import WAIT, _feed_connected, listening
from test_pages_browser import LAPTOP, _fits
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving
from visit_support import DESK, SH, completed, open_visits

from aftersales_testing.browser import PHONE
from aftersales_testing.support import publish, wait_until

MARK = "window.__visits = 'not reloaded'"


async def _planned(world: Any, nats_url: str, **extra: Any) -> str:
    """One more visit: a critical ticket completed on Friday, as tickets would announce it."""
    env = completed(datetime(2026, 11, 27, 17, 59, tzinfo=SH), **extra)
    await publish(nats_url, env)
    found: list[str] = []

    async def planned() -> bool:
        params = {"ticket_no": env.data.ticket_no}
        r = await world.surveys.get("/return-visits", params=params, headers=DESK)
        found[:] = [i["id"] for i in r.json()["items"]] if r.status_code == 200 else []
        return bool(found)

    await wait_until(planned, timeout=30, what="surveys planned the visit")
    return found[0]


async def _called(world: Any, visit_id: str, outcome: str, note: str | None = None) -> None:
    body = {"outcome": outcome, "note": note}
    r = await world.surveys.post(f"/return-visits/{visit_id}/calls", json=body, headers=DESK)
    assert r.status_code in (200, 201), r.text


def _seq(mark: str) -> int:
    return int(mark.rsplit("-", 1)[1])


async def test_a_dealer_hears_its_own_visits_and_a_visit_page_its_own(desk_parts):
    async with (
        open_visits(*desk_parts) as world,
        serving(world.console_app) as base,
        httpx.AsyncClient(base_url=base, timeout=WAIT) as desk,
        httpx.AsyncClient(base_url=base, timeout=WAIT) as chen,
    ):
        await _feed_connected(desk)
        await sign_in(desk, "sup-zhang")
        await sign_in(chen, "dealer-chen")
        assert (await chen.get(f"/live?topic=surveys&visit={world.ids['late']}")).status_code == 404
        assert (await desk.get("/live?topic=tickets&visit=x")).status_code == 400
        assert (await desk.get("/live?topic=surveys&visit=../x")).status_code == 400
        async with (
            listening(chen, "?topic=surveys") as chen_list,
            listening(desk, f"?topic=surveys&visit={world.ids['late']}") as late_page,
            listening(desk, f"?topic=surveys&visit={world.ids['mine']}") as mine_page,
        ):
            for stream in (chen_list, late_page, mine_page):
                await stream.wait_for("hello")
            await _called(world, world.ids["late"], "reached")  # D-SH-09's: not 陈经理's
            other = await late_page.wait_for("visit")
            await _called(world, world.ids["mine"], "reached")  # D-ZJ-01's
            own = await mine_page.wait_for("visit")
            assert own["data"] == world.ids["mine"] and _seq(other["id"]) < _seq(own["id"])
            heard = await chen_list.wait_for("board")
            assert heard["id"] == own["id"]  # the other dealer's went unheard


async def _list_updates(
    page: Any, base: str, world: Any, nats_url: str, size: dict, name: str, shots
) -> None:
    ours = await _planned(world, nats_url, customer_name=f"湖州某某电器{name}")
    await _sign_in(page, base, "agent-zhou", "/return-visits")
    row = page.locator("table.visits tr.row", has_text=f"湖州某某电器{name}")
    assert await row.count() == 1
    await page.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
    await page.evaluate(MARK)
    await _called(world, ours, "reached")
    await row.wait_for(state="detached", timeout=WAIT * 1000)
    assert await page.evaluate("window.__visits") == "not reloaded", "the page reloaded"
    assert "列表已更新" in await page.locator("#live-status").inner_text()
    await _fits(page, size["width"])
    await page.screenshot(path=str(shots / f"{name}-rv1-visits-live.png"), full_page=True)
    await accessible(page, f"{name}-rv1-visits-live", shots)


async def _visit_updates(
    page: Any, base: str, world: Any, nats_url: str, size: dict, name: str, shots
) -> None:
    theirs = await _planned(world, nats_url, customer_name=f"宁波某某塑机{name}")
    await page.goto(f"{base}/return-visits/{theirs}")
    assert await page.locator("#visit-result").count() == 0
    await page.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
    await page.evaluate(MARK)
    await page.fill("textarea[name=note]", "正在输入的内容")  # a form being filled in stays
    await _called(world, theirs, "problem_persists", f"客户说还是漏油（{name}）")
    await page.locator("#visit-result").wait_for(timeout=WAIT * 1000)
    assert await page.evaluate("window.__visits") == "not reloaded", "the page reloaded"
    assert "问题仍存在" in await page.locator("#visit-result").inner_text()
    assert f"客户说还是漏油（{name}）" in await page.locator("#visit-calls").inner_text()
    assert "回访已更新" in await page.locator("#live-status").inner_text()
    assert await page.input_value("textarea[name=note]") == "正在输入的内容"
    await _fits(page, size["width"])
    await page.screenshot(path=str(shots / f"{name}-rv2-visit-live.png"), full_page=True)
    await accessible(page, f"{name}-rv2-visit-live", shots)


async def test_return_visit_pages_update_themselves_in_chromium(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    nats_url = desk_parts[1]
    async with open_visits(*desk_parts) as world, serving(world.console_app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as probe:
            await _feed_connected(probe)
        async with chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _list_updates(page, base, world, nats_url, size, name, shots)
                await _visit_updates(page, base, world, nats_url, size, name, shots)
                assert outside == [], outside
                await context.close()
    _keep(shots, "rv")
