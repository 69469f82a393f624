"""Rendering of the public survey page (Jinja2, autoescaped) with the security headers it always
carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import MediaType, Response

from aftersales_shared.publiclinks import SECURITY_HEADERS

from .domain import DIMENSIONS, Policy
from .models import SurveyRow
from .texts import STATE_PAGES, field_error, texts

_env = Environment(
    loader=PackageLoader("surveys", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

ICONS = {
    "answered": "✓",
    "expired": "⌛",
    "unknown": "?",
    "not_open": "ⓘ",
    "limited": "⏳",
    "too_large": "!",
    "error": "!",
}


def html(body: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response[str]:
    return Response(
        body,
        status_code=status,
        media_type=MediaType.HTML,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def _switch(language: str) -> tuple[str, str]:
    other = "en" if language == "zh-CN" else "zh-CN"
    return f"?lang={other}", other


def form_page(
    language: str,
    survey: SurveyRow,
    policy: Policy,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    limits: Mapping[str, int] | None = None,
    status: int = 200,
) -> Response[str]:
    t = texts(language)
    messages = {
        f: field_error(language, code, f, dict(limits or {})) for f, code in (errors or {}).items()
    }
    labels = {**t["dimensions"], "recommend": t["recommend"], "comment": t["comment"]}
    href, other = _switch(language)
    expires = (
        survey.expires_at.astimezone(ZoneInfo(policy.timezone)).strftime("%Y-%m-%d %H:%M")
        if survey.expires_at
        else ""
    )
    body = _env.get_template("form.html").render(
        t=t,
        lang=language,
        survey=survey,
        dimensions=DIMENSIONS,
        values=dict(values or {}),
        errors=messages,
        labels=labels,
        comment_max=policy.comment_max_chars,
        expires=expires,
        action=f"?lang={language}",
        switch_href=href,
        switch_lang=other,
    )
    return html(body, status)


def message_page(
    language: str,
    state: str,
    status: int,
    *,
    ok: bool = False,
    lines: list[str] | None = None,
    minutes: int = 1,
    headers: Mapping[str, str] | None = None,
) -> Response[str]:
    t = texts(language)
    href, other = _switch(language)
    body = _env.get_template("message.html").render(
        t=t,
        title=t[f"{state}_title"],
        lines=lines or [t[f"{state}_body"].format(minutes=minutes)],
        icon=ICONS.get(state, "✓"),
        ok=ok,
        switch_href=href,
        switch_lang=other,
    )
    return html(body, status, headers)


def thanks_page(language: str, low_score: bool) -> Response[str]:
    t = texts(language)
    lines = [t["thanks_body"], *([t["thanks_low"]] if low_score else [])]
    return message_page(language, "thanks", 200, ok=True, lines=lines)


def state_for(code: str) -> str:
    return STATE_PAGES.get(code, "error")
