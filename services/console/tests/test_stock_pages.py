"""The stock pages against the real parts service: 张主管 sees stock per location with filters and
pages (5 a page), the reorder suggestion, a part's ledger, the Excel exports, and imports the part
master from an .xlsx (a workbook with a bad row: the 422 page lists 工作表“备件”第3行 and nothing
is written; then a good one). 王工 (an engineer) sees his own van and the company stores only —
张工's van by URL is a 400 page without its parts, the exports are refused; 陈经理 (a dealer) his
own store only, the other dealer's by URL refused. Bad filters are 400 pages naming the fix."""

from __future__ import annotations

import io
import re

from console_support import CSRF_FIELD, sign_in
from money_support import KEEPER, MANAGER, ok, open_shop
from openpyxl import Workbook

from aftersales_testing.support import auth

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROW = re.compile(r'<a class="no" href="/stock/ledger\?part_no=([^"&]+)')


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "备件"
    sheet.append(["备件编号", "名称", "单位", "单价", "三包件", "适用机型", "再订货点", "再订货量"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _stores(shop) -> tuple[str, str]:
    ids = []
    for dealer in ("D-ZJ-01", "D-OTHER-9"):
        store = f"DLR-{dealer}-{len(ids)}"
        body = {
            "location_id": store,
            "name": f"{dealer}经销商库",
            "kind": "dealer",
            "dealer_id": dealer,
        }
        ok(await shop.parts.post("/locations", json=body, headers=MANAGER), 201)
        move = {
            "kind": "receive",
            "part_no": shop.belt,
            "to_location": store,
            "quantity": 2,
            "idempotency_key": f"recv-{store}",
        }
        ok(await shop.parts.post("/movements", json=move, headers=KEEPER), 201)
        ids.append(store)
    central = "CENTRAL-1"
    body = {"location_id": central, "name": "苏州总仓", "kind": "central"}
    ok(await shop.parts.post("/locations", json=body, headers=MANAGER), 201)
    for n in range(3):
        part = {
            "part_no": f"MISC-{n}",
            "name": f"杂件{n}",
            "unit": "件",
            "unit_price": "1.00",
            "warranty_part": False,
            "compatible_models": [],
            "reorder_point": 0,
            "reorder_quantity": 1,
        }
        ok(await shop.parts.post("/parts", json=part, headers=MANAGER), 201)
        move = {
            "kind": "receive",
            "part_no": f"MISC-{n}",
            "to_location": central,
            "quantity": 5,
            "idempotency_key": f"recv-misc-{n}",
        }
        ok(await shop.parts.post("/movements", json=move, headers=KEEPER), 201)
    return ids[0], ids[1]


async def test_stock_for_the_keeper(desk_parts):
    async with open_shop(*desk_parts, page_size=5) as shop:
        await _stores(shop)
        issue = {
            "kind": "issue",
            "part_no": shop.bearing,
            "from_location": shop.van,
            "quantity": 2,
            "ticket_no": shop.warranty_ticket,
            "idempotency_key": "issue-two-bearings",
        }
        ok(
            await shop.parts.post(
                "/movements", json=issue, headers=auth("engineer", sub="eng-zhang")
            ),
            201,
        )
        async with shop.console() as sup:
            await sign_in(sup, "sup-zhang")
            first = await sup.get("/stock")
            assert first.status_code == 200, first.text
            # bearing (张工's van), belt ×3 (王工's van, two dealer stores), MISC ×3: 7 rows
            assert "共 7 条" in first.text and len(ROW.findall(first.text)) == 5
            assert "第 1 / 2 页" in first.text
            second = (await sup.get("/stock?page=2")).text
            assert len(ROW.findall(second)) == 2
            van = (await sup.get(f"/stock?location_id={shop.van}")).text
            assert ROW.findall(van) == [shop.bearing] and "主轴轴承" in van
            assert (
                ROW.findall((await sup.get(f"/stock?part_no={shop.belt.lower()}")).text)
                == [shop.belt] * 3
            )
            # reorder: bearing 1 left at point 1, belt 5 in all above 1
            reorder = first.text[first.text.index("补货建议") :]
            assert shop.bearing in reorder and shop.belt not in reorder
            ledger = (await sup.get(f"/stock/ledger?part_no={shop.bearing}")).text
            assert "入库" in ledger and "领用" in ledger and shop.warranty_ticket in ledger
            assert "2026-11-29 20:57" in ledger  # Beijing time
            for query, says in (
                ("location_id=NOWHERE", "没有这个库位"),
                ("part_no=a%20b", "备件编号只含"),
                ("page=0", "页码须为 1 起的整数"),
            ):
                bad = await sup.get(f"/stock?{query}")
                assert bad.status_code == 400 and says in bad.text, (query, bad.text[:300])
            assert (await sup.get("/stock/ledger")).status_code == 400
            export = await sup.get("/stock/export/stock.xlsx")
            assert export.status_code == 200 and export.content[:2] == b"PK"
            assert (await sup.get("/stock/export/ledger.xlsx")).content[:2] == b"PK"
            assert (await sup.get("/stock/export/x.csv")).status_code == 404

            token = CSRF_FIELD.search(first.text)[1]
            bad_book = workbook(
                [
                    ["IMP-OK-1", "导入件", "件", "12.50", "是", "XK-200", 1, 5],
                    ["IMP-BAD-2", "坏行", "件", "-3", "是", "XK-200", 1, 5],
                ]
            )
            r = await sup.post(
                "/stock/import",
                data={"_csrf_token": token},
                files={"file": ("备件.xlsx", bad_book, XLSX)},
            )
            assert r.status_code == 422 and "工作表“备件”第3行" in r.text, r.text[:500]
            assert "未写入任何数据" in r.text
            assert (await shop.parts.get("/parts/IMP-OK-1", headers=KEEPER)).status_code == 404
            r = await sup.post(
                "/stock/import",
                data={"_csrf_token": token},
                files={"file": ("notes.txt", b"hello", "text/plain")},
            )
            assert "请选择 Excel 文件" in (await sup.get("/stock")).text
            good = workbook([["IMP-OK-1", "导入件", "件", "12.50", "是", "XK-200", 1, 5]])
            await sup.post(
                "/stock/import",
                data={"_csrf_token": token},
                files={"file": ("备件.xlsx", good, XLSX)},
            )
            assert "导入完成：新建备件 1 个" in (await sup.get("/stock")).text
            assert (await shop.parts.get("/parts/IMP-OK-1", headers=KEEPER)).status_code == 200


async def test_an_engineer_and_a_dealer_see_only_their_own(desk_parts):
    async with open_shop(*desk_parts) as shop:
        ours, theirs = await _stores(shop)
        async with shop.console() as eng:
            await sign_in(eng, "eng-wang")
            own = await eng.get("/stock")
            assert own.status_code == 200
            assert ROW.findall(own.text) == [shop.belt] and shop.bearing not in own.text
            assert shop.van not in own.text and ours not in own.text  # not in his filter either
            central = ROW.findall((await eng.get("/stock?location_id=CENTRAL-1")).text)
            assert central == ["MISC-0", "MISC-1", "MISC-2"]
            for path in (
                f"/stock?location_id={shop.van}",
                f"/stock/ledger?part_no={shop.bearing}&location_id={shop.van}",
            ):
                r = await eng.get(path)
                assert r.status_code == 400 and shop.bearing not in r.text, path
            ledger = (await eng.get(f"/stock/ledger?part_no={shop.belt}")).text
            assert shop.other_van in ledger and ours not in ledger  # his van's lines only
            assert (await eng.get("/stock/export/stock.xlsx")).status_code == 403
            r = await eng.post(
                "/stock/import",
                data={"_csrf_token": CSRF_FIELD.search(own.text)[1]},
                files={"file": ("b.xlsx", workbook([]), XLSX)},
            )
            assert r.status_code == 403
            assert "补货建议" not in own.text
        async with shop.console() as dealer:
            await sign_in(dealer, "dealer-chen")
            mine = await dealer.get("/stock")
            assert mine.status_code == 200 and ROW.findall(mine.text) == [shop.belt]
            assert ours in mine.text and theirs not in mine.text and shop.van not in mine.text
            r = await dealer.get(f"/stock?location_id={theirs}")
            assert r.status_code == 400 and "D-OTHER-9经销商库" not in r.text
            ledger = (await dealer.get(f"/stock/ledger?part_no={shop.belt}")).text
            assert ours in ledger and theirs not in ledger and shop.other_van not in ledger
        async with shop.console() as agent:
            await sign_in(agent, "agent-zhou")
            assert (await agent.get("/stock")).status_code == 403
