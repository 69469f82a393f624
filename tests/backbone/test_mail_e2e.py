"""Issue 22 item 2 end to end, over real JetStream and real SMTP: contracts signs a contract, its
entitlement reaches tickets; a customer's e-mail naming the unit's serial number, delivered to the
tickets' SMTP receiver, opens a ticket and gets tickets' confirmation in its thread; the ticket's
TicketOpened makes notifications acknowledge by e-mail through the same relay; the customer's answer
to that acknowledgement (its subject names the ticket) becomes a progress entry of the ticket."""

from __future__ import annotations

import asyncio
import socket
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session

from aftersales_testing.support import (
    auth,
    draft_body,
    migrated,
    running,
    sign_contract_via_api,
    wait_until,
)
from contracts.app import create_app as contracts_app
from contracts.settings import ContractsSettings
from notifications.app import create_app as notifications_app
from notifications.settings import NotificationsSettings
from tickets.app import create_app as tickets_app
from tickets.settings import TicketsSettings

SALES, AGENT = auth("sales"), auth("service_agent")
BOX = "service@aftersales.test"


class Relay:
    """The SMTP relay both services send to: keeps what it gets."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.server: Any = None
        self.port = 0

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = bytes(envelope.original_content or envelope.content)
        self.received.append(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    async def start(self) -> Relay:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: SMTP(self, enable_SMTPUTF8=True, hostname="relay"), "127.0.0.1", 0
        )
        self.port = self.server.sockets[0].getsockname()[1]
        return self


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_an_email_opens_a_ticket_is_acknowledged_and_the_answer_joins_it(
    databases, streams_ready, tmp_path
):
    relay = await Relay().start()
    c_app = contracts_app(
        ContractsSettings(
            database_url=await migrated(databases, "contracts"), nats_url=streams_ready
        )
    )
    t_app = tickets_app(
        TicketsSettings(
            database_url=await migrated(databases, "tickets"),
            nats_url=streams_ready,
            mail_port=free_port(),
            mail_addresses=[BOX],
            mail_relay_port=relay.port,
            mail_send_interval_seconds=0.2,
            files_dir=str(tmp_path / "files"),
        )
    )
    n_app = notifications_app(
        NotificationsSettings(
            database_url=await migrated(databases, "notifications"),
            nats_url=streams_ready,
            data_dir=tmp_path,
            default_quiet_hours=None,
            email_provider="smtp",
            smtp_host="127.0.0.1",
            smtp_port=relay.port,
        )
    )
    no = f"HT-{uuid.uuid4().hex[:8]}"
    customer = f"zhao-{uuid.uuid4().hex[:8]}@customer.example.cn"
    port = t_app.state["runtime"].settings.mail_port
    try:
        async with running(c_app) as contracts, running(t_app) as tickets, running(n_app):
            r = await contracts.post("/contracts", json=draft_body(no), headers=SALES)
            assert r.status_code == 201, r.text
            r = await sign_contract_via_api(contracts, no, SALES)
            assert r.status_code == 200, r.text

            async def entitled() -> bool:
                r = await tickets.get(f"/entitlements/{no}", headers=AGENT)
                return r.status_code == 200

            await wait_until(entitled, what="the entitlement in tickets")

            first = EmailMessage()
            first["From"], first["To"], first["Subject"] = f"赵工 <{customer}>", BOX, "设备报修"
            first["Message-ID"] = make_msgid(domain="customer.example.cn")
            first.set_content(f"出厂编号 {no}-SN1，开机后主轴异响。")
            await aiosmtplib.send(first, hostname="127.0.0.1", port=port)

            async def both() -> list[EmailMessage] | None:
                mails = [m for m in relay.received if customer in str(m["To"])]
                return mails if len(mails) >= 2 else None

            mails = await wait_until(both, what="confirmation and acknowledgement")
            [confirm] = [m for m in mails if m["In-Reply-To"] == first["Message-ID"]]
            [ack] = [m for m in mails if m is not confirm]
            ticket_no = confirm["Subject"].split("[")[1].split("]")[0]
            assert ticket_no in ack["Subject"]  # notifications' TicketOpened acknowledgement

            answer = EmailMessage()
            answer["From"], answer["To"] = customer, BOX
            answer["Subject"] = f"回复：{ack['Subject']}"
            answer["Message-ID"] = make_msgid(domain="customer.example.cn")
            answer["In-Reply-To"] = ack["Message-ID"] or "<unknown@x>"
            answer.set_content("明天上午有人在。")
            await aiosmtplib.send(answer, hostname="127.0.0.1", port=port)
            r = await tickets.get(f"/tickets/{ticket_no}/progress", headers=AGENT)
            assert r.status_code == 200, r.text
            notes = [e for e in r.json() if e["kind"] == "note"]
            assert [(n["text"], n["author"]) for n in notes] == [
                ("明天上午有人在。", f"email:{customer}")
            ]
            r = await tickets.get(f"/tickets/{ticket_no}", headers=AGENT)
            assert r.json()["channel"] == "email"
    finally:
        relay.server.close()
