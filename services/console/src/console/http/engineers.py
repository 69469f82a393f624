"""The engineer roster (`/admin/engineers`, issue #21): who dispatch may choose, filtered by
region, active and available, searched, in pages, with their open tickets; supervisors and the
admin add, edit, deactivate and put on leave, import a directory export and export the roster;
managers read (and export). Every form carries its CSRF token and is posted as the signed-in user;
a success redirects (post/redirect/get), a refusal shows the page again with what was typed and
the tickets API's own words."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Response, Template

from aftersales_shared.xlsx import XLSX

from .. import engineers as e
from ..forms import FormError
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import flash, problem, refusal, signed_in, take_flash

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
ACTIONS = {
    "edit": "已保存",
    "leave": "已更新休假",
    "deactivate": "已停用（其名下工单保留）",
    "reactivate": "已恢复在职",
}
PATH = "/admin/engineers"


def _allowed(request: Request, roles: tuple[str, ...]) -> SessionUser | Redirect | Template:
    if roles == e.KEEPERS:
        zh, en = "工程师名单仅限客服主管和管理员维护", "supervisors and the admin keep the roster"
    else:
        zh = "工程师名单仅限客服主管、管理层和管理员"
        en = "the roster is for supervisors, managers and the admin"
    return signed_in(request, *roles, zh=zh, en=en)


def _back(form: dict[str, str]) -> Redirect:
    """Back to the page with the filters it had."""
    try:
        return Redirect(e.filters(_query(form.get("back") or "")).link())
    except e.BadFilter:
        return Redirect(PATH)


def _query(raw: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(raw).query))


async def _page(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    f: e.Filters,
    kept: dict[str, Any] | None = None,
    said: dict[str, str] | None = None,
    errors: list[str] | None = None,
) -> Template:
    size = upstream.settings.page_size
    found = await upstream.get("tickets", "/engineers", user.token, f.query(size))
    everyone = await upstream.get(
        "tickets", "/engineers", user.token, {"include_inactive": "true", "limit": 500}
    )
    rows = [r | {"state": e.state(r)} for r in (found or [])[:size]]
    return Template(
        "engineers.html",
        context={
            "user": user,
            "rows": rows,
            "f": f,
            "more": len(found or []) > size,
            "regions": sorted({r["region"] for r in everyone or [] if r["region"]}),
            "choices": e.CHOICES,
            "keeper": user.has(*e.KEEPERS),
            "flash": said or take_flash(request),
            "kept": kept or {},
            "import_errors": errors or [],
        },
        status_code=422 if said else 200,
    )


class EngineersController(Controller):
    path = PATH
    include_in_schema = False

    @get("/")
    async def roster(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _allowed(request, e.READERS)
        if not isinstance(user, SessionUser):
            return user
        try:
            f = e.filters(dict(request.query_params))
        except e.BadFilter as exc:
            return problem(request, 400, str(exc), "fix the filter")
        return await _page(request, upstream, user, f)

    @get("/export.xlsx")
    async def export(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Response[bytes] | Template | Redirect:
        user = _allowed(request, e.READERS)
        if not isinstance(user, SessionUser):
            return user
        answer = await upstream.raw("tickets", "GET", "/engineers/export.xlsx", user.token)
        headers = {"Content-Disposition": answer.headers.get("content-disposition", "attachment")}
        return Response(answer.content, media_type=XLSX, headers=headers)

    @post("/add")
    async def add(
        self, request: Request, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        return await self._change(request, upstream, data, "add", "")

    @post("/{sub:str}/{action:str}")
    async def act(
        self,
        request: Request,
        sub: str,
        action: str,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        if action not in ACTIONS:
            return problem(request, 404, "没有这个操作", f"no action {action!r}")
        return await self._change(request, upstream, data, action, sub)

    async def _change(
        self, request: Request, upstream: Upstream, data: dict[str, str], action: str, sub: str
    ) -> Template | Redirect:
        user = _allowed(request, e.KEEPERS)
        if not isinstance(user, SessionUser):
            return user
        try:
            if action == "add":
                body = e.new_engineer(data)
                await upstream.post("tickets", "/engineers", user.token, body)
                done = f"已添加工程师 {body['name']}"
            else:
                path = f"/engineers/{e.sub_of(sub)}"
                if action == "leave":
                    await upstream.post("tickets", f"{path}/leave", user.token, e.leave(data))
                else:
                    body = {"active": action == "reactivate"}
                    if action == "edit":
                        body = e.engineer_patch(data)
                    await upstream.send("tickets", "PATCH", path, user.token, body)
                done = ACTIONS[action]
        except (FormError, UpstreamError) as exc:
            text = refusal(exc, show_404=True).text
            try:
                f = e.filters(_query(data.get("back") or ""))
            except e.BadFilter:
                f = e.Filters()
            kept = {"form": action, "sub": sub, "values": data}
            said = {"kind": "error", "text": text, "at": action}
            return await _page(request, upstream, user, f, kept, said)
        flash(request, "ok", done)
        return _back(data)

    @post("/import")
    async def import_(
        self, request: Request, upstream: NamedDependency[Upstream], data: Upload
    ) -> Template | Redirect:
        """A directory export (.xlsx): all or nothing, every wrong row by its line (tickets
        decides)."""
        user = _allowed(request, e.KEEPERS)
        if not isinstance(user, SessionUser):
            return user
        file = data.get("file")
        content = await file.read() if isinstance(file, UploadFile) else b""
        if not content or not content.startswith(b"PK"):
            flash(request, "error", "请选择 Excel 文件（.xlsx）", "import")
            return Redirect(f"{PATH}#import")
        if len(content) > e.MAX_IMPORT_BYTES:
            flash(request, "error", "文件过大：最大 1 MB，请分批导入", "import")
            return Redirect(f"{PATH}#import")
        try:
            answer = await upstream.raw(
                "tickets",
                "POST",
                "/engineers/import",
                user.token,
                content=content,
                content_type=XLSX,
            )
        except UpstreamError as exc:
            text = refusal(exc, show_404=True).text
            errors = exc.body.get("errors") if isinstance(exc.body, dict) else None
            if isinstance(errors, list) and errors:
                said = {
                    "kind": "error",
                    "text": f"导入失败，共 {len(errors)} 处错误，未写入任何数据",
                    "at": "import",
                }
                listed = [str(x)[:300] for x in errors[:100]]
                return await _page(request, upstream, user, e.Filters(), said=said, errors=listed)
            flash(request, "error", text, "import")
            return Redirect(f"{PATH}#import")
        done = answer.json()
        flash(
            request,
            "ok",
            f"导入完成：新增 {done['created']} 人，更新 {done['updated']} 人，"
            f"未变 {done['unchanged']} 人",
            "import",
        )
        return Redirect(f"{PATH}#import")
