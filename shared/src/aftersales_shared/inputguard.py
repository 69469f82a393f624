"""One layer against hostile or careless input, shared by every service (issue: no 500 from bad
input).

- The ASGI middleware refuses, before routing, a path or query string that holds CR, LF or NUL (also
  percent-encoded) or is not UTF-8: such a value could split a header it is echoed into.
- The exception handlers turn what a hostile body or parameter raises while being decoded — nesting
  too deep (RecursionError), invalid UTF-8, numbers too large for a column or a date out of range
  (OverflowError) — into a 400 naming the problem instead of a 500.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import unquote_to_bytes

from litestar import Request, Response
from litestar.types import ASGIApp, Receive, Scope, Send

CONTROL = (b"\r", b"\n", b"\x00")
_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" '
    'content="width=device-width,initial-scale=1"><title>请求无效</title><body><h1>请求地址无效</h1>'
    "<p>请检查链接是否完整，或重新打开短信/邮件中的链接。</p><p><small>{}</small></p></body></html>"
)


def scope_problem(scope: Scope) -> str | None:
    """Why this request's path or query cannot be taken, or None."""
    raw_path = scope.get("raw_path") or str(scope.get("path", "")).encode(
        "utf-8", "surrogateescape"
    )
    for name, raw in (("path", raw_path), ("query string", scope.get("query_string") or b"")):
        decoded = unquote_to_bytes(raw)
        if any(c in decoded for c in CONTROL):
            return (
                f"the {name} contains a control character (CR, LF or NUL); 地址或参数中含有控制字符"
            )
        try:
            decoded.decode("utf-8")
        except UnicodeDecodeError:
            return (
                f"the {name} is not valid UTF-8 (percent-encode UTF-8 bytes); "
                "地址或参数不是有效的 UTF-8 编码"
            )
    return None


class InputGuardMiddleware:
    """Plain ASGI middleware (before routing, so no route can forget it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = scope_problem(scope)
            if problem is not None:
                accept = dict(scope.get("headers") or []).get(b"accept", b"")
                if b"text/html" in accept:  # a person's browser (the survey page): a page, not JSON
                    media, body = (
                        b"text/html; charset=utf-8",
                        _PAGE.format(escape(problem)).encode(),
                    )
                else:
                    media = b"application/json"
                    body = json.dumps(
                        {"status_code": 400, "code": "invalid_request", "detail": problem},
                        ensure_ascii=False,
                    ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", media),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


DECODING_ERRORS: dict[type[BaseException], str] = {
    RecursionError: "the JSON body is nested too deeply; 请求内容嵌套层数过多",
    UnicodeDecodeError: "the body is not valid UTF-8; 请求内容不是有效的 UTF-8 编码",
    OverflowError: "a number or date is out of range; 数值或日期超出范围",
}


def bad_input(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    detail = next(
        (msg for cls, msg in DECODING_ERRORS.items() if isinstance(exc, cls)), "invalid input"
    )
    return Response(
        {"status_code": 400, "code": "invalid_request", "detail": detail}, status_code=400
    )


def exception_handlers() -> dict[type[BaseException], Any]:
    return {cls: bad_input for cls in DECODING_ERRORS}
