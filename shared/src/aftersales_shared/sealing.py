"""Survey links travel sealed: only the surveys service and the message that reaches the customer
hold the token in clear (issue 15). Surveys seals the link to the notifications service's public key
(a libsodium sealed box: X25519 + XSalsa20-Poly1305, anonymous sender); only notifications' private
key opens it, at the moment it sends. The stream, the outbox, the delivery log and every API hold
the sealed form and a masked link (`https://…/s/AbCd……`).

Keys are 32 bytes in URL-safe base64 (`aftersales link-keys` prints a new pair). Local development
uses a published pair derived from a fixed seed, accepted only with AFTERSALES_LOCAL_DEV=1 (like the
dev JWT secret).
"""

from __future__ import annotations

import base64
import hashlib

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

DEV_LINK_SEED = b"aftersales-local-dev-survey-link-key"


class SealingError(ValueError):
    """A key or a sealed value that cannot be used; the message says which."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise SealingError(f"{what} is not URL-safe base64") from None
    return raw


def new_keypair() -> tuple[str, str]:
    """(private, public) for notifications and surveys."""
    key = PrivateKey.generate()
    return _b64(bytes(key)), _b64(bytes(key.public_key))


def dev_private_key() -> str:
    return _b64(hashlib.sha256(DEV_LINK_SEED).digest())


def public_key_of(private_key: str) -> str:
    return _b64(bytes(_private(private_key).public_key))


def dev_public_key() -> str:
    return public_key_of(dev_private_key())


def _private(text: str) -> PrivateKey:
    raw = _unb64(text, "the link private key")
    if len(raw) != 32:
        raise SealingError("the link private key must be 32 bytes")
    return PrivateKey(raw)


def _public(text: str) -> PublicKey:
    raw = _unb64(text, "the link public key")
    if len(raw) != 32:
        raise SealingError("the link public key must be 32 bytes")
    return PublicKey(raw)


def check_private_key(text: str) -> None:
    _private(text)


def check_public_key(text: str) -> None:
    _public(text)


def seal(public_key: str, secret: str) -> str:
    return _b64(SealedBox(_public(public_key)).encrypt(secret.encode()))


def unseal(private_key: str, sealed: str) -> str:
    try:
        return SealedBox(_private(private_key)).decrypt(_unb64(sealed, "the sealed value")).decode()
    except CryptoError:
        raise SealingError("the sealed value does not open with this key") from None


def mask_link(link: str, keep: int = 4) -> str:
    """The link with its token cut to its first characters: `https://…/s/AbCd……` (safe to show
    staff)."""
    base, _, token = link.rpartition("/")
    return f"{base}/{token[:keep]}……" if base else link[:keep] + "……"
