"""Channels to the outside: email over SMTP (or files locally), SMS over an HTTP gateway, Aliyun or a log file."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
import aiosmtplib
import yarl

from .settings import NotificationsSettings


class SendError(Exception):
    """The provider did not take the message; `temporary` says whether trying again may help."""

    temporary = True

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:2000]


class TemporaryFailure(SendError):
    temporary = True


class PermanentFailure(SendError):
    temporary = False


@dataclass(frozen=True)
class OutgoingEmail:
    delivery_id: str
    event_id: str
    to: str
    to_name: str | None
    subject: str
    text: str
    html: str
    language: str = "zh-CN"


@dataclass(frozen=True)
class OutgoingSms:
    delivery_id: str
    to: str  # E.164
    text: str  # with 【signature】, within the length limit
    template: str
    params: dict[str, str] = field(default_factory=dict)


class EmailProvider(Protocol):
    name: str

    async def send(self, msg: OutgoingEmail) -> str | None: ...

    async def close(self) -> None: ...


class SmsProvider(Protocol):
    name: str

    async def send(self, msg: OutgoingSms) -> str | None: ...

    async def close(self) -> None: ...


# ---------------------------------------------------------------- email
@dataclass(frozen=True)
class RenderedEmail:
    message_id: str
    data: bytes  # the whole message, CRLF line ends, 7-bit clean


def _header(value: str) -> str:
    """RFC 2047 (UTF-8, base64) where the text is not ASCII; folded to the 78-character line limit."""
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=76, header_name="Subject").encode(linesep="\r\n")


def _body(text: str) -> str:
    return base64.encodebytes(text.encode("utf-8")).decode("ascii").replace("\n", "\r\n")


@functools.lru_cache(maxsize=16)
def _from_header(sender: str) -> str:
    name, addr = parseaddr(sender)
    return formataddr((name, addr), charset="utf-8") if name else addr


@functools.lru_cache(maxsize=16)
def sender_address(sender: str) -> str:
    return parseaddr(sender)[1]


def render_email(msg: OutgoingEmail, sender: str) -> RenderedEmail:
    """A multipart/alternative message (text + HTML), UTF-8 base64 parts, RFC 2047 headers.

    Composed directly: the `email` package's modern policy parses and refolds every header and was
    most of the service's CPU time under load (see bench/fanout.py); what it produced, any mail reader
    (and the package's own parser, in the tests) reads back the same."""
    # the same Message-ID on every attempt of one delivery: a re-send after a crash is one message to the
    # receiving server and the reader (the idempotency key email has)
    message_id = f"<{msg.delivery_id}@aftersales.local>"
    boundary = f"=_aftersales_{msg.delivery_id.replace('-', '')}"
    lines = [
        f"From: {_from_header(sender)}",
        f"To: {formataddr((msg.to_name or '', msg.to), charset='utf-8')}",
        f"Subject: {_header(msg.subject)}",
        f"Date: {format_datetime(datetime.now(UTC))}",
        f"Message-ID: {message_id}",
        f"Content-Language: {msg.language}",
        f"X-Aftersales-Delivery-Id: {msg.delivery_id}",
        f"X-Aftersales-Event-Id: {msg.event_id}",
        "Auto-Submitted: auto-generated",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
        f"--{boundary}",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
        "",
        _body(msg.text),
        f"--{boundary}",
        'Content-Type: text/html; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
        "",
        _body(msg.html),
        f"--{boundary}--",
        "",
    ]
    return RenderedEmail(message_id, "\r\n".join(lines).encode("ascii"))


class SmtpEmail:
    """Sends over SMTP with a small pool of open connections (STARTTLS, implicit TLS and auth optional)."""

    name = "smtp"

    def __init__(self, settings: NotificationsSettings) -> None:
        self._s = settings
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.smtp_pool_size)

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._s
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=s.smtp_timeout_seconds,
            use_tls=s.smtp_use_tls,
            start_tls=s.smtp_starttls if not s.smtp_use_tls else False,
            validate_certs=s.smtp_validate_certs,
        )
        await client.connect()
        if s.smtp_username:
            await client.login(s.smtp_username, s.smtp_password or "")
        return client

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[tuple[aiosmtplib.SMTP, bool]]:
        async with self._slots:
            reused = bool(self._idle)
            client = self._idle.pop() if reused else await self._connect()
            try:
                yield client, reused
            except BaseException:
                client.close()
                raise
            else:
                self._idle.append(client)

    async def send(self, msg: OutgoingEmail) -> str | None:
        email = render_email(msg, self._s.mail_from)
        sender = sender_address(self._s.mail_from)
        for attempt in range(2):
            try:
                async with self._client() as (client, reused):
                    try:
                        errors, _ = await client.sendmail(sender, [msg.to], email.data)
                    except aiosmtplib.SMTPServerDisconnected:
                        if reused and attempt == 0:
                            raise _Reconnect() from None
                        raise
                if errors:
                    code, text = next(iter(errors.values()))
                    raise _classify(code, text)
                return email.message_id
            except _Reconnect:
                continue
            except SendError:
                raise
            except aiosmtplib.SMTPRecipientsRefused as exc:
                first = exc.recipients[0]
                raise _classify(first.code, first.message) from exc
            except aiosmtplib.SMTPResponseException as exc:
                raise _classify(exc.code, exc.message) from exc
            except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
                raise TemporaryFailure(
                    f"SMTP {self._s.smtp_host}:{self._s.smtp_port} unavailable: {type(exc).__name__}: {exc}"
                ) from exc
        raise TemporaryFailure("SMTP connection dropped twice")

    async def close(self) -> None:
        while self._idle:
            client = self._idle.pop()
            try:
                await client.quit()
            except Exception:
                client.close()


class _Reconnect(Exception):
    pass


def _classify(code: int, text: str) -> SendError:
    reason = f"SMTP {code} {text}".strip()
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


class FileEmail:
    """Local default: each email is written as an .eml file under the data folder."""

    name = "file"

    def __init__(self, settings: NotificationsSettings) -> None:
        self._dir = settings.mail_dir
        self._sender = settings.mail_from

    async def send(self, msg: OutgoingEmail) -> str | None:
        email = render_email(msg, self._sender)
        self._dir.mkdir(parents=True, exist_ok=True)
        path = self._dir / f"{msg.delivery_id}.eml"
        await asyncio.to_thread(path.write_bytes, email.data)
        return email.message_id

    async def close(self) -> None:
        return None


# ---------------------------------------------------------------- sms
class LogFileSms:
    """Local default: SMS are appended as JSON lines to <data dir>/sms.log (no account needed)."""

    name = "log"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = asyncio.Lock()

    async def send(self, msg: OutgoingSms) -> str | None:
        line = json.dumps(
            {
                "at": datetime.now(UTC).isoformat(),
                "to": msg.to,
                "text": msg.text,
                "template": msg.template,
                "delivery_id": msg.delivery_id,
            },
            ensure_ascii=False,
        )
        self._path.parent.mkdir(parents=True, exist_ok=True)
        async with self._lock:
            await asyncio.to_thread(_append, self._path, line + "\n")
        return msg.delivery_id

    async def close(self) -> None:
        return None


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


class HttpClient:
    """Pooled keep-alive HTTP/1.1 client for the SMS providers, created on first use (inside the loop).

    aiohttp: measured here at about a tenth of httpx's CPU per request, which decided the SMS side of
    the fan-out benchmark."""

    def __init__(
        self, timeout: float, headers: dict[str, str] | None = None, max_connections: int = 64
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = headers or {}
        self._limit = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """(status, body); raises TemporaryFailure when the server cannot be reached or does not answer."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers=self._headers,
                connector=aiohttp.TCPConnector(limit=self._limit),
                skip_auto_headers=("User-Agent",),
            )
        try:
            async with self._session.request(
                method, yarl.URL(url, encoded=True), data=body, headers=headers
            ) as resp:
                return resp.status, await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class HttpGatewaySms:
    """A generic SMS gateway: POST JSON {to, text, ref, template, params}; 2xx accepted, 429/5xx retried."""

    name = "http"

    def __init__(self, url: str, token: str | None, timeout: float) -> None:
        self._url = url
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = HttpClient(timeout, headers)

    async def send(self, msg: OutgoingSms) -> str | None:
        body = json.dumps(
            {
                "to": msg.to,
                "text": msg.text,
                "ref": msg.delivery_id,
                "template": msg.template,
                "params": msg.params,
            },
            ensure_ascii=False,
        ).encode()
        try:
            status, raw = await self._client.request(
                "POST",
                self._url,
                body=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    # one key per delivery: a gateway that honours it sends a re-send after a crash once
                    "Idempotency-Key": msg.delivery_id,
                    "X-Request-ID": msg.delivery_id,
                },
            )
        except TemporaryFailure as exc:
            raise TemporaryFailure(f"SMS gateway unavailable: {exc.reason}") from exc
        text = raw[:500].decode("utf-8", "replace")
        if status == 429 or status >= 500:
            raise TemporaryFailure(f"SMS gateway {status}: {text}")
        if status >= 400:
            raise PermanentFailure(f"SMS gateway refused ({status}): {text}")
        data = _json(raw)
        return str(data.get("id") or data.get("message_id") or "") or None

    async def close(self) -> None:
        await self._client.close()


# Aliyun SMS (阿里云短信) SendSms, RPC style, signature v1 (HMAC-SHA1 over the sorted, encoded query)
ALIYUN_TEMPORARY = (
    "isv.BUSINESS_LIMIT_CONTROL",
    "Throttling",
    "isp.SYSTEM_ERROR",
    "isv.DAY_LIMIT_CONTROL",
    "SignatureNonceUsed",
    "isp.RAM_PERMISSION_DENY_TEMPORARY",
)


def aliyun_encode(value: str) -> str:
    """Aliyun's percent-encoding: RFC 3986 unreserved characters kept, space as %20, * as %2A."""
    return quote(value, safe="~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "GET") -> str:
    canonical = "&".join(f"{aliyun_encode(k)}={aliyun_encode(params[k])}" for k in sorted(params))
    to_sign = f"{method}&{aliyun_encode('/')}&{aliyun_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def aliyun_phone(e164: str) -> str:
    """Mainland numbers without +86; others as 00<country code><number>."""
    return e164[3:] if e164.startswith("+86") else "00" + e164.lstrip("+")


class AliyunSms:
    """阿里云短信 SendSms with a registered signature (SignName) and template (TemplateCode + TemplateParam)."""

    name = "aliyun"

    def __init__(self, settings: NotificationsSettings) -> None:
        if not (settings.aliyun_access_key_id and settings.aliyun_access_key_secret):
            raise ValueError(
                "NOTIFICATIONS_ALIYUN_ACCESS_KEY_ID and _SECRET are required for the aliyun SMS provider"
            )
        self._s = settings
        self._client = HttpClient(settings.sms_timeout_seconds)

    def request_params(self, msg: OutgoingSms, now: datetime | None = None) -> dict[str, str]:
        code = self._s.aliyun_template_codes.get(msg.template)
        if not code:
            raise PermanentFailure(
                f"未配置阿里云短信模板编号 (no Aliyun TemplateCode configured for {msg.template!r})"
            )
        params = {
            "AccessKeyId": self._s.aliyun_access_key_id or "",
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": msg.delivery_id,
            "PhoneNumbers": aliyun_phone(msg.to),
            "RegionId": self._s.aliyun_region,
            "SignName": self._s.sms_signature,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": code,
            "TemplateParam": json.dumps(msg.params, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature(params, self._s.aliyun_access_key_secret or "")
        return params

    async def send(self, msg: OutgoingSms) -> str | None:
        params = self.request_params(msg)
        query = "&".join(f"{aliyun_encode(k)}={aliyun_encode(v)}" for k, v in params.items())
        try:
            status, raw = await self._client.request(
                "GET", f"{self._s.aliyun_endpoint.rstrip('/')}/?{query}"
            )
        except TemporaryFailure as exc:
            raise TemporaryFailure(
                f"阿里云短信不可用 (Aliyun SMS unavailable): {exc.reason}"
            ) from exc
        data = _json(raw)
        code = str(data.get("Code") or status)
        if status < 400 and code == "OK":
            return str(data.get("BizId") or "") or None
        reason = f"Aliyun {code}: {data.get('Message') or raw[:300].decode('utf-8', 'replace')}"
        if status >= 500 or code.startswith(ALIYUN_TEMPORARY):
            raise TemporaryFailure(reason)
        raise PermanentFailure(reason)

    async def close(self) -> None:
        await self._client.close()


def email_provider(settings: NotificationsSettings) -> EmailProvider:
    return SmtpEmail(settings) if settings.email_provider == "smtp" else FileEmail(settings)


def sms_provider(settings: NotificationsSettings) -> SmsProvider:
    if settings.sms_provider == "http":
        if not settings.sms_http_url:
            raise ValueError("NOTIFICATIONS_SMS_HTTP_URL is required for the http SMS provider")
        return HttpGatewaySms(
            settings.sms_http_url, settings.sms_http_token, settings.sms_timeout_seconds
        )
    if settings.sms_provider == "aliyun":
        return AliyunSms(settings)
    return LogFileSms(settings.sms_log_path)
