"""A world for the fault-analysis pages: the desk's tickets service with completed repairs of
product line XK — one left to analysis a week ago and now overdue, one classified at completion at
07:30 Beijing time (still the day before in UTC), and two left to analysis this Sunday evening (one
with its symptom recorded, one without) — and catalogue entries of lines XK and HT."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from console_support import Desk, open_desk
from tickets_helpers import AGENT, ENG, SUP, body, drain, time_machine, uid

from aftersales_shared.db import utcnow
from aftersales_testing.support import auth

SH = ZoneInfo("Asia/Shanghai")
TECH = auth("technical", sub="tech-wu")
# a Monday: its analysis is due at close of business on Thursday 26 November
LONG_AGO = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
EARLY = datetime(2026, 11, 24, 7, 30, tzinfo=SH)  # 23 November 23:30 in UTC
PAST_DUE = datetime(2026, 11, 27, 9, 0, tzinfo=SH)


@dataclass
class Lab:
    desk: Desk
    no: dict[str, str]  # late, done, todo, blank -> ticket number
    symptom: str  # an XK symptom (主轴异响)
    part: str  # an XK failed part (主轴轴承)
    other_part: str  # an HT failed part (吊钩), not for an XK ticket


async def completed(api: Any, fault: dict[str, Any], **kw: Any) -> str:
    r = await api.post("/tickets", json=body(customer_name="杭州某某机床", **kw), headers=AGENT)
    assert r.status_code == 201, r.text
    no = r.json()["ticket_no"]
    r = await api.post(f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"})
    assert r.status_code == 200, r.text
    done = {
        "document": "repair_sheet",
        "confirmed_by": "赵工",
        "confirmed_at": utcnow().isoformat(),
        "method": "signature",
        "remarks": "更换主轴轴承后试机正常",
        "fault": fault,
    }
    r = await api.post(f"/tickets/{no}/complete", json=done, headers=ENG)
    assert r.status_code == 200, r.text
    return no


async def catalogue_entry(api: Any, kind: str, code: str, line: str, name: str) -> str:
    entry = {"code": code, "product_line": line, "name": name}
    r = await api.post(f"/fault-catalogue/{kind}", json=entry, headers=TECH)
    assert r.status_code == 201, r.text
    return r.json()["code"]


@asynccontextmanager
async def open_lab(databases: Any, nats_url: str, clock: Any) -> AsyncIterator[Lab]:
    async with open_desk(databases, nats_url, clock) as desk:
        api, tag = desk.tickets, uid().upper()
        symptom = await catalogue_entry(api, "symptoms", f"XK-SPINDLE-{tag}", "XK", "主轴异响")
        part = await catalogue_entry(api, "parts", f"XK-BEARING-{tag}", "XK", "主轴轴承")
        other = await catalogue_entry(api, "parts", f"HT-HOOK-{tag}", "HT", "吊钩")
        model = {"product_model": "XK-200"}
        clock.at(LONG_AGO)
        late = await completed(api, {"symptom": "LEAK", "needs_analysis": True}, **model)
        clock.at(EARLY)
        done = await completed(
            api, {"symptom": "LEAK", "cause_category": "wear", "failed_part": "SEAL"}, **model
        )
        await drain(time_machine(desk.tickets_app, PAST_DUE))
        clock.at("sunday-evening")
        todo = await completed(api, {"symptom": symptom, "needs_analysis": True}, **model)
        blank = await completed(api, {"needs_analysis": True}, **model)
        no = {"late": late, "done": done, "todo": todo, "blank": blank}
        yield Lab(desk, no, symptom, part, other)
