"""The notification rules (`/admin/rules`): the rules in force grouped by event, in Chinese words,
and their history. The admin adds, edits, switches off, deletes and restores (each a new version
in notifications, refused there with 409 when someone saved in between); supervisors, managers and
service agents read. A refused change shows the page again with the service's words and what was
typed; a done one redirects (post/redirect/get)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from .. import rules as r
from ..forms import FormError
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, sign_in_again, take_flash

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
EVENT = re.compile(r"^[A-Za-z][A-Za-z0-9.]{1,120}$")
HISTORY_PAGE = 10
MAX_OFFSET = 100_000
DONE = {
    "save": "已保存规则",
    "switch": "已切换规则的启用状态",
    "delete": "已删除规则",
    "restore": "已恢复旧版本",
    "defaults": "已恢复默认规则",
}


def _reader(request: Request) -> SessionUser | Redirect | Template:
    user = current_user(request)
    if user is None:
        return sign_in_again(request)
    if not user.has(*r.READERS):
        return problem(
            request,
            403,
            "通知规则仅限客服、客服主管、管理层和管理员查看",
            "the notification rules are for service staff, managers and the admin",
        )
    return user


def _number(raw: str | None, label: str, low: int = 0) -> int:
    text = (raw or "").strip()
    if not text.isdigit() or not low <= int(text) <= 2**31 - 1:
        raise FormError(f"{label}无效，请刷新页面后重试")
    return int(text)


async def _page(
    request: Request,
    user: SessionUser,
    upstream: Upstream,
    *,
    event: str = "",
    state: str = "",
    offset: int = 0,
    error: str | None = None,
    form: dict[str, str] | None = None,
    focus: str = "",
    status: int = 200,
) -> Template:
    token = user.token
    shown = await upstream.get("notifications", "/rules", token)
    catalog = await upstream.get("notifications", "/rules/catalog", token)
    versions = await upstream.get(
        "notifications", "/rules/versions", token, {"limit": HISTORY_PAGE, "offset": offset}
    )
    tz = ZoneInfo(upstream.settings.business_timezone)
    rules = shown.get("rules", [])
    return Template(
        "rules.html",
        context={
            "user": user,
            "editor": "admin" in user.roles,
            "current": shown,
            "saved_at": r.history([shown], tz)[0]["at"],
            "groups": r.by_event(rules, event, state),
            "summary": r.group_summary,
            "focus": focus,  # the rule just saved or refused: its event's group shows open
            "count": len(rules),
            "off": sum(1 for x in rules if x.get("enabled") is False),
            "events": [(e["name"], r.event_label(e["name"])) for e in catalog["events"]],
            "templates": catalog["templates"],
            "channels": r.CHANNELS,
            "kinds": r.KINDS,
            "event": event,
            "state": state,
            "history": r.history(versions.get("items", []), tz),
            "total": versions.get("total", 0),
            "offset": offset,
            "page_size": HISTORY_PAGE,
            "error": error,
            "form": form,
            "flash": take_flash(request),
        },
        status_code=status,
    )


def _rule_of(action: str, form: dict[str, str]) -> str:
    """The rule a change is about (saved, switched, deleted), if its id is well formed."""
    said = form.get("id") if action == "save" else form.get("rule_id")
    rid = (said or "").strip()
    return rid if action in ("save", "switch", "delete") and r.RULE_ID.fullmatch(rid) else ""


class RulesPagesController(Controller):
    path = "/admin/rules"
    include_in_schema = False

    @get("/")
    async def rules(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _reader(request)
        if not isinstance(user, SessionUser):
            return user
        event = request.query_params.get("event") or ""
        state = request.query_params.get("state") or ""  # `state` is Litestar's own parameter
        offset = request.query_params.get("offset") or "0"
        focus = request.query_params.get("rule") or ""
        if (
            (event and not EVENT.fullmatch(event))
            or (focus and not r.RULE_ID.fullmatch(focus))
            or state not in ("", "on", "off")
            or not offset.isdigit()
            or int(offset) > MAX_OFFSET
        ):
            return problem(
                request, 400, "筛选条件无效", "filters: event name, state on/off, offset ≥ 0"
            )
        return await _page(
            request, user, upstream, event=event, state=state, offset=int(offset), focus=focus
        )

    @post("/{action:str}")
    async def act(
        self, request: Request, action: str, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        user = _reader(request)
        if not isinstance(user, SessionUser):
            return user
        if "admin" not in user.roles:
            return problem(request, 403, "只有管理员可以修改通知规则", "only the admin edits")
        if action not in DONE:
            return problem(request, 404, "没有这个操作", f"no action {action!r}")
        form = {k: v for k, v in data.items() if k != "_csrf_token"}
        rid = _rule_of(action, form)
        try:
            await self._change(action, form, user.token, upstream)
        except (FormError, UpstreamError) as exc:
            if isinstance(exc, UpstreamError) and not 400 <= exc.status < 500:
                raise
            said, status = (
                (exc.detail, exc.status) if isinstance(exc, UpstreamError) else (str(exc), 400)
            )
            return await _page(
                request,
                user,
                upstream,
                error=said,
                form=form | {"action": action},
                focus=rid,
                status=status,
            )
        flash(request, "ok", DONE[action])
        if rid and action != "delete":  # back at the rule, its event's group open
            return Redirect(f"/admin/rules?rule={rid}#rule-{rid}")
        return Redirect("/admin/rules")

    @staticmethod
    async def _change(action: str, form: dict[str, str], token: str, upstream: Upstream) -> Any:
        expected = _number(form.get("expected_version"), "版本号")
        note = (form.get("note") or "").strip()[:500] or None
        said = {"expected_version": expected, **({"note": note} if note else {})}
        if action == "save":
            rid, rule = r.rule_from_form(form)
            if form.get("mode") != "edit":
                shown = await upstream.get("notifications", "/rules", token)
                if rid in {x.get("id") for x in shown.get("rules", [])}:
                    raise FormError(f"规则编号 {rid} 已存在，请换一个编号，或修改那条规则")
            body = said | {"rule": rule}
            return await upstream.send("notifications", "PUT", f"/rules/items/{rid}", token, body)
        if action in ("switch", "delete"):
            rid = (form.get("rule_id") or "").strip()
            if not r.RULE_ID.fullmatch(rid):
                raise FormError("请选择规则")
            if action == "delete":
                return await upstream.send(
                    "notifications",
                    "DELETE",
                    f"/rules/items/{rid}?expected_version={expected}",
                    token,
                )
            body = said | {"enabled": form.get("enabled") == "on"}
            return await upstream.post("notifications", f"/rules/items/{rid}/enabled", token, body)
        if action == "restore":
            number = _number(form.get("number"), "要恢复的版本", 1)
            return await upstream.post("notifications", f"/rules/restore/{number}", token, said)
        return await upstream.post("notifications", "/rules/restore-defaults", token, said)
