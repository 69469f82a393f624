"""The fault catalogue (`/quality/catalogue`, 故障目录): symptoms and failed parts per product line,
inactive ones greyed; the technical department and supervisors add, rename and describe,
deactivate and reactivate (never delete), the others read. And the quality audit trail
(`/quality/audit`): who changed the catalogue, a corrective action or the roster, in words. Every
call goes to the tickets API as the signed-in user, which decides again."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from .. import quality as q
from .. import quality_catalogue as c
from ..forms import FormError
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import flash, problem, refusal, take_flash
from .quality import Form, allowed

ACTIONS = {"edit": "已保存", "deactivate": "已停用（历史记录保留）", "reactivate": "已重新启用"}


def _query(raw: str) -> c.CatalogueQuery:
    """The list the form came from (its filters), or the first page of its kind."""
    try:
        return c.parse_catalogue(dict(parse_qsl(urlsplit(raw).query)))
    except FormError:
        return c.CatalogueQuery()


async def _catalogue(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    f: c.CatalogueQuery,
    kept: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    size = upstream.settings.page_size
    found = await upstream.get(
        "tickets", f"/fault-catalogue/{f.kind}", user.token, f.api_params(size)
    )
    total = int(found.get("total", 0))
    tz = ZoneInfo(upstream.settings.business_timezone)
    rows = [
        e
        | {
            "line_zh": c.line_label(e["product_line"]),
            "updated_label": q.local(e["updated_at"], tz),
            "updated_by_zh": q.who(e["updated_by"]),
        }
        for e in found.get("items", [])
    ]
    return Template(
        "quality_catalogue.html",
        context={
            "user": user,
            "f": f,
            "rows": rows,
            "total": total,
            "pages": max(1, -(-total // size)),
            "kinds": c.KINDS,
            "kinds_en": c.KINDS_EN,
            "shown": c.SHOWN,
            "editor": user.has(*q.EDITORS),
            "kept": kept or {},
            "flash": (kept or {}).get("said") or take_flash(request),
        },
        status_code=status,
    )


class CatalogueController(Controller):
    path = "/quality/catalogue"
    include_in_schema = False

    @get("/")
    async def catalogue(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = allowed(request, q.READERS)
        if not isinstance(user, SessionUser):
            return user
        try:
            f = c.parse_catalogue(dict(request.query_params))
        except FormError as exc:
            return problem(request, 400, str(exc), "fix the filter")
        return await _catalogue(request, upstream, user, f)

    @post("/{kind:str}/add")
    async def add(
        self, request: Request, kind: str, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        return await self._change(request, upstream, data, kind, "add", "")

    @post("/{kind:str}/{code:str}/{action:str}")
    async def act(
        self,
        request: Request,
        kind: str,
        code: str,
        action: str,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        if action not in ACTIONS or not q.CODE.fullmatch(code):
            return problem(request, 404, "没有这个操作", f"no action {action!r}")
        return await self._change(request, upstream, data, kind, action, code)

    async def _change(
        self,
        request: Request,
        upstream: Upstream,
        data: dict[str, str],
        kind: str,
        action: str,
        code: str,
    ) -> Template | Redirect:
        user = allowed(request, q.EDITORS)
        if not isinstance(user, SessionUser):
            return user
        f = _query(data.get("back") or "")
        try:
            kind = c.kind_of(kind)
            if action == "add":
                body = c.new_entry(data)
                await upstream.post("tickets", f"/fault-catalogue/{kind}", user.token, body)
                done = f"已添加{c.KINDS[kind]}「{body['name']}」"
            else:
                body = {"active": action == "reactivate"}
                if action == "edit":
                    body = c.entry_patch(data)
                path = f"/fault-catalogue/{kind}/{code}"
                await upstream.send("tickets", "PATCH", path, user.token, body)
                done = f"{ACTIONS[action]}：{code}"
        except (FormError, UpstreamError) as exc:
            refused = refusal(exc, form_status=422, show_404=True)  # an unknown code: at the form
            said = {"kind": "error", "text": refused.text, "at": action}
            kept = {"form": action, "code": code, "values": data, "said": said}
            return await _catalogue(request, upstream, user, f, kept, refused.status)
        flash(request, "ok", done)
        return Redirect(f.link(kind=kind))


class AuditController(Controller):
    path = "/quality/audit"
    include_in_schema = False

    @get("/")
    async def audit(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = allowed(request, q.READERS)
        if not isinstance(user, SessionUser):
            return user
        try:
            f = c.parse_audit(dict(request.query_params))
        except FormError as exc:
            return problem(request, 400, str(exc), "fix the filter")
        size = upstream.settings.page_size
        found = await upstream.get("tickets", "/quality-audit", user.token, f.api_params(size))
        tz = ZoneInfo(upstream.settings.business_timezone)
        total = int(found.get("total", 0))
        return Template(
            "quality_audit.html",
            context={
                "user": user,
                "f": f,
                "rows": [c.audit_row(e, tz) for e in found.get("items", [])],
                "total": total,
                "pages": max(1, -(-total // size)),
                "entities": c.ENTITIES,
            },
        )
