"""WeChat template messages (公众号模板消息): POST /cgi-bin/message/template/send with the account's
access token, kept in this service's database (one row per AppID, shared by every replica).

The token comes from GET /cgi-bin/token (grant_type=client_credential, appid, secret) and lives
`expires_in` seconds (7200). It is refreshed when less than
NOTIFICATIONS_WECHAT_TOKEN_REFRESH_SECONDS are left, under the row's lock, so two replicas never
both fetch one (each fetch ends the previous token's life; fetches per day are limited). Errors:
40001 / 42001 / 40014 (the token was replaced, expired or is not valid) → a new token and the send
once more; 45009 (the day's quota) and -1 (system busy) → try again later; anything else fails the
delivery with the platform's errmsg.

There is no idempotency key in this API: a process killed between the platform's answer and the
delivery's record sends the message again when the lease hands it out (as for SMS gateways that
ignore the key).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aftersales_shared.db import is_postgresql, upsert_insert, utcnow

from ..models import WeChatTokenRow
from ..settings import NotificationsSettings
from .base import OutgoingWeChat, PermanentFailure, SendError, TemporaryFailure
from .httpclient import HttpClient, json_object

log = structlog.get_logger(__name__)

TOKEN_INVALID = (40001, 42001, 40014)  # invalid credential, token expired, invalid token
RETRYABLE = (45009, -1)  # the day's API quota reached, system busy
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: datetime


class WeChatTokens:
    """The account's access token: in memory while fresh, else from the database row, refreshed
    there by one replica at a time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: NotificationsSettings,
        client: HttpClient,
    ) -> None:
        self._sessions = sessions
        self._s = settings
        self._client = client
        self._cached: Token | None = None
        self._lock = asyncio.Lock()  # one refresh at a time in this process
        self.fetches = 0

    @property
    def _margin(self) -> timedelta:
        return timedelta(seconds=self._s.wechat_token_refresh_seconds)

    def _fresh(self, token: Token | None, stale: str | None, now: datetime) -> bool:
        return token is not None and token.value != stale and token.expires_at - now > self._margin

    async def current(self, stale: str | None = None) -> str:
        """A token with more than the margin left; `stale`: the one the platform just refused."""
        now = utcnow()
        if self._fresh(self._cached, stale, now):
            assert self._cached is not None
            return self._cached.value
        async with self._lock:
            if self._fresh(self._cached, stale, now):
                assert self._cached is not None
                return self._cached.value
            self._cached = await self._from_database(stale)
            return self._cached.value

    async def _from_database(self, stale: str | None) -> Token:
        app_id = self._s.wechat_app_id or ""
        async with self._sessions.begin() as session:
            table = WeChatTokenRow.__table__
            await session.execute(
                upsert_insert(session, table)
                .values(app_id=app_id, access_token=None, expires_at=EPOCH, refreshes=0)
                .on_conflict_do_nothing()
            )
            query = select(WeChatTokenRow).where(WeChatTokenRow.app_id == app_id)
            if is_postgresql(session):
                query = query.with_for_update()  # the other replicas wait for this refresh
            row = (await session.scalars(query.execution_options(populate_existing=True))).one()
            now = utcnow()
            found = Token(row.access_token, row.expires_at) if row.access_token else None
            if self._fresh(found, stale, now):
                assert found is not None
                return found  # another replica refreshed it meanwhile
            token = await self._fetch(now)
            row.access_token, row.expires_at = token.value, token.expires_at
            row.refreshed_at, row.refreshes = now, row.refreshes + 1
            log.info("wechat.token_refreshed", app_id=app_id, expires_at=str(token.expires_at))
            return token

    async def _fetch(self, now: datetime) -> Token:
        secret = self._s.wechat_app_secret.get_secret_value() if self._s.wechat_app_secret else ""
        query = urlencode(
            {"grant_type": "client_credential", "appid": self._s.wechat_app_id, "secret": secret}
        )
        self.fetches += 1
        try:
            status, raw = await self._client.request(
                "GET", f"{self._s.wechat_api_base.rstrip('/')}/cgi-bin/token?{query}"
            )
        except TemporaryFailure as exc:
            raise TemporaryFailure(
                f"微信接口不可用 (WeChat API unreachable): {exc.reason}"
            ) from exc
        data = json_object(raw)
        if status < 400 and data.get("access_token"):
            expires_in = int(data.get("expires_in") or 7200)
            return Token(str(data["access_token"]), now + timedelta(seconds=expires_in))
        raise _classified(status, data, raw, "获取access_token失败 (token refused)")


def _classified(status: int, data: dict, raw: bytes, what: str) -> SendError:
    code = data.get("errcode")
    reason = (
        f"{what}: 微信 {code} {data.get('errmsg') or ''}".strip()
        if code is not None
        else f"{what}: HTTP {status} {raw[:200].decode('utf-8', 'replace')}"
    )
    if status == 429 or status >= 500 or code in RETRYABLE:
        return TemporaryFailure(reason)
    return PermanentFailure(reason)


class WeChatTemplateSender:
    """The wechat channel: one template message per delivery."""

    name = "wechat"

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: NotificationsSettings
    ) -> None:
        self._s = settings
        self._client = HttpClient(settings.wechat_timeout_seconds)
        self.tokens = WeChatTokens(sessions, settings, self._client)

    def payload(self, msg: OutgoingWeChat) -> dict:
        template_id = self._s.wechat_template_ids.get(msg.template)
        if not template_id:
            raise PermanentFailure(
                f"未配置微信模板编号 (no WeChat template_id configured for {msg.template!r})"
            )
        rename = self._s.wechat_data_keys.get(msg.template, {})
        body: dict = {
            "touser": msg.openid,
            "template_id": template_id,
            "data": {rename.get(k, k): {"value": v} for k, v in msg.data.items()},
        }
        if self._s.wechat_url:
            body["url"] = self._s.wechat_url
        return body

    async def send(self, msg: OutgoingWeChat) -> str | None:
        body = json.dumps(self.payload(msg), ensure_ascii=False).encode()
        try:
            async with asyncio.timeout(self._s.wechat_timeout_seconds):
                return await self._send(body)
        except TimeoutError as exc:
            raise TemporaryFailure("微信接口超时 (WeChat API timed out)") from exc

    async def _send(self, body: bytes) -> str | None:
        token = await self.tokens.current()
        base = self._s.wechat_api_base.rstrip("/")
        for attempt in (1, 2):
            try:
                status, raw = await self._client.request(
                    "POST",
                    f"{base}/cgi-bin/message/template/send?access_token={quote(token, safe='')}",
                    body=body,
                    headers={"Content-Type": "application/json; charset=utf-8"},
                )
            except TemporaryFailure as exc:
                raise TemporaryFailure(
                    f"微信接口不可用 (WeChat API unreachable): {exc.reason}"
                ) from exc
            data = json_object(raw)
            code = data.get("errcode", 0 if status < 400 else None)
            if status < 400 and code == 0:
                return str(data.get("msgid") or "") or None
            if code in TOKEN_INVALID and attempt == 1:
                log.info("wechat.token_refused", errcode=code)
                token = await self.tokens.current(stale=token)
                continue
            raise _classified(status, data, raw, "微信模板消息发送失败 (template message refused)")
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self._client.close()
