"""Excel: import the part master and opening stock from one .xlsx (every error with its sheet and
row, nothing written unless every row is right), export stock and the ledger."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import DomainError
from aftersales_shared.xlsx import cell_text as _text
from aftersales_shared.xlsx import header_index as _header
from aftersales_shared.xlsx import open_workbook as _workbook

from .. import domain as d
from ..models import LocationRow, PartRow
from . import movements
from .catalog import NewPart, create_part, update_part

PARTS_SHEET, OPENING_SHEET = "备件", "期初库存"
PART_COLUMNS = {
    "part_no": ("备件编号", "part_no"),
    "name": ("名称", "name"),
    "unit": ("单位", "unit"),
    "unit_price": ("单价", "unit_price"),
    "warranty_part": ("三包件", "warranty_part"),
    "compatible_models": ("适用机型", "compatible_models"),
    "reorder_point": ("再订货点", "reorder_point"),
    "reorder_quantity": ("再订货量", "reorder_quantity"),
}
OPENING_COLUMNS = {
    "part_no": ("备件编号", "part_no"),
    "location_id": ("库位", "location_id"),
    "quantity": ("数量", "quantity"),
}
REQUIRED_PART = ("part_no", "name", "unit_price")
YES = {"是", "y", "yes", "true", "1", "三包"}
NO = {"否", "n", "no", "false", "0", ""}
MAX_ROWS = 20_000


@dataclass
class Problems:
    errors: list[str] = field(default_factory=list)

    def add(self, sheet: str, row: int, text: str) -> None:
        self.errors.append(f"工作表“{sheet}”第{row}行：{text}")


def _int(value: Any, what: str, minimum: int) -> int:
    text = _text(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what}“{text}”不是整数") from None
    if number != number.to_integral_value() or number < minimum:
        raise ValueError(f"{what}须为不小于{minimum}的整数 (got {text})")
    return int(number)


def _price(value: Any) -> Decimal:
    text = _text(value)
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"单价“{text}”不是数字") from None
    if price < 0:
        raise ValueError("单价不能为负数")
    if price != price.quantize(d.CENT):
        price = price.quantize(d.CENT)  # a spreadsheet's float (12.3000000001) to cents
    return price


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"三包件“{text}”须为 是 或 否")


def _parts(sheet: Any, problems: Problems) -> list[tuple[int, NewPart]]:
    rows = sheet.iter_rows(values_only=True)
    header = _header(next(rows, ()), PART_COLUMNS)
    missing = [PART_COLUMNS[k][0] for k in REQUIRED_PART if k not in header]
    if missing:
        problems.add(PARTS_SHEET, 1, f"表头缺少列：{'、'.join(missing)}")
        return []
    out: list[tuple[int, NewPart]] = []
    seen: dict[str, int] = {}
    for number, cells in enumerate(rows, start=2):
        if number > MAX_ROWS:
            problems.add(PARTS_SHEET, number, f"行数超过{MAX_ROWS}，请分批导入")
            break
        get = {k: (cells[i] if i < len(cells) else None) for k, i in header.items()}
        if all(_text(v) == "" for v in get.values()):
            continue
        try:
            part_no = d.check_part_no(_text(get["part_no"]))
            if part_no in seen:
                raise ValueError(f"备件编号{part_no}与第{seen[part_no]}行重复")
            seen[part_no] = number
            name = _text(get["name"])
            if not name or len(name) > 200:
                raise ValueError("名称不能为空，且不超过200字")
            models = _text(get.get("compatible_models")).replace("，", ",").replace("、", ",")
            out.append(
                (
                    number,
                    NewPart(
                        part_no=part_no,
                        name=name,
                        unit=_text(get.get("unit")) or "件",
                        unit_price=_price(get["unit_price"]),
                        warranty_part=_flag(get.get("warranty_part")),
                        compatible_models=[m for m in models.split(",") if m.strip()],
                        reorder_point=_int(get.get("reorder_point") or 0, "再订货点", 0),
                        reorder_quantity=_int(get.get("reorder_quantity") or 1, "再订货量", 1),
                    ),
                )
            )
        except (ValueError, DomainError) as exc:
            problems.add(PARTS_SHEET, number, getattr(exc, "message", None) or str(exc))
    return out


def _opening(sheet: Any, problems: Problems) -> list[tuple[int, str, str, int]]:
    rows = sheet.iter_rows(values_only=True)
    header = _header(next(rows, ()), OPENING_COLUMNS)
    missing = [v[0] for k, v in OPENING_COLUMNS.items() if k not in header]
    if missing:
        problems.add(OPENING_SHEET, 1, f"表头缺少列：{'、'.join(missing)}")
        return []
    out = []
    for number, cells in enumerate(rows, start=2):
        if number > MAX_ROWS:
            problems.add(OPENING_SHEET, number, f"行数超过{MAX_ROWS}，请分批导入")
            break
        get = {k: (cells[i] if i < len(cells) else None) for k, i in header.items()}
        if all(_text(v) == "" for v in get.values()):
            continue
        try:
            part_no = d.check_part_no(_text(get["part_no"]))
            location_id = _text(get["location_id"])
            if not location_id:
                raise ValueError("库位不能为空")
            out.append((number, part_no, location_id, _int(get["quantity"], "数量", 1)))
        except (ValueError, DomainError) as exc:
            problems.add(OPENING_SHEET, number, getattr(exc, "message", None) or str(exc))
    return out


async def import_workbook(
    session: AsyncSession, content: bytes, user: Principal, now: datetime
) -> dict[str, int]:
    """One transaction: every error is listed with its sheet and row and nothing is written, or
    every part is created or updated and every opening line received (once: re-importing the same
    file receives nothing again)."""
    book = _workbook(content)
    problems = Problems()
    if PARTS_SHEET not in book.sheetnames and OPENING_SHEET not in book.sheetnames:
        raise DomainError(
            f"工作簿须含工作表“{PARTS_SHEET}”或“{OPENING_SHEET}” (the workbook needs a sheet "
            f"named {PARTS_SHEET} or {OPENING_SHEET})"
        )
    parts = _parts(book[PARTS_SHEET], problems) if PARTS_SHEET in book.sheetnames else []
    opening = _opening(book[OPENING_SHEET], problems) if OPENING_SHEET in book.sheetnames else []
    known = {p.part_no for _, p in parts}
    for number, part_no, location_id, _ in opening:
        if part_no not in known and await session.get(PartRow, part_no) is None:
            problems.add(OPENING_SHEET, number, f"备件{part_no}不存在，请先在“{PARTS_SHEET}”中建立")
        if await session.get(LocationRow, location_id) is None:
            problems.add(OPENING_SHEET, number, f"库位{location_id}不存在")
    if problems.errors:
        raise DomainError(
            f"导入失败，共{len(problems.errors)}处错误，未写入任何数据 (import refused, nothing "
            "written): " + "；".join(problems.errors[:20]),
            code="import_refused",
            errors=problems.errors,
        )
    created = updated = 0
    for _, part in parts:
        if await session.get(PartRow, part.part_no) is None:
            await create_part(session, part, user, now)
            created += 1
        else:
            changes = {k: v for k, v in vars(part).items() if k != "part_no"}
            await update_part(session, part.part_no, changes, user, now)
            updated += 1
    digest = hashlib.sha256(content).hexdigest()[:32]
    for number, part_no, location_id, quantity in opening:
        cmd = movements.Movement(
            kind=d.MovementKind.RECEIVE,
            part_no=part_no,
            quantity=quantity,
            to_location=location_id,
            reason=f"期初库存导入 (opening stock), {OPENING_SHEET} 第{number}行",
            idempotency_key=f"opening:{digest}:{number}",
        )
        if await movements.replay(session, cmd, user) is None:
            await movements.record(session, cmd, user, now)
    return {"parts_created": created, "parts_updated": updated, "opening_lines": len(opening)}


STOCK_HEADER = ["备件编号", "名称", "库位", "在库", "已预留", "可用", "旧件"]
LEDGER_HEADER = [
    "序号",
    "时间 (UTC)",
    "类型",
    "备件编号",
    "数量",
    "出库库位",
    "入库库位",
    "工单号",
    "单价",
    "库存类别",
    "原因",
    "操作人",
]


def ledger_cells(row: Any) -> list[Any]:
    return [
        row.seq,
        row.at.replace(tzinfo=None),
        d.KIND_ZH[d.MovementKind(row.kind)],
        row.part_no,
        row.quantity,
        row.from_location,
        row.to_location,
        row.ticket_no,
        row.unit_price,
        "旧件" if row.stock == "faulty" else "良品",
        row.reason,
        row.actor,
    ]
