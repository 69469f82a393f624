"""Delivery worker: sends claimed deliveries after the claim committed, then records the outcome."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aftersales_shared.db import utcnow
from aftersales_shared.scheduler import Scheduler
from aftersales_shared.sealing import unseal
from aftersales_shared.tasks import cancel_and_wait

from .domain import Channel
from .providers.base import (
    EmailProvider,
    OutgoingEmail,
    OutgoingSms,
    OutgoingWeChat,
    SendError,
    SmsProvider,
    TemporaryFailure,
    WeChatOff,
    WeChatProvider,
)
from .settings import NotificationsSettings
from .usecases import delivery, lease
from .usecases.delivery import CLAIMED_KEY, PLANNED_KEY, Claimed, Sent

log = structlog.get_logger(__name__)


class DeliveryWorker:
    """A few concurrent senders fed by the scheduler's claims; a crash mid-send is recovered by
    lease."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: NotificationsSettings,
        email: EmailProvider,
        sms: SmsProvider,
        wechat: WeChatProvider | None = None,
    ) -> None:
        self._sessions = sessions
        self._s = settings
        self.email = email
        self.sms = sms
        self.wechat: WeChatProvider = wechat or WeChatOff()
        self._queue: asyncio.Queue[Claimed] = asyncio.Queue()
        self._sent: asyncio.Queue[Sent] = asyncio.Queue()
        self._pending: list[Sent] = []
        self._schedulers: list[Scheduler] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.sent_total = 0
        self.failed_total = 0
        self.retried_total = 0
        sa_event.listen(sessions.kw["sync_session_class"], "after_commit", self._after_commit)
        sa_event.listen(sessions.kw["sync_session_class"], "after_rollback", self._after_rollback)

    def also_wake(self, schedulers: list[Scheduler]) -> None:
        """Extra claimers: started and stopped with the worker, woken when deliveries are
        planned."""
        self._schedulers = schedulers

    def _after_commit(self, session: Any) -> None:
        if session.in_nested_transaction():
            return  # a savepoint (the scheduler runs each job in one): wait for the real commit
        if session.info.pop(PLANNED_KEY, False):
            for scheduler in self._schedulers:
                scheduler.notify()
        for claimed in session.info.pop(CLAIMED_KEY, []):
            self._queue.put_nowait(claimed)

    def _after_rollback(self, session: Any) -> None:
        if session.in_nested_transaction():
            # a claim undone with its savepoint is not 'sending' in the database: recording skips it
            return
        session.info.pop(CLAIMED_KEY, None)

    def start(self) -> None:
        for scheduler in self._schedulers:
            scheduler.start()
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run(), name=f"delivery-{i}")
                for i in range(self._s.delivery_concurrency)
            ]
            self._tasks.append(asyncio.create_task(self._record_loop(), name="delivery-record"))
            self._tasks.append(asyncio.create_task(self._recover(), name="delivery-lease"))

    async def stop(self) -> None:
        for scheduler in self._schedulers:
            await scheduler.stop()
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(*tasks)
        await self._flush()  # what was handed over is recorded (else the lease retries it)
        for provider in (self.email, self.sms, self.wechat):
            try:
                await provider.close()
            except Exception as exc:  # closing is best effort
                log.warning("delivery.close_failed", provider=provider.name, error=str(exc))

    async def _run(self) -> None:
        while True:
            claimed = await self._queue.get()
            try:
                await self.deliver(claimed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the lease sweep will hand it out again
                log.error(
                    "delivery.crashed", delivery_id=claimed.id, error=f"{type(exc).__name__}: {exc}"
                )

    async def _record_loop(self) -> None:
        """Sent deliveries are recorded in batches: one transaction for all that finished
        meanwhile."""
        while True:
            first = await self._sent.get()
            self._pending.append(first)
            if self._s.record_linger_seconds:
                await asyncio.sleep(
                    self._s.record_linger_seconds
                )  # one transaction for what finishes meanwhile
            while not self._sent.empty() and len(self._pending) < 500:
                self._pending.append(self._sent.get_nowait())
            try:
                await self._flush()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away: keep them and try again
                log.warning("delivery.record_failed", count=len(self._pending), error=str(exc))
                await asyncio.sleep(0.5)

    async def _flush(self) -> None:
        while not self._sent.empty():
            self._pending.append(self._sent.get_nowait())
        if not self._pending:
            return
        batch = list(self._pending)
        async with self._sessions.begin() as session:
            await delivery.record_sent(session, batch)
        del self._pending[: len(batch)]
        self.sent_total += len(batch)

    async def _recover(self) -> None:
        interval = max(0.5, self._s.delivery_lease_seconds / 4)
        while True:
            try:
                async with self._sessions.begin() as session:
                    stale = await lease.stale_claims(
                        session, utcnow(), self._s.delivery_lease_seconds
                    )
                if stale:
                    log.warning("delivery.lease_expired", count=len(stale))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("delivery.lease_sweep_failed", error=str(exc))
            await asyncio.sleep(interval)

    async def deliver(self, claimed: Claimed) -> str:
        """Send one claimed delivery; the outcome is recorded (sent in a batch, failures at
        once)."""
        provider: EmailProvider | SmsProvider | WeChatProvider = {
            Channel.SMS.value: self.sms,
            Channel.WECHAT.value: self.wechat,
        }.get(claimed.channel, self.email)
        try:
            message_id = await provider.send(  # type: ignore[arg-type]
                self._message(claimed, self._s.link_private_key)
            )
        except SendError as exc:
            return await self._failed(claimed, exc, provider.name)
        except Exception as exc:  # a provider bug must not lose the message
            return await self._failed(
                claimed, TemporaryFailure(f"{type(exc).__name__}: {exc}"), provider.name
            )
        self._sent.put_nowait(Sent(claimed, provider.name, message_id, utcnow()))
        return "sent"

    async def _failed(self, row: Claimed, exc: SendError, provider: str) -> str:
        async with self._sessions.begin() as session:
            outcome = await delivery.record_failure(session, row, exc, provider, utcnow(), self._s)
        if outcome == "failed":
            self.failed_total += 1
            log.warning("delivery.failed", delivery_id=row.id, reason=exc.reason)
        elif outcome == "retrying":
            self.retried_total += 1
            log.info(
                "delivery.retry", delivery_id=row.id, attempt=row.attempts + 1, reason=exc.reason
            )
        return outcome

    @staticmethod
    def _message(row: Claimed, link_key: str) -> OutgoingEmail | OutgoingSms | OutgoingWeChat:
        text, html, params = row.body_text or "", row.body_html or "", row.sms_params or "{}"
        if row.secret:  # a sealed survey link: opened here, in memory, for this one send
            secret = json.loads(row.secret)
            link = unseal(link_key, secret["sealed"])
            text, html = text.replace(secret["masked"], link), html.replace(secret["masked"], link)
            params = params.replace(json.dumps(secret["masked"])[1:-1], json.dumps(link)[1:-1])
        if row.channel == Channel.WECHAT.value:
            return OutgoingWeChat(
                delivery_id=row.id,
                openid=row.address or "",
                template=row.template,
                data=json.loads(params),
            )
        if row.channel == Channel.SMS.value:
            return OutgoingSms(
                delivery_id=row.id,
                to=row.address or "",
                text=text,
                template=row.template,
                params=json.loads(params),
            )
        return OutgoingEmail(
            delivery_id=row.id,
            event_id=row.source_event_id,
            to=row.address or "",
            to_name=row.recipient_name,
            subject=row.title or "",
            text=text,
            html=html,
            language=row.language,
        )
