"""The complaints pages of the service desk and its supervisors: the open complaints (a low survey
score turned into one by the tickets service among them), a page each, updated live as the board
is, with a form per step the user's role and the complaint's stage allow. Each form is posted
here with its CSRF token, passed to the tickets API as the signed-in user, then
post/redirect/get back to the page with what happened (the API's own zh-CN message when it
refused)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from .. import complaints as cp
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, sign_in_again, take_flash
from .ticket import TICKET_NO, Form, _bad_number

# who handles complaints (tickets' COMPLAINT_DESK): the desk, its supervisors, management; the
# technical department records findings; a dealer reads its own; an engineer reads the complaints
# about their work (我的投诉)
COMPLAINT_ROLES = cp.VIEWERS


def _refused(request: Request) -> Template:
    return problem(
        request,
        403,
        "投诉页面仅限客服、客服主管、管理层、技术部、经销商（本经销商的投诉）和工程师（关于本人工作的投诉）",
        "complaints are the service desk's, its supervisors', management's, the technical "
        "department's, a dealer's own and an engineer's about their own work",
    )


class ComplaintsController(Controller):
    path = "/complaints"
    include_in_schema = False

    @get("/")
    async def complaints(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not user.has(*COMPLAINT_ROLES):
            return _refused(request)
        raw = request.query_params.get("page") or "1"
        if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
            return problem(request, 400, "页码应为 1 起的整数", "page: a whole number from 1")
        shown = request.query_params.get("shown") or "open"
        if shown not in cp.SHOWN:
            return problem(
                request, 400, "shown 只能是 open（未结）或 all（全部）", "shown: open or all"
            )
        listed = await cp.load_complaints(upstream, user, utcnow(), int(raw), shown)
        return Template(
            "complaints.html", context={"user": user, "listed": listed, "shown": cp.SHOWN}
        )

    @get("/{no:str}")
    async def complaint(
        self, request: Request, no: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not TICKET_NO.fullmatch(no):
            return _bad_number(request)
        if not user.has(*COMPLAINT_ROLES):
            return _refused(request)
        page = await cp.load_complaint(upstream, user, no, utcnow())
        return Template(
            "complaint.html",
            context={
                "user": user,
                "page": page,
                "steps": cp.available(user, page.complaint),
                "read_only": cp.engineer_only(user),
                "flash": take_flash(request),
                "choices": cp,
            },
        )

    @post("/{no:str}/actions/{name:str}")
    async def take_step(
        self,
        request: Request,
        no: str,
        name: str,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not TICKET_NO.fullmatch(no):
            return _bad_number(request)
        step = cp.STEPS.get(name)
        if step is None:
            return problem(request, 404, "没有这个操作", f"no step {name!r} on a complaint")
        if not user.has(*COMPLAINT_ROLES):
            return _refused(request)
        here = Redirect(f"/complaints/{no}")
        # read first: a complaint this user may not see is the API's 404 page, never a form
        complaint = await upstream.get("tickets", f"/complaints/{no}", user.token)
        if step not in cp.available(user, complaint):
            flash(request, "error", f"当前不能执行“{step.label}”：投诉进度或您的角色不允许")
            return here
        try:
            body = cp.build(step, data, ZoneInfo(upstream.settings.business_timezone))
        except cp.FormError as exc:
            flash(request, "error", str(exc))
            return here
        try:
            await upstream.post("tickets", f"/complaints/{no}/{step.name}", user.token, body)
        except UpstreamError as exc:
            if not 400 <= exc.status < 500 or exc.status == 404:
                raise  # the service failed or the complaint is gone: the error page says which
            flash(request, "error", exc.detail)
            return here
        flash(request, "ok", f"已完成：{step.label}")
        return here
