"""The dealer's day's writes from its portal: register a unit sold, open a repair record, arrange
it, complete it, ship old parts back. Each goes to the dealers API with the dealer's own token
(never a dealer_id of the console's): another dealer's record is the API's 404, shown as a 404
page. A refusal — the console's for what a person fixes at once, otherwise the API's words —
re-renders the page with the message at the form and what was typed kept; success is
post/redirect/get with a flash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from .. import dealer_work as work
from ..contracts import local
from ..forms import FormError
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .dealer import RECORD_ID, Form, _bad_id, _dealer, portal_page, repair_page
from .pages import flash, refusal

Refused = Callable[[str, int], Awaitable[Template]]


async def _attempt(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    build: Callable[[], dict[str, Any]],
    path: str,
    refused: Refused,
    done: Callable[[dict[str, Any]], tuple[str, str]],
) -> Template | Redirect:
    """Build the body (a FormError: 400 at the form), post it; the API's 4xx but 404 at the form
    in its words (its status); another dealer's record (404) or a failed service: the error
    page; success: flash and the page `done` names."""
    try:
        answer = await upstream.post("dealers", path, user.token, build())
    except (FormError, UpstreamError) as exc:
        status, text = refusal(exc)
        return await refused(text, status)
    said, where = done(answer or {})
    flash(request, "ok", said)
    return Redirect(where)


class DealerWorkController(Controller):
    path = "/dealer"
    include_in_schema = False

    @post("/units")
    async def register_sale(
        self, request: Request, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        """A unit sold: its warranty card is due within 20 days of the sale date."""
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user

        async def refused(error: str, status: int) -> Template:
            return await portal_page(request, upstream, user, "sale", data, error, status)

        def done(unit: dict[str, Any]) -> tuple[str, str]:
            due = unit.get("card_due", "")
            return f"{unit.get('serial_no')} 已登记销售，请在 {due} 前登记回执卡", "/dealer#units"

        return await _attempt(
            request, upstream, user, lambda: work.sale(data), "/units", refused, done
        )

    @post("/repairs")
    async def open_repair(
        self, request: Request, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        """A service request for one of the dealer's units (starts the 2 working hours to
        arrange it)."""
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user
        tz = ZoneInfo(upstream.settings.business_timezone)

        async def refused(error: str, status: int) -> Template:
            return await portal_page(request, upstream, user, "repair", data, error, status)

        def done(r: dict[str, Any]) -> tuple[str, str]:
            due = local(r.get("arrange_due"), tz)
            return (
                f"维修记录 {r.get('record_no')} 已登记，请在 {due} 前安排服务",
                f"/dealer/repairs/{r.get('id')}",
            )

        return await _attempt(
            request, upstream, user, lambda: work.repair(data), "/repair-records", refused, done
        )

    @post("/repairs/{record_id:str}/arrange")
    async def arrange(
        self, request: Request, record_id: str, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        return await _step(request, upstream, record_id, data, "arrange")

    @post("/repairs/{record_id:str}/complete")
    async def complete(
        self, request: Request, record_id: str, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        return await _step(request, upstream, record_id, data, "complete")

    @post("/shipments")
    async def ship(
        self, request: Request, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        """The owed old parts of the ticked repair records go back with a carrier and waybill."""
        user = _dealer(request)
        if not isinstance(user, SessionUser):
            return user

        async def refused(error: str, status: int) -> Template:
            return await portal_page(request, upstream, user, "shipment", data, error, status)

        def done(s: dict[str, Any]) -> tuple[str, str]:
            return (
                f"旧件已寄出：发运单 {s.get('shipment_no')}，{s.get('parts', 0)} 件，"
                f"运单号 {s.get('truck_ref')}",
                "/dealer#returns",
            )

        return await _attempt(
            request, upstream, user, lambda: work.shipment(data), "/part-shipments", refused, done
        )


STEPS = {"arrange": (work.arrangement, "服务已安排"), "complete": (work.completion, "维修已完成")}


async def _step(
    request: Request, upstream: Upstream, record_id: str, data: dict[str, str], step: str
) -> Template | Redirect:
    """Arrange or complete a repair record: back to its page either way."""
    user = _dealer(request)
    if not isinstance(user, SessionUser):
        return user
    if not RECORD_ID.fullmatch(record_id):
        return _bad_id(request)
    tz = ZoneInfo(upstream.settings.business_timezone)
    build, said = STEPS[step]

    async def refused(error: str, status: int) -> Template:
        return await repair_page(request, upstream, user, record_id, step, data, error, status)

    def done(r: dict[str, Any]) -> tuple[str, str]:
        return f"{r.get('record_no')} {said}", f"/dealer/repairs/{record_id}"

    path = f"/repair-records/{record_id}/{step}"
    return await _attempt(
        request, upstream, user, lambda: build(data, tz, utcnow()), path, refused, done
    )
