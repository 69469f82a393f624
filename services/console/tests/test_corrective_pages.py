"""Corrective and preventive actions (纠正/预防措施) through the console's pages against the real
tickets service, at the named moment sunday-evening (Sunday 29 November 2026, 20:57 Beijing): 吴工
(技术部) opens an action from a ticket (the form prefilled from ?ticket=), a due date on a Sunday
refused with tickets' words and what was typed kept; 孙师傅 (交付部门) finds it under 我的部门,
starts it, says what was done; 吴工 rejects it with a reason, 孙师傅 does it again, 吴工 verifies
it. An action 吴工 did himself offers him no verify and a forced one shows tickets' refusal;
王总 verifies it. A missed due date puts an action under 已逾期. Dealers, engineers and finance
get the console's 403 page; delivery may not open actions and tickets' refusal of a forced
verification is shown."""

from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from console_support import CSRF_FIELD, open_desk, sign_in
from test_knowledge import completed_ticket
from tickets_helpers import drain, time_machine

from aftersales_testing.support import auth
from console.corrective import ActionQuery
from console.http.corrective import _listed

SH = ZoneInfo("Asia/Shanghai")
ACTION = re.compile(r"/corrective/(CA-[0-9A-Z-]+)$")


def csrf(html: str) -> str:
    return CSRF_FIELD.search(html)[1]


def form(token: str, ticket: str, **kw: str) -> dict[str, str]:
    return {
        "_csrf_token": token,
        "kind": "corrective",
        "title": "加严密封件来料检验",
        "description": "密封圈批次硬度不足，渗漏",
        "owner_department": "delivery",
        "owner_id": "",
        "ticket_nos": ticket,
        "cause_category": "material_supplier",
        "product_line": "",
        "symptom": "",
        "failed_part": "",
        "due_date": "",
        "due_working_days": "3",
        **kw,
    }


async def create(client, token: str, ticket: str, **kw: str) -> str:
    r = await client.post("/corrective", data=form(token, ticket, **kw))
    assert r.status_code in (302, 303), r.text
    return ACTION.search(r.headers["location"])[1]


async def step(client, no: str, name: str, **fields: str) -> object:
    page = (await client.get(f"/corrective/{no}")).text
    return await client.post(f"/corrective/{no}/{name}", data={"_csrf_token": csrf(page), **fields})


async def test_from_a_ticket_to_verified_with_a_rejection_between(desk_parts):
    async with open_desk(*desk_parts) as desk:
        ticket = desk.opened["critical"]
        async with desk.console() as tech, desk.console() as dlv:
            await sign_in(tech, "tech-wu")
            page = (await tech.get(f"/corrective/new?ticket={ticket}")).text
            assert f'name="ticket_nos" maxlength="1700" value="{ticket}"' in page
            assert f'<a href="/tickets/{ticket}">{ticket}</a>' in page
            token = csrf(page)

            # a Sunday is no due date: tickets' words, and everything typed is still there
            sunday = form(token, ticket, due_date="2026-12-06", due_working_days="")
            r = await tech.post("/corrective", data=sunday)
            assert r.status_code == 422, r.text
            assert "2026-12-06不是工作日，下一个工作日是2026-12-07" in r.text
            assert 'value="加严密封件来料检验"' in r.text and "密封圈批次硬度不足" in r.text
            assert '<option value="delivery" selected>' in r.text
            assert 'value="2026-12-06"' in r.text
            r = await tech.post("/corrective", data=form(token, "SV-NO-SUCH-1"))
            assert "工单不存在: SV-NO-SUCH-1" in r.text and r.status_code == 422

            no = await create(tech, token, ticket)
            page = (await tech.get(f"/corrective/{no}")).text
            assert f"已创建措施 {no}" in page and "纠正措施 · 待处理" in page
            # three working days from Sunday evening: Monday, Tuesday, Wednesday's close
            assert "2026-12-02 下班前" in page and "还剩 3 个工作日" in page
            assert "交付部门" in page and f'工单 <a href="/tickets/{ticket}">' in page
            assert 'id="step-start"' not in page  # 技术部 does not work on delivery's actions

            await sign_in(dlv, "dlv-sun")
            mine = (await dlv.get("/corrective")).text  # 我的部门 by default
            assert f'href="/corrective/{no}"' in mine and "交付部门" in mine
            assert '<option value="delivery" selected>交付部门（我的部门）' in mine
            row = re.search(rf'id="action-{no}">(.*?)</tr>', mine, re.S)[1]
            assert "纠正措施" in row and "待处理" in row and "还剩 3 个工作日" in row
            assert (await dlv.get("/corrective/new")).status_code == 403
            others = (await dlv.get("/corrective?dept=sales")).text
            assert f'href="/corrective/{no}"' not in others

            page = (await dlv.get(f"/corrective/{no}")).text
            assert 'id="step-start"' in page and 'id="step-verify"' not in page
            r = await step(dlv, no, "start", note="已通知供应商")
            assert r.status_code in (302, 303), r.text
            page = (await dlv.get(f"/corrective/{no}")).text
            assert "已开始处理" in page and "进行中" in page and 'id="step-done"' in page
            r = await step(dlv, no, "done", result="  ")
            assert r.status_code == 422 and "请填写完成情况" in r.text
            await step(dlv, no, "done", result="来料全检一周")
            page = (await dlv.get(f"/corrective/{no}")).text
            assert "已完成待验证" in page and "来料全检一周" in page and 'id="steps"' not in page
            # forced: delivery may not verify — tickets' refusal on the page
            r = await step(dlv, no, "verify", note="")
            assert r.status_code == 403 and "this action needs one of the roles" in r.text
            assert "已完成待验证" in r.text  # the action's page, the refusal on it

            page = (await tech.get(f"/corrective/{no}")).text
            assert 'id="step-verify"' in page and 'id="step-reject"' in page
            r = await step(tech, no, "reject", reason="")
            assert r.status_code == 422 and "请填写退回原因" in r.text
            await step(tech, no, "reject", reason="抽检仍有渗漏")
            page = (await tech.get(f"/corrective/{no}")).text
            assert "已退回，措施回到进行中" in page and "<dd>1 次</dd>" in page
            assert "上次完成情况（未通过验证）" in page and 'id="step-done"' not in page

            await step(dlv, no, "done", result="更换供应商，来料全检")
            await step(tech, no, "verify", note="连续三批合格")
            page = (await tech.get(f"/corrective/{no}")).text
            assert "纠正措施 · 已验证" in page and 'id="steps"' not in page
            history = page.split('id="history-title"')[1]
            # each step by name and sign-in id: 吴工 (tech-wu)
            said = re.findall(r"<strong>(.*?)</strong> · \w+ \(([\w-]+)\)", history)
            assert said == [
                ("创建", "tech-wu"),
                ("开始处理", "dlv-sun"),
                ("完成，待验证", "dlv-sun"),
                ("验证未通过，退回", "tech-wu"),
                ("完成，待验证", "dlv-sun"),
                ("验证有效，关闭", "tech-wu"),
            ]
            assert "抽检仍有渗漏" in history and "连续三批合格" in history
            done = (await tech.get(f"/corrective?tab=all&ticket={ticket}")).text
            assert "已验证" in done and f'id="action-{no}"' in done
            assert f'id="action-{no}"' not in (await tech.get("/corrective?tab=verify")).text


async def test_the_doer_is_not_offered_verification_and_a_forced_one_is_refused(desk_parts):
    async with open_desk(*desk_parts) as desk:
        ticket = desk.opened["question"]
        async with desk.console() as tech, desk.console() as boss:
            await sign_in(tech, "tech-wu")
            page = (await tech.get(f"/corrective/new?complaint={ticket}")).text
            assert f'<a href="/complaints/{ticket}">{ticket}</a>' in page
            assert '<option value="service" selected>' in page  # a complaint: 客服部 by default
            no = await create(
                tech, csrf(page), ticket, kind="preventive", owner_department="technical"
            )
            await step(tech, no, "start")
            await step(tech, no, "done", result="修订操作手册第3章")
            page = (await tech.get(f"/corrective/{no}")).text
            assert "预防措施 · 已完成待验证" in page
            assert 'id="step-verify"' not in page and 'id="step-reject"' not in page
            assert "此措施由您完成，须由他人验证" in page
            r = await step(tech, no, "verify", note="自己验证")
            assert r.status_code == 409
            assert f"措施{no}须由完成人以外的人验证" in r.text
            r = await step(tech, no, "reject", reason="自己退回")
            assert r.status_code == 409 and "完成人以外" in r.text

            await sign_in(boss, "mgr-wang")
            page = (await boss.get(f"/corrective/{no}")).text
            assert 'id="step-verify"' in page
            r = await step(boss, no, "verify", note="已抽查")
            assert r.status_code in (302, 303)
            assert "已验证" in (await boss.get(f"/corrective/{no}")).text


async def test_the_form_is_prefilled_from_the_tickets_fault(desk_parts):
    async with open_desk(*desk_parts) as desk:
        no = await completed_ticket(desk.tickets, "主轴漏油", desk.serial_no)
        finding = {"cause_category": "material_supplier", "cause_detail": "密封圈批次硬度不足"}
        tech = auth("technical", sub="tech-wu")
        r = await desk.tickets.post(f"/tickets/{no}/fault-analysis", json=finding, headers=tech)
        assert r.status_code == 200, r.text
        line = r.json()["product_line"]
        async with desk.console() as client:
            await sign_in(client, "tech-wu")
            page = (await client.get(f"/corrective/new?ticket={no}")).text
            assert '<option value="material_supplier" selected>材料/供应商</option>' in page
            assert ">密封圈批次硬度不足</textarea>" in page
            assert 'name="symptom" maxlength="40" size="10" value="OTHER"' in page
            assert f'name="product_line" maxlength="40" size="8" value="{line or ""}"' in page
            assert (
                'name="due_working_days" inputmode="numeric" maxlength="3" size="4" value="10"'
                in page
            )


async def test_a_missed_due_date_is_listed_under_overdue(desk_parts, clock):
    async with open_desk(*desk_parts) as desk:
        ticket = desk.opened["assigned"]
        async with desk.console() as tech:
            await sign_in(tech, "tech-wu")
            token = csrf((await tech.get("/corrective/new")).text)
            late = await create(tech, token, ticket, due_working_days="1", title="复核装配工艺")
            later = await create(tech, token, ticket, due_working_days="10")
        # Monday 30 November closes at 18:00; Wednesday 2 December 10:00 it is two days late
        now = clock.at(datetime(2026, 12, 2, 10, 0, tzinfo=SH))
        await drain(time_machine(desk.tickets_app, now))
        async with desk.console() as tech:
            await sign_in(tech, "tech-wu")
            listed = (await tech.get(f"/corrective?tab=overdue&ticket={ticket}")).text
            assert f'id="action-{late}"' in listed and f'id="action-{later}"' not in listed
            row = re.search(rf'id="action-{late}">(.*?)</tr>', listed, re.S)[1]
            assert "已逾期 2 个工作日" in row and "2026-11-30" in row
            active = (await tech.get(f"/corrective?ticket={ticket}")).text
            assert f'id="action-{late}"' in active and f'id="action-{later}"' in active
            assert "2026-12-11" in active and "还剩 7 个工作日" in active
            page = (await tech.get(f"/corrective/{late}")).text
            assert '<span class="badge overdue">逾期</span>' in page
            assert "<strong>逾期</strong> · 系统" in page


async def test_roles_without_actions_get_the_refusal_page(desk_parts):
    async with open_desk(*desk_parts) as desk:
        for sub in ("dealer-chen", "eng-zhang", "fin-qian"):
            async with desk.console() as client:
                await sign_in(client, sub)
                for path in ("/corrective", "/corrective/new", "/corrective/CA-20261129-ABCDEF"):
                    r = await client.get(path)
                    assert r.status_code == 403, (sub, path)
                    assert "纠正/预防措施" in r.text or "新建纠正/预防措施" in r.text
                token = csrf(r.text)  # the refusal page's sign-out form carries one
                r = await client.post("/corrective", data=form(token, "X"))
                assert r.status_code == 403 and "只有技术部" in r.text
                r = await client.post("/corrective/CA-1/start", data={"_csrf_token": token})
                assert r.status_code == 403 and "公司内部相关部门" in r.text
        async with desk.console() as client:
            r = await client.get("/corrective")
            assert r.status_code in (302, 303) and "/login" in r.headers["location"]


class _Pages:
    """The tickets API's answers to the list: 7 open, 4 in progress, paged by limit/offset."""

    def __init__(self) -> None:
        self.settings = SimpleNamespace(page_size=5)
        self.rows = {
            "open": [f"o{i}" for i in range(7)],
            "in_progress": [f"p{i}" for i in range(4)],
        }

    async def get(self, service, path, token, params):
        rows = self.rows[params["status"]]
        cut = rows[params["offset"] : params["offset"] + params["limit"]]
        return {"items": [{"action_no": n} for n in cut], "total": len(rows)}


async def test_a_tab_of_two_statuses_pages_across_both():
    user = SimpleNamespace(token="t")
    seen = []
    for page in (1, 2, 3):
        items, total = await _listed(_Pages(), user, ActionQuery(page=page))
        assert total == 11
        seen.append([i["action_no"] for i in items])
    assert seen == [
        ["o0", "o1", "o2", "o3", "o4"],
        ["o5", "o6", "p0", "p1", "p2"],
        ["p3"],
    ]
