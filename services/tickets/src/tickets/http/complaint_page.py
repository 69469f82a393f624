"""The customer's confirmation page of a proposed complaint resolution (/c/<token>): no login, only
the single-use token of the link. Plain HTML form that works without JavaScript; with it, the
customer may also sign with a finger (the service sheet's pad, /sheet/sign.js); unknown tokens
count against the client's guess limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect

from aftersales_shared.clientaddr import client_address
from aftersales_shared.db import utcnow
from aftersales_shared.errors import DomainError
from aftersales_shared.http import FromPath
from aftersales_shared.publiclinks import GuessLimiter
from aftersales_shared.service import Runtime

from .. import pages
from ..models import ComplaintRow
from ..settings import TicketsSettings
from ..usecases import complaints

log = structlog.get_logger(__name__)

PUBLIC_PREFIX = "/c/"
FORM_FIELDS = ("decision", "reason", "signer", "signature")
MAX_FORM_BYTES = 64 * 1024
SIGNED_FORM_BYTES = 512 * 1024  # the answer with a finger signature (PNG ≤ 300 KiB, base64)
T = TypeVar("T")


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


def page_error_handler(
    unknown_state: str = "complaint_link_unknown",
    page: tuple[str, tuple[str, str]] | None = None,
) -> Callable[[Request[Any, Any, Any], Exception], Response[str]]:
    """Every failure on a public page becomes a readable HTML page with its 4xx (never a trace);
    a 404 is `unknown_state`'s page."""

    def page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
        if isinstance(exc, DomainError):
            retry = exc.extra.get("retry_after")
            headers = {"Retry-After": str(retry)} if retry else None
            minutes = max(1, round((retry or 60) / 60))
            return pages.message_page(
                exc.code, exc.status, minutes=minutes, headers=headers, page=page
            )
        if isinstance(exc, HTTPException) and 400 <= exc.status_code < 500:
            state = {413: "too_large", 404: unknown_state}.get(exc.status_code, "error")
            return pages.message_page(state, exc.status_code, page=page)
        log.exception("tickets.public_page_failed", error=f"{type(exc).__name__}: {exc}")
        return pages.message_page("error", 500, page=page)

    return page_error


page_error = page_error_handler()


async def guarded(
    request: Request[Any, Any, Any],
    limiter: GuessLimiter,
    trusted_proxies: Sequence[str],
    call: Callable[[], Awaitable[T]],
    unknown: type[Exception] = complaints.LinkUnknown,
) -> T:
    """Refuse a client that guessed too often; count each unknown token (`unknown` raised) it
    tries."""
    ip = client_ip(request, trusted_proxies)
    if limiter.blocked(ip):
        raise TooManyAttempts(
            "尝试次数过多，请稍后再试 (too many attempts)", retry_after=limiter.retry_after(ip)
        )
    try:
        return await call()
    except unknown:
        limiter.failed(ip)
        log.info("tickets.unknown_link_token", client=ip, page=request.url.path[:3])
        raise


def client_ip(request: Request[Any, Any, Any], trusted_proxies: Sequence[str]) -> str:
    """The client's address (X-Forwarded-For believed from a trusted proxy only)."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), trusted_proxies)


class ComplaintPageController(Controller):
    """The page the customer opens from the SMS or e-mail (ComplaintResolutionProposed)."""

    path = "/c"
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
        settings: NamedDependency[TicketsSettings],
        limiter: NamedDependency[GuessLimiter],
        request: Request[Any, Any, Any],
        token: FromPath[str],
    ) -> Response[str]:
        async with rt.sessions() as session:
            complaint, proposal = await guarded(
                request,
                limiter,
                settings.trusted_proxies,
                lambda: complaints.open_link(session, token, utcnow()),
            )
            return pages.form_page(complaint, proposal, settings.business_timezone)

    @post("/{token:str}", request_max_body_size=SIGNED_FORM_BYTES, status_code=303)
    async def submit(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        limiter: NamedDependency[GuessLimiter],
        request: Request[Any, Any, Any],
        token: FromPath[str],
    ) -> Response[Any]:
        form = await request.form()
        raw = {f: v if isinstance(v := form.get(f), str) else None for f in FORM_FIELDS}
        try:
            async with rt.sessions.begin() as session:
                await guarded(
                    request,
                    limiter,
                    settings.trusted_proxies,
                    lambda: complaints.answer_by_link(session, token, raw, utcnow()),
                )
        except complaints.PageAnswerInvalid as exc:
            async with rt.sessions() as session:
                complaint, proposal = await complaints.open_link(session, token, utcnow())
                return pages.form_page(
                    complaint,
                    proposal,
                    settings.business_timezone,
                    values=raw,
                    errors=exc.errors,
                    status=422,
                )
        return Redirect(f"{token}/done", status_code=303)

    @get("/{token:str}/done")
    async def done(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        limiter: NamedDependency[GuessLimiter],
        request: Request[Any, Any, Any],
        token: FromPath[str],
    ) -> Response[Any]:
        async with rt.sessions() as session:
            proposal = await guarded(
                request,
                limiter,
                settings.trusted_proxies,
                lambda: complaints.by_token(session, token),
            )
            if proposal.outcome is None:
                return Redirect(f"../{token}", status_code=303)
            complaint = await session.get(ComplaintRow, proposal.ticket_id)
            assert complaint is not None
            return pages.done_page(proposal.outcome == "accepted", complaint.ticket_no)
