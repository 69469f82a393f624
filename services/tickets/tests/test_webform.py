"""The public web form (/r/new) and the customer's tracking page (/t/<token>), issue 22 item 3:
a request with a solved proof of work opens a web_form ticket through the normal intake and gives a
tracking link; replayed, forged, expired, too easy and unsolved challenges are refused, so are
wrong fields (the form comes back with the messages and what was typed) and too many requests per
phone and per address; the tracking page shows the status, the next promised time and what is
meant for the customer, never an internal note; unknown tokens are guessing and limited."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from tickets_helpers import AGENT, SUP, entitle, outbox_events, tickets_app, uid

from aftersales_shared.publiclinks import new_token
from aftersales_testing.support import running, runtime_of
from tickets import powcheck
from tickets.models import TicketRow, TrackingLinkRow
from tickets.settings import DEV_WEBFORM_SECRET, TicketsSettings

SH = ZoneInfo("Asia/Shanghai")
MONDAY_MORNING = datetime(2026, 11, 30, 10, 0, tzinfo=SH)
BITS = 8  # 256 tries on average: the tests stay fast
KEY = DEV_WEBFORM_SECRET.encode()
CHALLENGE_RE = re.compile(r'name="challenge" value="([^"]+)"')
LINK_RE = re.compile(r'id="tracking-link" href="([^"]+)"')


async def webform_app(databases: Any, nats_url: str, **overrides: Any) -> Any:
    return await tickets_app(databases, nats_url, webform_pow_bits=BITS, **overrides)


def fields(**kw: str) -> dict[str, str]:
    return {
        "request_type": "quality_issue",
        "serial_no": "",
        "description": "主轴异响，今天早上开始，设备还能运行",
        "contact_name": "李师傅",
        "phone": "139 1234 5678",
        **kw,
    }


async def challenge_of(client: Any) -> str:
    r = await client.get("/r/new")
    assert r.status_code == 200, r.text
    match = CHALLENGE_RE.search(r.text)
    assert match, "the form carries no challenge"
    return match.group(1)


async def send(client: Any, form: dict[str, str], challenge: str | None = None, **kw: Any) -> Any:
    """POST the form with a challenge solved the way the page's script does."""
    challenge = challenge or await challenge_of(client)
    data = {**form, "challenge": challenge, "nonce": powcheck.solve(challenge)}
    return await client.post("/r/new", data=data, **kw)


def link_in(page: str) -> str:
    match = LINK_RE.search(page)
    assert match, "the thank-you page shows no tracking link"
    return match.group(1)


async def web_tickets(app: Any) -> int:
    async with runtime_of(app).sessions() as s:
        return await s.scalar(
            select(func.count()).select_from(TicketRow).where(TicketRow.channel == "web_form")
        )


def test_the_proof_of_work_checks_signature_age_difficulty_and_answer():
    now = datetime(2026, 11, 30, 2, 0, tzinfo=ZoneInfo("UTC"))
    c = powcheck.issue(KEY, BITS, now)
    nonce = powcheck.solve(c)
    ok = powcheck.verify(KEY, c, nonce, min_bits=BITS, ttl_seconds=600, now=now)
    assert ok.bits == BITS and ok.issued_at == now
    assert powcheck.leading_zero_bits(bytes([0, 0, 0x1F, 0xFF])) == 19
    assert powcheck.leading_zero_bits(bytes([0x80])) == 0

    def refused(challenge: str, answer: str, **kw: Any) -> str:
        opts = {"min_bits": BITS, "ttl_seconds": 600, "now": now, **kw}
        try:
            powcheck.verify(KEY, challenge, answer, **opts)
        except powcheck.ChallengeRefused as exc:
            return exc.reason
        raise AssertionError("accepted")

    parts = c.split(".")
    easier = ".".join([*parts[:2], "1", *parts[3:]])  # a lower difficulty, same signature
    assert refused(easier, powcheck.solve(easier)) == "signature"
    assert refused(powcheck.issue(b"another key" * 4, BITS, now), nonce) == "signature"
    assert refused(c, nonce, now=now + timedelta(seconds=601)) == "expired"
    assert refused(c, nonce, min_bits=BITS + 1) == "too_easy"
    wrong = next(str(n) for n in range(1000) if refused_or_none(c, str(n)))
    assert refused(c, wrong) == "unsolved"
    assert refused(c, "") == "missing"
    assert refused(c, "12a") == "malformed"
    assert refused("v1.x", "1") == "malformed"


def refused_or_none(challenge: str, nonce: str) -> bool:
    try:
        powcheck.verify(
            KEY,
            challenge,
            nonce,
            min_bits=0,
            ttl_seconds=10**9,
            now=datetime.fromtimestamp(int(challenge.split(".")[1]), ZoneInfo("UTC")),
        )
    except powcheck.ChallengeRefused:
        return True
    return False


async def test_a_web_request_opens_a_ticket_its_tracking_link_shows_the_status(
    databases, streams_ready, clock
):
    clock.at(MONDAY_MORNING)
    app = await webform_app(databases, streams_ready)
    contract, serial = f"HT-{uid()}", f"SN-{uid()}"
    await entitle(app, contract, [serial])
    async with running(app) as client:
        # the form: served by the service itself, its one script too, no login
        r = await client.get("/r/new")
        assert r.status_code == 200 and "在线报修" in r.text
        assert '<script src="/r/pow.js" defer></script>' in r.text
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert not re.search(r"(src|href)=\"(https?:)?//", r.text), "nothing from elsewhere"
        js = await client.get("/r/pow.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
        assert "compress" in js.text

        r = await send(client, fields(serial_no=serial, email="li@example.com"))
        assert r.status_code == 201, r.text
        assert "报修已提交" in r.text
        link = link_in(r.text)
        assert link.startswith(runtime_of(app).settings.public_base_url + "/t/")
        path = link.removeprefix(runtime_of(app).settings.public_base_url)
        no = re.search(r'id="ticket-no">([^<]+)<', r.text).group(1)

        ticket = (await client.get(f"/tickets/{no}", headers=AGENT)).json()
        assert ticket["channel"] == "web_form" and ticket["request_type"] == "quality_issue"
        assert ticket["contract_no"] == contract and ticket["serial_no"] == serial
        assert ticket["contact_phone"] == "13912345678"  # typed with spaces
        assert ticket["contact_email"] == "li@example.com"
        assert ticket["customer_name"] == "无锡某某设备有限公司"  # the entitlement's
        async with runtime_of(app).sessions() as s:
            row = await s.scalar(select(TicketRow).where(TicketRow.ticket_no == no))
            assert row.opened_by == "customer:web"
            token_hash = await s.scalar(
                select(TrackingLinkRow.token_hash).where(TrackingLinkRow.ticket_id == row.id)
            )
        assert token_hash and token_hash not in link  # only the hash is kept
        [opened] = await outbox_events(app, "TicketOpened.v1", no)
        assert opened["channel"] == "web_form"

        # the tracking page: received, acknowledgement due 10 working minutes after sending
        page = await client.get(path)
        assert page.status_code == 200
        assert "已提交，等待受理" in page.text and no in page.text
        assert "预计 2026-11-30 10:10 前受理您的请求" in page.text
        assert "已收到您的网上报修" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "无锡某某设备有限公司" not in page.text  # nothing learnt from the contract

        # staff work on it: the customer sees what is meant for them, never the internal note
        assert (await client.post(f"/tickets/{no}/acknowledge", headers=AGENT)).status_code == 200
        for text, visibility in (
            ("内部：客户去年投诉过，注意态度", "internal"),
            ("已安排工程师明天上午上门", "customer"),
        ):
            r = await client.post(
                f"/tickets/{no}/progress",
                headers=AGENT,
                json={"kind": "note", "text": text, "visibility": visibility},
            )
            assert r.status_code in (200, 201), r.text
        page = await client.get(path)
        assert "已受理" in page.text and "已安排工程师明天上午上门" in page.text
        assert "客户去年投诉过" not in page.text
        assert "工程师与您联系" in page.text  # the response clock is the next promise now
        r = await client.post(
            f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"}
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/tickets/{no}/pause",
            headers=AGENT,
            json={"reason": "waiting_parts", "note": "内部：供应商缺货"},
        )
        assert r.status_code == 200, r.text
        page = await client.get(path)
        assert "等待配件" in page.text and "计时暂停" in page.text
        assert "供应商缺货" not in page.text

        # another customer's request is not reachable from this link (its own token only)
        r = await send(
            client, fields(product_model="XK-200", phone="13800000001", contact_name="王女士")
        )
        other = link_in(r.text).removeprefix(runtime_of(app).settings.public_base_url)
        assert other != path
        assert "王女士" not in (await client.get(path)).text

        # a model only: the default policy, the contact's name as the customer's
        r = await send(client, fields(product_model="XK-200", request_type="usage_question"))
        assert r.status_code == 201, r.text
        no = re.search(r'id="ticket-no">([^<]+)<', r.text).group(1)
        t = (await client.get(f"/tickets/{no}", headers=AGENT)).json()
        assert t["customer_name"] == "李师傅" and t["contract_no"] is None
        assert t["request_type"] == "usage_question" and t["product_model"] == "XK-200"
        # a real serial with somebody else's contract number: neither is taken, no error that
        # would tell which contract the serial is on
        r = await send(client, fields(serial_no=serial, contract_no="HT-NOT-MINE"))
        assert r.status_code == 201, r.text
        assert contract not in r.text
        no = re.search(r'id="ticket-no">([^<]+)<', r.text).group(1)
        t = (await client.get(f"/tickets/{no}", headers=AGENT)).json()
        assert t["contract_no"] == "HT-NOT-MINE" and t["policy"]["source"] == "default"
        assert t["customer_name"] == "李师傅"


async def test_forged_replayed_expired_too_easy_unsolved_checks_and_wrong_fields_are_refused(
    databases, streams_ready, clock
):
    clock.at(MONDAY_MORNING)
    app = await webform_app(databases, streams_ready)
    async with running(app) as client:
        challenge = await challenge_of(client)
        nonce = powcheck.solve(challenge)
        form = fields(product_model="XK-200")
        assert (await send(client, form, challenge)).status_code == 201
        assert await web_tickets(app) == 1

        async def refused(data: dict[str, str], message: str) -> None:
            r = await client.post("/r/new", data={**form, **data})
            assert r.status_code == 422, r.text
            assert message in r.text
            assert "李师傅" in r.text  # what was typed comes back
            fresh = CHALLENGE_RE.search(r.text).group(1)
            assert fresh != data.get("challenge")  # with a new challenge to solve

        # the same answer again (the browser's back button and send, or a bot replaying it)
        await refused({"challenge": challenge, "nonce": nonce}, "这次验证已使用过")
        # signed by someone else
        forged = powcheck.issue(b"not the service's key, long enough!!", BITS, clock.now())
        await refused({"challenge": forged, "nonce": powcheck.solve(forged)}, "安全验证未通过")
        # the difficulty edited down: the signature no longer fits
        p = challenge.split(".")
        easier = ".".join([*p[:2], "1", *p[3:]])
        await refused({"challenge": easier, "nonce": powcheck.solve(easier)}, "安全验证未通过")
        # signed with the service's key but easier than today's setting
        easy = powcheck.issue(KEY, BITS - 4, clock.now())
        await refused({"challenge": easy, "nonce": powcheck.solve(easy)}, "安全验证未通过")
        # older than the challenge's lifetime
        old = powcheck.issue(KEY, BITS, clock.now() - timedelta(hours=1, seconds=5))
        await refused({"challenge": old, "nonce": powcheck.solve(old)}, "安全验证已过期")
        # not solved
        fresh = await challenge_of(client)
        wrong = next(str(n) for n in range(1000) if refused_or_none(fresh, str(n)))
        await refused({"challenge": fresh, "nonce": wrong}, "安全验证未通过")
        # no script ran
        await refused({"challenge": fresh, "nonce": ""}, "启用 JavaScript")
        assert await web_tickets(app) == 1

        # wrong fields: the form comes back with every message and what was typed
        r = await send(client, {"description": "  ", "contact_name": "", "phone": ""})
        assert r.status_code == 422
        for message in (
            "请至少填写产品型号、出厂编号或合同编号中的一项",
            "请描述故障现象或您的问题",
            "请填写联系人姓名",
            "请填写手机号码",
            "请选择您要办理的事项",
        ):
            assert message in r.text, message
        assert 'id="error-summary"' in r.text
        r = await send(
            client,
            fields(product_model="XK-200", phone="0571-88888888", email="not-an-address"),
        )
        assert r.status_code == 422
        assert "请填写11位中国大陆手机号码" in r.text and "邮箱地址格式不正确" in r.text
        assert 'value="0571-88888888"' in r.text and "主轴异响" in r.text  # kept
        r = await send(client, fields(product_model="XK-200", request_type="installation"))
        assert r.status_code == 422 and "请选择您要办理的事项" in r.text
        r = await send(client, fields(product_model="X" * 101))
        assert r.status_code == 422 and "最多100个字" in r.text
        r = await client.post("/r/new", data={"description": "x" * 70_000})
        assert r.status_code == 413 and "提交内容过大" in r.text
        r = await send(client, fields(product_model="XK-200", phone="+86 139-1234-5678"))
        assert r.status_code == 201  # +86 and dashes are fine
        assert await web_tickets(app) == 2


async def test_too_many_requests_per_phone_and_per_address_are_refused_with_429(
    databases, streams_ready, clock
):
    clock.at(MONDAY_MORNING)
    app = await webform_app(
        databases,
        streams_ready,
        webform_limit_per_phone=2,
        webform_limit_per_ip=3,
        webform_challenge_ttl_seconds=7200,
    )
    async with running(app) as client:
        form = fields(product_model="XK-200", phone="13700000001")
        for _ in range(2):
            assert (await send(client, form)).status_code == 201
        r = await send(client, form)
        assert r.status_code == 429 and "提交过于频繁" in r.text
        assert 0 < int(r.headers["retry-after"]) <= 3600
        assert await web_tickets(app) == 2
        # another phone from the same address: the address has one request left
        assert (
            await send(client, fields(product_model="A", phone="13700000002"))
        ).status_code == 201
        r = await send(client, fields(product_model="A", phone="13700000003"))
        assert r.status_code == 429 and "提交过于频繁" in r.text
        assert await web_tickets(app) == 3
        # a refused request used nothing up: its challenge still works once the window has passed
        challenge = await challenge_of(client)
        clock.at(MONDAY_MORNING + timedelta(hours=1))
        r = await send(client, fields(product_model="A", phone="13700000003"), challenge)
        assert r.status_code == 201, r.text


async def test_tracking_links_unknown_guessed_or_expired_and_the_form_closed_without_a_secret(
    databases, streams_ready, clock
):
    clock.at(MONDAY_MORNING)
    app = await webform_app(databases, streams_ready, guess_limit=3)
    async with running(app) as client:
        r = await send(client, fields(product_model="XK-200"))
        real = link_in(r.text).removeprefix(runtime_of(app).settings.public_base_url)
        forged, _ = new_token()
        for path in (f"/t/{forged}", "/t/not-a-token", f"/t/{forged}"):
            r = await client.get(path)
            assert r.status_code == 404 and "查询链接无效" in r.text, path
        r = await client.get(real)  # the right link, but this client used up its guesses
        assert r.status_code == 429 and "Retry-After" in r.headers
        app.state["guess_limiter"]._failures.clear()  # a new window (the limit is per process)
        assert (await client.get(real)).status_code == 200
        # completed long ago: the link has done its work
        async with runtime_of(app).sessions.begin() as s:
            await s.execute(
                update(TicketRow)
                .where(TicketRow.channel == "web_form")
                .values(status="completed", completed_at=clock.now() - timedelta(days=31))
            )
        r = await client.get(real)
        assert r.status_code == 410 and "查询链接已过期" in r.text

        # without a secret the form is closed (the tracking pages still work)
        runtime_of(app).settings.webform_secret = None
        r = await client.get("/r/new")
        assert r.status_code == 503 and "在线报修暂未开放" in r.text
        assert (await client.post("/r/new", data=fields())).status_code == 503


def test_a_short_webform_secret_refuses_to_start_an_unset_one_closes_the_form():
    settings = TicketsSettings(local_dev=True, webform_secret="short")
    settings.local_dev = False
    assert any("TICKETS_WEBFORM_SECRET is shorter" in p for p in settings.security_problems())
    settings.webform_secret = None  # unset: the service starts, the form stays closed
    assert not any("WEBFORM" in p for p in settings.security_problems())
