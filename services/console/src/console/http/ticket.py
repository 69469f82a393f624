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
from .. import money
from ..ticket import load_ticket
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, sign_in_again, take_flash


def take_quote_link(request: Request) -> dict[str, str] | None:
    """The customer's quote link, shown once on the page after issuing (kept in the encrypted
    session cookie until then)."""
    session = request.scope.get("session")
    if not isinstance(session, dict) or "quote_link" not in session:
        return None
    rest = dict(session)
    said = rest.pop("quote_link")
    request.set_session(rest)
    return said if isinstance(said, dict) else None


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
        self, request: Request, no: str, upstream: NamedDependency[Upstream], part_q: str = ""
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
        if len(part_q) > 60:
            return problem(
                request, 400, "备件搜索词最多 60 个字", "a part search is 60 characters at most"
            )
        section = await money.load_section(upstream, user, page.ticket, part_q.strip())
        similar = []
        works_on = user.has(*act.ALL_READERS)  # finance reads a ticket to invoice it, no more
        if page.ticket.get("status") != "completed" and works_on:  # solved cases, to work on it
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
                "money": section,
                "money_labels": money,
                "quote_link": take_quote_link(request),
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

    @post("/{no:str}/money/{name:str}")
    async def money_action(
        self,
        request: Request,
        no: str,
        name: str,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        """A form of the 备件与费用 section, passed to the parts API as the signed-in user."""
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not TICKET_NO.fullmatch(no):
            return _bad_number(request)
        here = Redirect(f"/tickets/{no}#money")
        # read first: a ticket this user may not see is the API's 404 page, never a form
        ticket = await upstream.get("tickets", f"/tickets/{no}", user.token)
        section = await money.load_section(upstream, user, ticket)
        if section is None or name not in section.forms:
            flash(request, "error", "当前不能执行此操作：工单状态或您的角色不允许", "money")
            return here
        try:
            method, path, body = money.build(name, data, no, section)
        except money.FormError as exc:
            flash(request, "error", str(exc), "money")
            return here
        try:
            answer = await upstream.send("parts", method, path, user.token, body)
        except UpstreamError as exc:
            if not 400 <= exc.status < 500 or exc.status == 404:
                raise
            flash(request, "error", exc.detail, "money")
            return here
        if name == "quote" and isinstance(answer, dict):
            session = dict(request.session or {})
            session["quote_link"] = {"no": answer["quote_no"], "link": answer["link"]}
            request.set_session(session)
            flash(
                request, "ok", f"报价 {answer['quote_no']} 已发出，请把下面的链接发给客户", "money"
            )
        else:
            flash(request, "ok", money.MESSAGES.get(name, "已完成"), "money")
        return here
