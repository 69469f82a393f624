"""An e-mail composed directly as bytes (multipart/alternative, UTF-8, RFC 2047 headers)."""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr

from .base import OutgoingEmail


@dataclass(frozen=True)
class RenderedEmail:
    message_id: str
    data: bytes  # the whole message, CRLF line ends, 7-bit clean


def _header(value: str) -> str:
    """RFC 2047 (UTF-8, base64) where the text is not ASCII; folded to the 78-character line
    limit."""
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
    most of the service's CPU time under load (see bench/fanout.py); what it produced, any mail
    reader (and the package's own parser, in the tests) reads back the same."""
    # the same Message-ID on every attempt of one delivery: a re-send after a crash is one message
    # to the receiving server and the reader (the idempotency key email has)
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
