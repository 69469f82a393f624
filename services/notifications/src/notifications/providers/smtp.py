"""E-mail over SMTP: a small pool of open connections, SMTP replies classified temporary or
permanent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosmtplib

from ..settings import NotificationsSettings
from .base import OutgoingEmail, PermanentFailure, SendError, TemporaryFailure
from .rendering import render_email, sender_address


class SmtpEmail:
    """Sends over SMTP with a small pool of open connections (STARTTLS, implicit TLS and auth
    optional)."""

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
                    f"SMTP {self._s.smtp_host}:{self._s.smtp_port} unavailable: "
                    f"{type(exc).__name__}: {exc}"
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
