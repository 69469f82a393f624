"""The WeChat official account's (公众号) message protocol: signatures, the safe mode's AES message
encryption and the XML of pushed messages and replies (issue 22 item 1).

Protocol only, no business rule: the tickets service answers pushes with it, the test stand-in of
the WeChat platform (aftersales_testing.wechat) speaks the platform's side with the same code.

- URL check and plain mode: signature = sha1(sorted(token, timestamp, nonce) joined).
- Safe mode: msg_signature = sha1(sorted(token, timestamp, nonce, Encrypt) joined); Encrypt is
  base64(AES-256-CBC(key, iv=key[:16], PKCS#7 to 32-byte blocks)) of 16 random bytes + the
  message's length (4 bytes, big-endian) + the message + the AppID; key = b64decode(EncodingAESKey
  + "=").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32-byte blocks (PKCS#7 with k = 32)
MAX_XML_BYTES = 64 * 1024


class WeChatProtocolError(ValueError):
    """A push that is not what the platform sends: bad signature, undecryptable, wrong AppID,
    malformed XML. The message says which (for logs; the caller answers 403 / 400)."""


def signature(*parts: str) -> str:
    """sha1 of the parts sorted and joined (URL check, plain mode; with Encrypt: the safe mode's
    msg_signature)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_ok(expected: str | None, *parts: str) -> bool:
    return bool(expected) and hmac.compare_digest(signature(*parts), (expected or "").lower())


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key of a 43-character EncodingAESKey."""
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("EncodingAESKey is not 43 characters of base64") from exc
    if len(key) != 32:
        raise ValueError("EncodingAESKey must decode to 32 bytes (43 characters)")
    return key


def _pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1] if data else 0
    if not 1 <= n <= BLOCK or data[-n:] != bytes([n]) * n:
        raise WeChatProtocolError("bad padding")
    return data[:-n]


def encrypt(key: bytes, app_id: str, message: str, random16: bytes | None = None) -> str:
    """The Encrypt text of a message (base64)."""
    raw = message.encode()
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(raw)) + raw + app_id.encode()
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(_pad(plain)) + enc.finalize()).decode()


def decrypt(key: bytes, app_id: str, encrypted: str) -> str:
    """The message inside an Encrypt text; WeChatProtocolError unless it is for this AppID."""
    try:
        data = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WeChatProtocolError("Encrypt is not base64") from exc
    if not data or len(data) % 16:
        raise WeChatProtocolError("Encrypt is not whole AES blocks")
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = _unpad(dec.update(data) + dec.finalize())
    if len(plain) < 20:
        raise WeChatProtocolError("Encrypt is too short")
    (length,) = struct.unpack(">I", plain[16:20])
    message, rest = plain[20 : 20 + length], plain[20 + length :]
    if len(message) != length or rest.decode("utf-8", "replace") != app_id:
        raise WeChatProtocolError("Encrypt is not for this AppID")
    try:
        return message.decode()
    except UnicodeDecodeError as exc:
        raise WeChatProtocolError("message is not UTF-8") from exc


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The child elements of a flat <xml> document as a dict (no DTD, no entities, ≤ 64 KiB)."""
    raw = body.encode() if isinstance(body, str) else body
    if len(raw) > MAX_XML_BYTES:
        raise WeChatProtocolError("message too large")
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise WeChatProtocolError("DTDs and entities are not accepted")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise WeChatProtocolError(f"malformed XML: {exc}") from exc
    if root.tag != "xml":
        raise WeChatProtocolError("the root element is not <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(fields: dict[str, str | int]) -> str:
    """A flat <xml> document: numbers as text, strings in CDATA (as the platform writes them)."""
    parts = []
    for name, value in fields.items():
        text = str(value) if isinstance(value, int) else _cdata(value)
        parts.append(f"<{escape(name)}>{text}</{escape(name)}>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_reply(to_user: str, from_user: str, content: str, now: int | None = None) -> str:
    """A passive text reply to a pushed message."""
    return build_xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": int(now if now is not None else time.time()),
            "MsgType": "text",
            "Content": content,
        }
    )


@dataclass(frozen=True)
class Sealed:
    """A message in safe mode: the XML to send, with what its signature covered."""

    xml: str
    encrypt: str
    msg_signature: str
    timestamp: str
    nonce: str


def seal(key: bytes, app_id: str, token: str, message: str, timestamp: str, nonce: str) -> Sealed:
    """A message encrypted and signed in safe mode, in its <xml> envelope (the reply's form; the
    platform's pushes carry ToUserName and Encrypt, with the signature in the query)."""
    encrypted = encrypt(key, app_id, message)
    sig = signature(token, timestamp, nonce, encrypted)
    xml = build_xml(
        {
            "Encrypt": encrypted,
            "MsgSignature": sig,
            "TimeStamp": int(timestamp) if timestamp.isdigit() else timestamp,
            "Nonce": nonce,
        }
    )
    return Sealed(xml, encrypted, sig, timestamp, nonce)
