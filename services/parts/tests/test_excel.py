"""Excel import of the part master and opening stock (errors with their sheet row, nothing
half-imported, a re-import receives nothing twice) and export of stock and the ledger."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from parts_support import KEEPER, MANAGER, engineer, new_location, stock_of, uid

XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def workbook(parts: list[list[object]], opening: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "备件"
    sheet.append(["备件编号", "名称", "单位", "单价", "三包件", "适用机型", "再订货点", "再订货量"])
    for row in parts:
        sheet.append(row)
    stock = book.create_sheet("期初库存")
    stock.append(["备件编号", "库位", "数量"])
    for row in opening:
        stock.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


async def test_import_refuses_every_bad_row_by_number_and_writes_nothing(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        store = await new_location(c, "central")
        a, b = uid("IMP-A"), uid("IMP-B")
        bad = workbook(
            [
                [a, "主轴轴承", "件", 123.45, "是", "XK-200，XK-300", 2, 10],
                [b, "", "件", "abc", "也许", None, -1, 0],
                [a, "重复", "件", 1, "否", None, 0, 1],
            ],
            [[a, store, 5], [uid("NOPE-"), store, 1], [a, "NO-SUCH-STORE", 2.5]],
        )
        r = await c.post("/excel/import", content=bad, headers=KEEPER | XLSX)
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert any(e.startswith("工作表“备件”第3行") and "名称" in e for e in errors), errors
        assert any(e.startswith("工作表“备件”第4行") and "重复" in e for e in errors), errors
        assert any(e.startswith("工作表“期初库存”第3行") and "不存在" in e for e in errors)
        assert any(e.startswith("工作表“期初库存”第4行") for e in errors), errors
        assert "未写入任何数据" in r.json()["detail"]
        assert (await c.get(f"/parts/{a}", headers=KEEPER)).status_code == 404
        assert (await c.get("/movements", headers=KEEPER)).json()["total"] == 0
        r = await c.post("/excel/import", content=b"not a workbook", headers=KEEPER | XLSX)
        assert r.status_code == 422 and ".xlsx" in r.json()["detail"]
        r = await c.post("/excel/import", content=bad, headers=engineer("eng-zhang") | XLSX)
        assert r.status_code == 403


async def test_import_then_export_stock_and_ledger(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        store = await new_location(c, "central")
        a, b = uid("IMP-A"), uid("IMP-B")
        good = workbook(
            [
                [a, "主轴轴承", "件", 123.45, "是", "XK-200，XK-300", 2, 10],
                [b, "保险丝", "只", "0.35", "否", None, None, None],
            ],
            [[a, store, 5], [b, store, 100]],
        )
        r = await c.post("/excel/import", content=good, headers=MANAGER | XLSX)
        assert r.status_code == 200, r.text
        assert r.json() == {"parts_created": 2, "parts_updated": 0, "opening_lines": 2}
        part = (await c.get(f"/parts/{a}", headers=KEEPER)).json()
        assert part["unit_price"] == "123.45" and part["warranty_part"] is True
        assert part["compatible_models"] == ["XK-200", "XK-300"] and part["reorder_point"] == 2
        # the same file again: the master is updated, the opening stock is not received twice
        r = await c.post("/excel/import", content=good, headers=MANAGER | XLSX)
        assert r.json()["parts_updated"] == 2
        assert (await stock_of(c, a, store))["on_hand"] == 5
        r = await c.get("/excel/stock.xlsx", headers=KEEPER)
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
        assert rows[0][:4] == ("备件编号", "名称", "库位", "在库")
        assert sorted((x[0], x[2], x[3]) for x in rows[1:]) == sorted(
            [(a, store, 5), (b, store, 100)]
        )
        r = await c.get("/excel/ledger.xlsx", headers=KEEPER)
        rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
        assert [(x[2], x[3], x[4]) for x in rows[1:]] == [("入库", a, 5), ("入库", b, 100)]
