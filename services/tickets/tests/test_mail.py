"""E-mail threads into tickets (issue 22 item 2), as real SMTP conversations: an aiosmtplib client
talks to the tickets' receiver on 127.0.0.1, the replies go to a local SMTP sink (aiosmtpd). A new
mail opens one ticket and gets the confirmation in its thread; a reply in the thread becomes a
progress entry; the same message twice creates nothing; auto-replies and a loop with a broken
auto-responder create nothing and stop; an unknown sender is asked for the contract or serial
number; a GBK subject is read; an attachment is kept and only those who may see the ticket
download it; an oversized message and a stranger's recipient are refused in the dialogue."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from email import message_from_bytes, policy
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select
from tickets_helpers import AGENT, ENG, entitle, tickets_app, uid

from aftersales_shared.storage import S3Storage
from aftersales_testing.s3 import local_s3
from aftersales_testing.support import auth, running, runtime_of, wait_until
from tickets import mailparse
from tickets.models import AttachmentRow, MailMessageRow, MailOutgoingRow, ProgressRow, TicketRow

SH = ZoneInfo("Asia/Shanghai")
MONDAY_MORNING = datetime(2026, 11, 30, 10, 0, tzinfo=SH)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class Sink:
    """The relay the tickets send to: keeps every message; `answer(raw)` may act on each one (an
    auto-responder)."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.answer: Any = None
        self._server: asyncio.base_events.Server | None = None
        self.port = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = bytes(envelope.original_content or envelope.content)
        msg = message_from_bytes(raw, policy=policy.default)
        self.received.append(msg)  # type: ignore[arg-type]
        if self.answer is not None:
            task = asyncio.create_task(self.answer(msg))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return "250 OK"

    async def start(self) -> Sink:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, enable_SMTPUTF8=True, hostname="sink"), "127.0.0.1", 0
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if address in str(m["To"])]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def mail_app(databases: Any, nats_url: str, sink: Sink, tmp: Path, **kw: Any) -> Any:
    app = await tickets_app(
        databases,
        nats_url,
        mail_port=free_port(),
        mail_addresses=[f"service-{uid()}@aftersales.test"],
        mail_relay_port=sink.port,
        files_dir=str(tmp / "files"),
        mail_send_interval_seconds=0.2,
        **kw,
    )
    app.state["mailbox"].clock = lambda: MONDAY_MORNING
    return app


def service_address(app: Any) -> str:
    return runtime_of(app).settings.mail_addresses[0]


def mail(
    sender: str,
    to: str,
    subject: str,
    text: str,
    *,
    reply_to: EmailMessage | None = None,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"赵工 <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="customer.test")
    if reply_to is not None:
        msg["In-Reply-To"] = reply_to["Message-ID"]
        msg["References"] = f"{reply_to.get('References', '')} {reply_to['Message-ID']}".strip()
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if attachment is not None:
        msg.add_attachment(attachment[1], maintype="image", subtype="png", filename=attachment[0])
    return msg


async def send(app: Any, msg: Any, sender: str | None = None) -> None:
    port = runtime_of(app).settings.mail_port
    kw = {"sender": sender} if sender is not None else {}
    await aiosmtplib.send(msg, hostname="127.0.0.1", port=port, timeout=30, **kw)


async def rows(app: Any, model: Any, *where: Any) -> list[Any]:
    async with runtime_of(app).sessions() as s:
        return list((await s.scalars(select(model).where(*where))).all())


async def count(app: Any, model: Any, *where: Any) -> int:
    async with runtime_of(app).sessions() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where)) or 0


# ------------------------------------------------------------------ without a server


def test_gbk_subjects_gb2312_bodies_and_html_only_mail_are_read():
    plain = MIMEText("主轴异响，编号 SN-1 需要维修", "plain", "gb2312")
    plain["Subject"] = Header("设备故障：主轴异响", "gbk")
    plain["From"] = Header("赵工", "gbk").encode() + " <zhao@customer.test>"
    plain["Message-ID"] = "<a1@customer.test>"
    read = mailparse.parse(plain.as_bytes())
    assert read.subject == "设备故障：主轴异响"
    assert read.sender == "zhao@customer.test" and read.sender_name == "赵工"
    assert "主轴异响" in read.text and read.message_id == "<a1@customer.test>"

    html = MIMEMultipart("alternative")
    html["Subject"] = "=?GB2312?B?" + base64.b64encode("报修".encode("gb2312")).decode() + "?="
    html["From"] = "x@customer.test"
    html.attach(
        MIMEText("<html><style>p{}</style><p>屏幕&nbsp;黑屏</p><br>编号 A-1</html>", "html", "gbk")
    )
    read = mailparse.parse(html.as_bytes())
    assert read.subject == "报修" and "屏幕 黑屏" in read.text and "p{}" not in read.text
    assert read.message_id.endswith("@no-message-id>")  # none given: the content's hash


@pytest.mark.parametrize(
    ("headers", "envelope", "sender", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "a@c.test", "a@c.test", "auto_submitted"),
        ({"Auto-Submitted": "auto-generated; x"}, "a@c.test", "a@c.test", "auto_submitted"),
        ({"Precedence": "bulk"}, "a@c.test", "a@c.test", "precedence_bulk"),
        ({"Precedence": "junk"}, "a@c.test", "a@c.test", "precedence_bulk"),
        ({"X-Autoreply": "yes"}, "a@c.test", "a@c.test", "auto_reply_header"),
        ({"X-Autorespond": "1"}, "a@c.test", "a@c.test", "auto_reply_header"),
        ({"List-Id": "<l.c.test>"}, "a@c.test", "a@c.test", "mailing_list"),
        ({}, "", "a@c.test", "null_return_path"),
        ({}, "<>", "a@c.test", "null_return_path"),
        ({}, "m@c.test", "MAILER-DAEMON@c.test", "robot_sender"),
        ({}, "p@c.test", "postmaster@c.test", "robot_sender"),
        ({}, "svc@s.test", "svc@s.test", "own_address"),
        ({"Auto-Submitted": "no"}, "a@c.test", "a@c.test", None),
        ({}, "a@c.test", "a@c.test", None),
    ],
)
def test_what_is_dropped(headers, envelope, sender, reason):
    msg = mail(sender, "svc@s.test", "hello", "text", headers=headers)
    del msg["From"]
    msg["From"] = sender
    read = mailparse.parse(msg.as_bytes())
    assert mailparse.drop_reason(read, envelope, frozenset({"svc@s.test"})) == reason


def test_a_ticket_number_is_found_in_a_chinese_subject():
    from tickets.usecases.mail import ticket_number

    assert (
        ticket_number("回复：售后服务请求已受理：工单SV-20261130-0001", "SV") == "SV-20261130-0001"
    )
    assert ticket_number("Re: [SV-20261130-0012] 主轴异响", "SV") == "SV-20261130-0012"
    assert ticket_number("XSV-20261130-0001", "SV") is None
    assert ticket_number("SV-2026113-0001", "SV") is None


def test_the_new_part_of_a_reply_is_kept_without_the_quote():
    text = "补充：换了保险丝还是不行\n\n在 2026年11月30日 10:00，售后服务中心 写道：\n> 您好"
    assert mailparse.strip_quoted(text) == "补充：换了保险丝还是不行"
    assert mailparse.strip_quoted("ok\n> quoted\nmore") == "ok\nmore"


# ------------------------------------------------------------------ real SMTP conversations


async def test_a_mail_opens_one_ticket_and_replies_in_its_thread_become_progress(
    databases, streams_ready, tmp_path
):
    sink = await Sink().start()
    app = await mail_app(databases, streams_ready, sink, tmp_path)
    contract, serial = f"HT-{uid()}", f"SN-{uid()}"
    customer = f"zhao-{uid()}@customer.test"
    try:
        async with running(app) as client:
            await entitle(app, contract, [serial])
            box = service_address(app)
            first = MIMEMultipart()
            first["From"] = f"{Header('赵工', 'gbk').encode()} <{customer}>"
            first["To"] = box
            first["Subject"] = Header("设备故障：主轴异响", "gbk")
            first["Message-ID"] = make_msgid(domain="customer.test")
            first.attach(MIMEText(f"出厂编号 {serial}，主轴异响，请派人。", "plain", "gbk"))
            await send(app, first)

            (ticket,) = await rows(app, TicketRow, TicketRow.contact_email == customer)
            assert ticket.channel == "email" and ticket.serial_no == serial
            assert ticket.description.startswith("设备故障：主轴异响")  # the GBK subject, read
            assert ticket.customer_id == f"C-{contract}" and ticket.contact_name == "赵工"

            confirm = (await wait_until(lambda: _to(sink, customer), what="confirmation"))[0]
            assert ticket.ticket_no in confirm["Subject"] and "/t/" in confirm.get_content()
            assert confirm["In-Reply-To"] == first["Message-ID"]
            assert first["Message-ID"] in confirm["References"]
            assert confirm["Auto-Submitted"] == "auto-replied"

            # the customer answers the confirmation, with a photo, quoting it
            answer = mail(
                customer,
                box,
                f"Re: {confirm['Subject']}",
                "补充：换了保险丝还是不行\n\n在 2026年11月30日 售后服务中心 写道：\n> 您好",
                reply_to=confirm,
                attachment=("现场照片.png", PNG),
            )
            await send(app, answer)
            await send(app, answer)  # the same message again (a resend): nothing new
            notes = await rows(
                app, ProgressRow, ProgressRow.ticket_id == ticket.id, ProgressRow.kind == "note"
            )
            assert [(n.text, n.visibility, n.author) for n in notes] == [
                ("补充：换了保险丝还是不行", "customer", f"email:{customer}")
            ]
            assert await count(app, TicketRow, TicketRow.contact_email == customer) == 1

            # the attachment: listed and downloadable by whoever sees the ticket, nobody else
            no = ticket.ticket_no
            r = await client.get(f"/tickets/{no}/attachments", headers=AGENT)
            assert r.status_code == 200, r.text
            (att,) = r.json()
            assert att["filename"] == "现场照片.png" and att["size"] == len(PNG)
            assert att["progress_id"] == notes[0].id
            r = await client.get(f"/tickets/{no}/progress", headers=AGENT)
            listed = {e["id"]: e["attachments"] for e in r.json()}
            assert [a["id"] for a in listed[notes[0].id]] == [att["id"]]
            assert sum(len(a) for a in listed.values()) == 1  # on its entry only
            url = f"/tickets/{no}/attachments/{att['id']}"
            r = await client.get(url, headers=AGENT)
            assert r.status_code == 200 and r.content == PNG, r.text
            assert r.headers["content-type"].startswith("image/png")
            mine = auth("customer", sub="zhao", customer_id=f"C-{contract}")
            assert (await client.get(url, headers=mine)).content == PNG
            stranger = auth("customer", sub="li", customer_id="C-someone-else")
            for who in (stranger, ENG):
                assert (await client.get(url, headers=who)).status_code == 404
                assert (
                    await client.get(f"/tickets/{no}/attachments", headers=who)
                ).status_code == 404
            assert (
                await client.get(f"/tickets/{no}/attachments/999999", headers=AGENT)
            ).status_code == 404

            # a reply naming only the ticket number, from the ticket's own contact: joins it too
            await send(app, mail(customer, box, f"Re: [{no}] 还有", "什么时候到？"))
            assert (
                await count(
                    app, ProgressRow, ProgressRow.ticket_id == ticket.id, ProgressRow.kind == "note"
                )
                == 2
            )
            # the same number from someone else does not (a number is easy to guess)
            other = f"other-{uid()}@customer.test"
            await send(app, mail(other, box, f"Re: [{no}] hi", "我也要"))
            assert (
                await count(
                    app, ProgressRow, ProgressRow.ticket_id == ticket.id, ProgressRow.kind == "note"
                )
                == 2
            )
    finally:
        await sink.stop()


async def _to(sink: Sink, address: str) -> list[EmailMessage]:
    return sink.to(address)


async def test_an_unknown_sender_is_asked_and_its_answer_with_the_number_opens_the_ticket(
    databases, streams_ready, tmp_path
):
    sink = await Sink().start()
    app = await mail_app(databases, streams_ready, sink, tmp_path)
    contract = f"HT-{uid()}"
    customer = f"qian-{uid()}@customer.test"
    try:
        async with running(app):
            await entitle(app, contract, [f"SN-{uid()}"])
            box = service_address(app)
            first = mail(customer, box, "机器坏了", "屏幕黑屏，无法开机")
            await send(app, first)
            assert await count(app, TicketRow, TicketRow.contact_email == customer) == 0
            ask = (await wait_until(lambda: _to(sink, customer), what="asking reply"))[0]
            assert "合同编号" in ask["Subject"] and "出厂编号" in ask.get_content()
            assert ask["In-Reply-To"] == first["Message-ID"]
            assert ask["Auto-Submitted"] == "auto-replied"
            (seen,) = await rows(
                app, MailMessageRow, MailMessageRow.message_id == first["Message-ID"]
            )
            assert seen.outcome == "asked" and seen.ticket_id is None

            await send(
                app,
                mail(customer, box, f"Re: {ask['Subject']}", f"合同号：{contract}", reply_to=ask),
            )
            (ticket,) = await rows(app, TicketRow, TicketRow.contact_email == customer)
            assert ticket.contract_no == contract and ticket.channel == "email"
            await wait_until(lambda: _n(sink, customer, 2), what="confirmation")
    finally:
        await sink.stop()


async def _n(sink: Sink, address: str, n: int) -> bool:
    return len(sink.to(address)) >= n


async def test_auto_replies_and_a_loop_with_a_broken_auto_responder_create_nothing_and_stop(
    databases, streams_ready, tmp_path
):
    sink = await Sink().start()
    app = await mail_app(
        databases, streams_ready, sink, tmp_path, mail_limit_per_sender=3, mail_asks_per_sender=10
    )
    polite, broken = f"ooo-{uid()}@customer.test", f"robot-{uid()}@customer.test"
    try:
        async with running(app):
            box = service_address(app)
            # a well-behaved out-of-office reply, a bounce, a list message: dropped, unanswered
            await send(
                app,
                mail(
                    polite, box, "Out of office", "away", headers={"Auto-Submitted": "auto-replied"}
                ),
            )
            await send(app, mail(polite, box, "Digest", "news", headers={"Precedence": "list"}))
            await send(app, mail(polite, box, "Undelivered", "bounce"), sender="")
            dropped = await rows(app, MailMessageRow, MailMessageRow.sender == polite)
            assert sorted(m.reason for m in dropped) == [
                "auto_submitted",
                "null_return_path",
                "precedence_bulk",
            ]

            # a broken auto-responder answers every mail it gets, without any header saying so
            async def echo(msg: EmailMessage) -> None:
                if broken in str(msg["To"]):
                    await send(
                        app, mail(broken, box, f"Re: {msg['Subject']}", "I am away", reply_to=msg)
                    )

            sink.answer = echo
            await send(app, mail(broken, box, "hello", "no number here"))

            async def settled() -> bool:
                inbound = await rows(app, MailMessageRow, MailMessageRow.sender == broken)
                pending = await count(
                    app,
                    MailOutgoingRow,
                    MailOutgoingRow.rcpt_to == broken,
                    MailOutgoingRow.next_try_at.is_not(None),
                )
                return len(inbound) == 4 and pending == 0

            await wait_until(settled, what="the loop stopped by the per-sender limit")
            inbound = await rows(app, MailMessageRow, MailMessageRow.sender == broken)
            assert sorted(m.outcome for m in inbound) == ["asked"] * 3 + ["dropped"]
            assert [m.reason for m in inbound if m.outcome == "dropped"] == ["rate_limited"]
            assert await app.state["mailbox"].send_due() == 0  # nothing left to send: it stopped
            assert len(sink.to(broken)) == 3 and sink.to(polite) == []
            assert await count(app, TicketRow, TicketRow.contact_email.in_([polite, broken])) == 0
    finally:
        await sink.stop()


async def test_an_oversized_message_and_a_strangers_recipient_are_refused_in_the_dialogue(
    databases, streams_ready, tmp_path
):
    sink = await Sink().start()
    app = await mail_app(databases, streams_ready, sink, tmp_path, mail_max_message_bytes=4096)
    customer = f"sun-{uid()}@customer.test"
    try:
        async with running(app):
            box = service_address(app)
            big = mail(customer, box, "照片", "见附件", attachment=("big.png", PNG * 10))
            with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
                await send(app, big)
            assert refused.value.code == 552
            with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as nobody:
                await send(app, mail(customer, f"sales@{box.split('@')[1]}", "hi", "x"))
            assert "550" in str(nobody.value)
            assert await count(app, MailMessageRow, MailMessageRow.sender == customer) == 0
    finally:
        await sink.stop()


async def test_with_an_s3_store_configured_attachments_are_kept_there(
    databases, streams_ready, tmp_path
):
    sink = await Sink().start()
    contract, serial = f"HT-{uid()}", f"SN-{uid()}"
    customer = f"li-{uid()}@customer.test"
    try:
        with local_s3() as s3:
            app = await mail_app(
                databases,
                streams_ready,
                sink,
                tmp_path,
                files_s3_endpoint=s3.endpoint,
                files_s3_bucket=s3.bucket,
                files_s3_access_key=s3.access_key,
                files_s3_secret_key=s3.secret_key,
            )
            async with running(app) as client:
                await entitle(app, contract, [serial])
                box = service_address(app)
                await send(
                    app,
                    mail(customer, box, f"报修 {serial}", "见照片", attachment=("p.png", PNG)),
                )
                (ticket,) = await rows(app, TicketRow, TicketRow.contact_email == customer)
                (att,) = await rows(app, AttachmentRow, AttachmentRow.ticket_id == ticket.id)
                direct = S3Storage(s3.endpoint, s3.bucket, s3.access_key, s3.secret_key, 10**6)
                try:
                    assert (await direct.get(att.storage_key)).data == PNG  # in the bucket
                finally:
                    await direct.close()
                assert not (tmp_path / "files").exists()  # and not in the folder
                url = f"/tickets/{ticket.ticket_no}/attachments/{att.id}"
                r = await client.get(url, headers=AGENT)
                assert r.status_code == 200 and r.content == PNG
    finally:
        await sink.stop()


async def test_only_the_allowed_mail_gateways_may_deliver(databases, streams_ready, tmp_path):
    sink = await Sink().start()
    customer = f"zhou-{uid()}@customer.test"
    try:
        app = await mail_app(
            databases, streams_ready, sink, tmp_path, mail_allowed_clients=["192.0.2.0/24"]
        )
        async with running(app):
            with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
                await send(app, mail(customer, service_address(app), "hi", "x"))
            assert "5.7.1" in str(refused.value)
        app = await mail_app(
            databases, streams_ready, sink, tmp_path, mail_allowed_clients=["127.0.0.0/8"]
        )
        async with running(app):
            await send(app, mail(customer, service_address(app), "hi", "x"))
            assert await count(app, MailMessageRow, MailMessageRow.sender == customer) == 1
    finally:
        await sink.stop()


async def test_a_failure_midway_answers_451_writes_nothing_and_the_resend_succeeds(
    databases, streams_ready, tmp_path, monkeypatch
):
    from tickets.usecases import mail as mail_usecase

    sink = await Sink().start()
    app = await mail_app(databases, streams_ready, sink, tmp_path)
    contract, serial = f"HT-{uid()}", f"SN-{uid()}"
    customer = f"wu-{uid()}@customer.test"
    real = mail_usecase.queue_reply

    def broken(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("the database went away")

    try:
        async with running(app):
            await entitle(app, contract, [serial])
            msg = mail(
                customer, service_address(app), f"报修 {serial}", "x", attachment=("p.png", PNG)
            )
            monkeypatch.setattr(mail_usecase, "queue_reply", broken)
            with pytest.raises(aiosmtplib.SMTPResponseException) as failed:
                await send(app, msg)
            assert failed.value.code == 451  # the sending server keeps it and tries again
            assert await count(app, TicketRow, TicketRow.contact_email == customer) == 0
            assert await count(app, MailMessageRow, MailMessageRow.sender == customer) == 0
            assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []
            monkeypatch.setattr(mail_usecase, "queue_reply", real)
            await send(app, msg)  # the retry
            (ticket,) = await rows(app, TicketRow, TicketRow.contact_email == customer)
            assert await count(app, AttachmentRow, AttachmentRow.ticket_id == ticket.id) == 1
    finally:
        await sink.stop()
