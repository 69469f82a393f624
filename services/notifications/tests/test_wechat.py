"""The wechat channel (issue 22 item 1): template messages through the local stand-in of the WeChat
API (aftersales_testing.wechat), which issues access tokens and checks them and every payload as
the platform documents. An SLA breach reaches a supervisor who registered an openid, with a valid
token fetched once and kept in the database; a refused token (40001) is refreshed and the send
retried once; a token near expiry is refreshed before use, by one replica only; 45009 is retried,
a refusal like 43004 fails the delivery with the platform's errmsg; a WeChat customer's ticket
event carries the openid, a contact without one gets no wechat delivery at all."""

from __future__ import annotations

import asyncio

import pytest
from notif_support import (
    all_deliveries,
    deliveries,
    make_app,
    outbox_at_least,
    recipient,
    sla_breached,
    streams,
    ticket_opened,
    uid,
)
from pydantic import SecretStr
from sqlalchemy import select

from aftersales_shared.events import Envelope
from aftersales_testing.support import auth, publish, running, runtime_of, wait_until
from aftersales_testing.wechat import LocalWeChatApi
from notifications.models import WeChatTokenRow
from notifications.providers.base import PermanentFailure, TemporaryFailure
from notifications.providers.httpclient import HttpClient
from notifications.providers.wechat import WeChatTokens

pytestmark = pytest.mark.deadlines

SUP = auth("service_supervisor", sub="sup-1")
APP_ID, SECRET = "wx5823bf96d3bd56c7", "c0ffee-secret-of-the-account"
TEMPLATES = {"sla_breached": "TPL-SLA-BREACH-01", "ticket_opened": "TPL-TICKET-OPENED-01"}
FAILED = "notifications.notification_failed.v1"


@pytest.fixture
async def api():
    stand_in = await LocalWeChatApi(APP_ID, SECRET, template_ids=set(TEMPLATES.values())).start()
    yield stand_in
    await stand_in.stop()


async def wechat_app(databases, nats_url, servers, api, **overrides):
    smtp, gw = servers
    return await make_app(
        databases,
        nats_url,
        smtp,
        gw,
        **{
            "wechat_app_id": APP_ID,
            "wechat_app_secret": SECRET,
            "wechat_api_base": api.url,
            "wechat_template_ids": TEMPLATES,
            "wechat_data_keys": {"sla_breached": {"ticket_no": "keyword1", "level": "keyword2"}},
            "wechat_timeout_seconds": 3,
            **overrides,
        },
    )


async def supervisor(client, openid: str) -> dict:
    sup = recipient(
        f"sup-{uid()}",
        groups=["service_supervisor"],
        channels=["email", "wechat"],
        wechat_openid=openid,
        quiet_hours=None,
    )
    r = await client.post("/recipients", json=sup, headers=SUP)
    assert r.status_code == 201, r.text
    assert r.json()["wechat_openid"] == openid
    return sup


async def test_an_sla_breach_goes_out_as_a_template_message_with_a_valid_token(
    databases, own_nats, servers, api
):
    await streams(own_nats.url)
    app = await wechat_app(databases, own_nats.url, servers, api)
    openid = f"oSup{uid()}"
    async with running(app) as client:
        # the wechat channel needs the openid
        bad = recipient(f"x-{uid()}", channels=["wechat"])
        r = await client.post("/recipients", json=bad, headers=SUP)
        assert r.status_code == 422 and "wechat_openid" in r.text
        sup = await supervisor(client, openid)
        first, second = sla_breached(uid()), sla_breached(uid())
        await publish(own_nats.url, first)
        [row] = await wait_until(
            lambda: all_deliveries(client, event_id=first.id, channel="wechat", status="sent", n=1),
            what="the wechat delivery sent",
        )
        assert row["recipient_key"] == sup["id"] and row["address"] == openid
        [sent] = api.sent
        assert sent.body["touser"] == openid
        assert sent.body["template_id"] == TEMPLATES["sla_breached"]
        data = {k: v["value"] for k, v in sent.body["data"].items()}
        assert data["keyword1"] == first.data.ticket_no  # renamed as the registered template wants
        assert data["keyword2"] == "1" and "SLA超时" in data["first"]
        assert "已超时" in data["remark"] and not data["remark"].startswith("【")
        # the e-mail still goes out beside it
        await wait_until(
            lambda: all_deliveries(client, event_id=first.id, channel="email", status="sent", n=1),
            what="the e-mail sent",
        )
        await publish(own_nats.url, second)
        await wait_until(
            lambda: all_deliveries(
                client, event_id=second.id, channel="wechat", status="sent", n=1
            ),
            what="the second wechat delivery sent",
        )
        assert len(api.token_calls) == 1  # one token for both, kept
        async with runtime_of(app).sessions() as s:
            token = await s.scalar(
                select(WeChatTokenRow.access_token).where(WeChatTokenRow.app_id == APP_ID)
            )
        assert token in api.tokens
        assert all(c.query["access_token"] == token for c in api.sent)


async def test_a_refused_token_is_refreshed_and_the_send_retried_once(
    databases, own_nats, servers, api
):
    await streams(own_nats.url)
    app = await wechat_app(databases, own_nats.url, servers, api)
    async with running(app) as client:
        openid = f"oSup{uid()}"
        await supervisor(client, openid)
        env = sla_breached(uid())
        await publish(own_nats.url, env)
        await wait_until(
            lambda: all_deliveries(client, event_id=env.id, channel="wechat", status="sent", n=1),
            what="first sent",
        )
        api.invalidate_tokens()  # another client fetched a token: ours answers 40001
        env = sla_breached(uid())
        await publish(own_nats.url, env)
        [row] = await wait_until(
            lambda: all_deliveries(client, event_id=env.id, channel="wechat", status="sent", n=1),
            what="sent after a refresh",
        )
        assert row["attempts"] == 1  # the retry was inside the one attempt
        sends = [c for c in api.calls if c.path.endswith("/template/send")]
        assert [c.answer["errcode"] for c in sends] == [0, 40001, 0]
        assert len(api.token_calls) == 2


async def test_a_token_near_expiry_is_refreshed_by_one_replica(databases, own_nats, servers, api):
    await streams(own_nats.url)
    app = await wechat_app(databases, own_nats.url, servers, api)
    settings = runtime_of(app).settings
    sessions = runtime_of(app).sessions
    client = HttpClient(3)
    try:
        replicas = [WeChatTokens(sessions, settings, client) for _ in range(4)]
        tokens = await asyncio.gather(*(r.current() for r in replicas))
        assert len(set(tokens)) == 1 and len(api.token_calls) == 1  # one fetch under the lock
        # a token with less than the margin (300 s) left is refreshed before it is used
        api.ttl = 200
        stale = WeChatTokens(sessions, settings, client)
        async with sessions.begin() as s:
            row = await s.get(WeChatTokenRow, APP_ID)
            row.expires_at = row.expires_at.replace(year=2000)
        fresh = await stale.current()
        assert fresh != tokens[0] and len(api.token_calls) == 2
        # 200 s left is under the margin too: the next use fetches again
        assert await WeChatTokens(sessions, settings, client).current() != fresh
        assert len(api.token_calls) == 3
    finally:
        await client.close()


async def test_a_refusal_fails_the_delivery_with_the_errmsg_and_45009_is_retried(
    databases, own_nats, servers, api
):
    await streams(own_nats.url)
    app = await wechat_app(databases, own_nats.url, servers, api)
    async with running(app) as client:
        openid = f"oSup{uid()}"
        await supervisor(client, openid)
        api.decide = lambda call: {"errcode": 43004, "errmsg": "require subscribe"}
        refused = sla_breached(uid())
        await publish(own_nats.url, refused)
        [row] = await wait_until(
            lambda: all_deliveries(
                client, event_id=refused.id, channel="wechat", status="failed", n=1
            ),
            what="the wechat delivery failed",
        )
        assert "43004" in row["last_error"] and "require subscribe" in row["last_error"]
        assert row["attempts"] == 1
        await wait_until(lambda: outbox_at_least(app, FAILED, 1), what="NotificationFailed")

        busy = iter([{"errcode": 45009, "errmsg": "reach max api daily quota limit"}])
        api.decide = lambda call: next(busy, None)
        later = sla_breached(uid())
        await publish(own_nats.url, later)
        [row] = await wait_until(
            lambda: all_deliveries(client, event_id=later.id, channel="wechat", status="sent", n=1),
            what="sent on the second attempt",
        )
        assert row["attempts"] == 2


async def test_a_wechat_customers_ticket_is_acknowledged_on_wechat_others_are_not(
    databases, own_nats, servers, api
):
    await streams(own_nats.url)
    app = await wechat_app(databases, own_nats.url, servers, api)
    async with running(app) as client:
        openid = f"oCust{uid()}"
        plain = ticket_opened(uid(), tel="13912345678")
        contact = plain.data.contact.model_copy(update={"wechat_openid": openid})
        over_wechat = Envelope(
            data=plain.data.model_copy(update={"contact": contact}), subject=plain.subject
        )
        by_phone = ticket_opened(uid(), tel="13912345679")
        await publish(own_nats.url, over_wechat)
        await publish(own_nats.url, by_phone)
        await wait_until(
            lambda: all_deliveries(
                client, event_id=over_wechat.id, channel="wechat", status="sent", n=1
            ),
            what="the acknowledgement on wechat",
        )
        [sent] = [c for c in api.sent if c.body["touser"] == openid]
        assert sent.body["template_id"] == TEMPLATES["ticket_opened"]
        assert sent.body["data"]["ticket_no"]["value"] == over_wechat.data.ticket_no
        await wait_until(
            lambda: all_deliveries(client, event_id=by_phone.id, channel="sms", status="sent", n=1),
            what="the other customer's SMS",
        )
        assert await deliveries(client, SUP, event_id=by_phone.id, channel="wechat") == []


async def test_a_wrong_app_secret_fails_for_good_an_unreachable_api_is_retried(
    databases, own_nats, servers, api
):
    await streams(own_nats.url)
    app = await wechat_app(databases, own_nats.url, servers, api, wechat_app_secret="wrong")
    rt = runtime_of(app)
    client = HttpClient(3)
    try:
        with pytest.raises(PermanentFailure, match="40125"):
            await WeChatTokens(rt.sessions, rt.settings, client).current()
        await api.stop()
        settings = rt.settings.model_copy(update={"wechat_app_secret": SecretStr(SECRET)})
        fresh = HttpClient(3)  # no kept-alive connection to the stopped stand-in
        try:
            with pytest.raises(TemporaryFailure, match="unreachable"):
                await WeChatTokens(rt.sessions, settings, fresh).current()
        finally:
            await fresh.close()
    finally:
        await client.close()
