"""The dealer portal (token role dealer with a dealer_id): its units with the warranty card's 20
days, its cards, repairs, old parts owed back with their deadlines, deduction notices whose lines
it confirms or disputes. Every read and write goes to the dealers API with the dealer's own token:
a record of another dealer is the API's 404, shown as such."""

from __future__ import annotations

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
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, sign_in_again, take_flash

RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
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
    return {"user": user, "flash": take_flash(request), "p": portal, "today": today, **kw}


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
        ctx = _context(user, request, upstream)
        data = await portal.load_portal(upstream, user, ctx["today"])
        return Template("dealer.html", context={**ctx, "portal": data})

    @get("/repairs/{record_id:str}")
    async def repair(
        self, request: Request, record_id: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user
        if not RECORD_ID.fullmatch(record_id):
            return _bad_id(request)
        record = await upstream.get("dealers", f"/repair-records/{record_id}", user.token)
        ctx = _context(user, request, upstream)
        return Template("dealer_repair.html", context={**ctx, "r": record})

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
    except UpstreamError as exc:
        if not 400 <= exc.status < 500 or exc.status == 404:
            raise  # another dealer's notice, or the service failed: the error page
        flash(request, "error", exc.detail)
        return here
    flash(request, "ok", done)
    return here
