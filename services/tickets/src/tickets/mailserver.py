"""The service mailbox over SMTP (issue 22 item 2): the receiver the mail gateway forwards to, and
the sender of the queued replies.

Receiver: aiosmtpd in the service's event loop on `TICKETS_MAIL_HOST:TICKETS_MAIL_PORT`. It takes
mail only from `TICKETS_MAIL_ALLOWED_CLIENTS` (when set) and only for `TICKETS_MAIL_ADDRESSES` (550
otherwise), refuses a message over
`TICKETS_MAIL_MAX_MESSAGE_BYTES` in the dialogue (552, SIZE announced in EHLO), and answers 250
only after the message's transaction committed; a failure answers 451 so the sending server tries
again (the Message-ID makes that harmless).

Sender: queued replies (`mail_outgoing`) go to the relay `TICKETS_MAIL_RELAY_HOST:PORT` with
aiosmtplib; a row is claimed by moving its `next_try_at` (compare-and-set, so two replicas never
send one twice at the same time), sent, then marked; a temporary failure is retried with back-off,
a permanent one (5xx) or the 20th failure gives up and keeps the error.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiosmtplib
import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aftersales_shared.db import utcnow
from aftersales_shared.storage import FileStorage

from . import mailparse
from .models import MailOutgoingRow
from .settings import TicketsSettings
from .usecases import mail

log = structlog.get_logger(__name__)

GIVE_UP_AFTER = 20
CLAIM = timedelta(minutes=2)
BATCH = 20


class Mailbox:
    """The receiver and the sender of one process; `clock` is what "now" is (tests set it)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: TicketsSettings,
        storage: FileStorage,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.storage = storage
        self.clock = clock
        self.kick = asyncio.Event()
        self._server: asyncio.base_events.Server | None = None
        self._allowed = [
            ipaddress.ip_network(n, strict=False) for n in settings.mail_allowed_clients
        ]

    # ------------------------------------------------------------------ receiving

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if not self._client_allowed(session.peer):
            log.warning("tickets.mail_client_refused", peer=str(session.peer))
            return "550 5.7.1 不接受来自此地址的邮件 (relay not permitted from this client)"
        if address.strip().lower() not in self.settings.mail_addresses:
            return "550 5.1.1 收件人不存在 (no such mailbox here)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def _client_allowed(self, peer: Any) -> bool:
        if not self._allowed:
            return True
        try:
            ip = ipaddress.ip_address(peer[0] if isinstance(peer, tuple) else str(peer))
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self._allowed)

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Session, envelope: Envelope
    ) -> str:
        raw = bytes(envelope.original_content or envelope.content or b"")
        return await self.accept(raw, envelope.mail_from or "")

    async def accept(self, raw: bytes, envelope_from: str) -> str:
        """One message: its effect committed, then the SMTP answer."""
        try:
            msg = mailparse.parse(raw)
        except Exception as exc:  # the parser is lenient; this is a message it cannot read at all
            log.warning("tickets.mail_unreadable", error=f"{type(exc).__name__}: {exc}")
            return "554 5.6.0 邮件无法解析 (message cannot be parsed)"
        stash = mail.Stash([])
        try:
            async with self.sessions.begin() as session:
                handled = await mail.receive(
                    session, msg, envelope_from, self.settings, self.storage, stash, self.clock()
                )
        except Exception as exc:
            for key in stash.keys:
                try:
                    await self.storage.delete(key)
                except Exception as gone:  # an orphan file, no record names it
                    log.warning("tickets.mail_orphan_file", key=key, error=str(gone))
            log.exception("tickets.mail_failed", error=f"{type(exc).__name__}: {exc}")
            return "451 4.3.0 暂时无法处理，请稍后重试 (temporary failure, try again later)"
        if handled.outcome in ("opened", "asked"):
            self.kick.set()
        return "250 2.0.0 OK"

    async def start(self) -> None:
        s = self.settings
        assert s.mail_port is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(
                self,
                data_size_limit=s.mail_max_message_bytes,
                enable_SMTPUTF8=True,
                hostname=s.mail_addresses[0].split("@", 1)[1],
                ident="aftersales tickets",
            ),
            s.mail_host,
            s.mail_port,
            reuse_address=True,
        )
        log.info("tickets.mail_listening", host=s.mail_host, port=s.mail_port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def run(self) -> None:
        """Send until cancelled, then stop receiving (a background task of the service, started
        after `start`)."""
        try:
            while True:
                if self.settings.mail_relay_port is not None:
                    try:
                        await self.send_due()
                    except Exception as exc:  # the database away: next round
                        log.warning("tickets.mail_send_round_failed", error=str(exc))
                try:
                    await asyncio.wait_for(
                        self.kick.wait(), self.settings.mail_send_interval_seconds
                    )
                except TimeoutError:
                    pass
                self.kick.clear()
        finally:
            await self.stop()

    # ------------------------------------------------------------------ sending

    async def send_due(self) -> int:
        """Send what is due now; how many the relay accepted."""
        now = self.clock()
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(MailOutgoingRow.id, MailOutgoingRow.next_try_at)
                    .where(MailOutgoingRow.next_try_at <= now)
                    .order_by(MailOutgoingRow.next_try_at)
                    .limit(BATCH)
                )
            ).all()
        sent = 0
        for row_id, due in rows:
            sent += await self._send_one(row_id, due, now)
        return sent

    async def _send_one(self, row_id: int, due: datetime, now: datetime) -> int:
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                update(MailOutgoingRow)
                .where(MailOutgoingRow.id == row_id, MailOutgoingRow.next_try_at == due)
                .values(next_try_at=now + CLAIM)
            )
            if claimed.rowcount != 1:
                return 0  # another replica has it
            row = await session.get(MailOutgoingRow, row_id)
            assert row is not None
            raw, sender, rcpt, attempts = row.raw, row.mail_from, row.rcpt_to, row.attempts
        s = self.settings
        error: str | None = None
        permanent = False
        try:
            await aiosmtplib.send(
                raw,
                sender=sender,
                recipients=[rcpt],
                hostname=s.mail_relay_host,
                port=s.mail_relay_port,
                username=s.mail_relay_username,
                password=(
                    s.mail_relay_password.get_secret_value() if s.mail_relay_password else None
                ),
                start_tls=s.mail_relay_starttls or None,
                timeout=30,
            )
        except aiosmtplib.SMTPResponseException as exc:
            error, permanent = f"{exc.code} {exc.message}", 500 <= exc.code < 600
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempts += 1
        values: dict[str, Any]
        if error is None:
            values = {"sent_at": self.clock(), "next_try_at": None, "attempts": attempts}
        elif permanent or attempts >= GIVE_UP_AFTER:
            values = {"next_try_at": None, "attempts": attempts, "last_error": error[:2000]}
            log.warning("tickets.mail_given_up", id=row_id, error=error)
        else:
            retry = now + mail.retry_after(attempts)
            values = {"next_try_at": retry, "attempts": attempts, "last_error": error[:2000]}
            log.info("tickets.mail_retry", id=row_id, error=error)
        async with self.sessions.begin() as session:
            await session.execute(
                update(MailOutgoingRow).where(MailOutgoingRow.id == row_id).values(**values)
            )
        return 1 if error is None else 0
