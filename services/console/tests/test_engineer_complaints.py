"""我的投诉 (issue 21): an engineer sees the complaints about their work — on tickets assigned to
them now or before (the tickets API decides) — read only: no step form, a step posted anyway is
refused with a message; another engineer's complaint is a 404 through every page (the list, the
complaint's page, its forms, its live stream). In Chromium at 1366×768 and on a 390×844 phone:
the nav's 我的投诉, the list and the complaint page, axe finding nothing serious (screenshots
*-e1…e2)."""

from __future__ import annotations

import re

import httpx
from a11y import accessible
from console_support import CSRF_FIELD, open_desk, open_ticket, sign_in
from test_live import WAIT, listening
from test_pages_browser import LAPTOP, _fits
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving
from tickets_helpers import SUP

from aftersales_testing.browser import PHONE

ROW = re.compile(r'<tr class="row complaint[^"]*">(.*?)</tr>', re.S)


async def _complaints(desk) -> dict[str, str]:
    """A complaint 张工 handled before 王工 took it over, and one only 王工 ever had."""
    nos = {}
    for key, engineers in (("moved", ("eng-zhang", "eng-wang")), ("wangs", ("eng-wang",))):
        nos[key] = await open_ticket(
            desk.tickets,
            request_type="complaint",
            urgency="normal",
            customer_name=f"绍兴某某印染{key}",
            description="更换的密封件又漏了，客户很不满意",
        )
        for engineer in engineers:
            assign = {"assignee_id": engineer, "reason": "改派" if engineer == "eng-wang" else None}
            r = await desk.tickets.post(f"/tickets/{nos[key]}/assign", json=assign, headers=SUP)
            assert r.status_code == 200, r.text
    return nos


def _listed(html: str) -> set[str]:
    return {re.search(r'href="/complaints/([^"]+)"', r)[1] for r in ROW.findall(html)}


async def test_an_engineer_reads_the_complaints_about_their_work_only(desk_parts):
    async with open_desk(*desk_parts) as desk, serving(desk.console_app) as base:
        nos = await _complaints(desk)
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as zhang:
            await sign_in(zhang, "eng-zhang")
            page = await zhang.get("/complaints")
            assert page.status_code == 200, page.text
            assert _listed(page.text) == {nos["moved"]}  # before, not now: still his work
            assert "我的投诉" in page.text and 'href="/complaints">我的投诉</a>' in page.text
            every = await zhang.get("/complaints?shown=all")
            assert _listed(every.text) == {nos["moved"]}
            bad = await zhang.get("/complaints?shown=closed")
            assert bad.status_code == 400 and "shown" in bad.text

            mine = await zhang.get(f"/complaints/{nos['moved']}")
            assert mine.status_code == 200, mine.text
            assert 'id="complaint-read-only"' in mine.text and "绍兴某某印染moved" in mine.text
            assert '<details class="action"' not in mine.text  # no form to take a step
            assert f'href="/tickets/{nos["moved"]}"' not in mine.text  # 王工's now: no dead link
            token = CSRF_FIELD.search(mine.text)[1]
            posted = await zhang.post(
                f"/complaints/{nos['moved']}/actions/acknowledge",
                data={"_csrf_token": token, "note": "我来受理"},
            )
            assert posted.status_code in (302, 303)
            after = await zhang.get(f"/complaints/{nos['moved']}")
            assert "当前不能执行" in after.text and "待受理确认" in after.text
            async with listening(zhang, f"?ticket={nos['moved']}") as stream:
                await stream.wait_for("hello")  # his earlier ticket's complaint updates live

            theirs = nos["wangs"]
            assert (await zhang.get(f"/complaints/{theirs}")).status_code == 404
            posted = await zhang.post(
                f"/complaints/{theirs}/actions/findings",
                data={"_csrf_token": token, "findings": "x"},
            )
            assert posted.status_code == 404
            assert (await zhang.get(f"/live?ticket={theirs}")).status_code == 404
            assert (await zhang.get(f"/tickets/{theirs}")).status_code == 404

        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as wang:
            await sign_in(wang, "eng-wang")
            assert _listed((await wang.get("/complaints")).text) == set(nos.values())
            his = (await wang.get(f"/complaints/{nos['moved']}")).text
            assert f'href="/tickets/{nos["moved"]}"' in his  # his ticket: its page for the log


async def test_my_complaints_on_a_laptop_and_a_phone(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_desk(*desk_parts) as desk:
        nos = await _complaints(desk)
        async with serving(desk.console_app) as base, chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _sign_in(page, base, "eng-zhang", "/board")
                if size is PHONE and await page.locator("nav.links a").count() == 0:
                    raise AssertionError("no nav on the phone")
                async with page.expect_navigation():
                    await page.click("nav.links a >> text=我的投诉")
                assert await page.title() == "我的投诉 · Aftersales"
                assert await page.locator("table.complaints tr.row").count() == 1
                await _fits(page, size["width"])
                await page.screenshot(
                    path=str(shots / f"{name}-e1-my-complaints.png"), full_page=True
                )
                await accessible(page, f"{name}-e1-my-complaints", shots)
                async with page.expect_navigation():
                    await page.click(f"table.complaints a.no >> text={nos['moved']}")
                assert await page.locator("#complaint-read-only").count() == 1
                assert await page.locator("details.action").count() == 0
                await _fits(page, size["width"])
                await page.screenshot(path=str(shots / f"{name}-e2-complaint.png"), full_page=True)
                await accessible(page, f"{name}-e2-complaint", shots)
                assert outside == [], outside
                await context.close()
    _keep(shots, "e")
