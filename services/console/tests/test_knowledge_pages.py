"""The knowledge base's pages against the real tickets service (its own PostgreSQL database, real
NATS): 张工 writes an article from his completed ticket (the link on the ticket page, the draft
prefilled from it; a second one for the same ticket is refused with the API's words and what was
typed kept), submits it; 吴工 finds it in 待审核 with how long it has waited in working time and
returns it with a comment (not without one); a supervisor may read it but not edit it (the API's
refusal, the typed title kept); 张工 edits it (the changes against the revision before, line by
line) and submits again; an engineer's forged approval is refused by the service; 吴工 approves;
search and a new ticket's suggestions find it; a dealer reads the published article but no working
copy; 吴工 withdraws it with a reason and search no longer finds it."""

from __future__ import annotations

import re
from typing import Any

import httpx
from console_support import open_desk, sign_in
from test_knowledge import completed_ticket
from tickets_helpers import ENG

from aftersales_shared.db import utcnow
from console.app import create_app
from console.settings import ConsoleSettings

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
MONDAY_AFTERNOON = "2026-11-30T14:00:00+08:00"  # 4 working hours after Sunday evening
STEP_ONE = "拆下操作面板后盖，检查显示屏排线"
STEP_TWO = "重新插紧排线插头并用扎带固定"
WORK = [("拆下操作面板后盖，检查显示屏排线", []), ("重新插紧排线插头", [])]  # a ticket's work log


async def complete(tickets: httpx.AsyncClient, no: str) -> None:
    """张工's work on an assigned ticket logged (two steps, a part) and the customer's sign-off."""
    for text, parts in ((STEP_ONE, []), (STEP_TWO, [{"name": "扎带", "quantity": 2}])):
        entry = {"kind": "parts" if parts else "action", "text": text, "parts": parts}
        r = await tickets.post(f"/tickets/{no}/progress", headers=ENG, json=entry)
        assert r.status_code == 201, r.text
    confirmation = {
        "document": "repair_sheet",
        "confirmed_by": "王建国",
        "confirmed_at": utcnow().isoformat(),
        "method": "signature",
        "fault": {"symptom": "OTHER", "cause_category": "installation"},
    }
    r = await tickets.post(f"/tickets/{no}/complete", headers=ENG, json=confirmation)
    assert r.status_code == 200, r.text


async def post_form(
    browser: httpx.AsyncClient, page: str, action: str, **form: str
) -> httpx.Response:
    """Post a form of `page` with the CSRF token the page carries."""
    shown = await browser.get(page)
    assert shown.status_code == 200, shown.text
    return await browser.post(action, data={**form, "_csrf_token": CSRF.search(shown.text)[1]})


def flash(html: str) -> str:
    found = re.search(r'<p class="flash flash-(\w+)"[^>]*>(.*?)</p>', html, re.S)
    return f"{found[1]}: {found[2].strip()}" if found else ""


def status_of(html: str) -> str:
    return re.search(r'id="kb-status">([^<]+)<', html)[1]


async def write_and_submit(desk: Any, author: httpx.AsyncClient) -> tuple[str, int]:
    """张工's article from his completed ticket, submitted (the ticket, the article's id)."""
    no = desk.opened["assigned"]
    still_open = await author.get(f"/tickets/{no}")
    assert still_open.status_code == 200 and "/knowledge/new" not in still_open.text
    await complete(desk.tickets, no)
    ticket = (await author.get(f"/tickets/{no}")).text
    assert f'href="/knowledge/new?ticket={no}"' in ticket, (
        "no 写入知识库 link on a completed ticket"
    )
    new = await author.get(f"/knowledge/new?ticket={no}")
    assert new.status_code == 200 and 'id="kb-new"' in new.text, new.text
    made = await post_form(
        author,
        f"/knowledge/new?ticket={no}",
        "/knowledge/new",
        ticket_no=no,
        title="",
        cause_category="installation",
        cause="排线插头未插紧",
    )
    assert made.status_code == 302, made.text
    article = int(made.headers["location"].rsplit("/", 1)[1])
    page = (await author.get(made.headers["location"])).text
    assert status_of(page) == "草稿" and flash(page).startswith("ok: 已从工单")
    assert "主轴异响，11月24日开始" in page  # the symptom: the ticket's description
    assert f"<li>{STEP_ONE}</li>" in page and "<li>扎带 × 2</li>" in page  # the work logged
    assert "首版，由工单生成" in page
    again = await post_form(
        author, f"/knowledge/new?ticket={no}", "/knowledge/new", ticket_no=no, title="再写一篇"
    )
    # the new page now points at the existing article; a forged second one: the API's words
    assert again.status_code == 409 and "已有知识文章" in again.text, again.text
    assert 'value="再写一篇"' in again.text and f"/knowledge/articles/{article}" in again.text
    done = await post_form(
        author, f"/knowledge/articles/{article}", f"/knowledge/articles/{article}/submit"
    )
    assert done.status_code == 302
    page = (await author.get(f"/knowledge/articles/{article}")).text
    assert status_of(page) == "待审核" and flash(page) == "ok: 已提交技术部审核"
    return no, article


async def test_an_article_from_a_ticket_through_review_to_search(desk_parts):
    databases, nats, clock = desk_parts
    async with open_desk(*desk_parts) as desk:
        async with desk.console() as zhang:
            await sign_in(zhang, "eng-zhang")
            no, article = await write_and_submit(desk, zhang)
        url = f"/knowledge/articles/{article}"
        clock.at(MONDAY_AFTERNOON)  # sessions of Sunday evening have ended: everyone signs in
        async with desk.console() as wu, desk.console() as zhang, desk.console() as sup:
            await sign_in(wu, "tech-wu")
            await sign_in(zhang, "eng-zhang")
            await sign_in(sup, "sup-zhang")
            queue = (await wu.get("/knowledge")).text  # 吴工's first tab: the review queue
            row = re.search(
                rf'<tr class="row article" id="article-{article}">(.*?)</tr>', queue, re.S
            )
            assert row and "张工 (eng-zhang)" in row[1] and no in row[1], queue
            assert re.search(r'class="waited"><div>4小时0\d分<', row[1]), row[1]
            assert "本版修改" in (await wu.get(url)).text

            refused = await post_form(wu, url, f"{url}/return", comment="  ")
            assert refused.status_code == 422 and "请填写退回原因" in refused.text
            returned = await post_form(wu, url, f"{url}/return", comment="请写明排线型号")
            assert (
                returned.status_code == 302
                and returned.headers["location"] == "/knowledge?tab=queue"
            )
            assert f"article-{article}" not in (await wu.get("/knowledge?tab=queue")).text

            # a supervisor sees every working copy but edits none: the service says so
            forged = await post_form(sup, url, f"{url}/edit", title="主管改的标题", symptom="x")
            assert forged.status_code == 403 and "只有作者可以修改" in forged.text, forged.text

            mine = (await zhang.get("/knowledge?tab=mine")).text
            assert "已退回" in mine and "请写明排线型号" in mine
            page = (await zhang.get(url)).text
            assert status_of(page) == "已退回" and "请写明排线型号" in page
            edited = await post_form(
                zhang,
                url,
                f"{url}/edit",
                title="操作面板偶发黑屏：排线松动",
                symptom="主轴异响，11月24日开始",
                cause_category="installation",
                cause="显示屏排线 FPC-40 插头未插紧",
                steps=f"{STEP_ONE}\n重新插紧 FPC-40 排线插头并用扎带固定\n通电试机30分钟",
                parts="扎带 × 2",
            )
            assert edited.status_code == 302, edited.text
            page = (await zhang.get(url)).text
            assert status_of(page) == "草稿" and "第 2 版" in page
            diff = re.search(r'<dl class="kb-diff" id="kb-diff">(.*?)</dl>', page, re.S)[1]
            assert "排线插头未插紧</del>" in diff and "FPC-40 插头未插紧</ins>" in diff
            assert f"{STEP_TWO}</del>" in diff and "通电试机30分钟</ins>" in diff
            assert STEP_ONE not in diff and "使用备件" not in diff  # unchanged: not listed
            submitted = await post_form(zhang, url, f"{url}/submit")
            assert submitted.status_code == 302
            stale = await post_form(zhang, url, f"{url}/edit", title="提交后再改", symptom="x")
            assert stale.status_code == 409 and "不能修改" in stale.text, stale.text  # the API's
            assert 'value="提交后再改"' in stale.text and status_of(stale.text) == "待审核"

            # the engineer's own article: the approve form is not his, and the service refuses
            forged = await post_form(zhang, url, f"{url}/approve", comment="我自己批")
            assert forged.status_code == 403 and 'id="kb-approve"' not in forged.text
            assert status_of(forged.text) == "待审核"
            approved = await post_form(wu, url, f"{url}/approve", comment="")
            assert approved.status_code == 302
            page = (await wu.get(url)).text
            assert status_of(page) == "已发布" and "第 2 版已发布" in page
            steps = re.findall(r"<strong>([^<]+)</strong> · 第 (\d) 版 · ([^<]+)<", page)
            assert [s[0] for s in steps] == [
                "起草",
                "提交审核",
                "退回修改",
                "修改",
                "提交审核",
                "审核通过",
            ]
            assert steps[2][2].strip() == "吴工 (tech-wu)" and "请写明排线型号" in page

            found = (await zhang.get("/knowledge?tab=search&q=排线插头")).text
            assert (
                "操作面板偶发黑屏：排线松动" in found and f"/knowledge/published/{article}" in found
            )
            none = (await zhang.get("/knowledge?tab=search&q=排线&cause_category=design")).text
            assert "操作面板偶发黑屏" not in none and "没有找到" in none
            async with desk.console() as agent:
                await sign_in(agent, "agent-zhou")
                hint = (await agent.get("/intake/suggestions?q=主轴异响")).text
                assert "操作面板偶发黑屏：排线松动" in hint, hint

            async with desk.console() as dealer:
                await sign_in(dealer, "dealer-chen")
                working = await dealer.get(url)
                assert working.status_code == 403 and "工作稿仅限" in working.text, working.text
                read = await dealer.get(f"/knowledge/published/{article}")
                assert read.status_code == 200 and "FPC-40" in read.text
                assert "工作稿" not in read.text
                tabs = await dealer.get("/knowledge")  # search only: no articles of a dealer's
                assert tabs.status_code == 200 and 'aria-current="page">查找<' in tabs.text
                assert "待审核" not in tabs.text and "我的文章" not in tabs.text

            async with desk.console() as wang:
                await sign_in(wang, "eng-wang")
                assert (await wang.get(url)).status_code == 404  # another's working copy

            withdrawn = await post_form(wu, url, f"{url}/withdraw", comment="型号已停产")
            assert withdrawn.status_code == 302
            assert (
                "操作面板偶发黑屏" not in (await zhang.get("/knowledge?tab=search&q=排线插头")).text
            )
            assert (await zhang.get(f"/knowledge/published/{article}")).status_code == 404


async def test_bad_addresses_and_input_get_a_message_not_a_500(desk_parts):
    async with open_desk(*desk_parts) as desk:
        async with desk.console() as qian:
            await sign_in(qian, "fin-qian")  # finance reads no knowledge base
            refused = await qian.get("/knowledge")
            assert refused.status_code == 403 and "知识库仅限" in refused.text
        async with desk.console() as zhang:
            await sign_in(zhang, "eng-zhang")
            assert (await zhang.get("/knowledge?tab=queue")).status_code == 400  # not his
            bad = await zhang.get("/knowledge?tab=search&page=0")
            assert bad.status_code == 400 and "页码" in bad.text
            bad = await zhang.get("/knowledge/new?ticket=%3Cx%3E")
            assert bad.status_code == 400 and "已完成工单" in bad.text
            still_open = await zhang.get(f"/knowledge/new?ticket={desk.opened['assigned']}")
            assert still_open.status_code == 409 and "尚未完成" in still_open.text
            missing = await zhang.get("/knowledge/articles/999999")
            assert missing.status_code == 404 and "不存在" in missing.text
            no = desk.opened["assigned"]
            await complete(desk.tickets, no)
            bad_parts = await post_form(
                zhang,
                f"/knowledge/new?ticket={no}",
                "/knowledge/new",
                ticket_no=no,
                cause="接触不良",
            )
            assert bad_parts.status_code == 302  # a draft; now a part line without a quantity
            url = bad_parts.headers["location"]
            refused = await post_form(
                zhang, url, f"{url}/edit", title="标题", symptom="现象", steps="一步", parts="扎带"
            )
            assert refused.status_code == 422 and "名称 × 数量" in refused.text
            assert 'value="标题"' in refused.text and ">扎带</textarea>" in refused.text


async def test_the_review_queue_lists_the_oldest_first_across_pages(desk_parts):
    """Six articles submitted one after another: 吴工's queue (five a page) shows the first five
    submitted on page 1 in that order and the last on page 2, though the API lists newest first."""
    async with open_desk(*desk_parts) as desk:
        ids = []
        for n in range(6):
            no = await completed_ticket(desk.tickets, f"第{n}台设备偶发报警", work=WORK)
            r = await desk.tickets.post(
                "/knowledge/articles",
                json={"ticket_no": no, "title": f"报警案例{n}", "cause": "接触不良"},
                headers=ENG,
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
            r = await desk.tickets.post(f"/knowledge/articles/{ids[-1]}/submit", headers=ENG)
            assert r.status_code == 200, r.text
        console = create_app(
            ConsoleSettings(
                local_dev=True,
                tickets_url="http://tickets.test",
                nats_url=desk_parts[1],
                page_size=5,
            ),
            transport=httpx.ASGITransport(app=desk.tickets_app),
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=console), base_url="http://console.test"
        ) as wu:
            await sign_in(wu, "tech-wu")
            first = (await wu.get("/knowledge?tab=queue")).text
            assert queued(first) == ids[:5] and "第 1 / 2 页" in first
            assert 'href="/knowledge?tab=queue&amp;page=2"' in first
            second = (await wu.get("/knowledge?tab=queue&page=2")).text
            assert queued(second) == ids[5:]
            assert queued((await wu.get("/knowledge?tab=queue&page=3")).text) == []


def queued(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="row article" id="article-(\d+)">', html)]
