"""What every page shares: the signed-in user, error pages a person can act on (zh-CN first, then
English), the redirect to sign in."""

from __future__ import annotations

import time
from typing import Any, NamedTuple
from urllib.parse import quote

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from ..forms import FormError
from ..people import SessionUser
from ..upstream import SignedOut, UpstreamError


def current_user(request: Request) -> SessionUser | None:
    session = request.scope.get("session")
    return SessionUser.from_session(session if isinstance(session, dict) else None, time.time())


def flash(request: Request, kind: str, text: str, at: str = "") -> None:
    """A message for the next page (post/redirect/get), kept in the session cookie; `at` names
    the part of the page it belongs to (shown there, where the form was)."""
    session = dict(request.session or {})
    session["flash"] = {"kind": kind, "text": text[:600], "at": at}
    request.set_session(session)


def take_flash(request: Request) -> dict[str, str] | None:
    session = request.scope.get("session")
    if not isinstance(session, dict) or "flash" not in session:
        return None
    rest = dict(session)
    said = rest.pop("flash")
    request.set_session(rest)
    return said if isinstance(said, dict) else None


def safe_next(target: str) -> str:
    """Only a path of this site (never //elsewhere or a scheme): no open redirect."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/board"
    return target


def sign_in_again(request: Request) -> Redirect:
    request.clear_session()
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/login?next={quote(safe_next(here))}")


def signed_in(
    request: Request, *roles: str, zh: str = "", en: str = ""
) -> SessionUser | Redirect | Template:
    """The signed-in user, or what to answer instead: no session, the way to sign in again; with
    `roles` named and none of them held (the admin holds every one), the 403 page saying `zh`
    and `en`. The console only hides; the service refuses anyway."""
    user = current_user(request)
    if user is None:
        return sign_in_again(request)
    if roles and not user.has(*roles):
        return problem(request, 403, zh, en)
    return user


class Refusal(NamedTuple):
    status: int  # the form's status, or the service's own 4xx
    text: str  # what to show at the form (or flash): the console's words or the API's


def refusal(exc: Exception, *, form_status: int = 400, show_404: bool = False) -> Refusal:
    """A refused form's status and words: a FormError's (at `form_status`), or the service's 4xx
    in its own words. Anything else is raised again for the error pages: a service that failed
    (5xx, unreachable), and, unless `show_404`, the service's 404 (a record that is not there or
    not this user's: the 404 page, never a form)."""
    if isinstance(exc, FormError):
        return Refusal(form_status, str(exc))
    if isinstance(exc, UpstreamError) and 400 <= exc.status < 500:
        if exc.status != 404 or show_404:
            return Refusal(exc.status, exc.detail)
    raise exc


def problem(request: Request, status: int, zh: str, en: str) -> Template:
    return Template(
        "problem.html",
        context={"status": status, "zh": zh, "en": en, "user": current_user(request)},
        status_code=status,
    )


def _upstream(request: Request, exc: UpstreamError) -> Template:
    status = exc.status if 400 <= exc.status < 500 else 502
    return problem(
        request,
        status,
        f"{exc.service} 服务返回错误：{exc.detail}",
        f"the {exc.service} service answered {exc.status}: {exc.detail}",
    )


MESSAGES = {
    400: ("请求有误，请检查输入", "bad request: check what was entered"),
    403: (
        "请求被拒绝：表单已过期或缺少安全令牌，请刷新页面后重试",
        "refused: the form expired or lacks its CSRF token; reload the page and try again",
    ),
    404: ("页面不存在", "no such page"),
    405: ("不支持此操作", "method not allowed"),
}


def _http(request: Request, exc: HTTPException) -> Template:
    zh, en = MESSAGES.get(exc.status_code, ("请求未能完成", "the request could not be completed"))
    if exc.status_code == 403 and "CSRF" not in str(exc.detail):
        zh, en = "您的角色无权查看此页面", "your role may not see this page"
    return problem(request, exc.status_code, zh, f"{en} ({exc.detail})")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    SignedOut: lambda request, exc: sign_in_again(request),
    UpstreamError: _upstream,
    HTTPException: _http,
}
