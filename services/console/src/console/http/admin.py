"""Admin pages (role admin): the dead letters of every service — the messages a consumer gave up
on, kept by each service's inbox (`aftersales_shared.deadletters`: `GET /admin/dead-letters`,
`POST /admin/dead-letters/{id}/replay`) — listed per service and replayed from their row (a form
with its CSRF token, posted as the signed-in admin; the service's own answer is shown)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

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
