"""Live updates against a real NATS and the real tickets service: an event the tickets service
publishes (through its outbox and relay) reaches the console's NATS user and every open page's
Server-Sent Events stream — the board hears "something changed" (no number, no data), a ticket
page only its own ticket. Streams need a session; a ticket stream needs a ticket the user may see;
a stream that comes back with an old Last-Event-ID is told to refresh. In Chromium, the board
shows a ticket opened over the tickets API without a manual reload."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from a11y import accessible
from console_support import open_desk, open_ticket, sign_in
from test_pages_browser import LAPTOP, SCREENS, _fits
from test_work_pages_browser import chromium, serving
from tickets_helpers import SUP

from aftersales_testing.browser import PHONE
from aftersales_testing.support import wait_until

WAIT = 20.0  # generous: a slow machine must not fail the test, a missing event must


class Stream:
    """The events of one open /live stream, parsed as a browser's EventSource would."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()

    async def next_event(self) -> dict[str, str]:
        event: dict[str, str] = {}
        async for line in self.lines:
            if not line:
                if "event" in event:
                    return event
                event = {}
                continue
            if line.startswith(":"):
                continue
            key, _, value = line.partition(":")
            event[key] = value.removeprefix(" ")
        raise AssertionError("the stream ended")

    async def wait_for(self, kind: str) -> dict[str, str]:
        seen: list[dict[str, str]] = []

        async def find() -> dict[str, str]:
            while True:
                event = await self.next_event()
                if event["event"] == kind:
                    return event
                seen.append(event)

        try:
            return await asyncio.wait_for(find(), WAIT)
        except TimeoutError:
            raise AssertionError(f"no {kind!r} event on the stream; saw {seen}") from None


@asynccontextmanager
async def listening(
    client: httpx.AsyncClient, query: str = "", **headers: str
) -> AsyncIterator[Stream]:
    async with client.stream("GET", f"/live{query}", headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


async def test_an_event_reaches_the_open_pages_streams(desk_parts):
    async with open_desk(*desk_parts) as desk, serving(desk.console_app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as browser:
            assert (await browser.get("/live")).status_code == 401  # no session, no stream
            await sign_in(browser, "sup-zhang")
            bad = await browser.get("/live?ticket=../x")
            assert bad.status_code == 400 and "工单号格式不对" in bad.text
            missing = await browser.get("/live?ticket=SV-20000101-9999")
            assert missing.status_code == 404, missing.text

            watched, other = desk.opened["critical"], desk.opened["question"]
            async with (
                listening(browser) as board,
                listening(browser, f"?ticket={watched}") as ticket_page,
            ):
                hello = await board.wait_for("hello")
                await ticket_page.wait_for("hello")
                await _feed_connected(browser)
                opened = await open_ticket(desk.tickets, customer_name="新开的客户")
                changed = await board.wait_for("board")
                assert changed["data"] == "changed" and opened not in str(changed)
                assert changed["id"] != hello["id"]

                # the ticket page: not the other ticket's change, then its own
                assign = {"assignee_id": "eng-zhang", "assignee_name": "张工", "reason": "派工"}
                for no in (other, watched):
                    r = await desk.tickets.post(f"/tickets/{no}/assign", json=assign, headers=SUP)
                    assert r.status_code == 200, r.text
                mine = await ticket_page.wait_for("ticket")
                assert mine["data"] == watched

            # back with the id it last saw while events passed: refresh first
            async with listening(browser, "", **{"Last-Event-ID": hello["id"]}) as again:
                first = await again.next_event()
                assert first["event"] == "refresh"

        # a dealer may not follow a ticket of the service desk that is not its own
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as dealer:
            await sign_in(dealer, "dealer-chen")
            refused = await dealer.get(f"/live?ticket={watched}")
            assert refused.status_code in (403, 404), refused.text


async def _feed_connected(browser: httpx.AsyncClient) -> None:
    async def ready() -> bool:
        body = (await browser.get("/ready")).json()
        return body["checks"].get("live") == "ok"

    await wait_until(ready, timeout=WAIT, what="the console's live feed connected to NATS")


async def test_the_board_updates_itself_in_chromium(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_desk(*desk_parts) as desk, serving(desk.console_app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as probe:
            await _feed_connected(probe)
        async with chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                await _board_updates(browser, base, size, name, desk, shots)
    SCREENS.mkdir(exist_ok=True)
    for png in sorted(shots.glob("*-live-*.png")):
        assert png.stat().st_size > 5000, png.name
        shutil.copy(png, SCREENS / png.name)


async def _board_updates(
    browser: Any, base: str, size: dict, name: str, desk: Any, shots: Any
) -> None:
    phone = size is PHONE
    context = await browser.new_context(
        viewport=size, locale="zh-CN", device_scale_factor=2 if phone else 1, is_mobile=phone
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
    await page.goto(base + "/login")
    async with page.expect_navigation():
        await page.click("#as-sup-zhang")
    await page.goto(base + "/board")
    await page.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
    loaded_at = await page.evaluate("window.performance.timeOrigin")
    customer = f"实时客户{name}"
    no = await open_ticket(desk.tickets, customer_name=customer)
    row = page.locator("table.tickets a.no", has_text=no)
    await row.wait_for(timeout=WAIT * 1000)
    assert await page.evaluate("window.performance.timeOrigin") == loaded_at, "the page reloaded"
    assert customer in await page.locator("table.tickets").inner_text()
    assert "列表已更新" in await page.locator("#live-status").inner_text()
    await _fits(page, size["width"])
    await page.screenshot(path=str(shots / f"{name}-live-board.png"), full_page=True)
    await accessible(page, f"{name}-live-board", shots)

    # the ticket page hears its own ticket change and says so
    async with page.expect_navigation():
        await row.click()
    await page.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
    assert "未分派" in await page.locator("dl.facts").inner_text()
    assign = {"assignee_id": "eng-zhang", "assignee_name": "张工", "reason": "就近派工"}
    r = await desk.tickets.post(f"/tickets/{no}/assign", json=assign, headers=SUP)
    assert r.status_code == 200, r.text
    await page.locator("dl.facts", has_text="张工").wait_for(timeout=WAIT * 1000)
    assert "工单已更新" in await page.locator("#live-status").inner_text()
    await page.screenshot(path=str(shots / f"{name}-live-ticket.png"), full_page=True)
    await accessible(page, f"{name}-live-ticket", shots)
    assert outside == [], f"fetched from outside the console: {outside}"
    await context.close()
