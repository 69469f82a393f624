"""The WeChat official account's push endpoint (/wechat, issue 22 item 1), driven by the local
stand-in of the platform (aftersales_testing.wechat), which signs and encrypts as the platform
documents: the URL check, bad signatures refused (403, nothing written), plain and safe mode round
trips, the repair dialogue opening exactly one ticket even when the platform pushes every message
again, "我的工单" answering with the user's own tickets, 取消 and an idle dialogue."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from tickets_helpers import AGENT, entitle, outbox_events, tickets_app, uid

from aftersales_shared import wechat
from aftersales_testing.support import running, runtime_of
from aftersales_testing.wechat import WeChatPusher, new_encoding_aes_key
from tickets.models import TicketRow, WeChatDialogueRow, WeChatMessageRow

SH = ZoneInfo("Asia/Shanghai")
MONDAY_MORNING = datetime(2026, 11, 30, 10, 0, tzinfo=SH)
APP_ID = "wx5823bf96d3bd56c7"


def pusher() -> WeChatPusher:
    return WeChatPusher(app_id=APP_ID, token=f"tok{uid()}", encoding_aes_key=new_encoding_aes_key())


async def wechat_app(databases: Any, nats_url: str, p: WeChatPusher, **overrides: Any) -> Any:
    return await tickets_app(
        databases,
        nats_url,
        wechat_app_id=p.app_id,
        wechat_token=p.token,
        wechat_encoding_aes_key=p.encoding_aes_key,
        **overrides,
    )


async def count(app: Any, model: Any, *where: Any) -> int:
    async with runtime_of(app).sessions() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_the_safe_mode_crypto_round_trips_and_checks_the_app_id():
    key = wechat.aes_key(new_encoding_aes_key())
    msg = "<xml><Content><![CDATA[报修 主轴异响]]></Content></xml>"
    enc = wechat.encrypt(key, APP_ID, msg)
    assert len(base64.b64decode(enc)) % 32 == 0  # PKCS#7 to 32-byte blocks
    assert wechat.decrypt(key, APP_ID, enc) == msg
    try:
        wechat.decrypt(key, "wx-someone-else", enc)
    except wechat.WeChatProtocolError as exc:
        assert "AppID" in str(exc)
    else:
        raise AssertionError("a message for another AppID was accepted")
    # the signature: sha1 of the sorted parts joined, as the platform's documentation computes it
    assert wechat.signature("token", "1409659813", "1372623149") == (
        hashlib.sha1(b"13726231491409659813token").hexdigest()
    )


async def test_url_check_and_bad_signatures_are_refused_and_write_nothing(databases, streams_ready):
    p = pusher()
    app = await wechat_app(databases, streams_ready, p)
    openid = f"o{uid()}"
    async with running(app) as client:
        q = p.signed_query(echostr="8812771623451")
        r = await client.get("/wechat", params=q)
        assert r.status_code == 200 and r.text == "8812771623451"
        r = await client.get("/wechat", params={**q, "signature": "0" * 40})
        assert r.status_code == 403 and "签名无效" in r.text

        # plain mode with a forged signature
        query, body = p.plain(p.text(openid, "报修"))
        r = await client.post("/wechat", params={**query, "nonce": "other"}, content=body)
        assert r.status_code == 403
        # safe mode: the msg_signature must cover the Encrypt text
        query, body = p.safe(p.text(openid, "报修"))
        r = await client.post("/wechat", params={**query, "msg_signature": "1" * 40}, content=body)
        assert r.status_code == 403
        # signed right, but encrypted for another account
        other = WeChatPusher("wx-another-account", p.token, p.encoding_aes_key)
        query, body = other.safe(other.text(openid, "报修"))
        r = await client.post("/wechat", params=query, content=body)
        assert r.status_code == 400 and "无法识别" in r.text
        # signed right, but an hour old (a captured push replayed later)
        query, body = p.plain(p.text(openid, "报修"))
        old = str(int(query["timestamp"]) - 3600)
        stale = {**query, "timestamp": old, "signature": wechat.signature(p.token, old, "n1")}
        r = await client.post("/wechat", params={**stale, "nonce": "n1"}, content=body)
        assert r.status_code == 403 and "时间戳" in r.text
        # not XML, and XML with an entity declaration
        query, _ = p.plain("")
        for junk in ("hello", '<!DOCTYPE x [<!ENTITY a "b">]><xml><A>&a;</A></xml>'):
            r = await client.post("/wechat", params=query, content=junk)
            assert r.status_code == 400, r.text
        assert await count(app, WeChatMessageRow, WeChatMessageRow.openid == openid) == 0
        assert await count(app, WeChatDialogueRow, WeChatDialogueRow.openid == openid) == 0


async def test_without_a_token_the_endpoint_is_closed(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        r = await client.get("/wechat", params={"signature": "x", "echostr": "1"})
        assert r.status_code == 503 and "TICKETS_WECHAT_TOKEN" in r.text


async def test_plain_and_safe_mode_replies_come_back_the_same_way(databases, streams_ready):
    p = pusher()
    app = await wechat_app(databases, streams_ready, p)
    openid = f"o{uid()}"
    async with running(app) as client:
        plain = await p.send(client, p.text(openid, "你好"))
        assert plain["ToUserName"] == openid and plain["FromUserName"] == p.account
        assert plain["MsgType"] == "text" and "回复“报修”" in plain["Content"]
        assert plain["CreateTime"].isdigit()
        safe = await p.send(client, p.text(openid, "你好"), safe=True)  # decrypted and checked
        assert safe["ToUserName"] == openid and safe["Content"] == plain["Content"]
        subscribed = await p.send(
            client,
            wechat.build_xml(
                {
                    "ToUserName": p.account,
                    "FromUserName": openid,
                    "CreateTime": 1764460000,
                    "MsgType": "event",
                    "Event": "subscribe",
                }
            ),
            safe=True,
        )
        assert "感谢关注" in subscribed["Content"]
        # an event with nothing to say is answered "success" (the platform then sends nothing)
        unsub = wechat.build_xml(
            {
                "ToUserName": p.account,
                "FromUserName": openid,
                "CreateTime": 1764460001,
                "MsgType": "event",
                "Event": "unsubscribe",
            }
        )
        assert await p.send(client, unsub) == "success"


async def test_the_repair_dialogue_opens_one_ticket_even_when_the_platform_pushes_again(
    databases, streams_ready, clock
):
    clock.at(MONDAY_MORNING)
    p = pusher()
    app = await wechat_app(databases, streams_ready, p)
    contract, serial = f"HT-{uid()}", f"SN-{uid()}"
    await entitle(app, contract, [serial])
    openid, other = f"o{uid()}", f"o{uid()}"
    async with running(app) as client:

        async def say(xml: str, times: int = 2) -> str:
            """Push a message `times` times at once (the platform's retries) in safe mode; every
            push gets the same reply."""
            replies = await asyncio.gather(*(p.send(client, xml, safe=True) for _ in range(times)))
            contents = {r["Content"] for r in replies}  # type: ignore[index]
            assert len(contents) == 1, contents
            return contents.pop()

        started = await say(p.click(openid, "REPAIR"), times=3)
        assert "第1步" in started and "出厂编号" in started
        assert "第2步" in await say(p.text(openid, serial))
        # a fault of one character is refused and asked again
        assert "至少2个字" in await say(p.text(openid, "坏"))
        assert "第3步" in await say(p.text(openid, "主轴异响，今天早上开始"))
        assert "手机号码" in await say(p.text(openid, "李师傅"))  # no number: asked again
        done = await say(p.text(openid, "李师傅 139-1234-5678"), times=3)
        assert "报修成功" in done
        no = done.split("工单号：")[1].split("\n")[0]
        link = done.split("查看进度：")[1].split("\n")[0]
        assert link.startswith(runtime_of(app).settings.public_base_url + "/t/")

        assert await count(app, TicketRow, TicketRow.contact_wechat_openid == openid) == 1
        assert await count(app, WeChatDialogueRow, WeChatDialogueRow.openid == openid) == 0
        ticket = (await client.get(f"/tickets/{no}", headers=AGENT)).json()
        assert ticket["channel"] == "wechat" and ticket["serial_no"] == serial
        assert ticket["contract_no"] == contract  # the serial is an entitled unit's
        assert ticket["contact_name"] == "李师傅" and ticket["contact_phone"] == "13912345678"
        assert ticket["description"] == "主轴异响，今天早上开始"
        [opened] = await outbox_events(app, "TicketOpened.v1", no)
        assert opened["channel"] == "wechat"
        assert opened["contact"]["wechat_openid"] == openid  # notifications can answer on WeChat
        tracking = await client.get(link.removeprefix(runtime_of(app).settings.public_base_url))
        assert tracking.status_code == 200 and no in tracking.text

        # 我的工单: this user's ticket with its status and next promised time, nobody else's
        mine = await say(p.text(openid, "我的工单"))
        assert no in mine and "已提交，等待受理" in mine and "预计" in mine
        assert no not in await say(p.text(other, "我的工单"))
        r = await client.post(f"/tickets/{no}/acknowledge", headers=AGENT)
        assert r.status_code == 200, r.text
        assert f"{no}｜已受理" in await say(p.click(openid, "MY_TICKETS"))


async def test_cancel_an_idle_dialogue_and_the_per_user_limit(databases, streams_ready, clock):
    clock.at(MONDAY_MORNING)
    p = pusher()
    app = await wechat_app(databases, streams_ready, p, wechat_limit_per_user=1)
    openid = f"o{uid()}"
    async with running(app) as client:

        async def say(text: str) -> str:
            reply = await p.send(client, p.text(openid, text))
            return reply["Content"]  # type: ignore[index]

        assert "第1步" in await say("报修")
        assert "已取消" in await say("取消")
        assert "第1步" not in await say("XK-200")  # no dialogue: the help text
        assert "第1步" in await say("报修")
        assert "第2步" in await say("XK-200")
        clock.at(MONDAY_MORNING + timedelta(minutes=31))  # idle past 30 minutes: starts over
        assert "回复“报修”" in await say("主轴异响")
        assert await count(app, WeChatDialogueRow, WeChatDialogueRow.openid == openid) == 0

        for _ in range(2):
            await say("报修")
            await say("XK-200")
            await say("屏幕黑屏")
            last = await say(
                f"王工 1380000{uid()[:4].translate(str.maketrans('abcdef', '123456'))}"
            )
        assert "提交过于频繁" in last  # the second ticket within the window is refused
        assert await count(app, TicketRow, TicketRow.contact_wechat_openid == openid) == 1

        # answered messages are kept a day for the platform's retries, then forgotten
        assert await count(app, WeChatMessageRow, WeChatMessageRow.openid == openid) > 10
        clock.at(MONDAY_MORNING + timedelta(days=2))
        await say("你好")
        assert await count(app, WeChatMessageRow, WeChatMessageRow.openid == openid) == 1
