"""A local stand-in of the WeChat platform for tests (issue 22 item 1): no call leaves the machine.

`WeChatPusher` is the platform's side of the message push: it signs (and in safe mode encrypts)
messages the way the platform does and checks the replies' signature and encryption.
`LocalWeChatApi` answers the two API calls notifications makes, checking them as the platform
documents: GET /cgi-bin/token (grant_type, appid, secret) and POST /cgi-bin/message/template/send
(a current access_token; touser, template_id, url, data {key: {value}}), with the platform's error
codes (40001 invalid credential, 42001 token expired, 40013 invalid appid, 40125 invalid secret,
40003 invalid openid, 40037 invalid template_id, 47001 data format error).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aftersales_shared import wechat

# ------------------------------------------------------------------ the push side


@dataclass
class WeChatPusher:
    """Signs and sends pushes like the platform; `app` is the account's side (httpx client)."""

    app_id: str
    token: str
    encoding_aes_key: str
    account: str = "gh_aftersales01"
    _ids: itertools.count = field(default_factory=lambda: itertools.count(int(time.time() * 1000)))

    @property
    def key(self) -> bytes:
        return wechat.aes_key(self.encoding_aes_key)

    def signed_query(self, **extra: str) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        sig = wechat.signature(self.token, timestamp, nonce)
        return {"signature": sig, "timestamp": timestamp, "nonce": nonce, **extra}

    def text(self, openid: str, content: str, msg_id: int | None = None) -> str:
        return wechat.build_xml(
            {
                "ToUserName": self.account,
                "FromUserName": openid,
                "CreateTime": int(time.time()),
                "MsgType": "text",
                "Content": content,
                "MsgId": msg_id if msg_id is not None else next(self._ids),
            }
        )

    def click(self, openid: str, key: str, create_time: int | None = None) -> str:
        return wechat.build_xml(
            {
                "ToUserName": self.account,
                "FromUserName": openid,
                "CreateTime": create_time if create_time is not None else next(self._ids),
                "MsgType": "event",
                "Event": "CLICK",
                "EventKey": key,
            }
        )

    def plain(self, xml: str) -> tuple[dict[str, str], str]:
        """(query, body) of a plain-mode push."""
        return self.signed_query(), xml

    def safe(self, xml: str) -> tuple[dict[str, str], str]:
        """(query, body) of a safe-mode push: the message encrypted, msg_signature over it."""
        query = self.signed_query(encrypt_type="aes", openid="")
        encrypted = wechat.encrypt(self.key, self.app_id, xml)
        query["msg_signature"] = wechat.signature(
            self.token, query["timestamp"], query["nonce"], encrypted
        )
        body = wechat.build_xml({"ToUserName": self.account, "Encrypt": encrypted})
        return query, body

    def open_reply(self, body: str) -> dict[str, str]:
        """A safe-mode reply checked as the platform does (MsgSignature, AppID) and decrypted."""
        outer = wechat.parse_xml(body)
        for name in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce"):
            assert outer.get(name), f"the reply lacks <{name}>: {body}"
        assert wechat.signature_ok(
            outer["MsgSignature"], self.token, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"]
        ), "the reply's MsgSignature does not hold"
        return wechat.parse_xml(wechat.decrypt(self.key, self.app_id, outer["Encrypt"]))

    async def send(self, client: Any, xml: str, safe: bool = False) -> dict[str, str] | str:
        """Push a message; the reply's fields (text 'success' as a str), asserting a 200."""
        query, body = self.safe(xml) if safe else self.plain(xml)
        r = await client.post(
            "/wechat", params=query, content=body.encode(), headers={"Content-Type": "text/xml"}
        )
        assert r.status_code == 200, (r.status_code, r.text)
        if r.text == "success":
            return "success"
        return self.open_reply(r.text) if safe else wechat.parse_xml(r.text)


def new_encoding_aes_key() -> str:
    """A random 43-character EncodingAESKey, as the platform's console generates."""
    import base64

    return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


# ------------------------------------------------------------------ the API side


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ApiCall:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict)


Decide = Callable[[ApiCall], dict[str, Any] | None]


class LocalWeChatApi:
    """The platform's API on 127.0.0.1 (token and template message), in the caller's loop."""

    def __init__(
        self, app_id: str, secret: str, template_ids: set[str] | None = None, ttl: int = 7200
    ) -> None:
        self.app_id, self.secret, self.ttl = app_id, secret, ttl
        self.template_ids = template_ids
        self.port = free_port()
        self.tokens: dict[str, float] = {}  # access_token → expiry (time.time())
        self.calls: list[ApiCall] = []
        self.decide: Decide | None = None  # answer a template send otherwise (errors)
        self._server: asyncio.base_events.Server | None = None
        self._msgid = itertools.count(1000)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_calls(self) -> list[ApiCall]:
        return [c for c in self.calls if c.path == "/cgi-bin/token"]

    @property
    def sent(self) -> list[ApiCall]:
        """Template messages the platform accepted."""
        return [
            c
            for c in self.calls
            if c.path == "/cgi-bin/message/template/send" and c.answer.get("errcode") == 0
        ]

    def invalidate_tokens(self) -> None:
        """Every token issued so far stops working (another client fetched a new one: 40001)."""
        self.tokens.clear()

    async def start(self) -> LocalWeChatApi:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
                }
                raw = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                answer = self._answer(method, target, raw)
                data = json.dumps(answer, ensure_ascii=False).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                    + f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def _answer(self, method: str, target: str, raw: bytes) -> dict[str, Any]:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        call = ApiCall(method, parts.path, query, body if isinstance(body, dict) else {})
        self.calls.append(call)
        if parts.path == "/cgi-bin/token" and method == "GET":
            call.answer = self._token(query)
        elif parts.path == "/cgi-bin/message/template/send" and method == "POST":
            call.answer = self._send(query, body)
        else:
            call.answer = {"errcode": 40066, "errmsg": "invalid url"}
        return call.answer

    def _token(self, q: dict[str, str]) -> dict[str, Any]:
        if q.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if q.get("appid") != self.app_id:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if q.get("secret") != self.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        token = secrets.token_urlsafe(48)
        self.tokens[token] = time.time() + self.ttl
        return {"access_token": token, "expires_in": self.ttl}

    def _send(self, q: dict[str, str], body: Any) -> dict[str, Any]:
        token = q.get("access_token", "")
        if token not in self.tokens:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        if self.tokens[token] <= time.time():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if not isinstance(body, dict):
            return {"errcode": 47001, "errmsg": "data format error"}
        if not isinstance(body.get("touser"), str) or not body["touser"]:
            return {"errcode": 40003, "errmsg": "invalid openid"}
        template = body.get("template_id")
        if not isinstance(template, str) or (
            self.template_ids is not None and template not in self.template_ids
        ):
            return {"errcode": 40037, "errmsg": "invalid template_id"}
        data = body.get("data")
        if (
            not isinstance(data, dict)
            or not data
            or not all(
                isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()
            )
        ):
            return {"errcode": 47001, "errmsg": "data format error"}
        if "url" in body and not isinstance(body["url"], str):
            return {"errcode": 47001, "errmsg": "data format error"}
        if self.decide is not None:
            decided = self.decide(ApiCall("POST", "", q, body))
            if decided is not None:
                return decided
        return {"errcode": 0, "errmsg": "ok", "msgid": next(self._msgid)}
