"""Parts and money as an outside suite attacks them, on PostgreSQL: requests racing for one claim
or the last unit, a 5,000-row import with one bad row, amounts with three places / negative / NaN /
huge, Chinese and emoji in every free-text field, NUL and control characters, a 10 MB receipt, a
"PDF" that is a PNG and path-traversal file names. Each answer is a 2xx or a 4xx with a message a
person can act on — never a 500 and never a half-written record."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from openpyxl import Workbook, load_workbook
from parts_support import KEEPER, MANAGER, engineer, move, new_location, new_part, stock_of, uid
from sqlalchemy import func, select
from test_expenses import JPEG, PDF, PNG, receipt, tickets_of, trip
from test_money import AGENT, FINANCE, TAX_NO, deliver, opened, price_list

from aftersales_shared.db import outbox
from aftersales_testing.support import auth

ENG_A = "eng-zhang"
A = auth("engineer", sub=ENG_A, name="张工")
SUP = auth("service_supervisor", sub="sup-wang")
MGR = auth("manager", sub="mgr-li")
XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FUNNY = "主轴轴承🔧（含密封圈）"


async def events(kit: Any) -> int:
    async with kit.rt.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(outbox))).scalar_one())


def stored_files(root: Any) -> list[Any]:
    """The receipts kept in the local folder (not their metadata sidecars)."""
    return [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".meta.json")]


def meal_only(t: str, **kw: Any) -> dict[str, Any]:
    body = trip(t, t, **kw)
    body["lines"] = [line for line in body["lines"] if line["category"] == "meal_allowance"]
    return body


async def a_claim(c: Any, t: str, submitted: bool = True) -> int:
    r = await c.post("/expense-claims", json=meal_only(t), headers=A)
    assert r.status_code == 201, r.text
    cid = int(r.json()["claim_id"])
    if submitted:
        r = await c.post(f"/expense-claims/{cid}/submit", headers=A)
        assert r.status_code == 200, r.text
    return cid


def is_actionable(r: Any) -> bool:
    """A 4xx that says what was wrong: a Chinese message (with the English beside it), or the
    validator's message naming the field (`errors[].key`)."""
    if not 400 <= r.status_code < 500:
        return False
    body = r.json()
    if any("\u4e00" <= ch <= "\u9fff" for ch in str(body.get("detail", ""))):
        return True
    errors = body.get("errors") or []
    return bool(errors) and all(
        isinstance(e, str) or (e.get("key") or _chinese(e.get("message", ""))) for e in errors
    )


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


REFUSED = (400, 422)


async def test_two_approvals_of_one_claim_one_wins_the_other_is_409(make_kit, clock, tmp_path):
    clock.at("sunday-evening")
    kit = await make_kit(files_dir=str(tmp_path))
    (t,) = await tickets_of(kit, ENG_A, 1)
    async with kit.client() as c:
        cid = await a_claim(c, t)
        before = await events(kit)
        answers = await asyncio.gather(
            c.post(f"/expense-claims/{cid}/approve", headers=SUP),
            c.post(f"/expense-claims/{cid}/approve", headers=MGR),
        )
        assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
        assert all(is_actionable(r) for r in answers if r.status_code == 409)
        assert len(await kit.events("ExpenseClaimApproved")) == 1
        assert await events(kit) == before + 1
        history = (await c.get(f"/expense-claims/{cid}/history", headers=MGR)).json()
        assert [h["action"] for h in history].count("approved") == 1

        # settle racing approve on another claim: settled only if approved first, never twice
        other = await a_claim(c, t)
        pay = {"payment_reference": "PAY-20261129-07"}
        approve, settle = await asyncio.gather(
            c.post(f"/expense-claims/{other}/approve", headers=SUP),
            c.post(f"/expense-claims/{other}/settle", json=pay, headers=FINANCE),
        )
        assert approve.status_code == 200, approve.text
        assert settle.status_code in (200, 409), settle.text
        state = (await c.get(f"/expense-claims/{other}", headers=MGR)).json()["state"]
        assert state == ("settled" if settle.status_code == 200 else "approved")
        settled = [e for e in await kit.events("ExpenseClaimSettled") if e["claim_id"] == other]
        assert len(settled) == (settle.status_code == 200)


async def test_a_receipt_racing_the_submission_is_kept_only_if_it_came_first(
    make_kit, clock, tmp_path
):
    clock.at("sunday-evening")
    kit = await make_kit(files_dir=str(tmp_path))
    (t,) = await tickets_of(kit, ENG_A, 1)
    async with kit.client() as c:
        for _ in range(4):
            cid = await a_claim(c, t, submitted=False)
            submit, upload = await asyncio.gather(
                c.post(f"/expense-claims/{cid}/submit", headers=A),
                c.post(
                    f"/expense-claims/{cid}/receipts",
                    params={"filename": "餐费.png"},
                    content=PNG,
                    headers=A | {"content-type": "image/png"},
                ),
            )
            assert submit.status_code == 200, submit.text
            assert upload.status_code in (201, 409), upload.text
            claim = (await c.get(f"/expense-claims/{cid}", headers=A)).json()
            assert len(claim["receipts"]) == (upload.status_code == 201)
        # a refused upload leaves no file behind: as many files as receipts kept
        kept = 0
        for n in range(1, 5):
            kept += len((await c.get(f"/expense-claims/{n}", headers=A)).json()["receipts"])
        assert len(stored_files(tmp_path)) == kept


async def test_the_last_unit_goes_either_out_by_transfer_or_to_the_ticket_never_both(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        for round_ in range(3):
            part = (await new_part(c))["part_no"]
            van = await new_location(c, "van", engineer_id=ENG_A)
            central = await new_location(c, "central")
            await move(c, KEEPER, kind="receive", part_no=part, to_location=van, quantity=1)
            transfer, issue = await asyncio.gather(
                c.post(
                    "/movements",
                    json={
                        "kind": "transfer",
                        "part_no": part,
                        "quantity": 1,
                        "from_location": van,
                        "to_location": central,
                        "idempotency_key": uid("key-"),
                    },
                    headers=KEEPER,
                ),
                c.post(
                    "/movements",
                    json={
                        "kind": "issue",
                        "part_no": part,
                        "quantity": 1,
                        "from_location": van,
                        "ticket_no": f"SV-RACE-{round_}",
                        "idempotency_key": uid("key-"),
                    },
                    headers=engineer(ENG_A),
                ),
            )
            codes = sorted((transfer.status_code, issue.status_code))
            assert codes == [201, 409], (transfer.text, issue.text)
            loser = transfer if transfer.status_code == 409 else issue
            assert "可用库存不足" in loser.json()["detail"]
            assert (await stock_of(c, part, van))["on_hand"] == 0
            on_central = (await stock_of(c, part, central))["on_hand"]
            assert on_central == (transfer.status_code == 201)
            ledger = (await c.get("/movements", params={"part_no": part}, headers=KEEPER)).json()
            assert [m["kind"] for m in ledger["items"]] == [
                "receive",
                "transfer" if transfer.status_code == 201 else "issue",
            ]


def big_workbook(rows: int, bad_row: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("备件")
    sheet.append(["备件编号", "名称", "单位", "单价", "三包件", "适用机型", "再订货点", "再订货量"])
    for n in range(rows):
        price: object = "12,5" if n == bad_row else round(10 + n / 100, 2)
        sheet.append([f"BULK-{n:05d}", f"备件{n}号🔩", "件", price, "否", "XK-200", 0, 1])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


async def test_a_5000_row_import_with_one_bad_row_names_its_line_and_imports_nothing(make_kit):
    kit = await make_kit()
    async with kit.client() as c:
        r = await c.post("/excel/import", content=big_workbook(5000, 2999), headers=KEEPER | XLSX)
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert len(errors) == 1 and errors[0].startswith("工作表“备件”第3001行"), errors
        assert "单价" in errors[0]
        assert (await c.get("/parts", headers=KEEPER)).json()["total"] == 0
        r = await c.post("/excel/import", content=big_workbook(5000, -1), headers=KEEPER | XLSX)
        assert r.status_code == 200 and r.json()["parts_created"] == 5000, r.text
        part = (await c.get("/parts/BULK-04999", headers=KEEPER)).json()
        assert part["name"] == "备件4999号🔩" and part["unit_price"] == "59.99"


BAD_AMOUNTS = ["1.234", "-1.00", "NaN", "nan", "Infinity", "-Infinity", "1e20", "99999999999"]


async def test_bad_amounts_are_refused_everywhere_with_nothing_written(make_kit, clock, tmp_path):
    clock.at("sunday-evening")
    kit = await make_kit(files_dir=str(tmp_path))
    (t,) = await tickets_of(kit, ENG_A, 1)
    no = uid("SV-")
    assert await deliver(kit, opened(no, False))
    wrong: list[str] = []
    async with kit.client() as c:
        await price_list(c)
        part = await new_part(c)
        for amount in BAD_AMOUNTS:
            for number in (amount, _as_json_number(amount)):
                if number is None:
                    continue
                attempts = {
                    "part price": c.post(
                        "/parts",
                        json={"part_no": uid("AM-"), "name": "垫片", "unit_price": number},
                        headers=MANAGER,
                    ),
                    "part price patch": c.patch(
                        f"/parts/{part['part_no']}", json={"unit_price": number}, headers=MANAGER
                    ),
                    "price list": c.put(
                        "/price-list/SVC-AM",
                        json={"kind": "service", "name": "保养", "unit": "次", "rate": number},
                        headers=MANAGER,
                    ),
                    "cost line amount": c.post(
                        f"/tickets/{no}/cost-lines",
                        json={
                            "kind": "travel",
                            "person": ENG_A,
                            "amount": number,
                            "idempotency_key": uid("key-"),
                        },
                        headers=MANAGER,
                    ),
                    "cost line hours": c.post(
                        f"/tickets/{no}/cost-lines",
                        json={
                            "kind": "labour",
                            "person": ENG_A,
                            "quantity": number,
                            "price_code": "LAB-STD",
                            "idempotency_key": uid("key-"),
                        },
                        headers=MANAGER,
                    ),
                    "quote quantity": c.post(
                        f"/tickets/{no}/quotes",
                        json={"lines": [{"price_code": "SVC-CAL", "quantity": number}]},
                        headers=AGENT,
                    ),
                    "quote tax": c.post(
                        f"/tickets/{no}/quotes",
                        json={"lines": [{"price_code": "SVC-CAL"}], "tax_rate": number},
                        headers=AGENT,
                    ),
                    "invoice tax": c.post(
                        f"/tickets/{no}/invoice",
                        json={"buyer_name": "苏州精密", "buyer_tax_no": TAX_NO, "tax_rate": number},
                        headers=FINANCE,
                    ),
                    "expense amount": c.post(
                        "/expense-claims",
                        json=_with_amount(meal_only(t), number),
                        headers=A,
                    ),
                }
                before = await events(kit)
                for what, attempt in attempts.items():
                    r = await attempt
                    if r.status_code not in REFUSED or not is_actionable(r):
                        wrong.append(f"{what} {number!r}: {r.status_code} {r.text[:200]}")
                if await events(kit) != before:
                    wrong.append(f"{number!r}: an event was written")
        counts = {
            "parts": (await c.get("/parts", headers=KEEPER)).json()["total"],
            "claims": (await c.get("/expense-claims", headers=MGR)).json()["total"],
            "quotes": len((await c.get(f"/tickets/{no}/quotes", headers=MGR)).json()),
            "cost": (await c.get(f"/tickets/{no}/costs", headers=MGR)).json()["grand_total"],
            "price": (await c.get(f"/parts/{part['part_no']}", headers=MGR)).json()["unit_price"],
        }
    assert not wrong, "\n" + "\n".join(wrong)
    assert counts == {"parts": 1, "claims": 0, "quotes": 0, "cost": "0.00", "price": "123.45"}


def _as_json_number(text: str) -> float | None:
    """The same amount as a JSON number where JSON has one (NaN/Infinity it has not)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _with_amount(body: dict[str, Any], amount: object) -> dict[str, Any]:
    body["lines"][0]["amount"] = amount
    return body


async def test_chinese_and_emoji_in_every_free_text_field_come_back_as_written(
    make_kit, clock, tmp_path
):
    clock.at("sunday-evening")
    kit = await make_kit(files_dir=str(tmp_path))
    (t,) = await tickets_of(kit, ENG_A, 1)
    no = uid("SV-")
    assert await deliver(kit, opened(no, False))
    async with kit.client() as c:
        await price_list(c)
        part = await new_part(c, name=FUNNY, unit="套🧰", compatible_models=["XK-200😀"])
        assert (part["name"], part["unit"], part["compatible_models"]) == (
            FUNNY,
            "套🧰",
            ["XK-200😀"],
        )
        store = await new_location(c, "central", name="华东总仓🏭", region="长三角🌊")
        loc = (await c.get(f"/locations/{store}", headers=KEEPER)).json()
        assert (loc["name"], loc["region"]) == ("华东总仓🏭", "长三角🌊")
        m = await move(
            c,
            KEEPER,
            kind="receive",
            part_no=part["part_no"],
            to_location=store,
            quantity=3,
            reason="到货✅ 供应商：苏州📦",
        )
        assert m["reason"] == "到货✅ 供应商：苏州📦"
        r = await c.post(
            "/reservations",
            json={
                "part_no": part["part_no"],
                "location_id": store,
                "ticket_no": no,
                "quantity": 1,
                "note": "客户急需🚨",
            },
            headers=KEEPER,
        )
        assert r.status_code == 201 and r.json()["note"] == "客户急需🚨", r.text
        r = await c.post(
            f"/tickets/{no}/cost-lines",
            json={
                "kind": "travel",
                "person": "张工🚗",
                "amount": "63.50",
                "description": "高铁🚄 杭州东—苏州",
                "idempotency_key": uid("key-"),
            },
            headers=MANAGER,
        )
        assert r.status_code == 201, r.text
        assert (r.json()["person"], r.json()["description"]) == ("张工🚗", "高铁🚄 杭州东—苏州")
        r = await c.post(
            f"/tickets/{no}/quotes",
            json={
                "lines": [{"price_code": "SVC-CAL", "description": "校准🎯（含报告）"}],
                "note": "备件另计💴",
            },
            headers=AGENT,
        )
        assert r.status_code == 201, r.text
        assert r.json()["note"] == "备件另计💴"
        assert r.json()["lines"][0]["description"] == "校准🎯（含报告）"
        r = await c.post(
            f"/tickets/{no}/quotes/{r.json()['quote_no']}/withdraw",
            json={"reason": "重新报价🔁，遗漏工时"},
            headers=AGENT,
        )
        assert r.status_code == 200 and r.json()["withdrawal_reason"] == "重新报价🔁，遗漏工时"
        r = await c.put(
            f"/tickets/{no}/coverage",
            json={"coverage": "warranty", "reason": "主管核定✅属三包"},
            headers=SUP,
        )
        assert r.status_code == 200, r.text
        history = (await c.get(f"/tickets/{no}/coverage/history", headers=SUP)).json()
        assert history[-1]["reason"] == "主管核定✅属三包"
        r = await c.put(
            f"/tickets/{no}/coverage",
            json={"coverage": "chargeable", "reason": "复核：人为损坏🔨"},
            headers=SUP,
        )
        assert r.status_code == 200, r.text
        r = await c.post(
            f"/tickets/{no}/invoice",
            json={
                "buyer_name": "苏州精密机械有限公司🏢",
                "buyer_tax_no": TAX_NO,
                "invoice_type": "special",
                "buyer_address_phone": "苏州市工业园区星湖街1号📍 0512-88888888",
                "buyer_bank_account": "中国银行苏州分行🏦 1234567890",
            },
            headers=FINANCE,
        )
        assert r.status_code == 201 and r.json()["buyer_name"] == "苏州精密机械有限公司🏢", r.text
        body = trip(t, t, destination="江苏省苏州市🏙", purpose="主轴维修🛠", engineer_name="张工😀")
        body["lines"][0]["note"] = "高铁🚄 二等座"
        r = await c.post("/expense-claims", json=body, headers=A)
        assert r.status_code == 201, r.text
        claim = r.json()
        assert (claim["destination"], claim["purpose"], claim["engineer_name"]) == (
            "江苏省苏州市🏙",
            "主轴维修🛠",
            "张工😀",
        )
        assert claim["lines"][0]["note"] == "高铁🚄 二等座"
        cid = claim["claim_id"]
        for line_no in (1, 2):
            kept = await receipt(
                c, cid, PNG, "image/png", line_no=line_no, filename="发票🧾2026.png"
            )
            assert kept["filename"] == "发票🧾2026.png"
        got = await c.get(f"/expense-claims/{cid}/receipts/{kept['receipt_id']}", headers=A)
        assert got.status_code == 200 and got.content == PNG
        assert "filename*=UTF-8''" in got.headers["content-disposition"]
        assert (await c.post(f"/expense-claims/{cid}/submit", headers=A)).status_code == 200
        r = await c.post(
            f"/expense-claims/{cid}/reject", json={"reason": "请补住宿发票🙏"}, headers=SUP
        )
        assert r.status_code == 200 and r.json()["reject_reason"] == "请补住宿发票🙏"
        r = await c.get("/excel/ledger.xlsx", headers=KEEPER)
        assert r.status_code == 200


async def test_nul_is_refused_and_control_characters_do_not_break_the_excel_export(
    make_kit, clock, tmp_path
):
    """PostgreSQL cannot store NUL: a 400 naming the field, not a database error. Other control
    characters (an ESC from a pasted terminal line) are kept as typed, and the Excel export, which
    openpyxl refuses them in, still answers — without them."""
    clock.at("sunday-evening")
    kit = await make_kit(files_dir=str(tmp_path))
    (t,) = await tickets_of(kit, ENG_A, 1)
    no = uid("SV-")
    assert await deliver(kit, opened(no, False))
    wrong: list[str] = []
    async with kit.client() as c:
        await price_list(c)
        part = await new_part(c)
        store = await new_location(c, "central")

        def attempts(text: str) -> dict[str, Any]:
            return {
                "part name": c.post(
                    "/parts",
                    json={"part_no": uid("NUL-"), "name": text, "unit_price": "1.00"},
                    headers=MANAGER,
                ),
                "location name": c.post(
                    "/locations",
                    json={"location_id": uid("L-"), "name": text, "kind": "central"},
                    headers=MANAGER,
                ),
                "movement reason": c.post(
                    "/movements",
                    json={
                        "kind": "receive",
                        "part_no": part["part_no"],
                        "to_location": store,
                        "quantity": 1,
                        "reason": text,
                        "idempotency_key": uid("key-"),
                    },
                    headers=KEEPER,
                ),
                "quote note": c.post(
                    f"/tickets/{no}/quotes",
                    json={"lines": [{"price_code": "SVC-CAL"}], "note": text},
                    headers=AGENT,
                ),
                "claim destination": c.post(
                    "/expense-claims", json=meal_only(t, destination=text), headers=A
                ),
            }

        for what, attempt in attempts("主轴\x00轴承").items():
            r = await attempt
            if r.status_code not in REFUSED or not is_actionable(r):
                wrong.append(f"{what} NUL: {r.status_code} {r.text[:200]}")
        assert (await c.get("/parts", headers=KEEPER)).json()["total"] == 1
        escape = "主轴\x1b[31m轴承\x07"
        for what, attempt in attempts(escape).items():
            r = await attempt
            if r.status_code != 201 or "\\u001b[31m轴承\\u0007" not in r.text:
                wrong.append(f"{what} ESC: {r.status_code} {r.text[:200]}")
        for sheet in ("stock", "ledger"):
            r = await c.get(f"/excel/{sheet}.xlsx", headers=KEEPER)
            if r.status_code != 200:
                wrong.append(f"{sheet}.xlsx after an ESC: {r.status_code} {r.text[:200]}")
                continue
            cells = [
                str(v)
                for ws in load_workbook(io.BytesIO(r.content), read_only=True)
                for row in ws.iter_rows(values_only=True)
                for v in row
            ]
            if sheet == "ledger" and "主轴[31m轴承" not in cells:
                wrong.append(f"{sheet}.xlsx lost the movement reason: {cells[-12:]}")
    assert not wrong, "\n" + "\n".join(wrong)


async def test_hostile_receipts_are_refused_or_kept_harmlessly(make_kit, clock, tmp_path):
    clock.at("sunday-evening")
    files = tmp_path / "files"
    kit = await make_kit(files_dir=str(files))
    (t,) = await tickets_of(kit, ENG_A, 1)
    async with kit.client() as c:
        cid = await a_claim(c, t, submitted=False)
        ten_mb = PNG + bytes(10 * 1024 * 1024)
        r = await c.post(
            f"/expense-claims/{cid}/receipts",
            params={"filename": "大图.png"},
            content=ten_mb,
            headers=A | {"content-type": "image/png"},
        )
        assert r.status_code == 413 and is_actionable(r), r.text[:300]
        r = await c.post(
            f"/expense-claims/{cid}/receipts",
            params={"filename": "发票.pdf"},
            content=PNG,
            headers=A | {"content-type": "application/pdf"},
        )
        assert r.status_code == 422 and "PDF" in r.json()["detail"], r.text
        r = await c.post(
            f"/expense-claims/{cid}/receipts",
            params={"filename": "x.jpg"},
            content=PDF,
            headers=A | {"content-type": "image/jpeg"},
        )
        assert r.status_code == 422, r.text
        assert not stored_files(files)
        for name in ("../../../../etc/passwd", "..\\..\\windows\\system.ini", "/etc/shadow"):
            kept = await receipt(c, cid, JPEG, "image/jpeg", filename=name)
            got = await c.get(f"/expense-claims/{cid}/receipts/{kept['receipt_id']}", headers=A)
            assert got.status_code == 200 and got.content == JPEG
            disposition = got.headers["content-disposition"]
            assert "/" not in disposition.split("filename=")[1].split(";")[0], disposition
        stored = stored_files(files)
        assert len(stored) == 3 and all(p.resolve().is_relative_to(files.resolve()) for p in stored)
        assert not (tmp_path.parent / "etc").exists()
        r = await c.post(
            f"/expense-claims/{cid}/receipts",
            params={"filename": "a\r\nSet-Cookie: x=1.png"},
            content=PNG,
            headers=A | {"content-type": "image/png"},
        )
        assert r.status_code in (201, 400, 422) and is_actionable(r) or r.status_code == 201, r.text
        if r.status_code == 201:
            got = await c.get(f"/expense-claims/{cid}/receipts/{r.json()['receipt_id']}", headers=A)
            assert "set-cookie" not in got.headers
