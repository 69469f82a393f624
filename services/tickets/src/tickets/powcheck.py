"""The public web form's proof of work (工作量证明), instead of a captcha from a foreign service.

The server issues a challenge signed with an HMAC of its own secret: ``v1.<issued unix seconds>.
<difficulty bits>.<16 random bytes, base64url>.<HMAC-SHA256 of what precedes, base64url>``. The
page's script (static/pow.js) looks for a decimal nonce such that SHA-256(challenge ‖ nonce) starts
with ``difficulty`` zero bits (2^bits tries on average) and sends both with the form. The server
checks the signature, the age, that the difficulty is at least today's setting, the hash; that a
challenge is used once is the caller's part (its hash is stored). Pure: no I/O, no clock of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

VERSION = "v1"
NONCE_RE = re.compile(r"^[0-9]{1,20}$")
CHALLENGE_MAX = 200


class ChallengeRefused(Exception):
    """Why a challenge or its answer is refused; `reason` is a short code for logs and tests."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Challenge:
    text: str
    issued_at: datetime
    bits: int


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _sign(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def issue(secret: bytes, bits: int, now: datetime) -> str:
    """A fresh signed challenge asking for `bits` leading zero bits."""
    payload = f"{VERSION}.{int(now.timestamp())}.{bits}.{_b64(secrets.token_bytes(16))}"
    return f"{payload}.{_sign(secret, payload)}"


def leading_zero_bits(digest: bytes) -> int:
    n = 0
    for byte in digest:
        if byte == 0:
            n += 8
            continue
        return n + 8 - byte.bit_length()
    return n


def solve(challenge: str, start: int = 0) -> str:
    """The nonce the page's script would find (tests and the benchmark; never the server's job)."""
    bits = int(challenge.split(".")[2])
    nonce = start
    while leading_zero_bits(hashlib.sha256(f"{challenge}{nonce}".encode()).digest()) < bits:
        nonce += 1
    return str(nonce)


def verify(
    secret: bytes, challenge: str, nonce: str, *, min_bits: int, ttl_seconds: float, now: datetime
) -> Challenge:
    """The challenge, if it is ours, fresh, hard enough and solved by `nonce`; else
    ChallengeRefused (reasons: missing, malformed, signature, expired, too_easy, unsolved)."""
    if not challenge or not nonce:
        raise ChallengeRefused("missing")
    parts = challenge.split(".")
    if len(challenge) > CHALLENGE_MAX or len(parts) != 5 or parts[0] != VERSION:
        raise ChallengeRefused("malformed")
    payload, signature = challenge.rsplit(".", 1)
    if not hmac.compare_digest(_sign(secret, payload), signature):
        raise ChallengeRefused("signature")
    issued = datetime.fromtimestamp(int(parts[1]), UTC)
    bits = int(parts[2])
    age = (now - issued).total_seconds()
    if age > ttl_seconds or age < -60:  # a minute of clock skew between replicas
        raise ChallengeRefused("expired")
    if bits < min_bits:
        raise ChallengeRefused("too_easy")
    if not NONCE_RE.match(nonce):
        raise ChallengeRefused("malformed")
    if leading_zero_bits(hashlib.sha256(f"{challenge}{nonce}".encode()).digest()) < bits:
        raise ChallengeRefused("unsolved")
    return Challenge(challenge, issued, bits)


def fingerprint(challenge: str) -> str:
    """What the database keeps of a used challenge."""
    return hashlib.sha256(challenge.encode()).hexdigest()
