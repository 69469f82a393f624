"""The notification recipients and the duty rota (`/admin/recipients`): groups and their members,
a person registered or changed, someone put on duty for a shift, a shift removed. For the
supervisors, the managers and the admin (notifications' writers); notifications decides again."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from .. import rota as r
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import flash, problem, refusal, signed_in, take_flash

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
DONE = {
    "recipient": "已登记接收人",
    "edit": "已保存接收人",
    "shift": "已排班",
    "remove_shift": "已删除班次",
}


def _editor(request: Request) -> SessionUser | Redirect | Template:
    return signed_in(
        request,
        *r.EDITORS,
        zh="通知接收人和值班表仅限客服主管、管理层和管理员",
        en="recipients and the duty rota are for supervisors, managers and the admin",
    )


class RotaController(Controller):
    path = "/admin/recipients"
    include_in_schema = False

    @get("/")
    async def page(
        self, request: Request, upstream: NamedDependency[Upstream], group: str = ""
    ) -> Template | Redirect:
        user = _editor(request)
        if not isinstance(user, SessionUser):
            return user
        group = group.strip()
        if group and not r.GROUP.fullmatch(group):
            return problem(request, 400, "组名只能用小写字母和下划线", "a group is a-z and _")
        people = await upstream.get("notifications", "/recipients", user.token, {"limit": 200})
        everyone = (people or {}).get("items", [])
        params = {"limit": 200, **({"group": group} if group else {})}
        shifts = await upstream.get("notifications", "/duty-shifts", user.token, params)
        tz = ZoneInfo(upstream.settings.business_timezone)
        groups = r.members(everyone)
        return Template(
            "rota.html",
            context={
                "user": user,
                "groups": groups,
                "group": group,
                "people": everyone,
                "names": {p["id"]: p["name"] for p in everyone},
                "shifts": r.current_shifts((shifts or {}).get("items", []), utcnow(), tz),
                "channels": r.CHANNELS,
                "flash": take_flash(request),
            },
        )

    @post("/{name:str}")
    async def act(
        self, request: Request, name: str, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        user = _editor(request)
        if not isinstance(user, SessionUser):
            return user
        if name not in DONE:
            return problem(request, 404, "没有这个操作", f"no action {name!r}")
        group = (data.get("back_group") or "").strip()
        here = Redirect(
            "/admin/recipients" + (f"?group={quote(group)}" if r.GROUP.fullmatch(group) else "")
        )
        tz = ZoneInfo(upstream.settings.business_timezone)
        try:
            if name == "recipient":
                await upstream.post(
                    "notifications", "/recipients", user.token, r.new_recipient(data)
                )
            elif name == "edit":
                rid = (data.get("id") or "").strip()
                if not r.RECIPIENT_ID.fullmatch(rid):
                    raise r.FormError("请选择接收人")
                body = r.recipient_patch(data)
                await upstream.send(
                    "notifications", "PATCH", f"/recipients/{rid}", user.token, body
                )
            elif name == "shift":
                await upstream.post("notifications", "/duty-shifts", user.token, r.shift(data, tz))
            else:
                sid = (data.get("shift_id") or "").strip()
                if not sid.isdigit() or not 1 <= int(sid) <= 2**31 - 1:
                    raise r.FormError("请选择要删除的班次")
                await upstream.send("notifications", "DELETE", f"/duty-shifts/{sid}", user.token)
        except (r.FormError, UpstreamError) as exc:
            flash(request, "error", refusal(exc, show_404=True).text)
            return here
        flash(request, "ok", DONE[name])
        return here
