"""The technical department's fault analysis (`/quality/faults`), the fault catalogue
(`/quality/catalogue`) and the quality audit trail (`/quality/audit`) against the real tickets
service: 吴工 (technical) lands on 待分析, sees the overdue one under 已逾期, filters by cause,
product line, symptom, failed part and business day (Beijing, not UTC); a finding refused by the
API comes back in its words with what was typed, a good one takes the ticket out of 待分析. The
catalogue: added (a duplicate refused with the values kept), renamed, deactivated (greyed, never
deleted), reactivated, and each change in the audit trail in words. A manager reads without forms;
an agent reads but may not analyse; a dealer, an engineer and finance get 403."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from console_support import CSRF_FIELD, open_desk, sign_in
from quality_support import TECH, completed, open_lab
from tickets_helpers import entitle, uid

from aftersales_shared.calendars import builtin_calendar
from console import quality, quality_catalogue

SH = ZoneInfo("Asia/Shanghai")


def row(html: str, no: str) -> str:
    """The list's row of one ticket ("" when it is not listed)."""
    found = re.search(rf'<tr class="row fault" id="fault-{re.escape(no)}">(.*?)</tr>', html, re.S)
    return found[1] if found else ""


def listed(html: str) -> set[str]:
    return set(re.findall(r'<tr class="row fault" id="fault-([^"]+)"', html))


def flash(html: str) -> str:
    found = re.search(r'<p class="flash flash-(\w+)[^"]*"[^>]*>([^<]*)</p>', html)
    return f"{found[1]}: {found[2]}" if found else ""


def test_the_deadline_counts_working_time_on_the_calendar_with_its_make_up_days():
    calendar = builtin_calendar("default", "Asia/Shanghai")  # 9-12, 13-18 on working days
    fault = {"needs_analysis": True, "analysis_due_at": "2026-10-10T10:00:00Z"}  # 18:00 SH
    # Friday 9 October 17:00 → Saturday 10 October 18:00, a 调休 working day after 国庆
    left = quality.deadline(fault, calendar, datetime(2026, 10, 9, 17, 0, tzinfo=SH))
    assert (left["text"], left["at"], left["band"]) == (
        "剩余工作时间 9小时00分",
        "2026-10-10 18:00",
        "ok",
    )
    # 30 September 17:00: a week of holiday between, two working days after it
    left = quality.deadline(
        fault | {"analysis_due_at": "2026-10-09T10:00:00Z"},
        calendar,
        datetime(2026, 9, 30, 17, 0, tzinfo=SH),
    )
    assert left["text"] == "剩余工作时间 17小时00分"
    late = quality.deadline(fault, calendar, datetime(2026, 10, 11, 20, 30, tzinfo=SH))
    assert (late["text"], late["band"]) == ("已逾期 1天2小时", "risk")
    assert quality.deadline(fault | {"needs_analysis": False}, calendar, datetime.now(SH)) == {}


def test_the_audit_trail_in_words():
    entry = {
        "entity": "engineer",
        "entity_id": "eng-wang",
        "action": "updated",
        "actor": "sup-zhang",
        "at": "2026-11-29T12:57:00Z",
        "detail": {"changes": {"region": ["华北·天津", "华东·杭州"], "active": [True, False]}},
    }
    said = quality_catalogue.audit_row(entry, SH)
    assert (said["entity_zh"], said["action_zh"], said["actor_zh"]) == ("工程师", "修改", "张主管")
    assert said["said"] == ["区域：华北·天津 → 华东·杭州", "在职：是 → 否"]
    assert said["at_label"] == "2026-11-29 20:57"
    made = quality_catalogue.audit_row(
        entry
        | {"entity": "part", "action": "created", "actor": "migration:0007"}
        | {"detail": {"product_line": "*", "name": "轴承"}},
        SH,
    )
    assert made["said"] == ["产品线：通用（所有产品线）", "名称：轴承"]
    assert made["actor_zh"] == "系统初始数据"


async def test_technical_finds_analyses_and_the_ticket_leaves_the_queue(desk_parts):
    async with open_lab(*desk_parts) as lab, lab.desk.console() as wu:
        no = lab.no
        await sign_in(wu, "tech-wu")
        landed = await wu.get("/")
        assert landed.status_code in (302, 303) and landed.headers["location"] == "/quality/faults"
        page = await wu.get("/quality/faults")
        assert page.status_code == 200, page.text
        assert listed(page.text) == {no["late"], no["todo"], no["blank"]}, "待分析 by default"
        todo = row(page.text, no["todo"])
        assert "主轴异响" in todo and lab.symptom not in todo, "the symptom's name, not its code"
        assert "XK-200" in todo and "剩余工作时间" in todo and "待分析" in todo
        assert f'href="/tickets/{no["todo"]}"' in todo
        assert f'href="/quality/faults/{no["todo"]}?back=' in todo
        ticket = (await wu.get(f"/tickets/{no['todo']}")).text  # and back from the ticket
        assert f'href="/quality/faults/{no["todo"]}"' in ticket.split('id="quality-links"')[1]
        assert "已逾期 3天2小时" in row(page.text, no["late"]), "its deadline passed on 26 November"

        overdue = await wu.get("/quality/faults", params={"tab": "overdue"})
        assert listed(overdue.text) == {no["late"]}
        everything = await wu.get("/quality/faults", params={"tab": "all"})
        assert listed(everything.text) == set(no.values())
        done = row(everything.text, no["done"])
        assert "正常磨损" in done and "漏油/渗漏" in done and "密封件" in done
        assert "2026-11-24 07:30" in done and "wear" not in done

        async def found(**filters: str) -> set[str]:
            r = await wu.get("/quality/faults", params={"tab": "all", **filters})
            assert r.status_code == 200, r.text
            return listed(r.text)

        assert await found(cause_category="wear") == {no["done"]}
        assert await found(cause_category="design") == set()
        assert await found(symptom=lab.symptom) == {no["todo"]}
        assert await found(failed_part="SEAL") == {no["done"]}
        assert await found(product_line="XK") == set(no.values())
        assert await found(product_line="HT") == set()
        # classified at 07:30 in Beijing on the 24th: that business day, not the UTC one
        day = {"classified_from": "2026-11-24", "classified_to": "2026-11-24"}
        assert await found(**day) == {no["done"]}
        assert await found(classified_from="2026-11-23", classified_to="2026-11-23") == set()
        for bad in ({"classified_from": "2026-13-01"}, {"tab": "nope"}, {"symptom": "a b"}):
            r = await wu.get("/quality/faults", params=bad)
            assert r.status_code == 400 and "text/html" in r.headers["content-type"], r.text

        # a finding the API refuses: no symptom was recorded and none is given
        form = await wu.get(f"/quality/faults/{no['blank']}")
        assert form.status_code == 200, form.text
        assert f'href="/corrective/new?ticket={no["blank"]}"' in form.text
        assert "主轴异响" in form.text and "吊钩" not in form.text, "the XK entries only"
        token = CSRF_FIELD.search(form.text)[1]
        typed = {
            "_csrf_token": token,
            "cause_category": "design",
            "symptom": "",
            "failed_part": lab.part,
            "cause_detail": "主轴设计余量不足",
            "back": "/quality/faults",
        }
        refused = await wu.post(f"/quality/faults/{no['blank']}", data=typed)
        assert refused.status_code == 422, refused.text
        assert "缺少故障现象" in refused.text
        assert ">主轴设计余量不足</textarea>" in refused.text
        assert '<option value="design" selected>' in refused.text
        assert f'<option value="{lab.part}" selected>' in refused.text
        api = lab.desk.tickets
        fault = (await api.get(f"/tickets/{no['blank']}/fault", headers=TECH)).json()
        assert fault["needs_analysis"] is True, "nothing written"

        # another line's part, slipped past the form: the API's words
        wrong = typed | {"symptom": lab.symptom, "failed_part": lab.other_part}
        refused = await wu.post(f"/quality/faults/{no['blank']}", data=wrong)
        assert refused.status_code == 422 and "产品线HT" in refused.text, refused.text

        back = "/quality/faults?tab=todo"
        good = typed | {"symptom": "", "cause_category": "manufacturing_batch", "back": back}
        saved = await wu.post(f"/quality/faults/{no['todo']}", data=good)
        assert saved.status_code in (302, 303), saved.text
        assert saved.headers["location"] == back
        after = await wu.get(back)
        assert "已保存工单" in flash(after.text) and no["todo"] in flash(after.text)
        assert listed(after.text) == {no["late"], no["blank"]}, "it left 待分析"
        fault = (await api.get(f"/tickets/{no['todo']}/fault", headers=TECH)).json()
        assert (fault["cause_category"], fault["failed_part_code"]) == (
            "manufacturing_batch",
            lab.part,
        )
        assert fault["symptom_code"] == lab.symptom, "the recorded symptom kept"
        assert fault["classified_by"] == "tech-wu" and fault["classified_via"] == "analysis"
        everything = await wu.get("/quality/faults", params={"tab": "all"})
        assert "制造/批次" in row(everything.text, no["todo"])


async def test_the_catalogue_is_kept_by_technical_and_the_audit_trail_says_so(desk_parts):
    async with open_lab(*desk_parts) as lab, lab.desk.console() as wu:
        await sign_in(wu, "tech-wu")
        page = await wu.get("/quality/catalogue", params={"product_line": "XK"})
        assert page.status_code == 200, page.text
        assert f'id="entry-{lab.symptom}"' in page.text and 'id="entry-NOISE"' not in page.text
        token = CSRF_FIELD.search(page.text)[1]
        back = "/quality/catalogue?kind=parts&product_line=XK"
        twice = {
            "_csrf_token": token,
            "code": lab.part.lower(),
            "product_line": "XK",
            "name": "主轴轴承（重复）",
            "back": back,
        }
        refused = await wu.post("/quality/catalogue/parts/add", data=twice)
        assert refused.status_code == 409, refused.text
        assert "已存在" in refused.text
        assert 'value="主轴轴承（重复）"' in refused.text
        assert '<details class="action" id="add-entry" open>' in refused.text
        bad_line = twice | {"code": "XK-GEAR", "product_line": "X K"}
        refused = await wu.post("/quality/catalogue/parts/add", data=bad_line)
        assert refused.status_code == 422 and "产品线不含空格" in refused.text

        code = f"XK-GEAR-{lab.part[-8:]}"
        new = twice | {"code": code, "name": "齿轮", "description": "变速箱齿轮"}
        added = await wu.post("/quality/catalogue/parts/add", data=new)
        assert added.status_code in (302, 303) and added.headers["location"] == back
        shown = await wu.get(back)
        assert "已添加故障部件「齿轮」" in flash(shown.text)
        assert f'id="entry-{code}"' in shown.text and "变速箱齿轮" in shown.text

        base = f"/quality/catalogue/parts/{code}"
        kept = {"_csrf_token": token, "back": back}
        renamed = await wu.post(f"{base}/edit", data=kept | {"name": "主减速齿轮"})
        assert renamed.status_code in (302, 303), renamed.text
        empty = await wu.post(f"{base}/edit", data=kept | {"name": " "})
        assert empty.status_code == 422 and "请填写名称" in empty.text
        assert (await wu.post(f"{base}/deactivate", data=kept)).status_code in (302, 303)
        greyed = await wu.get(back)
        assert re.search(rf'<tr id="entry-{code}" class="inactive">.*?已停用', greyed.text, re.S)
        assert f"{base}/reactivate" in greyed.text
        entry = await lab.desk.tickets.get(f"/fault-catalogue/parts/{code}", headers=TECH)
        assert entry.json()["active"] is False and entry.json()["name"] == "主减速齿轮"
        assert (await wu.post(f"{base}/reactivate", data=kept)).status_code in (302, 303)
        assert (await wu.post(f"{base}/delete", data=kept)).status_code == 404

        trail = await wu.get("/quality/audit", params={"entity": "part", "entity_id": code})
        assert trail.status_code == 200, trail.text
        actions = re.findall(r'data-label="操作"><div>([^<]+)</div>', trail.text)
        assert actions == ["重新启用", "停用", "修改", "新增"], actions
        assert "名称：齿轮 → 主减速齿轮" in trail.text and "启用：是 → 否" in trail.text
        assert "故障部件" in trail.text and "deactivated" not in trail.text
        by = re.findall(r'data-label="操作人"><div>([^<]+)</div>', trail.text)
        assert by == ["吴工"] * 4, by
        r = await wu.get("/quality/audit", params={"entity": "nope"})
        assert r.status_code == 400


async def test_who_may_read_and_who_may_analyse(desk_parts):
    async with open_lab(*desk_parts) as lab:
        no = lab.no["blank"]
        pages = ("/quality/faults", f"/quality/faults/{no}", "/quality/catalogue", "/quality/audit")
        for sub in ("dealer-chen", "eng-zhang", "fin-qian"):
            async with lab.desk.console() as someone:
                await sign_in(someone, sub)
                for path in pages:
                    r = await someone.get(path)
                    assert r.status_code == 403, (sub, path, r.text)
                    assert "故障分析仅限技术部" in r.text
                    assert 'href="/quality/faults">故障分析' not in r.text, "nor in the nav"
        async with lab.desk.console() as wang:  # a manager reads, without forms
            await sign_in(wang, "mgr-wang")
            for path in pages:
                r = await wang.get(path)
                assert r.status_code == 200, (path, r.text)
                assert 'method="post"' not in r.text.split("</header>")[1], path
        async with lab.desk.console() as zhou:  # an agent reads, may not analyse
            await sign_in(zhou, "agent-zhou")
            page = await zhou.get(f"/quality/faults/{no}")
            assert page.status_code == 200 and "保存分析" not in page.text
            token = CSRF_FIELD.search(page.text)[1]
            r = await zhou.post(
                f"/quality/faults/{no}", data={"_csrf_token": token, "cause_category": "wear"}
            )
            assert r.status_code == 403 and "仅技术部和客服主管" in r.text
        async with lab.desk.console() as zhang:  # a supervisor analyses
            await sign_in(zhang, "sup-zhang")
            page = await zhang.get(f"/quality/faults/{lab.no['late']}")
            token = CSRF_FIELD.search(page.text)[1]
            r = await zhang.post(
                f"/quality/faults/{lab.no['late']}",
                data={"_csrf_token": token, "cause_category": "transport"},
            )
            assert r.status_code in (302, 303), r.text
            fault = await lab.desk.tickets.get(f"/tickets/{lab.no['late']}/fault", headers=TECH)
            assert fault.json()["cause_category"] == "transport"


async def test_each_row_counts_working_time_on_its_own_tickets_calendar(desk_parts):
    """A repair on a 24x7 contract left to analysis on Sunday evening: its three working days are
    72 hours on its calendar, while one on the default calendar has not started counting (its
    first working hour is Monday 09:00: three days of 8 hours)."""
    databases, nats_url, clock = desk_parts
    async with open_desk(databases, nats_url, clock) as desk, desk.console() as wu:
        clock.at("sunday-evening")
        serial = f"SN-{uid()}"
        await entitle(desk.tickets_app, f"HT-{uid()}", [serial], calendar="24x7")
        always = await completed(desk.tickets, {"needs_analysis": True}, serial_no=serial)
        office = await completed(desk.tickets, {"needs_analysis": True})
        await sign_in(wu, "tech-wu")
        page = await wu.get("/quality/faults")
        assert page.status_code == 200, page.text
        assert "剩余工作时间 71小时" in row(page.text, always), row(page.text, always)
        assert "剩余工作时间 24小时00分" in row(page.text, office), row(page.text, office)
