"""What every provider shares: the outgoing messages, the provider protocols and how a send
fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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
