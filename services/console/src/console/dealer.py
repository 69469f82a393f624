"""The dealer portal's figures from the dealers API, read with the dealer's own token (the API keeps
a dealer token to its own dealer's records; the console passes no dealer_id of its own, so it
cannot widen that). No web code."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from .contracts import local
from .people import SessionUser
from .upstream import Upstream

CARD_DUE_DAYS = 20  # 三包回执卡: within 20 calendar days of the sale (dealers.domain)
LISTED = 50  # rows per page of each portal list
OWED_MAX = 500  # the dealers API's page limit: records still owing old parts, read in one request
# the portal's lists with pages of their own, and where the dealers API keeps each
PAGED = {
    "units": "/units",
    "repairs": "/repair-records",
    "cards": "/cards",
    "notices": "/deduction-notices",
}
CARD_STATUS = {"pending": "待登记", "registered": "已登记", "overdue": "已逾期"}
REPAIR_STATUS = {"requested": "待安排", "arranged": "已安排", "completed": "已完成"}
REPAIR_KIND = {"warranty": "三包维修", "paid": "有偿服务"}
CLAIM_STATUS = {
    "none": "—",
    "awaiting_return": "待返还旧件",
    "approved": "已核准",
    "rejected": "已驳回",
    "paid": "已核销",
}
PART_STATUS = {
    "owed": "待返还",
    "overdue": "返还逾期",
    "shipped": "已寄出",
    "received": "已收到",
    "inspected": "已检验",
    "not_owed": "无需返还",
}
NOTICE_STATUS = {"issued": "待确认", "confirmed": "已确认", "disputed": "全部异议"}
LINE_DECISION = {"pending": "待答复", "confirmed": "已确认", "disputed": "有异议"}
VERDICT = {"reusable": "可再利用", "scrap": "报废", "not_warranty_fault": "非三包故障"}


@dataclass(frozen=True)
class Due:
    """A date the dealer has to meet: days left (negative: days late) and a colour."""

    on: str
    days_left: int | None

    @property
    def label(self) -> str:
        if self.days_left is None:
            return "—"
        if self.days_left < 0:
            return f"已逾期 {-self.days_left} 天"
        return "今天到期" if self.days_left == 0 else f"剩 {self.days_left} 天"

    @property
    def band(self) -> str:
        if self.days_left is None:
            return "none"
        if self.days_left < 0:
            return "risk"
        return "watch" if self.days_left <= 5 else "ok"


def yuan(value: Any) -> str:
    """An amount of the API (a decimal string) with 2 places: 1,234.50."""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value or "—")


def due(value: Any, today: date) -> Due:
    try:
        on = date.fromisoformat(str(value))
    except ValueError:
        return Due(str(value or "—"), None)
    return Due(on.isoformat(), (on - today).days)


@dataclass(frozen=True)
class PartReturn:
    record_id: str
    record_no: str
    serial_no: str
    part_no: str
    name: str
    quantity: int
    status: str
    due: Due


@dataclass(frozen=True)
class Season:
    """A selling season with the dealer's parts stocking plan for it (None: not submitted yet;
    due 30 days before the season starts)."""

    code: str
    name: str
    starts_on: str
    due: Due
    plan: dict[str, Any] | None

    @property
    def state(self) -> tuple[str, str]:
        """(label, colour band) of the plan."""
        if self.plan is not None:
            return ("已按时提交", "ok") if self.plan.get("on_time") else ("逾期提交", "risk")
        return self.due.label, self.due.band


@dataclass(frozen=True)
class Portal:
    dealer: dict[str, Any] | None
    units: list[dict[str, Any]]
    unit_dues: dict[str, Due]
    cards: list[dict[str, Any]]
    repairs: list[dict[str, Any]]
    returns: list[PartReturn]
    notices: list[dict[str, Any]]
    seasons: list[Season]
    totals: dict[str, int]
    shipments: list[dict[str, Any]]  # old parts sent back, latest first, with their records' nos
    returns_cut: bool = False  # more records owe parts than one request reads (OWED_MAX)
    at: PortalPages | None = None

    def pager(self, name: str) -> tuple[int, int, Any]:
        """The page shown of a list, its number of pages and the link to another page."""
        at = self.at or PortalPages(dict.fromkeys(PAGED, 1))
        return at.pages[name], page_count(self.totals.get(name, 0)), at.link(name)


def seasons_of(
    seasons: list[dict[str, Any]], plans: list[dict[str, Any]], today: date
) -> list[Season]:
    """Each season with the dealer's plan for it: those still to plan first, nearest due first;
    then the planned ones, latest season first."""
    mine = {p["season_code"]: p for p in plans}
    out = [
        Season(
            s["code"],
            s.get("name", ""),
            str(s.get("starts_on", "")),
            due(s.get("plan_due"), today),
            mine.get(s["code"]),
        )
        for s in seasons
    ]
    open_ = sorted((s for s in out if s.plan is None), key=lambda s: s.due.on)
    done = sorted((s for s in out if s.plan is not None), key=lambda s: s.starts_on, reverse=True)
    return open_ + done


def returns_of(repairs: list[dict[str, Any]], today: date) -> list[PartReturn]:
    """Parts still owed back (owed, overdue), the nearest deadline first."""
    out = []
    for r in repairs:
        for p in r.get("parts") or []:
            if p.get("status") in ("owed", "overdue"):
                out.append(
                    PartReturn(
                        r["id"],
                        r["record_no"],
                        r.get("serial_no", ""),
                        p.get("part_no", ""),
                        p.get("name", ""),
                        int(p.get("quantity") or 0),
                        p["status"],
                        due(p.get("return_due"), today),
                    )
                )
    return sorted(out, key=lambda x: (x.due.days_left is None, x.due.days_left or 0))


@dataclass(frozen=True)
class PortalPages:
    """Which page of each portal list is shown (`units_page=2` …), each list paged on its own; a
    page link keeps the others where they are and jumps to its section."""

    pages: dict[str, int]

    @classmethod
    def parse(cls, query: Any) -> PortalPages:
        pages = {}
        for name in PAGED:
            raw = str(query.get(f"{name}_page") or "1")[:7]  # (a 5,000-digit int() raises)
            pages[name] = int(raw) if raw.isdecimal() and 0 < int(raw) <= 100_000 else 1
        return cls(pages)

    def offset(self, name: str) -> int:
        return (self.pages[name] - 1) * LISTED

    def link(self, name: str) -> Any:
        def to(page: int) -> str:
            wanted = {**self.pages, name: page}
            query = "&".join(f"{k}_page={v}" for k, v in wanted.items() if v > 1)
            return f"/dealer{'?' + query if query else ''}#{name}"

        return to


def page_count(total: int) -> int:
    return max(1, -(-total // LISTED))


async def load_portal(
    upstream: Upstream, user: SessionUser, today: date, at: PortalPages | None = None
) -> Portal:
    token = user.token
    at = at or PortalPages(dict.fromkeys(PAGED, 1))

    async def listed(path: str, section: str = "", **params: Any) -> dict[str, Any]:
        paging = {"limit": LISTED, "offset": at.offset(section) if section else 0}
        return await upstream.get("dealers", path, token, {**paging, **params})

    paged = await asyncio.gather(*(listed(path, name) for name, path in PAGED.items()))
    lists = dict(zip(PAGED, paged, strict=True))
    for name, path in PAGED.items():  # past the last page (a stale link): show the last one
        last = page_count(lists[name].get("total", 0))
        if at.pages[name] > last:
            at.pages[name] = last
            lists[name] = await listed(path, name)
    units, repairs, cards, notices = (lists[name] for name in PAGED)
    dealers, seasons, plans, shipped, owing = await asyncio.gather(
        listed("/dealers"),
        listed("/seasons"),
        listed("/stocking-plans"),
        listed("/part-shipments"),
        # the parts owed back, from every record that still owes some, not the newest page's only
        listed("/repair-records", parts_owed="true", limit=OWED_MAX),
    )
    unit_items = units.get("items", [])
    repair_items = repairs.get("items", [])
    tz = ZoneInfo(upstream.settings.business_timezone)
    record_nos = {r["id"]: r["record_no"] for r in [*repair_items, *owing.get("items", [])]}
    shipments = [
        {
            **s,
            "record_nos": [record_nos.get(i, i[:8]) for i in s.get("record_ids") or []],
            "shipped_local": local(s.get("shipped_at"), tz),
        }
        for s in sorted(shipped.get("items", []), key=lambda s: s["shipped_at"], reverse=True)
    ]
    return Portal(
        dealer=(dealers.get("items") or [None])[0],
        units=unit_items,
        unit_dues={u["serial_no"]: due(u.get("card_due"), today) for u in unit_items},
        cards=cards.get("items", []),
        repairs=repair_items,
        returns=returns_of(owing.get("items", []), today),
        returns_cut=owing.get("total", 0) > OWED_MAX,
        notices=notices.get("items", []),
        seasons=seasons_of(seasons.get("items", []), plans.get("items", []), today),
        totals={
            "units": units.get("total", 0),
            "cards": cards.get("total", 0),
            "repairs": repairs.get("total", 0),
            "notices": notices.get("total", 0),
        },
        shipments=shipments,
        at=at,
    )


# ---------------------------------------------------------------- a stocking plan typed or pasted
PLAN_MAX_LINES = 500  # the dealers API's limit
QUANTITY_MAX = 100_000


class PlanTextError(ValueError):
    """What is wrong with a pasted plan, line by line, in words a dealer can act on."""


def parse_plan(text: str) -> list[dict[str, Any]]:
    """One part per line: part number, name, quantity — separated by tabs (pasted from Excel),
    commas (either width) or spaces. Blank lines are skipped; a part listed twice, a quantity
    that is not a whole number from 1 to 100,000, a missing field are refused with the line's
    number."""
    lines: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        fields = [f.strip() for f in re.split(r"[\t,，]+", line) if f.strip()]
        if len(fields) == 1:
            fields = line.split()
        if len(fields) > 3:  # a name with spaces: number first, quantity last
            fields = [fields[0], " ".join(fields[1:-1]), fields[-1]]
        if len(fields) != 3:
            problems.append(f"第{number}行：应为“零件号、名称、数量”三项")
            continue
        part_no, name, quantity = fields
        if len(part_no) > 64 or len(name) > 200:
            problems.append(f"第{number}行：零件号最多 64 字，名称最多 200 字")
            continue
        if not (quantity.isdecimal() and len(quantity) <= 6 and 1 <= int(quantity) <= QUANTITY_MAX):
            problems.append(
                f"第{number}行：数量应为 1–{QUANTITY_MAX:,} 的整数（现为“{quantity[:20]}”）"
            )
            continue
        if part_no in seen:
            problems.append(f"第{number}行：零件号 {part_no} 与第{seen[part_no]}行重复")
            continue
        seen[part_no] = number
        lines.append({"part_no": part_no, "name": name, "quantity": int(quantity)})
    if problems:
        shown = problems[:10] + ([f"另有 {len(problems) - 10} 处"] if len(problems) > 10 else [])
        raise PlanTextError("；".join(shown))
    if not lines:
        raise PlanTextError("请至少填写一种备件（每行：零件号、名称、数量）")
    if len(lines) > PLAN_MAX_LINES:
        raise PlanTextError(f"一份计划最多 {PLAN_MAX_LINES} 种备件（现有 {len(lines)} 种）")
    return lines
