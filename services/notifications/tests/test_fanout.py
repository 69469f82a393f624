"""Events in, messages out over real JetStream, a real database, aiosmtpd and a local SMS
gateway."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from importlib import resources

import pytest
from notif_support import (
    all_deliveries,
    deliveries,
    make_app,
    outbox_at_least,
    outbox_count,
    phone,
    recipient,
    sla_breached,
    sla_escalated,
    streams,
    ticket_assigned,
    ticket_opened,
    uid,
)
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from aftersales_shared.db import utcnow
from aftersales_shared.events import Envelope
from aftersales_testing import natsaccess
from aftersales_testing.support import auth, publish, running, runtime_of, wait_until
from notifications.app import create_app
from notifications.domain import RulesError
from notifications.settings import NotificationsSettings
from notifications.usecases import planning

pytestmark = pytest.mark.deadlines

SUP = auth("service_supervisor", sub="sup-1")
SENT = "notifications.notification_sent.v1"
FAILED = "notifications.notification_failed.v1"


async def test_ticket_opened_sends_chinese_email_and_sms_and_records_them(
    databases, own_nats, servers
):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref, tel = uid(), phone()
    env = ticket_opened(ref, email=f"wang-{ref}@example.com", tel=tel)
    async with running(app) as client:
        await publish(own_nats.url, env)
        rows = await wait_until(
            lambda: all_deliveries(client, event_id=env.id, status="sent", n=2),
            what="email and SMS sent",
        )
        assert {r["channel"] for r in rows} == {"sms", "email"}
        mail = smtp.to(f"wang-{ref}@example.com")
        assert len(mail) == 1
        msg = mail[0].message
        assert (
            str(make_header(decode_header(msg["Subject"]))) == f"售后服务请求已受理：工单SV-{ref}"
        )
        assert "主轴异响" in msg.get_body(("plain",)).get_content()
        assert msg["X-Aftersales-Event-Id"] == env.id
        sms = [r for r in gw.accepted if r.body["to"] == f"+86{tel}"]
        assert len(sms) == 1 and sms[0].body["text"].startswith(
            "【售后服务】您的售后服务请求已受理"
        )
        # filters of the delivery log
        email_rows = await deliveries(client, SUP, event_id=env.id, channel="email")
        assert [r["address"] for r in email_rows] == [f"wang-{ref}@example.com"]
        assert email_rows[0]["template"] == "ticket_opened" and email_rows[0]["attempts"] == 1
        assert await deliveries(client, SUP, event_id=env.id, status="failed") == []
        hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        assert len(await deliveries(client, SUP, event_id=env.id, since=hour_ago)) == 2
        assert await deliveries(client, SUP, event_id=env.id, until=hour_ago) == []
        assert (
            len(
                await deliveries(
                    client, SUP, event_type="TicketOpened", recipient=email_rows[0]["recipient_key"]
                )
            )
            == 2
        )
        r = await client.get("/deliveries", params={"status": "lost"}, headers=SUP)
        assert r.status_code == 400
        assert (await client.get("/deliveries", headers=auth("engineer"))).status_code == 403
        await wait_until(
            lambda: outbox_at_least(app, SENT, 2), what="two NotificationSent in the outbox"
        )


async def test_redelivered_sla_breach_sends_no_second_sms_and_escalation_reaches_management(
    databases, own_nats, servers
):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    async with running(app) as client:
        sup = recipient(f"sup-{ref}", groups=["service_supervisor"], channels=["sms"])
        mgr = recipient(f"mgr-{ref}", groups=["manager"], channels=["sms"])
        for body in (sup, mgr):
            assert (await client.post("/recipients", json=body, headers=SUP)).status_code == 201
        first = sla_breached(ref, level=1)
        await publish(own_nats.url, first)
        await publish(
            own_nats.url, first, msg_id=f"{first.id}-again"
        )  # past JetStream's duplicate window
        second = sla_escalated(ref)  # breach + N hours: tickets escalates to management
        await publish(own_nats.url, second)
        await wait_until(
            lambda: all_deliveries(client, event_id=second.id, status="sent", n=1),
            what="escalation sent",
        )
        rt = runtime_of(app)
        sub = next(
            s for s in rt.inbox.subscriptions.values() if s.subject == "tickets.sla_breached.v1"
        )
        assert (
            await rt.inbox.handle(sub, first) is False
        )  # a third delivery of the same event: duplicate
        to_sup = [r for r in gw.accepted if r.body["to"] == f"+86{sup['phone']}"]
        to_mgr = [r for r in gw.accepted if r.body["to"] == f"+86{mgr['phone']}"]
        assert (
            len(to_sup) == 1 and len(to_mgr) == 1
        )  # one per event; management hears the escalation
        assert "2级升级" in to_mgr[0].body["text"]
        # below the inbox, the database refuses a second delivery for the same (event, recipient,
        # channel)
        with pytest.raises(IntegrityError):
            async with rt.sessions.begin() as session:
                await planning.plan_notifications(session, first, app.state["notifier"], utcnow())
        first_rows = await deliveries(client, SUP, event_id=first.id)
        # the assignee is missing: recorded as skipped with a reason, the supervisor still hears
        assert {(r["recipient_key"], r["status"]) for r in first_rows} == {
            (sup["id"], "sent"),
            ("missing:assignee", "skipped"),
        }


async def test_nobody_to_reach_is_a_skipped_delivery_listed_as_unreachable_and_the_event_acked(
    databases, own_nats, servers
):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    env = ticket_assigned(uid(), assignee="eng-unknown")
    ref = uid()
    bad_phone = ticket_opened(ref, tel="12345", email=f"ok-{ref}@example.com")
    async with running(app) as client:
        await publish(own_nats.url, env)
        await publish(own_nats.url, bad_phone)
        rows = await wait_until(
            lambda: all_deliveries(client, event_id=env.id, n=3), what="three deliveries"
        )
        skipped = [r for r in rows if r["status"] == "skipped"]
        assert {r["channel"] for r in skipped} == {"sms", "email"}
        assert all("eng-unknown未登记联系方式" in r["last_error"] for r in skipped)
        assert all(r["failed_at"] is None and r["attempts"] == 0 for r in skipped)
        await wait_until(
            lambda: all_deliveries(client, event_id=env.id, status="sent", n=1),
            what="customer SMS sent",
        )
        rows = await wait_until(
            lambda: all_deliveries(client, event_id=bad_phone.id, status="skipped", n=1),
            what="bad phone",
        )
        assert rows[0]["channel"] == "sms" and "手机号码无效" in rows[0]["last_error"]
        await wait_until(
            lambda: all_deliveries(client, event_id=bad_phone.id, status="sent", n=1),
            what="its email still sent",
        )
        # a second event naming the same unknown engineer: one more skipped delivery, one line in
        # the list
        await publish(own_nats.url, ticket_assigned(uid(), assignee="eng-unknown"))
        await wait_until(
            lambda: all_deliveries(client, status="skipped", recipient="user:eng-unknown", n=4),
            what="the second event's skipped deliveries",
        )
        r = await client.get("/unreachable-recipients", headers=SUP)
        assert r.status_code == 200, r.text
        listed = {(u["recipient_key"], u["channel"]): u for u in r.json()["items"]}
        assert listed[("user:eng-unknown", "sms")]["deliveries"] == 2
        assert r.json()["total"] == len(listed)  # one row per person and channel
        late = listed[("user:eng-unknown", "sms")]
        assert late["first_at"] < late["last_at"]  # the two events' skips, first and last
        assert "未登记联系方式" in listed[("user:eng-unknown", "email")]["reason"]
        assert any(
            "手机号码无效" in u["reason"] for u in listed.values()
        )  # the customer's bad phone
        assert await outbox_count(app, FAILED) == 0  # nothing failed to send: no NotificationFailed
        dead = await client.get("/admin/dead-letters", headers=auth("admin"))
        assert (
            dead.status_code == 200 and dead.json()["total"] == 0
        )  # acked, not retried into a dead letter
        forbidden = await client.get("/unreachable-recipients", headers=auth("engineer"))
        assert forbidden.status_code == 403


async def test_rules_and_templates_come_from_files_and_broken_template_data_fails_readably(
    databases, own_nats, servers, tmp_path
):
    smtp, gw = servers
    await streams(own_nats.url)
    packaged = (
        resources.files("notifications.defaults").joinpath("templates.yaml").read_text("utf-8")
    )
    (tmp_path / "templates.yaml").write_text(
        packaged.replace(
            "您的售后服务请求已受理，工单号{{ ticket_no }}",
            "工单{{ ticket_no }}，微信{{ contact.wechat }}",
        ),
        "utf-8",
    )
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {id: only-sms, event: TicketOpened, template: ticket_opened, recipients: "
        "[contact], channels: [sms, email]}\n",
        "utf-8",
    )
    app = await make_app(
        databases,
        own_nats.url,
        smtp,
        gw,
        rules_path=tmp_path / "rules.yaml",
        templates_path=tmp_path / "templates.yaml",
    )
    ref = uid()
    env = ticket_opened(ref, tel=phone(), email=f"t-{ref}@example.com")
    async with running(app) as client:
        assert [r["id"] for r in (await client.get("/rules", headers=SUP)).json()["rules"]] == [
            "only-sms"
        ]
        await publish(own_nats.url, env)
        rows = await wait_until(
            lambda: all_deliveries(client, event_id=env.id, n=2), what="deliveries"
        )
        sms = next(r for r in rows if r["channel"] == "sms")
        assert (
            sms["status"] == "failed"
            and "模板数据错误" in sms["last_error"]
            and "wechat" in sms["last_error"]
        )
        await wait_until(
            lambda: all_deliveries(client, event_id=env.id, status="sent", n=1),
            what="email still sent",
        )
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {id: xx, event: TicketOpened, template: nope, recipients: [contact], "
        "channels: [sms]}\n"
    )
    with pytest.raises(RulesError, match="nope"):
        create_app(NotificationsSettings(rules_path=tmp_path / "rules.yaml"))


async def test_a_sealed_survey_link_reaches_the_customer_and_nobody_else(
    databases, own_nats, servers
):
    """SurveyRequested v2 carries the link sealed to notifications: the SMS and the email hold it in
    clear, the delivery log, the database rows and the stream only the masked form."""
    from aftersales_shared.events import SurveyRequestedV2
    from aftersales_shared.sealing import dev_public_key, mask_link, seal

    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref, tel, token = uid(), phone(), "Tk" + uuid.uuid4().hex + "ZZ"
    link = f"https://survey.example.cn/s/{token}"
    env = Envelope(
        data=SurveyRequestedV2(
            survey_id=f"sv-{ref}",
            ticket_id=f"t-{ref}",
            ticket_no=f"SV-{ref}",
            customer_name="苏州精工机床有限公司",
            contact={"name": "王建国", "phone": tel, "email": f"wang-{ref}@example.com"},
            link_masked=mask_link(link),
            link_sealed=seal(dev_public_key(), link),
            expires_at=datetime.now(UTC) + timedelta(days=14),
        ),
        source="/tests",
        subject=f"SV-{ref}",
    )
    async with running(app) as client:
        await publish(own_nats.url, env)
        rows = await wait_until(
            lambda: all_deliveries(client, event_id=env.id, status="sent", n=2),
            what="SMS and email sent",
        )
        [sms] = [r for r in gw.accepted if r.body["to"] == f"+86{tel}"]
        assert link in sms.body["text"]
        [mail] = smtp.to(f"wang-{ref}@example.com")
        assert link in mail.message.get_body(("plain",)).get_content()
        for row in rows:  # what staff see
            assert token not in json.dumps(row) and mask_link(link) in row["body_text"]
        async with runtime_of(app).sessions() as s:
            stored = (
                await s.execute(
                    text("SELECT body_text, body_html, sms_params, secret FROM deliveries")
                )
            ).all()
        assert stored and all(token not in " ".join(filter(None, r)) for r in stored)
    nc = await natsaccess.connect(own_nats.url)
    try:
        msg = await nc.jetstream().get_last_msg("SURVEYS", "surveys.survey_requested.v2")
        assert token not in msg.data.decode()
    finally:
        await nc.close()
