"""E-mail threads into tickets (issue 22 item 2): what one message of the service mailbox does.

In one transaction, in this order: the Message-ID is recorded (seen before: nothing more);
auto-replies, lists, bounces and the service's own mail are dropped (why is kept); a sender past
`TICKETS_MAIL_LIMIT_PER_SENDER` in the window is dropped (a loop with a broken auto-responder
stops); a reply naming a message of a ticket (In-Reply-To / References, every inbound and outbound
Message-ID of a ticket is kept) — or, from the ticket's own contact address, its number in the
subject — becomes a customer-visible progress entry; otherwise a contract or serial number in the
subject or text opens a ticket through the web form's intake (channel email) and the sender gets
the confirmation with the ticket number and the tracking link; without one the sender is asked for
it (at most `TICKETS_MAIL_ASKS_PER_SENDER` times a window). Replies are queued in `mail_outgoing`
in the same transaction and sent by `mailer`. Attachments go to the file storage first; a failed
transaction deletes them again.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import upsert_insert
from aftersales_shared.errors import DomainError
from aftersales_shared.storage import FileStorage, safe_name

from ..domain import Channel, RequestType
from ..mailparse import Attachment, Inbound, drop_reason, strip_quoted
from ..models import (
    AttachmentRow,
    EntitledUnitRow,
    EntitlementRow,
    MailMessageRow,
    MailOutgoingRow,
    TicketRow,
)
from ..settings import TicketsSettings
from . import webform
from .progress import log_entry

log = structlog.get_logger(__name__)

ACTOR = "customer:email"
RECEIVED = "已收到您的邮件报修，客服将尽快与您联系 (request received by e-mail)"
SENDER_NAME = "售后服务中心"
NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]{3,63}")
MAX_CANDIDATES = 200


@dataclass(frozen=True)
class Handled:
    outcome: str  # opened | progress | asked | dropped | duplicate
    ticket_no: str | None = None
    reason: str | None = None


@dataclass
class Stash:
    """The files written for this message: deleted again when its transaction fails."""

    keys: list[str]


def ticket_number(subject: str, prefix: str) -> str | None:
    # no \b: in 工单SV-20261130-0001 the Chinese character before is a word character too
    found = re.search(rf"(?<![A-Za-z0-9])({re.escape(prefix)}-\d{{8}}-\d{{4,6}})(?![0-9])", subject)
    return found.group(1) if found else None


async def receive(
    session: AsyncSession,
    msg: Inbound,
    envelope_from: str,
    settings: TicketsSettings,
    storage: FileStorage,
    stash: Stash,
    now: datetime,
) -> Handled:
    """What the message does, in the caller's transaction (see the module's docstring)."""
    table = MailMessageRow.__table__
    fresh = await session.scalar(
        upsert_insert(session, table)
        .values(
            message_id=msg.message_id[:255],
            direction="in",
            sender=msg.sender[:254],
            subject=msg.subject[:255],
            outcome="received",
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(table.c.message_id)
    )
    if fresh is None:
        log.info("tickets.mail_duplicate", message_id=msg.message_id)
        return Handled("duplicate")
    handled = await _handle(session, msg, envelope_from, settings, storage, stash, now)
    ticket_id = None
    if handled.ticket_no is not None:
        ticket_id = await session.scalar(
            select(TicketRow.id).where(TicketRow.ticket_no == handled.ticket_no)
        )
    await session.execute(
        update(table)
        .where(table.c.message_id == msg.message_id[:255])
        .values(outcome=handled.outcome, reason=handled.reason, ticket_id=ticket_id)
    )
    log.info(
        "tickets.mail_handled",
        outcome=handled.outcome,
        reason=handled.reason,
        ticket_no=handled.ticket_no,
    )
    return handled


async def _handle(
    session: AsyncSession,
    msg: Inbound,
    envelope_from: str,
    settings: TicketsSettings,
    storage: FileStorage,
    stash: Stash,
    now: datetime,
) -> Handled:
    reason = drop_reason(msg, envelope_from, frozenset(settings.mail_addresses))
    if reason is not None:
        return Handled("dropped", reason=reason)
    if not await _within(
        session, f"mail:{msg.sender}", settings.mail_limit_per_sender, settings, now
    ):
        return Handled("dropped", reason="rate_limited")
    ticket = await _thread_ticket(session, msg, settings)
    if ticket is not None:
        text = strip_quoted(msg.text) or msg.subject or "(空邮件 empty message)"
        entry = log_entry(ticket, f"email:{msg.sender}"[:100], "note", text[:4000], now, "customer")
        session.add(entry)
        await session.flush()
        await _keep_files(session, ticket, entry.id, msg.attachments, storage, stash, now)
        return Handled("progress", ticket.ticket_no)
    numbers = await _known_numbers(session, f"{msg.subject}\n{msg.text}")
    if numbers:
        return await _open(session, msg, numbers, settings, storage, stash, now)
    if not await _within(
        session, f"mail-ask:{msg.sender}", settings.mail_asks_per_sender, settings, now
    ):
        return Handled("dropped", reason="asked_enough")
    queue_reply(session, msg, settings, now, ASK_SUBJECT, ASK_TEXT, None)
    return Handled("asked")


async def _within(
    session: AsyncSession, key: str, limit: int, settings: TicketsSettings, now: datetime
) -> bool:
    """Counts one more for `key` in the window; False past the limit (the refused one is not
    counted)."""
    try:
        async with session.begin_nested():
            await webform.count(session, key, limit, settings.mail_rate_window_seconds, now, "邮箱")
    except webform.TooManyRequests:
        return False
    return True


async def _thread_ticket(
    session: AsyncSession, msg: Inbound, settings: TicketsSettings
) -> TicketRow | None:
    """The ticket of the thread: a message it names, else the ticket number in the subject when
    the sender is that ticket's contact (a number alone is easy to guess)."""
    ids = [i[:255] for i in msg.thread_ids]
    if ids:
        ticket_id = await session.scalar(
            select(MailMessageRow.ticket_id)
            .where(MailMessageRow.message_id.in_(ids), MailMessageRow.ticket_id.is_not(None))
            .limit(1)
        )
        if ticket_id is not None:
            return await session.get(TicketRow, ticket_id, with_for_update=True)
    no = ticket_number(msg.subject, settings.ticket_prefix)
    if no is None:
        return None
    ticket = await session.scalar(select(TicketRow).where(TicketRow.ticket_no == no))
    if ticket is not None and (ticket.contact_email or "").lower() == msg.sender:
        return ticket
    return None


async def _known_numbers(session: AsyncSession, text: str) -> dict[str, str]:
    """A serial number of an entitled unit, else a contract number, named in the text."""
    candidates = list(dict.fromkeys(m.strip("./-_") for m in NUMBER.findall(text)))
    candidates = [c for c in candidates if len(c) >= 4][:MAX_CANDIDATES]
    if not candidates:
        return {}
    serial = await session.scalar(
        select(EntitledUnitRow.serial_no).where(EntitledUnitRow.serial_no.in_(candidates)).limit(1)
    )
    if serial:
        return {"serial_no": serial}
    contract = await session.scalar(
        select(EntitlementRow.contract_no)
        .where(EntitlementRow.contract_no.in_(candidates))
        .limit(1)
    )
    return {"contract_no": contract} if contract else {}


async def _open(
    session: AsyncSession,
    msg: Inbound,
    numbers: dict[str, str],
    settings: TicketsSettings,
    storage: FileStorage,
    stash: Stash,
    now: datetime,
) -> Handled:
    description = (f"{msg.subject}\n\n{strip_quoted(msg.text)}".strip() or "(空邮件)")[:2000]
    req = webform.WebRequest(
        request_type=RequestType.QUALITY_ISSUE,
        description=description,
        contact_name=(msg.sender_name or msg.sender.split("@", 1)[0])[:100],
        phone=None,
        email=msg.sender,
        serial_no=numbers.get("serial_no"),
        contract_no=numbers.get("contract_no"),
    )
    try:
        async with session.begin_nested():
            done = await webform.open_for_customer(
                session, req, Channel.EMAIL, ACTOR, RECEIVED, settings, now
            )
    except DomainError as exc:
        log.info("tickets.mail_refused", error=str(exc))
        return Handled("dropped", reason=f"refused:{exc.code}"[:100])
    ticket = await session.scalar(select(TicketRow).where(TicketRow.ticket_no == done.ticket_no))
    assert ticket is not None
    await _keep_files(session, ticket, None, msg.attachments, storage, stash, now)
    link = f"{settings.public_base_url}/t/{done.token}"
    text = CONFIRM_TEXT.format(ticket_no=done.ticket_no, link=link)
    subject = f"[{done.ticket_no}] 已受理 (received): {msg.subject}"[:200]
    queue_reply(session, msg, settings, now, subject, text, ticket.id)
    return Handled("opened", done.ticket_no)


async def _keep_files(
    session: AsyncSession,
    ticket: TicketRow,
    progress_id: int | None,
    files: list[Attachment],
    storage: FileStorage,
    stash: Stash,
    now: datetime,
) -> None:
    for f in files:
        if len(f.data) > storage.max_bytes:
            session.add(
                log_entry(
                    ticket,
                    ACTOR,
                    "note",
                    f"附件“{f.filename[:100]}”超过{storage.max_bytes // 1024} KB，未保存 "
                    "(attachment too large, not kept)",
                    now,
                )
            )
            continue
        key = f"tickets/{ticket.ticket_no}/{uuid.uuid4().hex}/{safe_name(f.filename)}"
        await storage.put(key, f.data, f.content_type)
        stash.keys.append(key)
        session.add(
            AttachmentRow(
                ticket_id=ticket.id,
                progress_id=progress_id,
                storage_key=key,
                filename=f.filename[:255],
                content_type=f.content_type[:100],
                size=len(f.data),
                source="email",
                created_at=now,
            )
        )
    await session.flush()


ASK_SUBJECT = "请提供合同编号或出厂编号 (please give your contract or serial number)"
ASK_TEXT = (
    "您好！\n\n我们收到了您的邮件，但没能找到对应的合同或设备。"
    "请直接回复本邮件，写明合同编号或设备铭牌上的出厂编号（序列号），我们将立即为您登记报修。\n\n"
    "We received your e-mail but could not find your contract or unit. Please reply with the "
    "contract number or the serial number on the unit's nameplate.\n\n"
    f"{SENDER_NAME}（本邮件由系统自动发送）"
)
CONFIRM_TEXT = (
    "您好！\n\n您的报修已登记，工单号：{ticket_no}\n客服将尽快与您联系。\n查看进度：{link}\n\n"
    "如需补充情况或照片，请直接回复本邮件（请保留主题中的工单号）。\n\n"
    "Your request is registered as {ticket_no}; follow it at {link}. Reply to this e-mail to add "
    "anything.\n\n"
    f"{SENDER_NAME}（本邮件由系统自动发送）"
)


def queue_reply(
    session: AsyncSession,
    msg: Inbound,
    settings: TicketsSettings,
    now: datetime,
    subject: str,
    text: str,
    ticket_id: str | None,
) -> MailOutgoingRow:
    """The reply to `msg` in its thread (In-Reply-To, References), marked as automatic (RFC 3834
    Auto-Submitted: auto-replied), queued for the relay and its Message-ID kept with the ticket."""
    own = settings.mail_addresses[0]
    reply = EmailMessage()
    reply["From"] = formataddr((SENDER_NAME, own))
    reply["To"] = msg.sender
    reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    reply["Date"] = format_datetime(now)
    message_id = make_msgid(domain=own.split("@", 1)[1])
    reply["Message-ID"] = message_id
    reply["In-Reply-To"] = msg.message_id
    reply["References"] = " ".join([*msg.references[-20:], msg.message_id])
    reply["Auto-Submitted"] = "auto-replied"
    reply["X-Auto-Response-Suppress"] = "All"
    reply.set_content(text)
    row = MailOutgoingRow(
        message_id=message_id,
        mail_from=own,
        rcpt_to=msg.sender,
        raw=reply.as_bytes(),
        created_at=now,
        next_try_at=now,
        attempts=0,
    )
    session.add(row)
    session.add(
        MailMessageRow(
            message_id=message_id,
            direction="out",
            ticket_id=ticket_id,
            sender=own,
            subject=str(reply["Subject"])[:255],
            outcome="queued",
            created_at=now,
        )
    )
    return row


def retry_after(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** min(attempts, 7)))
