"""The engineer roster from and to Excel: a directory export (sub, name, region, phone; skills if
the sheet has them) imported all or nothing, every wrong row named by its line; the roster exported
in the same columns, so a file exported, edited and imported again round-trips."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import DomainError
from aftersales_shared.storage import StoredTooLarge
from aftersales_shared.xlsx import cell_text, header_index, open_workbook, workbook_bytes

from .. import roster
from ..models import EngineerRow
from . import engineers

MAX_IMPORT_BYTES = 1024 * 1024
MAX_ROWS = 5000
COLUMNS: dict[str, tuple[str, ...]] = {
    "sub": ("账号", "sub", "id", "登录账号"),
    "name": ("姓名", "name"),
    "region": ("区域", "region"),
    "phone": ("手机号", "手机", "phone", "mobile"),
    "skills": ("技能", "产品线", "skills"),
}
REQUIRED = ("sub", "name")
HEADER = ["账号", "姓名", "区域", "手机号", "技能", "在职", "休假至", "在办工单"]


def too_large(max_bytes: int) -> StoredTooLarge:
    return StoredTooLarge(
        f"文件过大：最大 {max_bytes // 1024} KB，请分批导入 (larger than {max_bytes} bytes)"
    )


def _rows(content: bytes) -> tuple[list[tuple[int, roster.EngineerData, bool]], list[str]]:
    """Each filled row checked (line number, record, whether the sheet names skills) and every
    problem with its line."""
    sheet = open_workbook(content).worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    columns = header_index(next(lines, ()), COLUMNS)
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in columns]
    if missing:
        raise DomainError(
            f"第1行须为表头，缺少列：{'、'.join(missing)}"
            "（须有 账号、姓名，可有 区域、手机号、技能）"
            " (the first row names the columns: sub, name, region, phone, skills)"
        )
    found: list[tuple[int, roster.EngineerData, bool]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, cells in enumerate(lines, start=2):
        get = {k: cell_text(cells[i]) if i < len(cells) else "" for k, i in columns.items()}
        if not any(get.values()):
            continue
        if number > MAX_ROWS + 1:
            problems.append(f"第{number}行：超过 {MAX_ROWS} 行，请分批导入")
            break
        try:
            data = roster.check(
                get["sub"], get["name"], get.get("region"), get.get("phone"), get.get("skills")
            )
        except DomainError as exc:
            problems.append(f"第{number}行：{exc.message}")
            continue
        if data.id in seen:
            problems.append(f"第{number}行：账号 {data.id} 与第{seen[data.id]}行重复")
            continue
        seen[data.id] = number
        found.append((number, data, "skills" in columns))
    return found, problems


async def import_roster(
    session: AsyncSession, content: bytes, user: Principal, now: datetime
) -> dict[str, int]:
    """One transaction: every wrong row listed and nothing written, or every engineer created or
    updated (name, region, phone; skills when the sheet has them). Engineers not in the file are
    left as they are (a directory export may be one region's)."""
    found, problems = _rows(content)
    if problems:
        raise DomainError(
            f"导入失败，共{len(problems)}处错误，未写入任何数据 (import refused, nothing written): "
            + "；".join(problems[:20]),
            code="import_refused",
            errors=problems,
        )
    if not found:
        raise DomainError("文件中没有工程师，请在表头下逐行填写 (the sheet lists nobody)")
    known = {
        r.id: r
        for r in await session.scalars(
            select(EngineerRow).where(EngineerRow.id.in_([d.id for _, d, _ in found]))
        )
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for _, data, with_skills in found:
        if data.id not in known:
            await engineers.create(session, data, user, now)
            counts["created"] += 1
            continue
        wanted: dict[str, Any] = {"name": data.name, "region": data.region, "phone": data.phone}
        if with_skills:
            wanted["skills"] = data.skills
        changed = await engineers.update(session, data.id, wanted, user, now)
        counts["updated" if changed else "unchanged"] += 1
    return counts


async def export_roster(session: AsyncSession, now: datetime, tz: ZoneInfo) -> bytes:
    """Everyone on the roster, active or not, by region and name."""
    listed = await engineers.engineers(
        session, engineers.Filters(include_inactive=True, limit=100_000), now, tz
    )
    listed.sort(key=lambda e: (e.region, e.name, e.id))
    cells = (
        [
            e.id,
            e.name,
            e.region,
            e.phone,
            "、".join(e.skills),
            "是" if e.active else "否",
            (e.leave_until.isoformat() if e.leave_until else "待定") if e.on_leave else "",
            e.open_tickets,
        ]
        for e in listed
    )
    return workbook_bytes("工程师名单", HEADER, cells)
