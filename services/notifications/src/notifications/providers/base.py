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


@dataclass(frozen=True)
class OutgoingWeChat:
    delivery_id: str
    openid: str
    template: str  # the template's name; the provider knows its WeChat template_id
    data: dict[str, str] = field(default_factory=dict)  # key → value ({key: {value}} on the wire)


class EmailProvider(Protocol):
    name: str

    async def send(self, msg: OutgoingEmail) -> str | None: ...

    async def close(self) -> None: ...


class SmsProvider(Protocol):
    name: str

    async def send(self, msg: OutgoingSms) -> str | None: ...

    async def close(self) -> None: ...


class WeChatProvider(Protocol):
    name: str

    async def send(self, msg: OutgoingWeChat) -> str | None: ...

    async def close(self) -> None: ...


class WeChatOff:
    """The wechat channel when no official account is configured: nothing is planned for it; a
    delivery left from before fails with the reason."""

    name = "wechat"

    async def send(self, msg: OutgoingWeChat) -> str | None:
        raise PermanentFailure("微信公众号未配置 (NOTIFICATIONS_WECHAT_APP_ID / _APP_SECRET unset)")

    async def close(self) -> None:
        return None
