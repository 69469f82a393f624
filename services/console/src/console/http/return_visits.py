"""Return visits (回访): the desk's due list and one visit's page with its calls and, for the
desk, the form that records a call (made for a phone: the customer's number is a tel: link
above it). Posted with its CSRF token to the surveys API as the signed-in user, then
post/redirect/get with what happened (the API's own zh-CN message when it refused)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from .. import return_visits as rv
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, sign_in_again, take_flash
from .ticket import Form


def _refused(request: Request) -> Template:
    return problem(
        request,
        403,
        "回访页面仅限客服、客服主管、管理层和经销商（本经销商的回访）",
        "return visits are the service desk's, its supervisors', management's and a dealer's own",
    )


def _bad_id(request: Request) -> Template:
    return problem(request, 400, "回访编号格式不对", "a return visit id is letters, digits and -")


class ReturnVisitsController(Controller):
    path = "/return-visits"
    include_in_schema = False

    @get("/")
    async def visits(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not user.has(*rv.VIEWERS):
            return _refused(request)
        try:
            q = rv.VisitQuery.parse(dict(request.query_params))
        except rv.QueryError as exc:
            return problem(request, 400, exc.zh, exc.en)
        listed = await rv.load_visits(upstream, user, q, utcnow())
        return Template(
            "return_visits.html",
            context={"user": user, "listed": listed, "q": q, "tabs": rv.TABS},
        )

    @get("/{visit_id:str}")
    async def visit(
        self, request: Request, visit_id: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not rv.VISIT_ID.fullmatch(visit_id):
            return _bad_id(request)
        if not user.has(*rv.VIEWERS):
            return _refused(request)
        page = await rv.load_visit(upstream, user, visit_id, utcnow())
        return Template(
            "return_visit.html",
            context={"user": user, "page": page, "flash": take_flash(request), "choices": rv},
        )

    @post("/{visit_id:str}/calls")
    async def call(
        self, request: Request, visit_id: str, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not rv.VISIT_ID.fullmatch(visit_id):
            return _bad_id(request)
        if not user.has(*rv.CALLERS):
            return problem(
                request,
                403,
                "只有客服和客服主管可以记录回访",
                "only the service desk and its supervisors record return visits",
            )
        here = Redirect(f"/return-visits/{visit_id}")
        try:
            body = rv.call_body(data)
        except ValueError as exc:
            flash(request, "error", str(exc))
            return here
        try:
            await upstream.post("surveys", f"/return-visits/{visit_id}/calls", user.token, body)
        except UpstreamError as exc:
            if not 400 <= exc.status < 500 or exc.status == 404:
                raise  # the service failed or the visit is gone: the error page says which
            flash(request, "error", exc.detail)
            return here
        flash(request, "ok", f"已记录回访：{rv.OUTCOMES[body['outcome']]}")
        return here
