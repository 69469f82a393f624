"""One ticket's page: its clocks, its timeline and the actions the user's role and the ticket's
state allow. Each action is a form (with its CSRF token) posted here, passed to the tickets API as
the signed-in user, then post/redirect/get back to the page with what happened (the API's own zh-CN
message when it refused)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from .. import actions as act
from ..ticket import load_ticket
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, sign_in_again, take_flash

TICKET_NO = re.compile(r"^[A-Za-z0-9-]{1,40}$")
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _bad_number(request: Request) -> Template:
    return problem(
        request,
        400,
        "工单号格式不对",
        "a ticket number is letters, digits and - (SV-20261130-0001)",
    )


async def _catalogue(upstream: Upstream, token: str, ticket: dict[str, Any]) -> dict[str, Any]:
    """The fault catalogue's symptoms for the ticket's model and the cause categories (the
    completion form's choices)."""
    params = {"model": ticket["product_model"]} if ticket.get("product_model") else {}
    symptoms = await upstream.get(
        "tickets", "/fault-catalogue/symptoms", token, {**params, "active": "true", "limit": 200}
    )
    causes = await upstream.get("tickets", "/fault-catalogue/cause-categories", token)
    return {"symptoms": symptoms.get("items", []), "causes": causes}


async def _engineers(upstream: Upstream, token: str, q: str = "") -> list[dict[str, Any]]:
    """The engineers dispatch may choose (tickets' roster with their open tickets); none when the
    tickets service keeps no roster or the user may not read it (the typed id remains)."""
    try:
        found = await upstream.get("tickets", "/engineers", token, {"q": q} if q else None)
    except UpstreamError as exc:
        if exc.status in (403, 404):
            return []
        raise
    return found if isinstance(found, list) else []


async def _picked(upstream: Upstream, token: str, data: dict[str, str]) -> dict[str, str]:
    """The dispatch form with the engineer chosen in the picker filled in as the assignee (name
    and phone from the roster); FormError when the choice is not on it."""
    chosen = (data.get("engineer") or "").strip()
    if not chosen:
        return data
    roster = {e["id"]: e for e in await _engineers(upstream, token)}
    engineer = roster.get(chosen)
    if engineer is None:
        raise act.FormError("所选工程师不在名单中，请重新选择 (choose an engineer from the list)")
    picked = {"assignee_kind": "engineer", "assignee_id": engineer["id"]}
    picked["assignee_name"] = engineer["name"]
    if engineer.get("phone"):
        picked["assignee_phone"] = engineer["phone"]
    return {**data, **picked}


class TicketController(Controller):
    path = "/tickets"
    include_in_schema = False

    @get("/{no:str}")
    async def ticket(
        self, request: Request, no: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not TICKET_NO.fullmatch(no):
            return _bad_number(request)
        page = await load_ticket(upstream, user, no, utcnow())
        allowed = act.available(user, page.ticket)
        catalogue: dict[str, Any] = {"symptoms": [], "causes": []}
        if any(a.name == "complete" for a in allowed):
            catalogue = await _catalogue(upstream, user.token, page.ticket)
        engineers: list[dict[str, Any]] = []
        if any(a.name == "assign" for a in allowed):
            engineers = await _engineers(upstream, user.token)
        similar = []
        if page.ticket.get("status") != "completed":  # solved cases for whoever works on it
            similar = await upstream.get("tickets", f"/tickets/{no}/suggestions", user.token)
        return Template(
            "ticket.html",
            context={
                "user": user,
                "page": page,
                "actions": allowed,
                "flash": take_flash(request),
                "catalogue": catalogue,
                "engineers": engineers,
                "hits": similar,
                "q": "",
                "choices": act,
                "now_local": utcnow().astimezone(ZoneInfo(upstream.settings.business_timezone)),
            },
        )

    @post("/{no:str}/actions/{name:str}")
    async def take_action(
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
        action = act.ACTIONS.get(name)
        if action is None:
            return problem(request, 404, "没有这个操作", f"no action {name!r} on a ticket")
        here = Redirect(f"/tickets/{no}")
        # read first: a ticket this user may not see is the API's 404 page, never a form
        ticket = await upstream.get("tickets", f"/tickets/{no}", user.token)
        if action not in act.available(user, ticket):
            flash(request, "error", f"当前不能执行“{action.label}”：工单状态或您的角色不允许")
            return here
        now = utcnow()
        try:
            if action.name == "assign":
                data = await _picked(upstream, user.token, data)
            path, body = act.build(
                action, data, ticket, ZoneInfo(upstream.settings.business_timezone), now
            )
        except act.FormError as exc:
            flash(request, "error", str(exc))
            return here
        try:
            await upstream.post("tickets", path, user.token, body)
        except UpstreamError as exc:
            if not 400 <= exc.status < 500 or exc.status == 404:
                raise  # the service failed or the ticket is gone: the error page says which
            flash(request, "error", exc.detail)
            return here
        flash(request, "ok", f"已完成：{action.label}")
        return here
