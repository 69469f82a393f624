"""Local stand-ins for the providers (an SMTP server and an SMS gateway) for tests, benchmark and
demos.

Both run in the caller's event loop, record what they received with the time, and can be stopped and
started again on the same port (stopping also cuts open connections, as a crashed server would).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from notifications.providers.aliyun import aliyun_signature


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    at: float  # time.time()

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]


class _Handler:
    def __init__(self, sink: LocalSmtpServer) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.sink.reject:
            return self.sink.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.sink.received.append(
            ReceivedMail(
                envelope.mail_from or "",
                list(envelope.rcpt_tos),
                bytes(envelope.original_content or envelope.content),
                time.time(),
            )
        )
        return "250 Message accepted for delivery"


class LocalSmtpServer:
    """aiosmtpd in this event loop; `credentials` turns on AUTH (LOGIN/PLAIN), `reject` maps address
    → reply."""

    def __init__(
        self,
        port: int | None = None,
        credentials: tuple[str, str] | None = None,
        tls_context: Any = None,
    ) -> None:
        self.port = port or free_port()
        self.credentials = credentials
        self.tls_context = tls_context
        self.received: list[ReceivedMail] = []
        self.reject: dict[str, str] = {}
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[asyncio.BaseTransport] = set()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            self.credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        return AuthResult(success=ok, handled=False)

    def _protocol(self) -> SMTP:
        sink = self

        class Tracked(SMTP):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sink._conns.add(transport)
                super().connection_made(transport)

            def connection_lost(self, exc: Exception | None) -> None:
                sink._conns.discard(self.transport)
                super().connection_lost(exc)

        kw: dict[str, Any] = {"hostname": "localhost", "enable_SMTPUTF8": True}
        if self.credentials:
            kw |= {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": self.tls_context is not None,
            }
        if self.tls_context is not None:
            kw |= {"tls_context": self.tls_context, "require_starttls": True}
        return Tracked(_Handler(self), **kw)

    async def start(self) -> LocalSmtpServer:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, "127.0.0.1", self.port, reuse_address=True
        )
        return self

    async def stop(self) -> None:
        """Stop listening and cut every open connection."""
        if self._server is not None:
            self._server.close()
            for transport in list(self._conns):
                transport.abort()
            self._conns.clear()
            await self._server.wait_closed()
            self._server = None

    def to(self, address: str) -> list[ReceivedMail]:
        return [m for m in self.received if address in m.rcpt_tos]


@dataclass
class SmsRequest:
    method: str
    path: str
    params: dict[str, str]
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return (
            self.status == 200
            and self.answer.get("Code", "OK") == "OK"
            and "error" not in self.answer
        )


Decide = Callable[[SmsRequest], tuple[int, dict[str, Any]] | None]


class LocalSmsGateway:
    """A tiny HTTP/1.1 server that answers like a generic SMS gateway (POST JSON) or Aliyun SendSms
    (GET).

    Aliyun requests are checked: signature v1 recomputed with `aliyun_secret`, required parameters
    present. `decide(request)` may return (status, json) to answer otherwise (throttling, failures).
    """

    def __init__(
        self, aliyun_secret: str | None = None, token: str | None = None, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.aliyun_secret = aliyun_secret
        self.token = token
        self.decide: Decide | None = None
        self.requests: list[SmsRequest] = []
        self._server: asyncio.base_events.Server | None = None
        self._seq = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> LocalSmsGateway:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    @property
    def accepted(self) -> list[SmsRequest]:
        return [r for r in self.requests if r.accepted]

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
                status, answer = self._answer(method, target, headers, raw)
                data = json.dumps(answer, ensure_ascii=False).encode()
                writer.write(
                    (
                        f"HTTP/1.1 {status} X\r\nContent-Type: "
                        f"application/json\r\nContent-Length: {len(data)}\r\n\r\n"
                    ).encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def _answer(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(target)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        req = SmsRequest(method, parts.path, params, body, headers, time.time())
        self.requests.append(req)
        self._seq += 1
        status, answer = self._check(req)
        if status == 200 and self.decide is not None:
            decided = self.decide(req)
            if decided is not None:
                status, answer = decided
        req.status, req.answer = status, answer
        return status, answer

    def _check(self, req: SmsRequest) -> tuple[int, dict[str, Any]]:
        if req.params.get("Action") == "SendSms":
            missing = [
                k
                for k in (
                    "AccessKeyId",
                    "PhoneNumbers",
                    "SignName",
                    "TemplateCode",
                    "TemplateParam",
                    "Signature",
                    "SignatureNonce",
                    "Timestamp",
                    "Version",
                )
                if not req.params.get(k)
            ]
            if missing:
                return 400, {"Code": "MissingParameter", "Message": f"missing {missing}"}
            unsigned = {k: v for k, v in req.params.items() if k != "Signature"}
            if (
                self.aliyun_secret is None
                or aliyun_signature(unsigned, self.aliyun_secret) != req.params["Signature"]
            ):
                return 400, {
                    "Code": "SignatureDoesNotMatch",
                    "Message": "Specified signature is not matched",
                }
            try:
                json.loads(req.params["TemplateParam"])
            except ValueError:
                return 200, {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法"}
            return 200, {
                "Code": "OK",
                "Message": "OK",
                "BizId": f"biz{self._seq}",
                "RequestId": f"req{self._seq}",
            }
        if self.token and req.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "bad token"}
        if not req.body.get("to") or not req.body.get("text"):
            return 400, {"error": "to and text are required"}
        return 200, {"id": f"msg{self._seq}"}
