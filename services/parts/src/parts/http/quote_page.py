"""The customer's quote page (/q/<token>): no login, only the single-use token of the link. Plain
HTML form, no JavaScript. CSRF: no cookie or session is involved (the secret is the token in the
URL), and a form posted from another site (Sec-Fetch-Site: cross-site, or a foreign Origin) is
refused. Unknown tokens count against the client's guess limit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect

from aftersales_shared.clientaddr import client_address
from aftersales_shared.db import utcnow
from aftersales_shared.errors import DomainError, Forbidden
from aftersales_shared.http import FromPath
from aftersales_shared.publiclinks import GuessLimiter
from aftersales_shared.service import Runtime

from .. import charges as c
from .. import pages
from ..models import QuoteRow, TicketRow
from ..settings import PartsSettings
from ..usecases import quotes

log = structlog.get_logger(__name__)

PUBLIC_PREFIX = "/q/"
FORM_FIELDS = ("decision", "signer", "reason")
MAX_FORM_BYTES = 16 * 1024


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


def page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    """Every failure on the page becomes a readable HTML page with its 4xx (never a trace)."""
    if isinstance(exc, DomainError):
        retry = exc.extra.get("retry_after")
        headers = {"Retry-After": str(retry)} if retry else None
        state = exc.extra.get("state") or exc.code
        return pages.message_page(
            state, exc.status, minutes=max(1, round((retry or 60) / 60)), headers=headers
        )
    if isinstance(exc, HTTPException) and 400 <= exc.status_code < 500:
        state = {413: "too_large", 404: "quote_link_unknown"}.get(exc.status_code, "error")
        return pages.message_page(state, exc.status_code)
    log.exception("parts.quote_page_failed", error=f"{type(exc).__name__}: {exc}")
    return pages.message_page("error", 500)


def client_ip(request: Request[Any, Any, Any], settings: PartsSettings) -> str:
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


async def guarded(
    request: Request[Any, Any, Any], limiter: GuessLimiter, settings: PartsSettings, call: Any
) -> Any:
    ip = client_ip(request, settings)
    if limiter.blocked(ip):
        raise TooManyAttempts(
            "尝试次数过多，请稍后再试 (too many attempts)", retry_after=limiter.retry_after(ip)
        )
    try:
        return await call()
    except quotes.LinkUnknown:
        limiter.failed(ip)
        log.info("parts.unknown_quote_token", client=ip)
        raise


def same_site(request: Request[Any, Any, Any]) -> None:
    """Refuse a form another site made the browser post."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise Forbidden("跨站提交被拒绝 (cross-site form)", state="forbidden")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("x-forwarded-host") or request.headers.get("host")
        if urlsplit(origin).netloc != host:
            raise Forbidden("跨站提交被拒绝 (cross-site form)", state="forbidden")


async def _customer(session: Any, quote: QuoteRow) -> str:
    ticket = await session.get(TicketRow, quote.ticket_no)
    if ticket is None:
        return "尊敬的客户"
    return str((ticket.contact or {}).get("name") or ticket.customer_name)


class QuotePageController(Controller):
    """The page the customer opens from the SMS or e-mail (QuoteIssued)."""

    path = "/q"
    include_in_schema = False
    exception_handlers = {
        DomainError: page_error,
        ValidationException: page_error,
        HTTPException: page_error,
        Exception: page_error,
    }

    @get("/{token:str}")
    async def show(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        limiter: NamedDependency[GuessLimiter],
        request: Request[Any, Any, Any],
        token: FromPath[str],
    ) -> Response[str]:
        async with rt.sessions() as s:
            quote = await guarded(request, limiter, settings, lambda: quotes.by_token(s, token))
            name = await _customer(s, quote)
            return pages.quote_page(quote, name, settings.business_timezone, utcnow())

    @post("/{token:str}", request_max_body_size=MAX_FORM_BYTES, status_code=303)
    async def submit(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[PartsSettings],
        limiter: NamedDependency[GuessLimiter],
        request: Request[Any, Any, Any],
        token: FromPath[str],
    ) -> Response[Any]:
        same_site(request)
        form = await request.form()
        raw = {f: v if isinstance(v := form.get(f), str) else None for f in FORM_FIELDS}
        now = utcnow()
        try:
            async with rt.sessions.begin() as s:
                await guarded(
                    request,
                    limiter,
                    settings,
                    lambda: quotes.decide(
                        s, token, raw["decision"] or "", raw["signer"] or "", raw["reason"], now
                    ),
                )
        except c.QuoteClosed:
            raise
        except DomainError as exc:
            if exc.status != 422:
                raise
            async with rt.sessions() as s:
                quote = await quotes.by_token(s, token)
                name = await _customer(s, quote)
                return pages.quote_page(
                    quote,
                    name,
                    settings.business_timezone,
                    now,
                    values=raw,
                    error=exc.message,
                    status=422,
                )
        return Redirect(token, status_code=303)
