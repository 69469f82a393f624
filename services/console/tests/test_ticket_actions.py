"""The ticket page's actions against the real tickets service: each form is posted with its CSRF
token as the signed-in user, the page comes back (post/redirect/get) saying what happened, the
API's own zh-CN message when it refused; only the actions the role and the state allow are shown;
a dealer's session cannot act on another dealer's ticket by URL."""

from __future__ import annotations

import re

import httpx
from console_support import open_desk, sign_in
from tickets_helpers import SUP

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def shown(html: str) -> set[str]:
    return set(re.findall(r'<details class="action" id="action-([a-z]+)"', html))


def status(html: str) -> str:
    return re.search(r"<dt>状态 <span class=\"en\">Status</span></dt><dd>([^<]+)</dd>", html)[1]


def flash(html: str) -> str:
    found = re.search(r'<p class="flash flash-(\w+)"[^>]*>([^<]*)</p>', html)
    return f"{found[1]}: {found[2]}" if found else ""


async def act(browser: httpx.AsyncClient, no: str, name: str, **form: str) -> str:
    """Post one action's form as the page carries it; follow the redirect; the page."""
    page = await browser.get(f"/tickets/{no}")
    assert page.status_code == 200, page.text
    posted = await browser.post(
        f"/tickets/{no}/actions/{name}", data={**form, "_csrf_token": CSRF.search(page.text)[1]}
    )
    assert (posted.status_code, posted.headers["location"]) == (302, f"/tickets/{no}"), posted.text
    back = await browser.get(f"/tickets/{no}")
    assert back.status_code == 200
    return back.text


async def test_desk_and_engineer_take_a_repair_from_new_to_completed(desk_parts):
    async with open_desk(*desk_parts) as desk:
        no = desk.opened["critical"]  # a repair (quality_issue), new, nobody assigned
        async with desk.console() as sup, desk.console() as eng, desk.console() as agent:
            await sign_in(sup, "sup-zhang")
            await sign_in(eng, "eng-zhang")
            await sign_in(agent, "agent-zhou")
            page = (await sup.get(f"/tickets/{no}")).text
            assert shown(page) == {
                "acknowledge",
                "assign",
                "respond",
                "progress",
                "loaner",
                "urgency",
            }
            # the engineer does not see a ticket not dispatched to him (the API's 404)
            assert (await eng.get(f"/tickets/{no}")).status_code == 404

            refused = await sup.post(f"/tickets/{no}/actions/acknowledge", data={})
            assert refused.status_code == 403 and "安全令牌" in refused.text  # no CSRF token
            assert status((await sup.get(f"/tickets/{no}")).text) == "新建"  # nothing written

            page = await act(sup, no, "acknowledge")
            assert status(page) == "已受理" and flash(page) == "ok: 已完成：受理 (acknowledge)"
            assert "acknowledge" not in shown(page)
            assert flash((await sup.get(f"/tickets/{no}")).text) == ""  # said once

            page = await act(sup, no, "assign", assignee_kind="engineer", assignee_id="")
            assert flash(page) == "error: 请填写处理人账号（如 eng-zhang）"
            page = await act(
                sup,
                no,
                "assign",
                assignee_kind="engineer",
                assignee_id="eng-zhang",
                assignee_name="张工",
                reason="就近派工",
            )
            assert status(page) == "已派工" and "张工" in page
            again = await act(sup, no, "assign", assignee_kind="engineer", assignee_id="eng-zhang")
            # the tickets API's own words
            assert flash(again) == "error: 改派需要填写原因 (a reassignment needs a reason)"
            again = await act(
                sup, no, "assign", assignee_kind="engineer", assignee_id="eng-zhang", reason="再派"
            )
            assert flash(again).startswith("error: 工单已派给eng-zhang"), flash(again)

            # an agent may not dispatch: the form is not shown and a forged post is refused
            page = (await agent.get(f"/tickets/{no}")).text
            assert "assign" not in shown(page) and "acknowledge" not in shown(page)
            page = await act(agent, no, "assign", assignee_kind="engineer", assignee_id="x")
            assert flash(page).startswith("error: 当前不能执行“派工 / 改派 (dispatch)”")

            page = (await eng.get(f"/tickets/{no}")).text
            assert shown(page) == {
                "respond",
                "onsite",
                "pause",
                "progress",
                "resolve",
                "complete",
                "loaner",
            }
            page = await act(eng, no, "pause", reason="waiting_parts", note="")
            assert flash(page) == "error: 请填写说明" and status(page) == "已派工"
            page = await act(eng, no, "pause", reason="waiting_parts", note="主轴轴承缺货")
            assert status(page) == "等待备件" and shown(page) >= {"resume", "progress"}
            assert "onsite" not in shown(page) and "计时暂停" in page
            page = await act(eng, no, "resume", note="备件已到")
            assert status(page) == "已派工"
            page = await act(eng, no, "onsite", note="")
            assert status(page) == "处理中" and "到场 (on site)" in page
            page = await act(
                eng, no, "progress", kind="action", visibility="customer", text="更换主轴轴承"
            )
            assert "更换主轴轴承" in page and flash(page).startswith("ok:")
            page = await act(eng, no, "progress", kind="parts", visibility="internal", text="领料")
            assert flash(page) == "error: 请填写所用备件的名称和数量"
            part = {"part_name": "主轴轴承", "part_quantity": "2", "fee_kind": "parts"}
            page = await act(
                eng, no, "progress", kind="parts", visibility="internal", text="领料",
                **part, fee_amount="12,5",
            )  # fmt: skip
            assert flash(page) == "error: 金额须为元，最多两位小数，例如 350 或 350.50"
            page = await act(
                eng, no, "progress", kind="parts", visibility="internal", text="领料",
                **part, fee_amount="246.90",
            )  # fmt: skip
            assert "领料 · 主轴轴承×2 · 备件费 ¥246.90" in page, page
            loaner = {"serial_no": "LN-0001", "model": "XK-200"}
            page = await act(eng, no, "loaner", **loaner, reason="")
            # no contract promised one: the tickets API's words
            assert flash(page).startswith("error: 合同未承诺备用机，需填写原因"), flash(page)
            page = await act(eng, no, "loaner", **loaner, reason="客户停线，先借备用机")
            assert "提供备用机 XK-200 LN-0001" in page and flash(page).startswith("ok:")

            form = {
                "document": "repair_sheet",
                "confirmed_by": "赵工",
                "method": "signature",
                "confirmed_at": "",
            }
            page = await act(eng, no, "complete", **form)
            assert flash(page).startswith("error: 维修/投诉工单完成时须填写故障现象")
            symptom = re.search(
                r'<select name="symptom"><option value="">—</option>'
                r'<option value="([^"]+)"',
                page,
            )[1]
            page = await act(
                eng, no, "complete", **form, symptom=symptom, cause_category="x-unknown"
            )
            assert flash(page).startswith("error: ") and status(page) == "处理中"  # API refused
            page = await act(eng, no, "complete", **form, symptom=symptom, needs_analysis="on")
            assert status(page) == "已完成", flash(page)
            assert shown(page) == set()  # an engineer cannot reopen
            assert "reopen" in shown((await sup.get(f"/tickets/{no}")).text)


async def test_a_dealer_cannot_act_on_another_dealers_ticket_by_url(desk_parts):
    async with open_desk(*desk_parts) as desk:
        other = desk.opened["dealer"]  # dealer D-T-…'s, not 陈经理's D-ZJ-01
        async with desk.console() as dealer:
            await sign_in(dealer, "dealer-chen")
            board = await dealer.get("/board")
            token = CSRF.search(board.text)[1]
            posted = await dealer.post(
                f"/tickets/{other}/actions/progress",
                data={"kind": "note", "visibility": "customer", "text": "x", "_csrf_token": token},
            )
            assert posted.status_code == 404 and desk.dealer_id not in posted.text
            unknown = await dealer.post(
                f"/tickets/{other}/actions/explode", data={"_csrf_token": token}
            )
            assert unknown.status_code == 404
        log = await desk.tickets.get(f"/tickets/{other}/progress", headers=SUP)
        assert log.status_code == 200 and log.json() == []  # nothing was written
