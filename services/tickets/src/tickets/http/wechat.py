"""The WeChat official account's message push endpoint (/wechat, issue 22 item 1): no login, every
request signed with the account's Token instead.

GET is the platform's URL check (echostr back when the signature holds, else 403). POST is a pushed
message: plain mode (`signature` over token, timestamp, nonce) or safe mode (`encrypt_type=aes`,
`msg_signature` over token, timestamp, nonce and the Encrypt text; the message AES-decrypted and
its AppID checked); the reply goes back the same way. A bad signature is a 403 and touches nothing.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency

from aftersales_shared.db import utcnow
from aftersales_shared.http import FromQuery
from aftersales_shared.service import Runtime
from aftersales_shared.wechat import (
    WeChatProtocolError,
    decrypt,
    parse_xml,
    seal,
    signature_ok,
    text_reply,
)

from ..settings import TicketsSettings
from ..usecases import wechat

log = structlog.get_logger(__name__)

WECHAT_PREFIX = "/wechat"
MAX_PUSH_BYTES = 64 * 1024
TEXT = "text/plain; charset=utf-8"
XML = "application/xml; charset=utf-8"


def _refused(status: int, message: str) -> Response[str]:
    return Response(message, status_code=status, media_type=TEXT)


def _token(settings: TicketsSettings) -> str | None:
    return settings.wechat_token.get_secret_value() if settings.wechat_token else None


def _recent(timestamp: str, now: float, skew: int) -> bool:
    """Whether the push's timestamp is within `skew` seconds of now (a captured push replayed
    later is refused; within the window the message's record answers it without effect)."""
    return timestamp.isdigit() and abs(int(timestamp) - now) <= skew


CLOSED = "微信公众号接入未配置 (TICKETS_WECHAT_TOKEN and TICKETS_WECHAT_APP_ID unset)"


class WeChatController(Controller):
    path = WECHAT_PREFIX
    include_in_schema = False

    @get("/")
    async def verify(
        self,
        settings: NamedDependency[TicketsSettings],
        signature: FromQuery[str] = "",
        timestamp: FromQuery[str] = "",
        nonce: FromQuery[str] = "",
        echostr: FromQuery[str] = "",
    ) -> Response[str]:
        token = _token(settings)
        if token is None:
            return _refused(503, CLOSED)
        if not signature_ok(signature, token, timestamp, nonce):
            log.info("tickets.wechat_bad_signature", kind="url_check")
            return _refused(403, "签名无效 (invalid signature)")
        return Response(echostr, media_type=TEXT)

    @post("/", request_max_body_size=MAX_PUSH_BYTES, status_code=200)
    async def push(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[TicketsSettings],
        request: Request[Any, Any, Any],
        signature: FromQuery[str] = "",
        timestamp: FromQuery[str] = "",
        nonce: FromQuery[str] = "",
        encrypt_type: FromQuery[str] = "raw",
        msg_signature: FromQuery[str] = "",
    ) -> Response[str]:
        token = _token(settings)
        if token is None or not settings.wechat_app_id:
            return _refused(503, CLOSED)
        safe = encrypt_type == "aes"
        key = settings.wechat_aes_key()
        if safe and key is None:
            return _refused(400, "安全模式未配置 (TICKETS_WECHAT_ENCODING_AES_KEY unset)")
        now = utcnow()
        if not _recent(timestamp, now.timestamp(), settings.wechat_max_clock_skew_seconds):
            log.info("tickets.wechat_stale_push", timestamp=timestamp[:20])
            return _refused(403, "请求时间戳无效或已过期 (timestamp missing or too old)")
        if not safe and not signature_ok(signature, token, timestamp, nonce):
            return self._bad_signature()  # plain mode: checked before the body is even read
        try:
            outer = parse_xml(await request.body())
            if safe:
                encrypted = outer.get("Encrypt", "")
                if not signature_ok(msg_signature, token, timestamp, nonce, encrypted):
                    return self._bad_signature()
                assert key is not None
                fields = parse_xml(decrypt(key, settings.wechat_app_id, encrypted))
            else:
                fields = outer
            msg = wechat.Incoming.of(fields)
        except WeChatProtocolError as exc:
            log.info("tickets.wechat_refused_push", reason=str(exc))
            return _refused(400, f"无法识别的消息 (unreadable push): {exc}")
        async with rt.sessions.begin() as session:
            content = await wechat.answer(session, msg, settings, now)
        await wechat.purge(rt.sessions, now)
        if not content:
            return Response("success", media_type=TEXT)  # the platform's "received, no reply"
        reply = text_reply(msg.openid, msg.account, content)
        if not safe:
            return Response(reply, media_type=XML)
        assert key is not None
        sealed = seal(
            key, settings.wechat_app_id, token, reply, str(int(time.time())), secrets.token_hex(8)
        )
        return Response(sealed.xml, media_type=XML)

    @staticmethod
    def _bad_signature() -> Response[str]:
        log.info("tickets.wechat_bad_signature", kind="push")
        return _refused(403, "签名无效 (invalid signature)")
