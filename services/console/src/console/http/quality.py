"""Fault analysis (`/quality/faults`, 故障分析): the technical department's list of classified
tickets (待分析, 已逾期, 全部) with filters and pages, and a ticket's classification with the
analysis form for the technical department and supervisors. Every call goes to the tickets API as
the signed-in user; tickets decides who may and what is a valid finding, and its refusals are shown
in its words with what was typed kept."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from .. import quality as q
from ..forms import FormError
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import flash, problem, refusal, safe_next, signed_in, take_flash

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def allowed(request: Request, roles: tuple[str, ...]) -> SessionUser | Redirect | Template:
    """The signed-in user if one of `roles` (the console hides; the tickets API refuses too)."""
    if roles == q.EDITORS:
        zh = "仅技术部和客服主管可修改故障分析与故障目录"
        en = "only the technical department and supervisors change analyses and the catalogue"
    else:
        zh = "故障分析仅限技术部、客服和管理层查看"
        en = "fault analysis is for the technical department, the service desk and managers"
    return signed_in(request, *roles, zh=zh, en=en)


async def entries(
    upstream: Upstream, token: str, kind: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    found = await upstream.get(
        "tickets", f"/fault-catalogue/{kind}", token, {"limit": 500} | params
    )
    return found.get("items", []) if isinstance(found, dict) else []


async def _list(
    request: Request, upstream: Upstream, user: SessionUser, f: q.FaultQuery
) -> Template:
    tz = ZoneInfo(upstream.settings.business_timezone)
    size = upstream.settings.page_size
    found = await upstream.get(
        "tickets", "/fault-classifications", user.token, f.api_params(size, tz)
    )
    items = found.get("items", [])
    # each fault's analysis deadline counts working days on its ticket's calendar
    calendars = {
        cid: await upstream.calendar(cid, user.token)
        for cid in {x.get("calendar_id") or "default" for x in items}
    }
    now = utcnow()
    symptoms = await entries(upstream, user.token, "symptoms", {})
    parts = await entries(upstream, user.token, "parts", {})
    total = int(found.get("total", 0))
    lines = {e["product_line"] for e in symptoms + parts} - {"*"}
    return Template(
        "quality_faults.html",
        context={
            "user": user,
            "f": f,
            "rows": [
                q.row(x, calendars[x.get("calendar_id") or "default"], now, tz) for x in items
            ],
            "total": total,
            "pages": max(1, -(-total // size)),
            "tabs": q.TABS,
            "tabs_en": q.TABS_EN,
            "causes": q.CAUSES,
            "symptoms": symptoms,
            "parts": parts,
            "lines": sorted(lines),
            "editor": user.has(*q.EDITORS),
            "flash": take_flash(request),
        },
    )


class QualityController(Controller):
    path = "/quality/faults"
    include_in_schema = False

    @get("/")
    async def faults(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = allowed(request, q.READERS)
        if not isinstance(user, SessionUser):
            return user
        try:
            f = q.parse_query(dict(request.query_params))
        except FormError as exc:
            return problem(request, 400, str(exc), "fix the filter")
        return await _list(request, upstream, user, f)

    @get("/{no:str}")
    async def fault(
        self, request: Request, no: str, upstream: NamedDependency[Upstream], back: str = ""
    ) -> Template | Redirect:
        user = allowed(request, q.READERS)
        if not isinstance(user, SessionUser):
            return user
        if not q.TICKET_NO.fullmatch(no):
            return problem(request, 400, "工单号格式不对", "a ticket number is letters and digits")
        return await self._page(request, upstream, user, no, back)

    @post("/{no:str}")
    async def analyse(
        self, request: Request, no: str, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        """Save the finding; back to the list it came from (post/redirect/get), or the page again
        with tickets' refusal in its words and what was typed kept."""
        user = allowed(request, q.EDITORS)
        if not isinstance(user, SessionUser):
            return user
        if not q.TICKET_NO.fullmatch(no):
            return problem(request, 400, "工单号格式不对", "a ticket number is letters and digits")
        back = data.get("back") or ""
        fault = await upstream.get("tickets", f"/tickets/{no}/fault", user.token)
        try:
            body = q.analysis(data, fault)
            done = await upstream.post("tickets", f"/tickets/{no}/fault-analysis", user.token, body)
        except (FormError, UpstreamError) as exc:
            refused = refusal(exc, form_status=422)
            said = {"text": refused.text, "values": q.typed(data)}
            return await self._page(request, upstream, user, no, back, said, refused.status)
        cause = done.get("cause_label") or q.CAUSES.get(done["cause_category"], "")
        flash(request, "ok", f"已保存工单 {no} 的原因分析：原因类别 {cause}")
        return Redirect(
            safe_next(back) if back.startswith("/quality/faults") else "/quality/faults"
        )

    async def _page(
        self,
        request: Request,
        upstream: Upstream,
        user: SessionUser,
        no: str,
        back: str,
        said: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Template:
        tz = ZoneInfo(upstream.settings.business_timezone)
        fault = await upstream.get("tickets", f"/tickets/{no}/fault", user.token)
        ticket = await upstream.get("tickets", f"/tickets/{no}", user.token)
        log = await upstream.get("tickets", f"/tickets/{no}/progress", user.token)
        calendar = await upstream.calendar(ticket.get("calendar_id") or "default", user.token)
        editor = user.has(*q.EDITORS)
        choices: dict[str, Any] = {"symptoms": [], "parts": [], "causes": []}
        if editor:
            line = {"model": ticket.get("product_model") or "", "active": "true"}
            choices = {
                "symptoms": await entries(upstream, user.token, "symptoms", line),
                "parts": await entries(upstream, user.token, "parts", line),
                "causes": await upstream.get(
                    "tickets", "/fault-catalogue/cause-categories", user.token
                ),
            }
        values = (said or {}).get("values") or {
            "cause_category": fault.get("cause_category") or "",
            "symptom": fault.get("symptom_code") or "",
            "failed_part": fault.get("failed_part_code") or "",
            "cause_detail": fault.get("cause_detail") or "",
        }
        entries_shown = [
            p | {"at_label": q.local(p.get("at"), tz), "author_zh": q.who(p.get("author"))}
            for p in (log if isinstance(log, list) else [])[-12:]
        ]
        return Template(
            "quality_fault.html",
            context={
                "user": user,
                "fault": q.row(fault, calendar, utcnow(), tz),
                "ticket": ticket | {"opened_label": q.local(ticket.get("opened_at"), tz)},
                "log": list(reversed(entries_shown)),
                "editor": editor,
                "choices": choices,
                "values": values,
                "said": said or {},
                "back": back if back.startswith("/quality/faults") else "/quality/faults",
                "flash": take_flash(request),
            },
            status_code=status,
        )
