"""The board against the real tickets service: tickets opened over HTTP appear in the right tabs
with their countdowns, the filters narrow them down, sign-in and CSRF hold, bad input is a 4xx
page a person can act on."""

from __future__ import annotations

import re

from console_support import open_desk, sign_in
from tickets_helpers import ENG


def numbers(html: str) -> set[str]:
    return set(re.findall(r'<a class="no" href="/tickets/[^"]+">([^<]+)</a>', html))


async def test_the_supervisor_sees_new_tickets_and_the_filters_narrow_them(desk_parts):
    async with open_desk(*desk_parts) as desk:
        o = desk.opened
        async with desk.console() as browser:
            assert (await browser.get("/board")).headers["location"].startswith("/login")
            signed = await sign_in(browser, "sup-zhang")
            assert (signed.status_code, signed.headers["location"]) == (302, "/board")
            cookie = signed.headers.get_list("set-cookie")
            session = next(c for c in cookie if c.startswith("console_session="))
            assert "httponly" in session.lower() and "samesite=lax" in session.lower()

            page = await browser.get("/board")
            assert page.status_code == 200, page.text
            assert numbers(page.text) == {o["critical"], o["question"], o["dealer"]}
            assert "张主管" in page.text and "新建/未分派" in page.text
            assert "剩 " in page.text and "截止" in page.text

            async def board(query: str) -> set[str]:
                response = await browser.get(f"/board?{query}")
                assert response.status_code == 200, response.text
                return numbers(response.text)

            assert await board("urgency=critical") == {o["critical"]}
            assert await board("type=usage_question") == {o["question"]}
            assert await board(f"dealer={desk.dealer_id}") == {o["dealer"]}
            assert await board("product=XK-200") == {o["dealer"]}  # the entitlement's model
            assert await board("tab=mine") == set()
            assert await board("tab=breached") == set()


async def test_an_engineer_sees_the_ticket_dispatched_to_him(desk_parts):
    async with open_desk(*desk_parts) as desk:
        async with desk.console() as browser:
            await sign_in(browser, "eng-zhang")
            page = await browser.get("/board?tab=mine")
            assert numbers(page.text) == {desk.opened["assigned"]}
            assert "张工" in page.text


async def test_countdowns_opened_on_sunday_evening_stand_still_until_monday(desk_parts):
    """The desk's tickets were opened at the named moment sunday-evening (Sun 29 Nov 2026 20:57):
    on the default calendar every clock waits for Monday 09:00, and the row says so next to the
    wall-clock deadline."""
    async with open_desk(*desk_parts) as desk:
        async with desk.console() as browser:
            await sign_in(browser, "sup-zhang")
            page = (await browser.get(f"/board?dealer={desk.dealer_id}")).text
            assert "非工作时间·计时暂停，11-30 周一 09:00 恢复" in page
            # the row shows the tightest clock: acknowledgement within 10 working minutes
            assert '<b>受理</b> <span class="left">剩 10分</span>' in page
            assert "11-30 周一 09:10" in page
            assert 'class="row band-ok"' in page


async def test_forms_without_their_csrf_token_are_refused(desk_parts):
    async with open_desk(*desk_parts) as desk:
        async with desk.console() as browser:
            await browser.get("/login")
            refused = await browser.post("/login", data={"sub": "sup-zhang"})
            assert refused.status_code == 403
            assert "安全令牌" in refused.text and "CSRF" in refused.text
            await sign_in(browser, "sup-zhang")
            assert (await browser.post("/logout")).status_code == 403  # no token: still signed in
            assert (await browser.get("/board")).status_code == 200


async def test_signing_out_ends_the_session(desk_parts):
    async with open_desk(*desk_parts) as desk:
        async with desk.console() as browser:
            await sign_in(browser, "sup-zhang")
            page = await browser.get("/board")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]
            out = await browser.post("/logout", data={"_csrf_token": token})
            assert (out.status_code, out.headers["location"]) == (302, "/login")
            assert (await browser.get("/board")).status_code == 302


async def test_bad_input_is_a_4xx_page_that_says_what_to_fix(desk_parts):
    async with open_desk(*desk_parts) as desk:
        async with desk.console() as browser:
            assert (await sign_in(browser, "nobody-at-all")).status_code == 400
            await sign_in(browser, "sup-zhang")
            for query, words in (
                ("page=abc", "页码"),
                ("page=0", "页码"),
                ("tab=everything", "未知的分页签"),
                ("urgency=asap", "紧急程度"),
                ("type=x", "工单类型"),
                ("dealer=%3Cscript%3E", "dealer"),
            ):
                response = await browser.get(f"/board?{query}")
                assert response.status_code == 400, query
                assert words in response.text, query
            login = await browser.get("/login?next=//evil.example/x")
            assert 'name="next" value="/board"' in login.text  # no open redirect
            signed = await sign_in(browser, "sup-li")
            assert signed.headers["location"] == "/board"


async def test_a_role_the_tickets_service_refuses_gets_its_answer_not_a_500(desk_parts):
    async with open_desk(*desk_parts) as desk:
        async with desk.console() as browser:
            await sign_in(browser, "demo-sales")
            page = await browser.get("/board")
            assert page.status_code == 403
            assert "tickets" in page.text


async def test_the_ticket_page_shows_every_clock_and_the_timeline(desk_parts):
    async with open_desk(*desk_parts) as desk:
        no = desk.opened["assigned"]
        note = {"kind": "note", "text": "已电话联系客户，约定周一上门", "visibility": "customer"}
        r = await desk.tickets.post(f"/tickets/{no}/progress", json=note, headers=ENG)
        assert r.status_code == 201, r.text
        async with desk.console() as browser:
            await sign_in(browser, "sup-zhang")
            page = await browser.get(f"/tickets/{no}")
            assert page.status_code == 200, page.text
            html = page.text
            for clock in ("受理", "响应", "解决"):
                assert f'<td data-label="计时"><div>{clock}</div></td>' in html, clock
            # dispatching acknowledged it; the others wait for Monday 09:00 on the default calendar
            assert '<span class="sla sla-met">已达成</span>' in html
            assert html.count("非工作时间·计时暂停，11-30 周一 09:00 恢复") == 3
            for deadline in ("11-30 周一 11:00", "11-30 周一 14:00", "12-02 周三 18:00"):
                assert f"<div>{deadline}</div>" in html, deadline  # response, on site, resolution
            steps = re.findall(r"<strong>([^<]+)</strong>", html.split('class="timeline"')[1])
            assert steps[0] == "登记 (opened)" and "派工 (dispatched)" in steps, steps
            assert steps[-1] == "进展", steps
            assert "已电话联系客户，约定周一上门" in html and "张工" in html
            assert (await browser.get("/tickets/SV-20991231-9999")).status_code == 404
            assert (await browser.get("/tickets/%3Cscript%3E")).status_code == 400
