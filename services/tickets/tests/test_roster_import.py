"""The roster from a directory export (.xlsx: 账号, 姓名, 区域, 手机号): all or nothing, every wrong
row named by its line; a good file adds the new and updates the known (audited); the export reads
back in; a file too large or not a workbook is refused with a message."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from tickets_helpers import SUP, tickets_app

from aftersales_testing.support import running

SEED = [{"id": "eng-zhang", "name": "张工", "region": "华东·苏州", "phone": "13800000001"}]
XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def workbook(*rows: list) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


async def _post(api, content: bytes):
    return await api.post("/engineers/import", content=content, headers={**SUP, **XLSX})


async def _roster(api) -> list[tuple[str, str, str, str, bool]]:
    listed = await api.get("/engineers", params={"include_inactive": "true"}, headers=SUP)
    return sorted((e["id"], e["name"], e["region"], e["phone"], e["active"]) for e in listed.json())


async def test_bad_rows_are_named_by_line_and_nothing_is_written(databases, streams_ready, clock):
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready, engineers=SEED)
    async with running(app) as api:
        before = await _roster(api)
        bad = workbook(
            ["账号", "姓名", "区域", "手机号"],
            ["eng-zhao", "赵工", "华北·天津", "13800000009"],  # line 2: right
            ["eng-qian", "", "华北·北京", "13800000010"],  # line 3: no name
            [],  # line 4: empty, skipped
            ["eng-sun", "孙工", "华南·广州", "0571-88888888"],  # line 5: a landline
            ["eng-zhao", "赵二", "华北", ""],  # line 6: the same sub as line 2
            ["bad sub", "周工", "", ""],  # line 7
            ["eng-wu", "吴工", "区" * 51, ""],  # line 8
        )
        r = await _post(api, bad)
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert [e.split("：", 1)[0] for e in errors] == [
            "第3行",
            "第5行",
            "第6行",
            "第7行",
            "第8行",
        ]
        assert "姓名" in errors[0] and "手机号" in errors[1] and "第2行重复" in errors[2]
        assert "未写入任何数据" in r.json()["detail"]
        assert await _roster(api) == before
        no_header = await _post(api, workbook(["eng-zhao", "赵工"]))
        assert no_header.status_code == 422 and "缺少列" in no_header.json()["detail"]
        not_xlsx = await _post(api, b"sub,name\neng-zhao,zhao\n")
        assert not_xlsx.status_code == 422 and ".xlsx" in not_xlsx.json()["detail"]
        empty = await _post(api, workbook(["账号", "姓名"]))
        assert empty.status_code == 422 and "没有工程师" in empty.json()["detail"]
        too_big = await _post(api, b"PK" + b"\0" * (1024 * 1024))
        assert too_big.status_code == 413 and "文件过大" in too_big.json()["detail"]
        assert await _roster(api) == before


async def test_a_good_file_adds_and_updates_and_the_export_reads_back(
    databases, streams_ready, clock
):
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready, engineers=SEED)
    async with running(app) as api:
        good = workbook(
            ["sub", "name", "region", "phone"],
            ["eng-zhang", "张工", "华东·常州", 13800000001],  # moved region; a number cell
            ["eng-zhao", "赵工", "华北·天津", "+86 138 0000 0009"],
        )
        r = await _post(api, good)
        assert r.status_code == 200, r.text
        assert r.json() == {"created": 1, "updated": 1, "unchanged": 0}
        assert await _roster(api) == [
            ("eng-zhang", "张工", "华东·常州", "13800000001", True),
            ("eng-zhao", "赵工", "华北·天津", "13800000009", True),
        ]
        trail = (await api.get("/engineers/eng-zhang/history", headers=SUP)).json()["items"]
        assert trail[0]["detail"] == {"changes": {"region": ["华东·苏州", "华东·常州"]}}
        await api.patch("/engineers/eng-zhao", json={"active": False}, headers=SUP)
        exported = await api.get("/engineers/export.xlsx", headers=SUP)
        assert exported.status_code == 200
        assert "filename*=UTF-8''" in exported.headers["content-disposition"]
        sheet = load_workbook(io.BytesIO(exported.content)).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert rows[0][:6] == ["账号", "姓名", "区域", "手机号", "技能", "在职"]
        assert [r[0] for r in rows[1:]] == ["eng-zhang", "eng-zhao"]
        assert rows[2][5] == "否"
        again = await _post(api, exported.content)
        assert again.status_code == 200, again.text
        assert again.json() == {"created": 0, "updated": 0, "unchanged": 2}
