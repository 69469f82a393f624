"""Issue 22 item 1 end to end, over real JetStream: a WeChat user's repair dialogue (pushed in safe
mode by the platform's stand-in) opens a ticket in tickets; its TicketOpened carries the openid, and
notifications acknowledges on WeChat with a template message the API stand-in accepts (valid token,
registered template, the user's openid); 我的工单 then answers with that ticket."""

from __future__ import annotations

import uuid

from aftersales_shared.streams import apply_streams
from aftersales_testing import natsaccess
from aftersales_testing.support import migrated, running, wait_until
from aftersales_testing.wechat import LocalWeChatApi, WeChatPusher, new_encoding_aes_key
from notifications.app import create_app as notifications_app
from notifications.settings import NotificationsSettings
from tickets.app import create_app as tickets_app
from tickets.settings import TicketsSettings

APP_ID, SECRET = "wx5823bf96d3bd56c7", "the-account-secret"


async def test_a_wechat_repair_request_is_acknowledged_on_wechat(databases, own_nats, tmp_path):
    nc = await natsaccess.connect(own_nats.url)
    try:
        await apply_streams(nc.jetstream(), replicas=1)
    finally:
        await nc.close()
    platform = WeChatPusher(APP_ID, f"tok{uuid.uuid4().hex[:8]}", new_encoding_aes_key())
    api = await LocalWeChatApi(APP_ID, SECRET, template_ids={"TPL-OPENED"}).start()
    t_app = tickets_app(
        TicketsSettings(
            database_url=await migrated(databases, "tickets"),
            nats_url=own_nats.url,
            wechat_app_id=APP_ID,
            wechat_token=platform.token,
            wechat_encoding_aes_key=platform.encoding_aes_key,
        )
    )
    n_app = notifications_app(
        NotificationsSettings(
            database_url=await migrated(databases, "notifications"),
            nats_url=own_nats.url,
            data_dir=tmp_path,  # the local e-mail files and SMS log
            default_quiet_hours=None,
            wechat_app_id=APP_ID,
            wechat_app_secret=SECRET,
            wechat_api_base=api.url,
            wechat_template_ids={"ticket_opened": "TPL-OPENED"},
        )
    )
    openid = f"oE2E{uuid.uuid4().hex[:10]}"
    try:
        async with running(t_app) as tickets, running(n_app):

            async def say(xml: str) -> str:
                return (await platform.send(tickets, xml, safe=True))["Content"]  # type: ignore[index]

            assert "第1步" in await say(platform.click(openid, "REPAIR"))
            assert "第2步" in await say(platform.text(openid, "XK-200"))
            assert "第3步" in await say(platform.text(openid, "开机后主轴异响"))
            done = await say(platform.text(openid, "周师傅 13812345678"))
            no = done.split("工单号：")[1].split("\n")[0]

            async def acknowledged():
                return [c for c in api.sent if c.body["touser"] == openid] or None

            [sent] = await wait_until(acknowledged, what="the acknowledgement on WeChat")
            assert sent.body["template_id"] == "TPL-OPENED"
            assert sent.body["data"]["ticket_no"]["value"] == no
            assert sent.query["access_token"] in api.tokens
            assert no in await say(platform.text(openid, "我的工单"))
    finally:
        await api.stop()
