"""The full journey in a real headless Chromium, every service involved really running (the
tickets and surveys apps on their own PostgreSQL databases, one real NATS JetStream
between them, the console and the survey page over real HTTP): the 客服专员 takes a phone
call on the intake page (the serial found, the entitlement and service level shown, the
ticket opened) → the supervisor dispatches it to 张工 with the engineer picker → 张工, on
his phone, is on site, resolves and completes with the customer's sign-off → tickets
publishes ServiceCompleted, surveys invites the customer (SurveyRequested, the link
sealed to notifications: the test opens it with the development key) → the customer
answers low on the surveys service's own token page (on a phone) → surveys publishes
SurveyAnswered, tickets opens a complaint follow-up → the supervisor, whose complaints
page was open all along, sees the complaint appear without the page reloading (a marker
set on `window` before is still there). Screenshots j1–j9 at 1366×768, the engineer's
and the customer's at 390×844."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
from a11y import accessible
from console_support import open_desk, sign_in
from sqlalchemy import select
from test_pages_browser import LAPTOP, SCREENS, _fits
from test_work_pages_browser import _page, _sign_in, chromium, serving
from tickets_helpers import SUP, entitle, tickets_app, uid

from aftersales_shared.db import outbox
from aftersales_testing.browser import PHONE, free_port
from aftersales_testing.support import migrated, opened_link, running, runtime_of, wait_until
from console.app import create_app
from console.settings import ConsoleSettings
from surveys.app import create_app as surveys_app
from surveys.settings import SurveysSettings

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
WAIT = 30.0  # generous: a loaded machine must not fail the test, a missing event must
CUSTOMER = "无锡某某设备有限公司"  # the entitlement's customer (tickets_helpers.entitle)


async def _survey_link(surveys: Any, ticket_no: str) -> str | None:
    """The link of the SurveyRequested surveys wrote for this ticket (sealed to notifications)."""
    async with runtime_of(surveys).sessions() as session:
        rows = (await session.execute(select(outbox.c.headers, outbox.c.body))).all()
    for headers, body in rows:
        h = json.loads(headers)
        if ".SurveyRequested.v" in h["ce-type"] and h.get("ce-subject") == ticket_no:
            return opened_link(json.loads(body))
    return None


async def _shot(page: Any, size: dict, name: str, shots: Path) -> None:
    await _fits(page, size["width"])
    await page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    await accessible(page, name, shots)


async def _act(page: Any, action: str, **fields: str) -> None:
    """Open one action of the ticket page, fill its fields, submit; the page comes back."""
    await page.click(f"#action-{action} summary")
    for name, value in fields.items():
        await page.fill(f"#action-{action} [name={name}]", value)
    async with page.expect_navigation():
        await page.click(f"#action-{action} button[type=submit]")


async def _status(page: Any) -> str:
    return await page.locator("dl.facts").inner_text()


async def _intake(browser: Any, base: str, serial: str, shots: Path) -> str:
    """The agent on a laptop: finds the serial, sees the entitlement, opens the ticket."""
    outside: list[str] = []
    context, page = await _page(browser, base, LAPTOP, outside)
    await _sign_in(page, base, "agent-zhou", "/intake")
    await page.fill("form.lookup input[name=serial_no]", serial)
    async with page.expect_navigation():
        await page.click("form.lookup button[type=submit]")
    found = await page.locator("main").inner_text()
    assert CUSTOMER in found and "1小时" in await page.locator("table.levels").inner_text()
    assert await page.input_value("input[name=contact_name]") == "赵工"
    await page.select_option("select[name=urgency]", "urgent")
    await page.fill("textarea[name=description]", "主轴异响，加工精度下降")
    await _shot(page, LAPTOP, "laptop-j1-intake", shots)
    async with page.expect_navigation():
        await page.click("#intake-form button[type=submit]")
    no = page.url.rsplit("/", 1)[1]
    assert re.fullmatch(r"[A-Z]+-\d{8}-\d{4,}", no), page.url
    assert "主轴异响" in await page.locator(".description").inner_text()
    await _shot(page, LAPTOP, "laptop-j2-ticket-opened", shots)
    assert outside == [], outside
    await context.close()
    return no


async def pick_engineer(page: Any, size: dict, shot: str, shots: Path) -> None:
    """The dispatch form's picker: the roster with regions and open tickets; typing narrows it;
    张工 chosen (local development: tickets' demo roster)."""
    await page.click("#action-assign summary")
    picker = page.locator("#engineer-list")
    listed = await picker.inner_text()
    assert "张工" in listed and "王工" in listed and "华东·苏州" in listed and "在办" in listed
    await page.fill("#action-assign input[type=search]", "苏州")
    assert await picker.locator("li:visible").count() == 1
    assert not await page.locator("#engineer-eng-wang").is_visible()
    await page.fill("#action-assign input[type=search]", "没有这个人")
    assert await page.locator("[data-filter-empty=engineer-list]").is_visible()
    await page.fill("#action-assign input[type=search]", "张")
    await page.check("#engineer-eng-zhang")
    await page.fill("#action-assign input[name=reason]", "就近派工")
    await _shot(page, size, shot, shots)
    async with page.expect_navigation():
        await page.click("#action-assign button[type=submit]")


async def _dispatch(page: Any, base: str, no: str, shots: Path) -> None:
    await page.goto(f"{base}/tickets/{no}")
    await _act(page, "acknowledge")
    await pick_engineer(page, LAPTOP, "laptop-j3-dispatch-picker", shots)
    facts = await _status(page)
    assert "已派工" in facts and "张工" in facts, facts
    await _shot(page, LAPTOP, "laptop-j3b-dispatched", shots)


async def _engineer(browser: Any, base: str, no: str, shots: Path) -> None:
    """张工 on his phone: on site, resolved, completed with the customer's sign-off."""
    outside: list[str] = []
    context, page = await _page(browser, base, PHONE, outside)
    await _sign_in(page, base, "eng-zhang", f"/tickets/{no}")
    await _act(page, "onsite")
    assert "处理中" in await _status(page)
    await _shot(page, PHONE, "phone-j4-onsite", shots)
    await _act(page, "resolve", note="更换主轴轴承，试切合格")
    assert "已解决" in await _status(page)
    await page.click("#action-complete summary")
    await page.fill("#action-complete [name=confirmed_by]", "赵工")
    symptom = page.locator("#action-complete select[name=symptom] option").nth(1)
    await page.select_option(
        "#action-complete select[name=symptom]", await symptom.get_attribute("value")
    )
    await page.check("#action-complete [name=needs_analysis]")
    await _shot(page, PHONE, "phone-j5-complete-form", shots)
    async with page.expect_navigation():
        await page.click("#action-complete button[type=submit]")
    assert "已完成" in await _status(page), await page.locator(".flash").inner_text()
    await _shot(page, PHONE, "phone-j6-completed", shots)
    assert outside == [], outside
    await context.close()


async def _answer_low(browser: Any, link: str, shots: Path) -> None:
    """The customer on a phone, on the surveys service's own page (not the console's)."""
    context = await browser.new_context(
        viewport=PHONE, locale="zh-CN", device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    response = await page.goto(link)
    assert response.status == 200 and await page.title() == "售后服务满意度调查"
    for choice in ("#efficiency-1", "#attitude-2", "#professionalism-1"):
        await page.check(choice)
    await page.fill("#comment", "等了三天才修好，很不满意")
    await page.screenshot(path=str(shots / "phone-j8-survey.png"), full_page=True)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    said = await page.locator("main, body").first.inner_text()
    assert "客服主管会尽快与您联系" in said, said  # the page's word for a low answer
    await page.screenshot(path=str(shots / "phone-j8b-survey-thanks.png"), full_page=True)
    await context.close()


async def test_intake_to_dispatch_to_completion_to_low_survey_to_a_live_complaint(
    desk_parts, artifacts_dir
):
    databases, nats_url, clock = desk_parts
    clock.at("make-up-saturday")  # a 调休 working Saturday, 10:00: the invitation is due at once
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    tickets = await tickets_app(databases, nats_url)
    survey_port = free_port()
    survey_base = f"http://127.0.0.1:{survey_port}"
    surveys = surveys_app(
        SurveysSettings(
            database_url=await migrated(databases, "surveys"),
            nats_url=nats_url,
            public_base_url=survey_base,
            invite_delay_minutes=0,
        )
    )
    serial, contract = f"SN-{uid()}", f"HT-{uid()}"
    async with running(tickets) as api, running(surveys):
        await entitle(tickets, contract, [serial])
        console = create_app(
            ConsoleSettings(local_dev=True, tickets_url="http://tickets.test", nats_url=nats_url),
            transport=httpx.ASGITransport(app=tickets),
        )
        async with (
            serving(surveys, lifespan="off", port=survey_port),
            serving(console) as base,
            chromium() as browser,
        ):
            no = await _intake(browser, base, serial, shots)
            outside: list[str] = []
            context, desk = await _page(browser, base, LAPTOP, outside)
            await _sign_in(desk, base, "sup-zhang", "/complaints")
            await _dispatch(desk, base, no, shots)
            await _engineer(browser, base, no, shots)

            # the supervisor's complaints page, open before the customer answers
            watch = await context.new_page()
            await watch.goto(base + "/complaints")
            await watch.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
            await watch.evaluate("window.__journey = 'still the same page'")
            assert await watch.locator("tr.complaint").count() == 0  # a database of its own
            await _shot(watch, LAPTOP, "laptop-j7-complaints-before", shots)

            async def invited() -> bool:
                return await _survey_link(surveys, no) is not None

            await wait_until(invited, timeout=WAIT, what="surveys invited the customer")
            link = await _survey_link(surveys, no)
            assert link and link.startswith(survey_base + "/s/"), link
            await _answer_low(browser, link, shots)

            rows = watch.locator("tr.complaint", has_text=CUSTOMER)
            await rows.first.wait_for(timeout=WAIT * 1000)
            assert await watch.locator("tr.complaint").count() == 1
            assert await watch.evaluate("window.__journey") == "still the same page"
            assert "列表已更新" in await watch.locator("#live-status").inner_text()
            row = await rows.first.inner_text()
            follow_up = re.search(r"[A-Z]+-\d{8}-\d{4,}", row)[0]
            assert follow_up != no and "待受理确认" in row, row
            ticket = (await api.get(f"/tickets/{follow_up}", headers=SUP)).json()
            assert ticket["request_type"] == "complaint" and f"原工单{no}" in ticket["description"]
            await _shot(watch, LAPTOP, "laptop-j9-complaint-live", shots)
            assert outside == [], outside
            await context.close()

            # the new page on a phone too
            context, phone = await _page(browser, base, PHONE, outside)
            await _sign_in(phone, base, "sup-zhang", "/complaints")
            assert follow_up in await phone.locator("#complaint-list").inner_text()
            await _shot(phone, PHONE, "phone-j9-complaints", shots)
            await context.close()
    SCREENS.mkdir(exist_ok=True)
    for png in sorted(shots.glob("*-j[0-9]*.png")):
        assert png.stat().st_size > 5000, png.name
        shutil.copy(png, SCREENS / png.name)


async def test_the_engineer_picker_on_a_phone_and_its_refusals(desk_parts, artifacts_dir):
    """The supervisor dispatches from a phone with the picker; a choice not on the roster is
    refused in the console's words and nothing is written; the picked engineer's name comes from
    the roster (not from the form)."""
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_desk(*desk_parts) as desk:
        no, other = desk.opened["critical"], desk.opened["question"]
        async with desk.console() as sup:
            await sign_in(sup, "sup-zhang")
            page = (await sup.get(f"/tickets/{other}")).text
            assert 'id="engineer-eng-li"' in page and "华南·佛山" in page
            token = CSRF.search(page)[1]
            forged = {"engineer": "eng-nobody", "assignee_name": "冒名", "_csrf_token": token}
            posted = await sup.post(f"/tickets/{other}/actions/assign", data=forged)
            assert posted.status_code == 302
            page = (await sup.get(f"/tickets/{other}")).text
            assert "所选工程师不在名单中" in page
            ticket = (await desk.tickets.get(f"/tickets/{other}", headers=SUP)).json()
            assert ticket["assignee_id"] is None  # nothing written
            picked = {"engineer": "eng-wang", "assignee_name": "冒名", "_csrf_token": token}
            await sup.post(f"/tickets/{other}/actions/assign", data=picked)
            ticket = (await desk.tickets.get(f"/tickets/{other}", headers=SUP)).json()
            assert (ticket["assignee_id"], ticket["assignee_name"]) == ("eng-wang", "王工")
            # the board counts it: 王工 now has one open ticket
            page = (await sup.get(f"/tickets/{no}")).text
            wang = re.search(r'id="engineer-eng-wang".*?在办 (\d+) 张', page, re.S)
            assert wang and wang[1] == "1", page
        async with serving(desk.console_app) as base, chromium() as browser:
            outside: list[str] = []
            context, page = await _page(browser, base, PHONE, outside)
            await _sign_in(page, base, "sup-zhang", f"/tickets/{no}")
            await pick_engineer(page, PHONE, "phone-j3-dispatch-picker", shots)
            facts = await _status(page)
            assert "已派工" in facts and "张工" in facts, facts
            assert outside == [], outside
            await context.close()
    SCREENS.mkdir(exist_ok=True)
    shutil.copy(shots / "phone-j3-dispatch-picker.png", SCREENS / "phone-j3-dispatch-picker.png")
