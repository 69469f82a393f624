"""The customer's signed 维修服务单 (issue 22 item 4) over HTTP against the real database: the
engineer freezes the sheet (canonical JSON, its SHA-256, a one-time link); the customer's page
refuses a signature that is no PNG, blank, too large or posted without the link's form token, with
a zh-CN reason; the first valid signature is kept with the content hash, every later change is
refused; completing the ticket takes the signature as its sign-off; unknown, superseded and expired
links get their pages."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import re
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tickets_helpers import AGENT, ENG, OTHER_ENG, SUP, body, outbox_events, tickets_app

from aftersales_testing.support import auth, running, runtime_of

SHEET = re.compile(r"/sheet/([A-Za-z0-9_-]{43})$")


def png(draw: bool = True, size: tuple[int, int] = (600, 240)) -> bytes:
    image = Image.new("RGB", size, "white")
    if draw:
        pen = ImageDraw.Draw(image)
        pen.line([(40, 180), (120, 60), (200, 170), (300, 70), (420, 160)], fill="black", width=5)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def noise_png(side: int) -> bytes:
    rnd = random.Random(7)
    image = Image.frombytes(
        "RGB", (side, side), bytes(rnd.getrandbits(8) for _ in range(side**2 * 3))
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def data_url(raw: bytes, kind: str = "image/png") -> str:
    return f"data:{kind};base64," + base64.b64encode(raw).decode()


async def resolved_ticket(client: Any) -> str:
    """Opened, dispatched to eng-zhang, parts and a fee on the log, repaired."""
    r = await client.post(
        "/tickets", json=body(customer_name="苏州精工", urgency="normal"), headers=AGENT
    )
    no = r.json()["ticket_no"]
    await client.post(f"/tickets/{no}/acknowledge", headers=AGENT)
    r = await client.post(
        f"/tickets/{no}/assign",
        headers=SUP,
        json={"assignee_id": "eng-zhang", "assignee_name": "张工"},
    )
    assert r.status_code == 200
    await client.post(f"/tickets/{no}/respond", headers=ENG, json={"note": "已电话联系"})
    r = await client.post(
        f"/tickets/{no}/progress",
        headers=ENG,
        json={
            "kind": "parts",
            "text": "更换主轴轴承并调整预紧力",
            "visibility": "customer",
            "parts": [{"name": "轴承 6205", "quantity": 2}],
            "fee": {"kind": "travel", "amount": "120.50"},
        },
    )
    assert r.status_code == 201
    r = await client.post(f"/tickets/{no}/resolve", headers=ENG, json={"note": "试机正常"})
    assert r.status_code == 200, r.text
    return no


def token_of(link: str) -> str:
    match = SHEET.search(link)
    assert match, link
    return match.group(1)


def form_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))


async def sign(client: Any, token: str, **fields: str) -> Any:
    page = (await client.get(f"/sheet/{token}")).text
    hidden = form_fields(page)
    form = {**hidden, "signer": "王建国", "score": "5", "signature": data_url(png()), **fields}
    return await client.post(f"/sheet/{token}", data=form)


async def test_freeze_sign_once_and_complete_with_the_signature(databases, streams_ready, clock):
    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        no = await resolved_ticket(client)
        # only the assigned engineer or service staff freeze it
        assert (
            await client.post(f"/tickets/{no}/service-sheet", headers=OTHER_ENG)
        ).status_code == 404
        customer = auth("customer", customer_id="C-1")
        assert (
            await client.post(f"/tickets/{no}/service-sheet", headers=customer)
        ).status_code == 403
        assert (await client.get(f"/tickets/{no}/service-sheet", headers=SUP)).status_code == 404

        r = await client.post(f"/tickets/{no}/service-sheet", headers=ENG)
        assert r.status_code == 201, r.text
        frozen = r.json()
        token = token_of(frozen["link"])
        assert hashlib.sha256(frozen["content"].encode()).hexdigest() == frozen["content_sha256"]
        content = json.loads(frozen["content"])
        assert content["ticket_no"] == no and content["engineer"] == {
            "id": "eng-zhang",
            "name": "张工",
        }
        assert content["parts"] == [{"name": "轴承 6205", "quantity": 2}]
        assert content["fees"] == [{"kind": "travel", "amount": "120.50"}]
        assert content["fees_total"] == "120.50"
        assert "更换主轴轴承并调整预紧力" in [w["text"] for w in content["work"]]
        assert frozen["content"] == json.dumps(
            content, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )

        page = await client.get(f"/sheet/{token}")
        assert page.status_code == 200 and no in page.text and frozen["content_sha256"] in page.text
        assert "轴承 6205" in page.text and "¥120.50" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"

        # what cannot be signed: 400 with a reason the customer can act on, nothing kept
        cases = {
            "签名框是空的": {"signature": data_url(png(draw=False))},
            "签名必须是PNG图片": {"signature": data_url(b"GIF89a" + b"\0" * 200)},
            "签名图片已损坏": {"signature": data_url(b"\x89PNG\r\n\x1a\n" + b"\0" * 500)},
            "签名图片过大": {"signature": data_url(noise_png(350))},
            "请在签名框内用手指签名": {"signature": ""},
            "评分只能是1到5分": {"score": "9"},
            "请填写签字人姓名": {"signer": "  "},
            "请刷新后重新签名": {"form_token": "0" * 64},
        }
        for reason, fields in cases.items():
            r = await sign(client, token, **fields)
            assert r.status_code == 400, (reason, r.status_code)
            assert reason in r.text, reason
        jpeg = io.BytesIO()
        Image.new("RGB", (300, 120), "white").save(jpeg, "JPEG")
        r = await sign(client, token, signature=data_url(jpeg.getvalue(), "image/jpeg"))
        assert r.status_code == 400 and "签名必须是PNG图片" in r.text
        r = await sign(client, token, signature=data_url(noise_png(700)))
        assert r.status_code == 413 and "提交内容过大" in r.text
        assert (await client.get(f"/tickets/{no}/service-sheet", headers=SUP)).json()[
            "signature"
        ] is None

        # the customer signs once
        r = await sign(client, token)
        assert r.status_code == 303, r.text
        staff = (await client.get(f"/tickets/{no}/service-sheet", headers=SUP)).json()
        signed = staff["signature"]
        assert signed["signer_name"] == "王建国" and signed["score"] == 5
        assert signed["content_sha256"] == frozen["content_sha256"] == staff["content_sha256"]
        assert staff["content"] == frozen["content"] and staff["link"] is None
        picture = await client.get(signed["image_url"], headers=SUP)
        assert picture.headers["content-type"] == "image/png" and picture.content == png()
        assert hashlib.sha256(picture.content).hexdigest() == signed["image_sha256"]
        assert (await client.get(signed["image_url"], headers=OTHER_ENG)).status_code == 404

        # read-only afterwards: the page shows the signature, a second submission is refused
        page = await client.get(f"/sheet/{token}")
        assert page.status_code == 200 and "已签字确认" in page.text and "<form" not in page.text
        assert (await client.get(f"/sheet/{token}/signature.png")).content == png()
        r = await sign(client, token, signer="李四", score="1")
        assert r.status_code == 409 and "服务单已签字" in r.text
        r = await client.post(f"/tickets/{no}/service-sheet", headers=ENG)
        assert r.status_code == 409 and "已由客户签字" in r.json()["detail"]
        after = (await client.get(f"/tickets/{no}/service-sheet", headers=SUP)).json()
        assert after["signature"] == signed and after["content"] == frozen["content"]

        # nor can anyone change them in the database: it refuses updates and deletes
        async with runtime_of(app).sessions() as session:
            for statement in (
                "UPDATE service_sheets SET content = '{}'",
                "UPDATE service_sheet_signatures SET signer_name = '李四'",
                "DELETE FROM service_sheet_signatures",
            ):
                with pytest.raises(DBAPIError, match="append-only"):
                    await session.execute(text(statement))
                await session.rollback()

        # completing takes the signed sheet as the customer's sign-off
        r = await client.post(
            f"/tickets/{no}/complete",
            headers=ENG,
            json={
                "document": "repair_sheet",
                "confirmed_by": "typed by the engineer",
                "confirmed_at": clock.now().isoformat(),
                "method": "phone",
                "fault": {"symptom": "NOISE", "cause_category": "wear", "failed_part": "BEARING"},
            },
        )
        assert r.status_code == 200 and r.json()["status"] == "completed", r.text
        [done] = await outbox_events(app, "ServiceCompleted.v1", no)
        assert done["confirmed_by"] == "王建国" and done["confirmation_method"] == "signature"
        [signed_event] = await outbox_events(app, "ServiceSheetSigned.v1", no)
        assert signed_event["content_sha256"] == frozen["content_sha256"]
        assert signed_event["score"] == 5 and signed_event["sheet_id"] == frozen["sheet_id"]


async def test_unknown_superseded_and_expired_links(databases, streams_ready, clock):
    start = clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        for bad in ("nope", "A" * 43):
            r = await client.get(f"/sheet/{bad}")
            assert r.status_code == 404 and "服务单链接无效" in r.text
            assert (await client.post(f"/sheet/{bad}", data={"signer": "x"})).status_code == 404
        no = await resolved_ticket(client)
        first = token_of(
            (await client.post(f"/tickets/{no}/service-sheet", headers=ENG)).json()["link"]
        )
        second = token_of(
            (await client.post(f"/tickets/{no}/service-sheet", headers=SUP)).json()["link"]
        )
        r = await client.get(f"/sheet/{first}")
        assert r.status_code == 409 and "该服务单已不再有效" in r.text
        assert (await sign(client, first)).status_code == 409
        assert (await client.get(f"/sheet/{second}")).status_code == 200
        clock.at(start + timedelta(hours=72, minutes=1))
        r = await client.get(f"/sheet/{second}")
        assert r.status_code == 404 and "服务单链接已过期" in r.text


async def test_the_complaint_confirmation_signed_with_a_finger(databases, streams_ready, clock):
    from sqlalchemy import select
    from test_complaints import TECH, link_of, ok, open_complaint

    from tickets.models import ComplaintSignatureRow

    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        no = await open_complaint(client, complaint_level="major")
        await ok(client, no, "acknowledge", AGENT)
        await ok(client, no, "limit", SUP, {"promised_date": "2026-12-02", "via": "phone"})
        await ok(client, no, "findings", TECH, {"findings": "密封圈错装"})
        await ok(client, no, "resolution", SUP, {"resolution": "免费更换密封件并延保一年"})
        link = await link_of(app, no)
        page = await client.get(link)
        assert page.status_code == 200 and 'id="pad"' in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        answer = {"decision": "accept", "signer": "王建国"}
        r = await client.post(link, data={**answer, "signature": data_url(png(draw=False))})
        assert r.status_code == 422 and "签名框是空的" in r.text
        r = await client.post(link, data={**answer, "signature": data_url(b"not a png")})
        assert r.status_code == 422 and "签名必须是PNG图片" in r.text
        r = await client.post(link, data={**answer, "signature": data_url(png())})
        assert r.status_code == 303, r.text
        r = await client.post(link, data={**answer, "signer": "李四"})
        assert r.status_code == 409
        c = (await client.get(f"/complaints/{no}", headers=SUP)).json()
        [proposal] = c["proposals"]
        [staff] = (await client.get(f"/complaints/{no}/signatures", headers=SUP)).json()
        assert staff["signer_name"] == "王建国"
        assert hashlib.sha256(staff["content"].encode()).hexdigest() == staff["content_sha256"]
        picture = await client.get(staff["image_url"], headers=SUP)
        assert picture.headers["content-type"] == "image/png" and picture.content == png()
        other = await client.get(f"/complaints/{no}/signatures", headers=OTHER_ENG)
        assert other.status_code == 404
        assert (proposal["outcome"], proposal["method"], proposal["confirmed_by"]) == (
            "accepted",
            "signature",
            "王建国",
        )
    async with runtime_of(app).sessions() as session:
        [signed] = (
            await session.scalars(
                select(ComplaintSignatureRow).where(
                    ComplaintSignatureRow.ticket_id == c["ticket_id"]
                )
            )
        ).all()
    assert signed.image == png() and signed.signer_name == "王建国"
    assert hashlib.sha256(signed.content.encode()).hexdigest() == signed.content_sha256
    content = json.loads(signed.content)
    assert content["ticket_no"] == no and content["decision"] == "accept"
    assert content["proposal"]["resolution"] == "免费更换密封件并延保一年"


def part_event(no: str, movement: str, part: str, quantity: int, price: str, issued: bool) -> Any:
    from datetime import UTC, datetime
    from decimal import Decimal

    from aftersales_shared.events import Envelope, PartIssuedV1, PartReturnedV1

    common = {
        "movement_id": movement,
        "part_no": part,
        "part_name": {"BRG-6205": "主轴轴承 6205", "SEAL-40": "油封🛢 40mm"}[part],
        "quantity": quantity,
        "unit_price": Decimal(price),
        "location_id": "VAN-ZHANG",
        "ticket_no": no,
    }
    at = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    data = (
        PartIssuedV1(**common, warranty_part=True, issued_by="eng-zhang", issued_at=at)
        if issued
        else PartReturnedV1(**common, returned_by="eng-zhang", returned_at=at)
    )
    return Envelope(data=data, subject=no)


async def deliver(app: Any, env: Any) -> bool:
    rt = runtime_of(app)
    sub = next(s for s in rt.inbox.subscriptions.values() if isinstance(env.data, s.accepts))
    return await rt.inbox.handle(sub, env)


async def test_the_sheet_prices_the_parts_the_parts_service_issued(databases, streams_ready, clock):
    """PartIssued / PartReturned carry the price of each issue: the sheet lists the net units per
    part with unit price and amount, and their subtotal; a movement delivered twice counts once."""
    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        no = await resolved_ticket(client)
        issued = part_event(no, "m-1", "BRG-6205", 2, "123.45", issued=True)
        assert await deliver(app, issued) is True
        again = part_event(no, "m-1", "BRG-6205", 2, "123.45", issued=True)  # a new event id
        await deliver(app, again)
        assert await deliver(app, part_event(no, "m-2", "SEAL-40", 3, "8.80", issued=True))
        assert await deliver(app, part_event(no, "m-3", "BRG-6205", 1, "123.45", issued=False))
        other = await resolved_ticket(client)
        await deliver(app, part_event(other, "m-4", "SEAL-40", 1, "8.80", issued=True))

        r = await client.post(f"/tickets/{no}/service-sheet", headers=ENG)
        assert r.status_code == 201, r.text
        content = json.loads(r.json()["content"])
        assert content["parts_priced"] == [
            {
                "part_no": "BRG-6205",
                "name": "主轴轴承 6205",
                "quantity": 1,
                "unit_price": "123.45",
                "amount": "123.45",
            },
            {
                "part_no": "SEAL-40",
                "name": "油封🛢 40mm",
                "quantity": 3,
                "unit_price": "8.80",
                "amount": "26.40",
            },
        ]
        assert content["parts_total"] == "149.85"
        assert content["fees_total"] == "120.50"  # the log's fees, as before
        page = (await client.get(f"/sheet/{token_of(r.json()['link'])}")).text
        assert "× 3 @ ¥8.80" in page and "¥26.40" in page
        assert 'id="parts-total">¥149.85<' in page

        # a sheet without parts from the parts service keeps its old shape
        bare = await resolved_ticket(client)
        r = await client.post(f"/tickets/{bare}/service-sheet", headers=ENG)
        assert "parts_priced" not in json.loads(r.json()["content"])
