"""The engineer roster page (`/admin/engineers`) against the real tickets service at the named
moment sunday-evening: 张主管 adds 赵工 (a landline refused in the API's words, what was typed kept;
the same sub twice refused), edits 王工's region, puts him on leave (a past last day refused), and
from then on the ticket page's picker does not offer him; she deactivates 李工, filters by region,
active and availability, searches, pages, imports a directory export (bad rows listed by line,
nothing written; then a good one) and exports. 王总 (manager) reads without forms; an engineer
and an agent get 403; a post without the CSRF token writes nothing."""

from __future__ import annotations

import io
import re

import httpx
from console_support import CSRF_FIELD, open_desk, sign_in
from openpyxl import Workbook
from tickets_helpers import SUP

from console.app import create_app
from console.settings import ConsoleSettings


def flash(html: str) -> str:
    found = re.search(r'<p class="flash flash-(\w+)[^"]*"[^>]*>([^<]*)</p>', html)
    return f"{found[1]}: {found[2]}" if found else ""


def names(html: str) -> list[str]:
    return re.findall(r'<tr id="engineer-([^"]+)"', html)


def xlsx(*rows: list) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def small_pages(desk) -> httpx.AsyncClient:
    """The console with pages of five, in front of the desk's tickets service."""
    app = create_app(
        ConsoleSettings(
            local_dev=True, tickets_url="http://tickets.test", nats_url="nats://x", page_size=5
        ),
        transport=httpx.ASGITransport(app=desk.tickets_app),
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console.test", timeout=30
    )


async def test_the_supervisor_keeps_the_roster_and_the_picker_follows(desk_parts):
    async with open_desk(*desk_parts) as desk, desk.console() as sup:
        await sign_in(sup, "sup-zhang")
        page = await sup.get("/admin/engineers")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert sorted(names(page.text)) == ["eng-li", "eng-wang", "eng-zhang"]
        assert '<a href="/admin/engineers">工程师名单</a>' in page.text  # the nav entry
        load = r'id="engineer-eng-zhang".*?在办" class="nw"><div>(\d+) 张'
        zhang = re.search(load, page.text, re.S)
        assert zhang and zhang[1] == "1", "the desk's assigned ticket counts"
        token = CSRF_FIELD.search(page.text)[1]
        zhao = {
            "_csrf_token": token,
            "id": "eng-zhao",
            "name": "赵工",
            "region": "华北·天津",
            "phone": "0571-88888888",
            "skills": "XK-200、液压系统",
        }
        refused = await sup.post("/admin/engineers/add", data=zhao)
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("text/html")
        assert "不是有效的中国大陆手机号" in flash(refused.text)
        assert 'value="赵工"' in refused.text and 'value="0571-88888888"' in refused.text
        assert '<details class="action" id="add-engineer" open>' in refused.text
        said_at_the_form = (
            r'action="/admin/engineers/add" class="form">\s*<p class="flash flash-error'
        )
        assert re.search(said_at_the_form, refused.text), "the refusal is shown where the form is"
        added = await sup.post("/admin/engineers/add", data=zhao | {"phone": "13800000009"})
        assert (added.status_code, added.headers["location"]) == (302, "/admin/engineers")
        page = (await sup.get("/admin/engineers")).text
        assert flash(page) == "ok: 已添加工程师 赵工" and "XK-200、液压系统" in page
        twice = await sup.post("/admin/engineers/add", data=zhao | {"phone": "13800000009"})
        assert twice.status_code == 422 and "已在工程师名单中" in flash(twice.text)

        edit = {"_csrf_token": token, "name": "王工", "region": "华东·常州", "phone": "13800000002"}
        edited = await sup.post("/admin/engineers/eng-wang/edit", data=edit | {"back": "/x"})
        assert edited.headers["location"] == "/admin/engineers"
        past = {"_csrf_token": token, "on_leave": "yes", "until": "2026-11-28"}
        refused = await sup.post("/admin/engineers/eng-wang/leave", data=past)
        assert refused.status_code == 422 and "已过" in flash(refused.text)
        assert 'value="2026-11-28"' in refused.text, "the date typed is kept"
        leave = past | {"until": "2026-12-04", "back": "/admin/engineers?region=华东·常州"}
        done = await sup.post("/admin/engineers/eng-wang/leave", data=leave)
        assert (
            done.headers["location"]
            == "/admin/engineers?region=%E5%8D%8E%E4%B8%9C%C2%B7%E5%B8%B8%E5%B7%9E"
        )
        page = (await sup.get(done.headers["location"])).text
        assert names(page) == ["eng-wang"] and "休假至 2026-12-04" in page
        wang = (await desk.tickets.get("/engineers/eng-wang", headers=SUP)).json()
        assert (wang["region"], wang["on_leave"]) == ("华东·常州", True)

        no = desk.opened["critical"]
        ticket_page = (await sup.get(f"/tickets/{no}")).text
        assert 'id="engineer-eng-zhang"' in ticket_page
        assert 'id="engineer-eng-wang"' not in ticket_page, "on leave: not offered"
        forged = {"engineer": "eng-wang", "_csrf_token": CSRF_FIELD.search(ticket_page)[1]}
        await sup.post(f"/tickets/{no}/actions/assign", data=forged)
        assert "所选工程师不在名单中" in (await sup.get(f"/tickets/{no}")).text
        ticket = (await desk.tickets.get(f"/tickets/{no}", headers=SUP)).json()
        assert ticket["assignee_id"] is None

        await sup.post("/admin/engineers/eng-li/deactivate", data={"_csrf_token": token})
        assert "已停用" in flash((await sup.get("/admin/engineers")).text)
        ticket_page = (await sup.get(f"/tickets/{no}")).text
        assert 'id="engineer-eng-li"' not in ticket_page
        assert names((await sup.get("/admin/engineers?active=no")).text) == ["eng-li"]
        available = names((await sup.get("/admin/engineers?available=yes")).text)
        assert sorted(available) == ["eng-zhang", "eng-zhao"]
        assert names((await sup.get("/admin/engineers?q=天津")).text) == ["eng-zhao"]
        assert (await sup.get("/admin/engineers?active=maybe")).status_code == 400
        assert (await sup.get("/admin/engineers?q=" + "x" * 61)).status_code == 400
        back = await sup.post("/admin/engineers/eng-li/reactivate", data={"_csrf_token": token})
        assert back.status_code == 302
        await sup.post("/admin/engineers/eng-wang/leave", data={"_csrf_token": token})
        assert 'id="engineer-eng-wang"' in (await sup.get(f"/tickets/{no}")).text

        no_token = await sup.post("/admin/engineers/eng-zhang/deactivate", data={})
        assert no_token.status_code == 403
        assert (await desk.tickets.get("/engineers/eng-zhang", headers=SUP)).json()["active"]


async def test_import_export_pages_and_who_may_see_the_roster(desk_parts):
    async with open_desk(*desk_parts) as desk, small_pages(desk) as sup:
        await sign_in(sup, "sup-zhang")
        token = CSRF_FIELD.search((await sup.get("/admin/engineers")).text)[1]
        bad = xlsx(
            ["账号", "姓名", "区域", "手机号"],
            ["eng-a1", "甲工", "华北·北京", "13800000011"],
            ["eng-a2", "", "华北·北京", "13800000012"],
            ["eng-a3", "丙工", "华北·北京", "010-66666666"],
        )
        files = {"file": ("名单.xlsx", bad, "application/octet-stream")}
        refused = await sup.post(
            "/admin/engineers/import", data={"_csrf_token": token}, files=files
        )
        assert refused.status_code == 422
        assert "共 2 处错误" in flash(refused.text)
        listed = re.findall(r"<li>(第\d+行)：", refused.text)
        assert listed == ["第3行", "第4行"]
        assert "eng-a1" not in (await sup.get("/admin/engineers")).text, "nothing written"
        rows = [["账号", "姓名", "区域", "手机号"]] + [
            [f"eng-b{n}", f"北{n}工", "华北·北京", f"1380000002{n}"] for n in range(5)
        ]
        files = {"file": ("名单.xlsx", xlsx(*rows), "application/octet-stream")}
        done = await sup.post("/admin/engineers/import", data={"_csrf_token": token}, files=files)
        assert done.headers["location"] == "/admin/engineers#import"
        page = (await sup.get("/admin/engineers")).text
        assert "导入完成：新增 5 人，更新 0 人，未变 0 人" in page
        first = names(page)
        assert len(first) == 5 and 'rel="next"' in page
        second = (await sup.get("/admin/engineers?page=2")).text
        assert len(names(second)) == 3 and not set(names(second)) & set(first)
        assert 'rel="prev"' in second and 'rel="next"' not in second
        north = (await sup.get("/admin/engineers?region=华北·北京")).text
        assert sorted(names(north)) == [f"eng-b{n}" for n in range(5)]
        not_xlsx = {"file": ("a.csv", b"sub,name\n", "text/csv")}
        await sup.post("/admin/engineers/import", data={"_csrf_token": token}, files=not_xlsx)
        assert "请选择 Excel 文件" in (await sup.get("/admin/engineers")).text
        exported = await sup.get("/admin/engineers/export.xlsx")
        assert exported.status_code == 200 and exported.content.startswith(b"PK")
        assert "spreadsheetml" in exported.headers["content-type"]

    async with open_desk(*desk_parts) as desk:
        async with desk.console() as boss:
            await sign_in(boss, "mgr-wang")
            page = await boss.get("/admin/engineers")
            assert page.status_code == 200 and sorted(names(page.text)) == [
                "eng-li",
                "eng-wang",
                "eng-zhang",
            ]
            assert "添加工程师" not in page.text and "/edit" not in page.text, "managers read"
            assert (await boss.get("/admin/engineers/export.xlsx")).status_code == 200
            token = CSRF_FIELD.search(page.text)[1]
            r = await boss.post("/admin/engineers/eng-li/deactivate", data={"_csrf_token": token})
            assert r.status_code == 403
        for who in ("eng-zhang", "agent-zhou"):
            async with desk.console() as other:
                await sign_in(other, who)
                assert (await other.get("/admin/engineers")).status_code == 403
                assert 'href="/admin/engineers"' not in (await other.get("/board")).text
        assert (await desk.tickets.get("/engineers/eng-li", headers=SUP)).json()["active"]
