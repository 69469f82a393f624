"""The public survey page (/s/<token>): no login, only the token. Plain HTML forms, no
JavaScript."""

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
from aftersales_shared.http import FromPath, FromQuery
from aftersales_shared.service import Runtime

from .. import pages
from ..domain import (
    AnswerInvalid,
    Policy,
    SurveyStatus,
    TokenUnknown,
    TooManyAttempts,
    negotiate_language,
)
from ..ratelimit import GuessLimiter
from ..usecases import answers

log = structlog.get_logger(__name__)

PUBLIC_PREFIX = "/s/"
FORM_FIELDS = ("efficiency", "attitude", "professionalism", "recommend", "comment")
MAX_FORM_BYTES = 64 * 1024
T = TypeVar("T")


def _language(request: Request[Any, Any, Any], explicit: str | None = None) -> str:
    return negotiate_language(
        explicit or request.query_params.get("lang"), request.headers.get("accept-language")
    )


def client_ip(request: Request[Any, Any, Any], trusted_proxies: Sequence[str]) -> str:
    """The caller's address; X-Forwarded-For counts only when the peer is one of our trusted
    proxies."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), trusted_proxies)


def page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    """Every failure on the public page becomes a readable HTML page with its 4xx (never a
    trace)."""
    language = _language(request)
    if isinstance(exc, DomainError):
        minutes = max(1, round(exc.extra.get("retry_after", 60) / 60))
        headers = (
            {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
        )
        return pages.message_page(
            language, pages.state_for(exc.code), exc.status, minutes=minutes, headers=headers
        )
    if isinstance(exc, HTTPException) and 400 <= exc.status_code < 500:
        state = (
            "too_large"
            if exc.status_code == 413
            else "unknown"
            if exc.status_code == 404
            else "error"
        )
        return pages.message_page(language, state, exc.status_code)
    log.exception("surveys.page_failed", error=f"{type(exc).__name__}: {exc}")
    return pages.message_page(language, "error", 500)


async def guarded(
    request: Request[Any, Any, Any],
    limiter: GuessLimiter,
    trusted_proxies: Sequence[str],
    call: Callable[[], Awaitable[T]],
) -> T:
    """Refuse a client that guessed too often; count each unknown token it tries."""
    ip = client_ip(request, trusted_proxies)
    if limiter.blocked(ip):
        raise TooManyAttempts(
            "尝试次数过多，请稍后再试 (too many attempts)", retry_after=limiter.retry_after(ip)
        )
    try:
        return await call()
    except TokenUnknown:
        limiter.failed(ip)
        log.info("surveys.unknown_token", client=ip)
        raise


class SurveyPageController(Controller):
    """The page a customer opens from the SMS or e-mail; the guess limiter, the policy and the
    trusted proxies come by dependency injection (`create_app` gives them to
    `create_service_app`)."""

    path = "/s"
    include_in_schema = False
    # the same classes the app maps to JSON, so these (more specific) keys win on this page
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
        policy: NamedDependency[Policy],
        limiter: NamedDependency[GuessLimiter],
        trusted_proxies: NamedDependency[Sequence[str]],
        request: Request[Any, Any, Any],
        token: FromPath[str],
        lang: FromQuery[str | None] = None,
    ) -> Response[str]:
        language = _language(request, lang)
        async with rt.sessions() as session:
            survey = await guarded(
                request,
                limiter,
                trusted_proxies,
                lambda: answers.open_survey(session, token, utcnow()),
            )
        return pages.form_page(language, survey, policy)

    @post("/{token:str}", request_max_body_size=MAX_FORM_BYTES, status_code=303)
    async def submit(
        self,
        rt: NamedDependency[Runtime],
        policy: NamedDependency[Policy],
        limiter: NamedDependency[GuessLimiter],
        trusted_proxies: NamedDependency[Sequence[str]],
        request: Request[Any, Any, Any],
        token: FromPath[str],
    ) -> Response[Any]:
        form = await request.form()
        raw = {f: form.get(f) if isinstance(form.get(f), str) else None for f in FORM_FIELDS}
        language = _language(
            request, form.get("lang") if isinstance(form.get("lang"), str) else None
        )
        try:
            async with rt.sessions.begin() as session:
                await guarded(
                    request,
                    limiter,
                    trusted_proxies,
                    lambda: answers.answer_by_link(session, token, raw, language, policy, utcnow()),
                )
        except AnswerInvalid as exc:
            async with rt.sessions() as session:
                survey = await answers.find_by_token(session, token)
            return pages.form_page(
                language,
                survey,
                policy,
                values=raw,
                errors=exc.errors,
                limits=exc.limits,
                status=422,
            )
        return Redirect(f"{token}/thanks?lang={language}", status_code=303)

    @get("/{token:str}/thanks")
    async def thanks(
        self,
        rt: NamedDependency[Runtime],
        limiter: NamedDependency[GuessLimiter],
        trusted_proxies: NamedDependency[Sequence[str]],
        request: Request[Any, Any, Any],
        token: FromPath[str],
        lang: FromQuery[str | None] = None,
    ) -> Response[Any]:
        language = _language(request, lang)
        async with rt.sessions() as session:
            survey = await guarded(
                request, limiter, trusted_proxies, lambda: answers.find_by_token(session, token)
            )
        if survey.status != SurveyStatus.ANSWERED or survey.answer is None:
            return Redirect(f"../{token}?lang={language}", status_code=303)
        return pages.thanks_page(language, survey.answer.low_score)
