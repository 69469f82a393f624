"""The dealer portal's figures from the dealers API, read with the dealer's own token (the API keeps
a dealer token to its own dealer's records; the console passes no dealer_id of its own, so it
cannot widen that). No web code."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any

from .people import SessionUser
from .upstream import Upstream

CARD_DUE_DAYS = 20  # 三包回执卡: within 20 calendar days of the sale (dealers.domain)
LISTED = 50
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
class Portal:
    dealer: dict[str, Any] | None
    units: list[dict[str, Any]]
    unit_dues: dict[str, Due]
    cards: list[dict[str, Any]]
    repairs: list[dict[str, Any]]
    returns: list[PartReturn]
    notices: list[dict[str, Any]]
    totals: dict[str, int]


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


async def load_portal(upstream: Upstream, user: SessionUser, today: date) -> Portal:
    token = user.token
    page = {"limit": LISTED}

    async def listed(path: str, **params: Any) -> dict[str, Any]:
        return await upstream.get("dealers", path, token, {**page, **params})

    dealers, units, cards, repairs, notices = await asyncio.gather(
        listed("/dealers"),
        listed("/units"),
        listed("/cards"),
        listed("/repair-records"),
        listed("/deduction-notices"),
    )
    unit_items = units.get("items", [])
    repair_items = repairs.get("items", [])
    return Portal(
        dealer=(dealers.get("items") or [None])[0],
        units=unit_items,
        unit_dues={u["serial_no"]: due(u.get("card_due"), today) for u in unit_items},
        cards=cards.get("items", []),
        repairs=repair_items,
        returns=returns_of(repair_items, today),
        notices=notices.get("items", []),
        totals={
            "units": units.get("total", 0),
            "cards": cards.get("total", 0),
            "repairs": repairs.get("total", 0),
            "notices": notices.get("total", 0),
        },
    )
