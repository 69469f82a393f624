"""The corrective-action pages (纠正/预防措施) in a real headless Chromium over real HTTP at
1366×768 and on a 390×844 phone, against the real tickets service: 吴工 opens the form from a ticket
(prefilled), a Sunday as due date is refused with tickets' words and what was typed kept, the
action is created and its page shown; the list; an action 孙师傅 (交付部门) has done, on 吴工's page
with the verify and reject forms. Nothing fetched from outside the console, nothing wider than the
window, axe on every page. Screenshots ca1–ca5 in test-artifacts/console/."""

from __future__ import annotations

import pytest
from console_support import open_desk
from test_pages_browser import LAPTOP, _shot, _submit
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE
from aftersales_testing.support import auth

TECH = auth("technical", sub="tech-wu")
DELIVERY = auth("delivery", sub="dlv-sun")


async def _done_action(api, ticket: str) -> str:
    """An action 孙师傅 has started and done, waiting for 吴工's verification."""
    body = {
        "kind": "preventive",
        "title": "装配线增加主轴预紧力复核工序，首件与每班抽检记录存档",
        "description": "同型号三台主轴异响，拆检均为预紧力不足。\n"
        "根本原因：装配作业指导书未规定复核。",
        "owner_department": "delivery",
        "owner_id": "dlv-sun",
        "ticket_nos": [ticket],
        "cause_category": "manufacturing_batch",
        "due_working_days": 5,
    }
    r = await api.post("/corrective-actions", json=body, headers=TECH)
    assert r.status_code == 201, r.text
    no = r.json()["action_no"]
    for step, payload in (("start", {"note": "已安排"}), ("done", {"result": "作业指导书已修订"})):
        r = await api.post(f"/corrective-actions/{no}/{step}", json=payload, headers=DELIVERY)
        assert r.status_code == 200, r.text
    return no


@pytest.mark.long(40)
async def test_corrective_pages_on_a_laptop_and_a_phone(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_desk(*desk_parts) as desk:
        ticket = desk.opened["critical"]
        waiting = await _done_action(desk.tickets, ticket)
        async with serving(desk.console_app) as base, chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "tech-wu", f"/corrective/new?ticket={ticket}")
                assert await page.title() == "新建纠正/预防措施 · Aftersales"
                assert await page.input_value("input[name=ticket_nos]") == ticket
                await page.fill("input[name=title]", f"主轴轴承来料抽检加严（{name}）")
                await page.select_option("select[name=owner_department]", "delivery")
                await page.select_option("select[name=cause_category]", "material_supplier")
                await _shot(page, size, name, "ca1-new", shots)

                await page.fill("input[name=due_date]", "2026-12-06")
                await page.fill("input[name=due_working_days]", "")
                await _submit(page, "#new-action")
                said = await page.locator(".flash-error").inner_text()
                assert "不是工作日，下一个工作日是2026-12-07" in said, said
                assert (
                    await page.input_value("input[name=title]") == f"主轴轴承来料抽检加严（{name}）"
                )
                await _shot(page, size, name, "ca2-refused", shots)

                await page.fill("input[name=due_date]", "2026-12-07")
                await _submit(page, "#new-action")
                assert "/corrective/CA-" in page.url, page.url
                assert "已创建措施" in await page.locator(".flash").inner_text()
                assert "还剩 6 个工作日" in await page.locator("dl.facts").inner_text()
                await _shot(page, size, name, "ca3-created", shots)

                await page.goto(base + "/corrective?tab=all")
                listed = await page.locator("#action-list").inner_text()
                assert waiting in listed and "预防措施" in listed and "交付部门" in listed
                await _shot(page, size, name, "ca4-list", shots)

                await page.goto(base + f"/corrective/{waiting}")
                await page.click("#step-reject summary")
                assert await page.locator("#step-verify button").is_visible()
                await _shot(page, size, name, "ca5-verify", shots)
                assert outside == [], outside
                await context.close()
    _keep(shots, "ca")
