"""The dealer portal (token role dealer with a dealer_id): its units with the warranty card's 20
days, its cards, repairs, old parts owed back with their deadlines, deduction notices whose lines
it confirms or disputes. Every read and write goes to the dealers API with the dealer's own token:
a record of another dealer is the API's 404, shown as such."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from .. import dealer as portal
from .. import dealer_work as work
from ..contracts import local
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, refusal, sign_in_again, take_flash

RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SEASON_CODE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # the dealers API's Id
PLAN_TEXT_MAX = 100_000  # characters: 500 lines of part number, name and quantity, generously
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _dealer(request: Request) -> SessionUser | Redirect | Template:
    user = current_user(request)
    if user is None:
        return sign_in_again(request)
    if "dealer" not in user.roles or not user.dealer_id:
        return problem(
            request,
            403,
            "经销商门户仅供经销商账号使用",
            "the dealer portal is for dealer accounts (role dealer with a dealer id)",
        )
    return user


def _bad_id(request: Request) -> Template:
    return problem(request, 400, "编号格式不对", "an id is letters, digits, - and _")


def _context(user: SessionUser, request: Request, upstream: Upstream, **kw: object) -> dict:
    today = utcnow().astimezone(ZoneInfo(upstream.settings.business_timezone)).date()
    return {
        "user": user,
        "flash": take_flash(request),
        "p": portal,
        "work": work,
        "today": today,
        **kw,
    }


class DealerController(Controller):
    path = "/dealer"
    include_in_schema = False

    @get("/")
    async def home(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user
        return await portal_page(request, upstream, user)

    @get("/repairs/{record_id:str}")
    async def repair(
        self, request: Request, record_id: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user
        if not RECORD_ID.fullmatch(record_id):
            return _bad_id(request)
        return await repair_page(request, upstream, user, record_id)

    @get("/notices/{notice_id:str}")
    async def notice(
        self, request: Request, notice_id: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user
        if not RECORD_ID.fullmatch(notice_id):
            return _bad_id(request)
        notice = await upstream.get("dealers", f"/deduction-notices/{notice_id}", user.token)
        ctx = _context(user, request, upstream)
        return Template("dealer_notice.html", context={**ctx, "n": notice})

    @get("/plans/{season_code:str}")
    async def plan(
        self, request: Request, season_code: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        """A season's stocking plan: the one submitted, or the form to submit it."""
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user
        return await _plan_page(request, upstream, user, season_code)

    @post("/plans/{season_code:str}")
    async def submit_plan(
        self,
        request: Request,
        season_code: str,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        """Submit the season's plan from lines typed or pasted from Excel; what is wrong is said
        line by line and the text is kept for mending (not lost to a redirect)."""
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user
        text = data.get("lines") or ""
        if len(text) > PLAN_TEXT_MAX:
            return await _plan_page(
                request,
                upstream,
                user,
                season_code,
                text[:PLAN_TEXT_MAX],
                f"计划内容过长（最多 {PLAN_TEXT_MAX:,} 字）",
            )
        try:
            lines = portal.parse_plan(text)
        except portal.PlanTextError as exc:
            return await _plan_page(request, upstream, user, season_code, text, str(exc))
        body = {"season_code": season_code, "lines": lines}
        try:
            await upstream.post("dealers", "/stocking-plans", user.token, body)
        except UpstreamError as exc:
            error = refusal(exc).text
            return await _plan_page(request, upstream, user, season_code, text, error)
        flash(request, "ok", f"{season_code} 备件计划已提交（{len(lines)} 种备件）")
        return Redirect(f"/dealer/plans/{season_code}")

    @post("/cards")
    async def register_card(
        self, request: Request, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        """Register a unit's warranty card (三包回执卡) within the 20 days (the dealers API keeps a
        late one, not recognised, and says why)."""
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user
        here = Redirect("/dealer#units")
        serial = (data.get("serial_no") or "").strip()
        name = (data.get("customer_name") or "").strip()
        phone = (data.get("customer_phone") or "").strip()
        address = (data.get("customer_address") or "").strip()
        if not RECORD_ID.fullmatch(serial):
            flash(request, "error", "序列号格式不对")
            return here
        if not name or len(name) > 200:
            flash(request, "error", "请填写用户名称（最多 200 字）")
            return here
        if len(phone) > 20 or len(address) > 300:
            flash(request, "error", "电话最多 20 位，地址最多 300 字")
            return here
        body = {"serial_no": serial, "customer_name": name}
        body |= {"customer_phone": phone} if phone else {}
        body |= {"customer_address": address} if address else {}
        return await _post(request, upstream, user, "/cards", body, here, f"{serial} 回执卡已登记")

    @post("/notices/{notice_id:str}/lines/{line_id:int}")
    async def answer_line(
        self,
        request: Request,
        notice_id: str,
        line_id: int,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        """Confirm or dispute one line (a dispute says why)."""
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user
        if not RECORD_ID.fullmatch(notice_id):
            return _bad_id(request)
        here = Redirect(f"/dealer/notices/{notice_id}")
        decision = data.get("decision", "")
        reason = (data.get("reason") or "").strip()
        if decision not in ("confirmed", "disputed"):
            flash(request, "error", "请选择确认或提出异议")
            return here
        if decision == "disputed" and not reason:
            flash(request, "error", "提出异议时请填写异议原因")
            return here
        if len(reason) > 2000:
            flash(request, "error", "异议原因最多 2000 个字")
            return here
        body = {"decision": decision, **({"reason": reason} if reason else {})}
        path = f"/deduction-notices/{notice_id}/lines/{line_id}/answer"
        return await _post(request, upstream, user, path, body, here, "已记录您的答复")

    @post("/notices/{notice_id:str}/confirm")
    async def confirm(
        self, request: Request, notice_id: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        """Confirm the notice once every line is answered (the dealers API publishes the
        deduction)."""
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user
        if not RECORD_ID.fullmatch(notice_id):
            return _bad_id(request)
        here = Redirect(f"/dealer/notices/{notice_id}")
        path = f"/deduction-notices/{notice_id}/confirm"
        return await _post(request, upstream, user, path, {}, here, "核销通知已确认")


async def portal_page(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    failed: str = "",
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Template:
    """The portal; after a refused form (`failed` names it) with its message and what was typed."""
    ctx = _context(user, request, upstream)
    at = portal.PortalPages.parse(request.query_params)
    data = await portal.load_portal(upstream, user, ctx["today"], at)
    forms = {"failed": failed, "v": values or {}, "error": error}
    return Template("dealer.html", context={**ctx, "portal": data, **forms}, status_code=status)


async def repair_page(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    record_id: str,
    failed: str = "",
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Template:
    """A repair record with the form of its next step (arrange, complete) and the shipments its
    old parts went back in; after a refused step its message and what was typed."""
    record = await upstream.get("dealers", f"/repair-records/{record_id}", user.token)
    tz = ZoneInfo(upstream.settings.business_timezone)
    sent = sorted({p["shipment_id"] for p in record.get("parts") or [] if p.get("shipment_id")})
    shipments = await asyncio.gather(
        *(upstream.get("dealers", f"/part-shipments/{s}", user.token) for s in sent)
    )
    ctx = _context(user, request, upstream)
    return Template(
        "dealer_repair.html",
        context={
            **ctx,
            "r": record,
            "shipments": {s["id"]: s for s in shipments},
            "at": lambda value: local(value, tz),
            "rows": range(1, work.PART_ROWS + 1),
            "failed": failed,
            "v": values or {},
            "error": error,
        },
        status_code=status,
    )


async def _post(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    path: str,
    body: dict,
    here: Redirect,
    done: str,
) -> Redirect:
    try:
        await upstream.post("dealers", path, user.token, body)
    except UpstreamError as exc:  # another dealer's notice (404): the error page
        flash(request, "error", refusal(exc).text)
        return here
    flash(request, "ok", done)
    return here


async def _plan_page(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    season_code: str,
    text: str = "",
    error: str | None = None,
) -> Template:
    if not SEASON_CODE.fullmatch(season_code):
        return _bad_id(request)
    ctx = _context(user, request, upstream)
    seasons, plans = await asyncio.gather(
        upstream.get("dealers", "/seasons", user.token, {"limit": 200}),
        upstream.get(
            "dealers", "/stocking-plans", user.token, {"season_code": season_code, "limit": 1}
        ),
    )
    found = portal.seasons_of(
        [s for s in seasons.get("items", []) if s.get("code") == season_code],
        plans.get("items", []),
        ctx["today"],
    )
    if not found:
        return problem(request, 404, f"销售季{season_code}不存在", "no such selling season")
    return Template(
        "dealer_plan.html",
        context={
            **ctx,
            "season": found[0],
            "submitted": local(
                (found[0].plan or {}).get("submitted_at"),
                ZoneInfo(upstream.settings.business_timezone),
            ),
            "text": text,
            "error": error,
        },
        status_code=400 if error else 200,
    )
