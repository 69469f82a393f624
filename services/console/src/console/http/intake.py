"""The service desk's phone intake page: look the caller up by contract or serial number, see the
entitlement and the service level that will apply, describe the problem (knowledge-base
suggestions as it is typed), open the ticket and land on its page."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from ..actions import FormError
from ..board import REQUEST_TYPES, URGENCY
from ..intake import LOOKUP, Lookup, look_up, ticket_body
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import current_user, problem, sign_in_again

INTAKE_ROLES = ("service_agent", "service_supervisor")
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
SUGGESTIONS = 5


def _desk(request: Request) -> SessionUser | Redirect | Template:
    user = current_user(request)
    if user is None:
        return sign_in_again(request)
    if not user.has(*INTAKE_ROLES):
        return problem(
            request,
            403,
            "电话受理仅限客服专员和客服主管",
            "phone intake is the service desk's (service agents and supervisors)",
        )
    return user


def _page(
    request: Request,
    user: SessionUser,
    lookup: Lookup,
    form: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Template:
    return Template(
        "intake.html",
        context={
            "user": user,
            "lookup": lookup,
            "form": form or {},
            "error": error,
            "types": REQUEST_TYPES,
            "urgencies": URGENCY,
        },
        status_code=status,
    )


class IntakeController(Controller):
    path = "/intake"
    include_in_schema = False

    @get("/")
    async def intake(
        self,
        request: Request,
        upstream: NamedDependency[Upstream],
    ) -> Template | Redirect:
        user = _desk(request)
        if not isinstance(user, SessionUser):
            return user
        params = request.query_params
        today = utcnow().astimezone(ZoneInfo(upstream.settings.business_timezone)).date()
        try:
            lookup = await look_up(
                upstream,
                user,
                params.get("contract_no") or "",
                params.get("serial_no") or "",
                today,
            )
        except FormError as exc:
            return _page(request, user, Lookup(), error=str(exc), status=400)
        return _page(request, user, lookup)

    @get("/suggestions")
    async def suggestions(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        """The knowledge-base articles most like what has been typed so far (a partial the page's
        script puts under the description)."""
        user = _desk(request)
        if not isinstance(user, SessionUser):
            return user
        q = (request.query_params.get("q") or "").strip()[:500]
        model = (request.query_params.get("product_model") or "").strip()
        params: dict[str, Any] = {"q": q, "limit": SUGGESTIONS}
        if model and LOOKUP.fullmatch(model):
            params["product_model"] = model
        hits = []
        if len(q) >= 2:
            hits = (await upstream.get("tickets", "/knowledge/search", user.token, params))["items"]
        return Template("suggestions.html", context={"hits": hits, "q": q})

    @post("/")
    async def open_ticket(
        self,
        request: Request,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        user = _desk(request)
        if not isinstance(user, SessionUser):
            return user
        form = {k: v for k, v in data.items() if k != "_csrf_token"}
        try:
            body = ticket_body(form)
            opened = await upstream.post("tickets", "/tickets", user.token, body)
        except (FormError, UpstreamError) as exc:
            if isinstance(exc, UpstreamError) and not 400 <= exc.status < 500:
                raise
            said, status = (
                (exc.detail, exc.status)
                if isinstance(exc, UpstreamError)
                else (
                    str(exc),
                    400,
                )
            )
            # the same page again, what was typed kept, the entitlement shown again
            today = utcnow().astimezone(ZoneInfo(upstream.settings.business_timezone)).date()
            try:
                kept = await look_up(
                    upstream, user, form.get("contract_no", ""), form.get("serial_no", ""), today
                )
            except FormError:
                kept = Lookup()
            return _page(request, user, kept, form, said, status)
        return Redirect(f"/tickets/{opened['ticket_no']}")
