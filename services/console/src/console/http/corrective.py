"""Corrective and preventive actions (纠正/预防措施, `/corrective`): the list with its tabs and
filters, the form that opens one (from a ticket or a complaint), an action's page with its history
and the step the signed-in person may take. Every call goes to the tickets API as that person;
tickets decides who may do what (the owner department, someone other than the doer)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from .. import corrective as ca
from ..forms import FormError
from ..people import SessionUser, known_as
from ..upstream import Upstream, UpstreamError
from .pages import flash, problem, refusal, signed_in, take_flash

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _reader(request: Request) -> SessionUser | Redirect | Template:
    """The signed-in user if the actions are theirs to read (the tickets API refuses too)."""
    return signed_in(
        request,
        *ca.READERS,
        zh="纠正/预防措施仅限公司内部相关部门查看",
        en="corrective actions are for the company's departments",
    )


def _lead(request: Request) -> SessionUser | Redirect | Template:
    """The signed-in user if one who opens actions (technical, supervisors, management)."""
    return signed_in(
        request,
        *ca.QUALITY_LEADS,
        zh="只有技术部、客服主管和管理层可以新建纠正/预防措施",
        en="only the technical department, service supervisors and management open actions",
    )


async def _listed(upstream: Upstream, user: SessionUser, query: ca.ActionQuery) -> tuple:
    """The tab's parts one after the other (e.g. 待处理 then 进行中), paged across them: one call
    per part, each answering its total."""
    size = upstream.settings.page_size
    skip, want, items, total = (query.page - 1) * size, size, [], 0
    for part in query.parts():
        found = await upstream.get(
            "tickets",
            "/corrective-actions",
            user.token,
            part | {"limit": max(want, 1), "offset": skip if want else 0},
        )
        count = int(found.get("total", 0))
        total += count
        if want:
            got = found.get("items", [])[:want]
            items += got
            want -= len(got)
            skip = max(0, skip - count)
    return items, total


async def _rows(upstream: Upstream, user: SessionUser, items: list[dict[str, Any]]) -> list:
    now = utcnow()
    out = []
    for item in items:
        calendar = await upstream.calendar(item.get("calendar_id") or "default", user.token)
        out.append(ca.row(item, now, calendar))
    return out


async def _new_form(
    request: Request,
    user: SessionUser,
    values: dict[str, str],
    source: tuple[str, str] | None = None,
    said: str = "",
    status_code: int = 200,
) -> Template:
    return Template(
        "corrective_new.html",
        context={
            "user": user,
            "who": known_as,
            "v": values,
            "source": source,
            "said": said,
            "kinds": ca.KINDS,
            "departments": ca.DEPARTMENTS,
            "causes": ca.CAUSES,
            "ticket_link": user.has(*ca.TICKET_READERS),
        },
        status_code=status_code,
    )


async def _sources(upstream: Upstream, user: SessionUser, nos: list[str]) -> list[dict]:
    """The tickets an action answers, and which of them are complaints (their page's link)."""
    if not user.has(*ca.TICKET_READERS):
        return [{"no": n, "link": None, "complaint": False} for n in nos]
    out = []
    for n in nos:
        complaint = False
        if len(out) < 5:
            try:
                await upstream.get("tickets", f"/complaints/{n}", user.token)
                complaint = True
            except UpstreamError as exc:
                if not 400 <= exc.status < 500:
                    raise
        out.append({"no": n, "link": f"/tickets/{n}", "complaint": complaint})
    return out


async def _action_page(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    no: str,
    said: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    """An action's page; `said` is a refused step shown at its form with what was typed."""
    action = await upstream.get("tickets", f"/corrective-actions/{no}", user.token)
    calendar = await upstream.calendar(action.get("calendar_id") or "default", user.token)
    return Template(
        "corrective_action.html",
        context={
            "user": user,
            "who": known_as,
            "a": ca.row(action, utcnow(), calendar),
            "created_label": ca.local(action.get("created_at"), calendar),
            "done_label": ca.local(action.get("done_at"), calendar),
            "verified_label": ca.local(action.get("verified_at"), calendar),
            "history": ca.history(action.get("history") or [], calendar),
            "sources": await _sources(upstream, user, action.get("ticket_nos") or []),
            "steps": ca.steps_for(user, action),
            "said": said or {},
            "flash": take_flash(request),
        },
        status_code=status_code,
    )


class CorrectiveController(Controller):
    path = "/corrective"
    include_in_schema = False

    @get("/")
    async def listing(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _reader(request)
        if not isinstance(user, SessionUser):
            return user
        try:
            query = ca.parse_query(dict(request.query_params), user)
        except FormError as exc:
            return problem(request, 400, str(exc), "fix the filter")
        items, total = await _listed(upstream, user, query)
        size = upstream.settings.page_size
        mine = next((ca.MY_DEPARTMENT[r] for r in user.roles if r in ca.MY_DEPARTMENT), "")
        return Template(
            "corrective.html",
            context={
                "user": user,
                "who": known_as,
                "q": query,
                "rows": await _rows(upstream, user, items),
                "total": total,
                "pages": max(1, -(-total // size)),
                "tabs": {k: label for k, (label, _) in ca.TABS.items()},
                "kinds": ca.KINDS,
                "departments": ca.DEPARTMENTS,
                "mine": mine,
                "may_create": ca.may_create(user),
                "flash": take_flash(request),
            },
        )

    @get("/new")
    async def new(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _lead(request)
        if not isinstance(user, SessionUser):
            return user
        source = None
        for kind in ("complaint", "ticket"):
            no = (request.query_params.get(kind) or "").strip()
            if no:
                if not ca.TICKET_NO.fullmatch(no):
                    return problem(request, 400, "工单号只含字母、数字和 - _ .", "bad number")
                source = (kind, no)
                break
        fault = None
        if source:
            try:
                fault = await upstream.get("tickets", f"/tickets/{source[1]}/fault", user.token)
            except UpstreamError as exc:
                if not 400 <= exc.status < 500:
                    raise
        values = ca.prefill(source[0], source[1], fault) if source else ca.prefill("", "", None)
        return await _new_form(request, user, values, source)

    @post("/")
    async def create(
        self, request: Request, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        """Open the action and go to its page; refused: the form again with tickets' words (or
        what to fix) and everything typed."""
        user = _lead(request)
        if not isinstance(user, SessionUser):
            return user
        try:
            body = ca.new_action(data)
            made = await upstream.post("tickets", "/corrective-actions", user.token, body)
        except (FormError, UpstreamError) as exc:
            refused = refusal(exc, form_status=422, show_404=True)  # an unknown ticket: at the form
            typed = ca.typed(data)
            return await _new_form(request, user, typed, None, refused.text, refused.status)
        flash(request, "ok", f"已创建措施 {made['action_no']}：{made['title']}")
        return Redirect(f"/corrective/{made['action_no']}")

    @get("/{action_no:str}")
    async def action(
        self, request: Request, action_no: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _reader(request)
        if not isinstance(user, SessionUser):
            return user
        if not ca.ACTION_NO.fullmatch(action_no):
            return problem(request, 404, "没有这项措施", "no such action")
        return await _action_page(request, upstream, user, action_no)

    @post("/{action_no:str}/{step:str}")
    async def step(
        self,
        request: Request,
        action_no: str,
        step: str,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        """A step as tickets takes it (even one the page does not offer: tickets refuses it and
        the page says so); done: flash and back to the page."""
        user = _reader(request)
        if not isinstance(user, SessionUser):
            return user
        if step not in ca.STEPS or not ca.ACTION_NO.fullmatch(action_no):
            return problem(request, 404, "没有这个操作", f"no step {step!r} on an action")
        typed = {k: (data.get(k) or "")[:4000] for k in ("note", "result", "reason")}
        try:
            body = ca.step_body(step, data)
            path = f"/corrective-actions/{action_no}/{step}"
            await upstream.post("tickets", path, user.token, body)
        except (FormError, UpstreamError) as exc:
            refused = refusal(exc, form_status=422)
            said = {"step": step, "text": refused.text, "values": typed}
            return await _action_page(request, upstream, user, action_no, said, refused.status)
        flash(request, "ok", f"措施 {action_no}：{ca.STEPS[step][0]}")
        return Redirect(f"/corrective/{action_no}")
