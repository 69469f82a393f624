"""Admin pages (role admin).

Dead letters of every service — the messages a consumer gave up on, kept by each service's inbox
(`aftersales_shared.deadletters`: `GET /admin/dead-letters`, `POST /admin/dead-letters/{id}/replay`)
— listed per service and replayed from their row. Working calendars (the tickets API): the
calendars and their hours, where each year's holiday table comes from (imported, shipped with the
software, or provisional: a year without an official table), importing a year's table (CSV or
YAML, pasted), who changed what. (The notification rules have their own page: http/rules.py.)
Every form carries its CSRF token and is posted as the signed-in admin; the service's own answer
is shown."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, sign_in_again, take_flash

# the services that consume events (each keeps its own dead letters)
SERVICES = {
    "contracts": "合同 contracts",
    "tickets": "工单 tickets",
    "surveys": "调查 surveys",
    "notifications": "通知 notifications",
    "dealers": "经销商 dealers",
    "reports": "报表 reports",
}
STATUSES = {"open": "待处理 open", "replayed": "已重放 replayed", "all": "全部 all"}
PAGE = 50
MAX_ID = 2**31
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
SCOPE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
NATIONAL = "national"
SOURCES = {
    "imported": ("已导入", "imported", "ok"),
    "package": ("随软件提供", "shipped", "ok"),
    "provisional": (
        "暂定：无官方放假安排，请导入",
        "provisional: import the official table",
        "risk",
    ),
    "none": ("无", "none", "watch"),
}
MAX_TABLE_BYTES = 200_000


def _admin(request: Request) -> SessionUser | Redirect | Template:
    user = current_user(request)
    if user is None:
        return sign_in_again(request)
    if "admin" not in user.roles:
        return problem(request, 403, "管理页面仅供管理员使用", "admin pages are for the admin role")
    return user


def _local(value: Any, tz: ZoneInfo) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


class AdminController(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/dead-letters")
    async def dead_letters(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _admin(request)
        if not isinstance(user, SessionUser):
            return user
        service = request.query_params.get("service") or "tickets"
        status = request.query_params.get("status") or "open"
        if service not in SERVICES or status not in STATUSES:
            return problem(
                request,
                400,
                "未知的服务或状态",
                f"service: one of {', '.join(SERVICES)}; status: open, replayed or all",
            )

        async def count(name: str) -> tuple[str, int | None]:
            try:
                page = await upstream.get(
                    name, "/admin/dead-letters", user.token, {"status": "open", "limit": 1}
                )
            except UpstreamError:
                return name, None  # unreachable or refusing: said on the tab
            return name, int(page.get("total", 0))

        counts = dict(await asyncio.gather(*(count(name) for name in SERVICES)))
        listed = await upstream.get(
            service, "/admin/dead-letters", user.token, {"status": status, "limit": PAGE}
        )
        tz = ZoneInfo(upstream.settings.business_timezone)
        items = [
            {
                **item,
                "created_at": _local(item.get("created_at"), tz),
                "replayed_at": _local(item.get("replayed_at"), tz),
            }
            for item in listed.get("items", [])
        ]
        return Template(
            "dead_letters.html",
            context={
                "user": user,
                "flash": take_flash(request),
                "services": SERVICES,
                "statuses": STATUSES,
                "service": service,
                "status": status,
                "counts": counts,
                "items": items,
                "total": listed.get("total", len(items)),
            },
        )

    @post("/dead-letters/{service:str}/{dead_letter_id:int}/replay")
    async def replay(
        self,
        request: Request,
        service: str,
        dead_letter_id: int,
        upstream: NamedDependency[Upstream],
    ) -> Template | Redirect:
        user = _admin(request)
        if not isinstance(user, SessionUser):
            return user
        if service not in SERVICES or not 0 < dead_letter_id < MAX_ID:
            return problem(request, 404, "没有这条死信", "no such dead letter")
        back = Redirect(f"/admin/dead-letters?service={service}")
        try:
            answer = await upstream.post(
                service, f"/admin/dead-letters/{dead_letter_id}/replay", user.token, {}
            )
        except UpstreamError as exc:
            if not 400 <= exc.status < 500:
                raise
            flash(request, "error", f"死信 {dead_letter_id} 重放未成功：{exc.detail}")
            return back
        result = (answer or {}).get("result", "")
        said = "已处理 (handled)" if result == "handled" else "重复，已忽略 (duplicate)"
        flash(request, "ok", f"死信 {dead_letter_id} 已重放：{said}")
        return back


WEEKDAYS = "一二三四五六日"


def _hours(calendar: dict[str, Any]) -> str:
    if calendar.get("always_open"):
        return "全天候 24×7"
    days: dict[int, list[str]] = {}
    for item in calendar.get("hours") or []:
        span = f"{str(item['start'])[:5]}–{str(item['end'])[:5]}"
        days.setdefault(int(item["weekday"]), []).append(span)
    said = [f"周{WEEKDAYS[d]} {'、'.join(v)}" for d, v in sorted(days.items()) if 0 <= d < 7]
    return "；".join(said) or "—"


class CalendarAdminController(Controller):
    path = "/admin/calendars"
    include_in_schema = False

    @get("/")
    async def calendars(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _admin(request)
        if not isinstance(user, SessionUser):
            return user
        tz = ZoneInfo(upstream.settings.business_timezone)
        this_year = utcnow().astimezone(tz).year
        listed = await upstream.get("tickets", "/calendars", user.token)

        async def year(y: int) -> dict[str, Any]:
            answer = await upstream.raw(
                "tickets",
                "GET",
                f"/calendars/{NATIONAL}/years/{y}",
                user.token,
                params={"format": "csv"},
            )
            source = answer.headers.get("x-calendar-source", "none")
            days = max(0, len([ln for ln in answer.text.splitlines() if ln.strip()]) - 1)
            zh, en, tone = SOURCES.get(source, (source, source, "watch"))
            return {"year": y, "source": source, "zh": zh, "en": en, "tone": tone, "days": days}

        years = list(await asyncio.gather(*(year(y) for y in range(this_year - 1, this_year + 3))))
        audit = await upstream.get("tickets", "/calendars/audit", user.token, {"limit": 20})
        return Template(
            "calendars.html",
            context={
                "user": user,
                "flash": take_flash(request),
                "calendars": [{**c, "hours_text": _hours(c)} for c in listed],
                "years": years,
                "audit": [{**a, "at": _local(a.get("at"), tz)} for a in audit],
                "next_year": this_year + 1,
            },
        )

    @post("/import")
    async def import_year(
        self, request: Request, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        user = _admin(request)
        if not isinstance(user, SessionUser):
            return user
        back = Redirect("/admin/calendars")
        scope = (data.get("scope") or NATIONAL).strip()
        year_text = (data.get("year") or "").strip()
        fmt = data.get("format") or "csv"
        content = data.get("content") or ""
        problems = []
        if not SCOPE.fullmatch(scope):
            problems.append("范围为小写字母、数字、- 或 _（全国节假日为 national）")
        if not year_text.isdigit() or not 2000 <= int(year_text) <= 2100:
            problems.append("年份须为 2000–2100 的整数")
        if fmt not in ("csv", "yaml"):
            problems.append("格式须为 CSV 或 YAML")
        if not content.strip():
            problems.append("请粘贴该年的放假安排（每行 date,kind,name）")
        elif len(content.encode()) > MAX_TABLE_BYTES:
            problems.append("内容过长（至多 200 KB）")
        if problems:
            flash(request, "error", "未导入：" + "；".join(problems))
            return back
        try:
            answer = await upstream.raw(
                "tickets",
                "PUT",
                f"/calendars/{scope}/years/{year_text}",
                user.token,
                "application/json",
                params={"format": fmt},
                content=content.encode(),
            )
        except UpstreamError as exc:
            if not 400 <= exc.status < 500:
                raise
            flash(request, "error", f"未导入 {year_text} 年：{exc.detail}")
            return back
        done = answer.json()
        flash(
            request,
            "ok",
            f"已导入 {scope} {year_text} 年：{done.get('entries', 0)} 天；重算 "
            f"{done.get('clocks_recomputed', 0)} 个计时，{done.get('deadlines_changed', 0)} 个截止"
            "时间有变化",
        )
        return back
