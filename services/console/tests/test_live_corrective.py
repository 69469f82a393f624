"""The corrective actions' pages (纠正/预防措施) update themselves: the console hears tickets'
CorrectiveActionChanged / CorrectiveActionOverdue on NATS. Over real HTTP against the real tickets
service: the list's stream (`/live?action=*`) hears every action's change and no ticket's; an
action's stream (`/live?action=<no>`) only its own action; streams for a malformed or unknown
action, mixed with another topic, or asked for by a dealer are refused. In Chromium at both
sizes: 吴工's list shows an action opened over the tickets API with the filter he was typing
kept; his page of an action 孙师傅 is working on shows it done and offers the verify form, and the
verification note he is typing survives the next event about that action (its overdue notice);
neither page reloaded."""

from __future__ import annotations

import json

import httpx
from console_support import open_desk, sign_in
from test_live import WAIT, _feed_connected, listening
from test_pages_browser import LAPTOP, _shot
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving
from tickets_helpers import SUP, uid

from aftersales_testing import natsaccess
from aftersales_testing.browser import PHONE
from aftersales_testing.support import auth

TECH = auth("technical", sub="tech-wu")
DELIVERY = auth("delivery", sub="dlv-sun")
MARK = "window.__live = 'not reloaded'"


async def _action(api: httpx.AsyncClient, ticket: str, title: str, *steps: str) -> str:
    """An action 吴工 opens for 孙师傅 (交付部门), taken through `steps` by 孙师傅."""
    body = {
        "kind": "corrective",
        "title": title,
        "owner_department": "delivery",
        "owner_id": "dlv-sun",
        "ticket_nos": [ticket],
        "cause_category": "manufacturing_batch",
        "due_working_days": 5,
    }
    r = await api.post("/corrective-actions", json=body, headers=TECH)
    assert r.status_code == 201, r.text
    no = r.json()["action_no"]
    for step in steps:
        await _step(api, no, step)
    return no


async def _step(api: httpx.AsyncClient, no: str, step: str) -> None:
    payload = {"result": "作业指导书已修订"} if step == "done" else {"note": "已安排"}
    r = await api.post(f"/corrective-actions/{no}/{step}", json=payload, headers=DELIVERY)
    assert r.status_code == 200, r.text


async def test_the_actions_streams_hear_their_own_events(desk_parts):
    async with open_desk(*desk_parts) as desk, serving(desk.console_app) as base:
        ticket = desk.opened["critical"]
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as browser:
            await sign_in(browser, "tech-wu")
            await _feed_connected(browser)
            bad = await browser.get("/live?action=../x")
            assert bad.status_code == 400 and "措施编号格式不对" in bad.text
            for mixed in ("?action=*&topic=contracts", "?action=*&ticket=SV-20261129-0001"):
                assert (await browser.get(f"/live{mixed}")).status_code == 400, mixed
            missing = await browser.get("/live?action=CA-20000101-9999")
            assert missing.status_code == 404, missing.text

            async with listening(browser, "?action=*") as listed:
                await listed.wait_for("hello")
                mine = await _action(desk.tickets, ticket, "主轴预紧力复核")
                other = await _action(desk.tickets, ticket, "密封件来料加严")
                for _ in (mine, other):  # both openings heard, nothing else pending
                    await listed.wait_for("board")
                async with listening(browser, f"?action={mine}") as page:
                    await page.wait_for("hello")
                    # a ticket's event (the list skips it), then the other action's, then mine
                    assign = {"assignee_id": "eng-zhang", "assignee_name": "张工", "reason": "派工"}
                    no = desk.opened["question"]
                    r = await desk.tickets.post(f"/tickets/{no}/assign", json=assign, headers=SUP)
                    assert r.status_code == 200, r.text
                    await _step(desk.tickets, other, "start")
                    first = (await listed.wait_for("board"))["id"]
                    await _step(desk.tickets, mine, "start")
                    second = (await listed.wait_for("board"))["id"]
                    heard = await page.wait_for("action")
                    # the list's first is the other action (not the ticket), the page's is mine
                    assert heard["data"] == mine and heard["id"] == second != first

        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as dealer:
            await sign_in(dealer, "dealer-chen")
            for query in ("?action=*", f"?action={mine}"):
                refused = await dealer.get(f"/live{query}")
                assert refused.status_code == 403, refused.text


async def _overdue(nats_url: str, no: str) -> None:
    """Tickets' overdue notice for an action, as its relay publishes it (subject and body)."""
    nc = await natsaccess.connect(nats_url, "tickets")
    try:
        body = {"action_no": no, "action_id": uid(), "status": "done", "ticket_nos": []}
        await nc.publish("tickets.corrective_action_overdue.v1", json.dumps(body).encode())
        await nc.flush()
    finally:
        await nc.close()


async def test_the_actions_pages_update_themselves_in_chromium(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    nats_url = desk_parts[1]
    async with open_desk(*desk_parts) as desk, serving(desk.console_app) as base:
        ticket = desk.opened["critical"]
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as probe:
            await _feed_connected(probe)
        async with chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "tech-wu", "/corrective?tab=all")
                await page.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
                await page.evaluate(MARK)
                await page.fill("input[name=owner]", f"typed-{name}")
                made = await _action(desk.tickets, ticket, f"刀塔定位复核（{name}）", "start")
                await page.locator("#action-list a.no", has_text=made).wait_for(timeout=WAIT * 1000)
                assert await page.evaluate("window.__live") == "not reloaded"
                assert "列表已更新" in await page.locator("#live-status").inner_text()
                assert await page.input_value("input[name=owner]") == f"typed-{name}"
                await _shot(page, size, name, "ca6-live-list", shots)

                await page.goto(base + f"/corrective/{made}")
                await page.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
                await page.evaluate(MARK)
                assert await page.locator("#step-verify").count() == 0  # not done yet
                await _step(desk.tickets, made, "done")
                await page.locator("#step-verify").wait_for(timeout=WAIT * 1000)
                assert "已完成待验证" in await page.locator("h1").inner_text()
                assert "作业指导书已修订" in await page.locator("main").inner_text()
                await page.fill("#step-verify input[name=note]", f"抽检三台合格（{name}）")
                await page.evaluate("document.getElementById('live-status').textContent = ''")
                await _overdue(nats_url, made)
                await page.locator("#live-status", has_text="措施已更新").wait_for(
                    timeout=WAIT * 1000
                )
                assert await page.evaluate("window.__live") == "not reloaded"
                typed = await page.input_value("#step-verify input[name=note]")
                assert typed == f"抽检三台合格（{name}）"
                await _shot(page, size, name, "ca7-live-action", shots)
                assert outside == [], outside
                await context.close()
    _keep(shots, "ca6")
    _keep(shots, "ca7")
