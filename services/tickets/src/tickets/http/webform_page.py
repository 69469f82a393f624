"""The public web form (/r/new) and the customer's tracking page (/t/<token>), issue 22 item 3: no
login. The form carries a signed proof-of-work challenge its own script (/r/pow.js) solves; the
tracking page is opened by the token shown once after sending, and unknown tokens count against the
client's guess limit like the complaint page's."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, ValidationException

from aftersales_shared.db import utcnow
from aftersales_shared.errors import DomainError
from aftersales_shared.http import FromPath
from aftersales_shared.publiclinks import SECURITY_HEADERS, GuessLimiter
from aftersales_shared.service import Runtime

from .. import pages, powcheck
from ..settings import TicketsSettings
from ..usecases import webform
from .complaint_page import MAX_FORM_BYTES, client_ip, guarded, page_error_handler

log = structlog.get_logger(__name__)

FORM_PREFIX, TRACKING_PREFIX = "/r/", "/t/"
POW_JS = files("tickets").joinpath("static/pow.js").read_bytes()
POW_JS_HEADERS = {
    **SECURITY_HEADERS,
    "Cache-Control": "public, max-age=3600",  # no token in it: the same script for everyone
}


class FormClosed(DomainError):
    status = 503
    code = "webform_closed"


def _key(settings: TicketsSettings) -> bytes:
    key = settings.webform_key()
    if key is None:
        raise FormClosed(
            "在线报修暂未开放 (the web form is not open: TICKETS_WEBFORM_SECRET unset)"
        )
    return key


def _challenge(settings: TicketsSettings) -> str:
    return powcheck.issue(_key(settings), settings.webform_pow_bits, utcnow())


class RequestFormController(Controller):
    """The form a customer without an account fills in to ask for service."""

    path = "/r"
    include_in_schema = False
    exception_handlers = {
        Exception: page_error_handler("error", pages.REQUEST_PAGE),
        DomainError: page_error_handler("error", pages.REQUEST_PAGE),
        ValidationException: page_error_handler("error", pages.REQUEST_PAGE),
        HTTPException: page_error_handler("error", pages.REQUEST_PAGE),
    }

    @get("/new")
    async def show(self, settings: NamedDependency[TicketsSettings]) -> Response[str]:
        return pages.request_form(_challenge(settings))

    @get("/pow.js", media_type="text/javascript")
    async def script(self) -> Response[bytes]:
        return Response(POW_JS, media_type="text/javascript; charset=utf-8", headers=POW_JS_HEADERS)

    @post("/new", request_max_body_size=MAX_FORM_BYTES, status_code=201)
    async def submit(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        request: Request[Any, Any, Any],
    ) -> Response[str]:
        key = _key(settings)
        form = await request.form()
        raw = {f: v if isinstance(v := form.get(f), str) else None for f in webform.FIELDS}
        now = utcnow()
        try:
            errors: dict[str, str] = {}
            try:
                req = webform.validate_form(raw)
            except webform.FormInvalid as exc:
                errors.update(exc.errors)
            try:
                challenge = webform.check_challenge(raw, settings, key, now)
            except webform.FormInvalid as exc:
                errors.update(exc.errors)
            if errors:
                raise webform.FormInvalid(errors)
            async with rt.sessions.begin() as session:
                done = await webform.submit(
                    session,
                    req,
                    challenge,
                    client_ip(request, settings.trusted_proxies),
                    settings,
                    now,
                )
        except webform.FormInvalid as exc:
            return pages.request_form(
                _challenge(settings), values=raw, errors=exc.errors, status=422
            )
        log.info("tickets.webform_ticket_opened", ticket_no=done.ticket_no)
        await webform.purge(rt.sessions, settings)
        return pages.request_thanks(
            done.ticket_no, f"{settings.public_base_url}{TRACKING_PREFIX}{done.token}", req.phone
        )


class TrackingPageController(Controller):
    """What the customer sees of their request: status, the next promised time, the progress entries
    meant for them."""

    path = "/t"
    include_in_schema = False
    exception_handlers = {
        Exception: page_error_handler("tracking_link_unknown", pages.TRACKING_PAGE),
        DomainError: page_error_handler("tracking_link_unknown", pages.TRACKING_PAGE),
        ValidationException: page_error_handler("tracking_link_unknown", pages.TRACKING_PAGE),
        HTTPException: page_error_handler("tracking_link_unknown", pages.TRACKING_PAGE),
    }

    @get("/{token:str}")
    async def show(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        limiter: NamedDependency[GuessLimiter],
        request: Request[Any, Any, Any],
        token: FromPath[str],
    ) -> Response[str]:
        now = utcnow()
        async with rt.sessions() as session:
            seen = await guarded(
                request,
                limiter,
                settings.trusted_proxies,
                lambda: webform.tracking(session, token, settings, now),
                unknown=webform.TrackingUnknown,
            )
            return pages.tracking_page(seen, settings.business_timezone, now)


__all__ = [
    "FORM_PREFIX",
    "TRACKING_PREFIX",
    "RequestFormController",
    "TrackingPageController",
]
