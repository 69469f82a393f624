"""A complaint's page against the real tickets service (its own PostgreSQL database, real NATS),
at the named moment sunday-evening: level, type, stage, each step's clock standing still until
Monday 09:00 (working time), and the steps taken through the page's forms — each posted with its
CSRF token as the signed-in user, post/redirect/get back with what happened, the API's own zh-CN
message when it refused. Only the forms the role and the stage allow are shown, and a forged post
of another is refused with nothing written; a dealer reads its own complaint and no other's."""

from __future__ import annotations

import re

import httpx
from console_support import open_desk, open_ticket, sign_in
from tickets_helpers import SUP, entitle, uid

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def shown(html: str) -> set[str]:
    return set(re.findall(r'<details class="action" id="step-([a-z]+)"', html))


def stage(html: str) -> str:
    return re.search(r'<dd id="complaint-stage">([^<]+)</dd>', html)[1]


def flash(html: str) -> str:
    found = re.search(r'<p class="flash flash-(\w+)"[^>]*>([^<]*)</p>', html)
    return f"{found[1]}: {found[2]}" if found else ""


def history(html: str) -> list[str]:
    block = re.search(r'<ol class="timeline" id="complaint-history">(.*?)</ol>', html, re.S)[1]
    return re.findall(r"<strong>([^<]+)</strong>", block)


async def step(browser: httpx.AsyncClient, no: str, name: str, **form: str) -> str:
    """Post one step's form as the page carries it; follow the redirect; the page."""
    page = await browser.get(f"/complaints/{no}")
    assert page.status_code == 200, page.text
    posted = await browser.post(
        f"/complaints/{no}/actions/{name}",
        data={**form, "_csrf_token": CSRF.search(page.text)[1]},
    )
    assert posted.status_code == 302, posted.text
    assert posted.headers["location"] == f"/complaints/{no}"
    back = await browser.get(f"/complaints/{no}")
    assert back.status_code == 200
    return back.text


async def test_a_complaint_taken_through_its_steps_on_its_page(desk_parts):
    async with open_desk(*desk_parts) as desk:
        no = await open_ticket(
            desk.tickets,
            request_type="complaint",
            customer_name="嘉兴某某纺织",
            complaint_level="serious",
            complaint_type="service_attitude",
        )
        async with (
            desk.console() as sup,
            desk.console() as agent,
            desk.console() as tech,
            desk.console() as li,
        ):
            for browser, who in ((sup, "sup-zhang"), (agent, "agent-zhou"), (tech, "tech-wu")):
                await sign_in(browser, who)
            await sign_in(li, "sup-li")
            listed = (await sup.get("/complaints")).text
            assert f'href="/complaints/{no}"' in listed  # the list links to the page
            ticket = (await sup.get(f"/tickets/{no}")).text
            assert 'id="complaint-link"' in ticket and f'href="/complaints/{no}"' in ticket

            page = (await sup.get(f"/complaints/{no}")).text
            assert stage(page) == "待受理确认" and "严重" in page and "服务态度" in page
            assert 'data-live="/live?ticket=' + no + '"' in page
            # Sunday 20:57: the 1 working hour of a serious complaint's acknowledgement stands
            # still until Monday 09:00 and is due at 10:00
            clocks = re.search(r'data-live-part="complaint-clocks">(.*?)</section>', page, re.S)[1]
            first = re.search(r"<tr class=\"row band-(\w+)\">(.*?)</tr>", clocks, re.S)
            assert first[1] == "ok" and "待受理确认" in first[2], first[0]
            assert "剩 1小时" in first[2] and "11-30 周一 09:00 恢复" in first[2], first[2]
            assert "11-30 周一 10:00" in first[2]
            assert shown(page) == {"acknowledge", "level", "owner"}
            assert shown((await agent.get(f"/complaints/{no}")).text) == {"acknowledge"}
            assert shown((await tech.get(f"/complaints/{no}")).text) == set()

            refused = await sup.post(f"/complaints/{no}/actions/acknowledge", data={})
            assert refused.status_code == 403 and "安全令牌" in refused.text  # no CSRF token
            # an agent forging the supervisors' level form: refused, nothing written
            page = await step(agent, no, "level", level="general", reason="客户情绪平复")
            assert flash(page).startswith("error: 当前不能执行“调整等级")
            assert "严重" in page and "调整等级" not in history(page)

            page = await step(agent, no, "acknowledge", note="已致电客户")
            assert flash(page) == "ok: 已完成：受理确认 (acknowledge)"
            assert stage(page) == "待告知处理时限" and history(page)[-1] == "受理确认"
            clocks = re.search(r'data-live-part="complaint-clocks">(.*?)</section>', page, re.S)[1]
            met = re.search(
                r'<tr class="row band-(\w+)">\s*<td data-label="步骤"><div>待受理确认', clocks
            )
            assert met and met[1] == "met", clocks  # the acknowledgement's clock has stopped

            # beyond the serious level's 3 working days: the API's own words
            page = await step(sup, no, "limit", promised_date="2026-12-31", via="phone")
            assert "严重投诉最长可承诺3个工作日" in flash(page), flash(page)
            assert stage(page) == "待告知处理时限"
            page = await step(sup, no, "limit", promised_date="", via="phone")
            assert flash(page) == "error: 请填写承诺处理日期 (the promised date)"
            page = await step(sup, no, "limit", promised_date="2026-12-01", via="phone")
            assert stage(page) == "调查中" and "2026-12-01" in page

            page = await step(sup, no, "level", level="major", reason="")
            assert flash(page) == "error: 请填写调整原因 (a reason)"
            page = await step(sup, no, "level", level="major", reason="经核实影响较小")
            assert "重大" in page and history(page)[-1] == "调整等级"
            page = await step(sup, no, "owner", owner_id="sup-li", reason="李主管负责华东")
            assert "不是可负责投诉的客服主管" in flash(page), flash(page)
            page = await step(li, no, "owner", owner_id="sup-li", reason="本人接手")
            assert flash(page) == "ok: 已完成：更换负责人 (owner)" and "sup-li" in page

            page = await step(tech, no, "findings", findings="", complaint_type="")
            assert flash(page) == "error: 请填写调查结论 (the findings)"
            page = await step(
                tech, no, "findings", findings="工程师未按约定时间到场", complaint_type="timeliness"
            )
            assert stage(page) == "待提出处理方案" and "响应与处理时效" in page

            page = await step(agent, no, "resolution", resolution="免费延长保修三个月")
            assert stage(page) == "待客户确认" and "免费延长保修三个月" in page
            assert "待客户答复" in page
            answer = {
                "outcome": "rejected",
                "confirmed_by": "王建国",
                "confirmed_at": "2026-11-29T21:30",
                "method": "phone",
            }
            page = await step(sup, no, "answer", **answer)
            assert flash(page) == "error: 客户拒绝时请填写拒绝原因 (a rejection needs its reason)"
            page = await step(sup, no, "answer", **{**answer, "outcome": "accepted"})
            assert "确认时间不能晚于当前时间" in flash(page)  # 21:30 is still to come: the API
            # the form's own default: now, in Beijing time
            now_local = re.search(r'name="confirmed_at" required value="([^"]+)"', page)[1]
            answer["confirmed_at"] = now_local
            page = await step(sup, no, "answer", **{**answer, "outcome": "accepted"})
            assert stage(page) == "客户已接受" and "王建国" in page, flash(page)
            assert shown(page) == set()  # nothing left to take on the page
            assert history(page)[-1] == "客户接受方案"


async def test_a_dealer_reads_its_own_complaint_and_no_other(desk_parts):
    async with open_desk(*desk_parts) as desk:
        serial = f"SN-{uid()}"
        await entitle(desk.tickets_app, f"HT-{uid()}", [serial], dealer_id="D-ZJ-01")
        own = await open_ticket(
            desk.tickets, serial=serial, request_type="complaint", customer_name="绍兴某某"
        )
        other = await open_ticket(
            desk.tickets,
            serial=desk.serial_no,  # another dealer's unit
            request_type="complaint",
            customer_name="另一家经销商的客户",
        )
        async with desk.console() as chen:
            await sign_in(chen, "dealer-chen")
            listed = (await chen.get("/complaints")).text
            assert f'href="/complaints/{own}"' in listed and other not in listed
            assert "另一家经销商的客户" not in listed
            page = await chen.get(f"/complaints/{own}")
            assert page.status_code == 200 and shown(page.text) == set()  # reads, takes no step
            refused = await chen.get(f"/complaints/{other}")
            assert refused.status_code == 404 and "另一家经销商的客户" not in refused.text
            token = CSRF.search(page.text)[1]
            forged = await chen.post(
                f"/complaints/{other}/actions/acknowledge", data={"_csrf_token": token}
            )
            assert forged.status_code == 404
            posted = await chen.post(
                f"/complaints/{own}/actions/acknowledge", data={"_csrf_token": token}
            )
            assert posted.status_code == 302
            assert "当前不能执行" in flash((await chen.get(f"/complaints/{own}")).text)
            live = await chen.get(f"/live?ticket={other}")
            assert live.status_code == 404
        for no in (own, other):
            answer = await desk.tickets.get(f"/complaints/{no}", headers=SUP)
            assert answer.json()["stage"] == "acknowledgement"  # nothing written
        async with desk.console() as eng:
            await sign_in(eng, "eng-zhang")
            # not his work: the tickets API's 404, as for none (engineers read their own)
            assert (await eng.get(f"/complaints/{own}")).status_code == 404
            assert (await eng.get("/complaints/bad number!")).status_code in (400, 404)


async def test_the_list_pages_past_its_first_hundred(desk_parts, monkeypatch):
    from console import complaints

    monkeypatch.setattr(complaints, "PAGE_LIMIT", 2)  # three complaints: two pages
    async with open_desk(*desk_parts) as desk:
        opened = [
            await open_ticket(desk.tickets, request_type="complaint", customer_name=f"客户{i}")
            for i in range(3)
        ]
        async with desk.console() as sup:
            await sign_in(sup, "sup-zhang")
            first = (await sup.get("/complaints")).text
            second = (await sup.get("/complaints?page=2")).text
            on = [re.findall(r'href="/complaints/([^"?]+)"', p) for p in (first, second)]
            assert sorted(on[0] + on[1]) == sorted(opened) and len(on[1]) == 1
            assert "第 1 / 2 页" in first and 'href="/complaints?page=2"' in first
            assert "第 2 / 2 页" in second and 'href="/complaints?page=1"' in second
            assert "未结投诉 3 件" in second
            bad = await sup.get("/complaints?page=0")
            assert bad.status_code == 400 and "页码" in bad.text
