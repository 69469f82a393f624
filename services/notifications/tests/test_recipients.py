"""Recipients API: validation at registration, preferences, audit trail, permissions, filters."""

from __future__ import annotations

import pytest
from local_providers import LocalSmsGateway, LocalSmtpServer
from notif_support import make_app, uid

from aftersales_testing.support import auth, running

SUP = auth("service_supervisor", sub="sup-li")
AGENT = auth("service_agent")


@pytest.fixture
async def app(databases, streams_ready):
    smtp, gw = (
        LocalSmtpServer(),
        LocalSmsGateway(),
    )  # never started: no message goes out in these tests
    return await make_app(databases, streams_ready, smtp, gw)


async def test_registration_validates_phone_and_email_with_readable_reasons(app):
    ref = uid()
    async with running(app, wait_broker=False) as client:
        r = await client.post(
            "/recipients", json={"id": f"e-{ref}", "name": "李工", "phone": "12345"}, headers=SUP
        )
        assert (
            r.status_code == 422
            and "手机号码无效" in r.json()["detail"]
            and "phone" in r.json()["errors"]
        )
        r = await client.post(
            "/recipients",
            json={"id": f"e-{ref}", "name": "李工", "phone": "13800138000", "email": "li@@example"},
            headers=SUP,
        )
        assert r.status_code == 422 and "邮箱地址无效" in r.json()["detail"]
        r = await client.post(
            "/recipients",
            json={"id": f"e-{ref}", "name": "李工", "email": "li@example.com"},
            headers=SUP,
        )
        assert (
            r.status_code == 422 and "短信渠道需要手机号" in r.json()["detail"]
        )  # default channels: sms + email
        r = await client.post(
            "/recipients",
            json={
                "id": f"e-{ref}",
                "name": "李工",
                "phone": "13800138000",
                "quiet_hours": "25:00-08:00",
            },
            headers=SUP,
        )
        assert r.status_code == 400
        r = await client.post(
            "/recipients",
            json={
                "id": f"e-{ref}",
                "name": "李工",
                "phone": "13800138000",
                "channels": ["sms"],
                "surprise": True,
            },
            headers=SUP,
        )
        assert r.status_code == 400
        r = await client.get(f"/recipients/e-{ref}", headers=SUP)
        assert r.status_code == 404  # nothing half-written


async def test_register_change_preferences_and_read_the_audit_trail(app):
    ref = uid()
    body = {
        "id": f"eng-{ref}",
        "name": "张工",
        "phone": "138 0013 8000",
        "email": "Zhang@Example.com",
        "groups": ["engineer"],
        "dealer_id": f"D-{ref}",
    }
    async with running(app, wait_broker=False) as client:
        r = await client.post("/recipients", json=body, headers=SUP)
        assert r.status_code == 201, r.text
        out = r.json()
        assert (out["phone"], out["email"], out["quiet_hours"], out["created_by"]) == (
            "+8613800138000",
            "Zhang@example.com",
            "22:00-08:00",
            "sup-li",
        )
        assert (await client.post("/recipients", json=body, headers=SUP)).status_code == 409
        r = await client.patch(
            f"/recipients/eng-{ref}",
            json={
                "language": "en",
                "channels": ["email"],
                "quiet_hours": "23:00-07:00",
                "rate_limit_per_hour": 3,
            },
            headers=SUP,
        )
        assert (
            r.status_code == 200
            and r.json()["channels"] == ["email"]
            and r.json()["language"] == "en"
        )
        r = await client.patch(f"/recipients/eng-{ref}", json={"phone": "abc"}, headers=SUP)
        assert r.status_code == 422
        history = (await client.get(f"/recipients/eng-{ref}/history", headers=AGENT)).json()
        assert [h["action"] for h in history] == ["registered", "updated"]
        assert history[1]["changes"]["quiet_hours"] == {"from": "22:00-08:00", "to": "23:00-07:00"}
        assert history[1]["changed_by"] == "sup-li"
        listed = (
            await client.get("/recipients", params={"dealer_id": f"D-{ref}"}, headers=AGENT)
        ).json()
        assert [r["id"] for r in listed["items"]] == [f"eng-{ref}"] and listed["total"] == 1
        assert (
            await client.get("/recipients", params={"group": "engineer", "q": ref}, headers=AGENT)
        ).json()["total"] == 1
        assert (
            await client.get("/recipients", params={"group": "manager", "q": ref}, headers=AGENT)
        ).json()["total"] == 0


async def test_only_supervisors_and_managers_change_recipients(app):
    async with running(app, wait_broker=False) as client:
        body = {"id": f"x-{uid()}", "name": "王", "phone": "13800138000"}
        assert (await client.post("/recipients", json=body, headers=AGENT)).status_code == 403
        assert (
            await client.post("/recipients", json=body, headers=auth("engineer"))
        ).status_code == 403
        assert (
            await client.get("/recipients", headers=auth("customer", customer_id="C-x"))
        ).status_code == 403
        assert (await client.get("/recipients")).status_code == 401
        assert (
            await client.post(
                "/recipients", json=body | {"channels": ["sms"]}, headers=auth("manager")
            )
        ).status_code == 201
        assert (
            await client.patch("/recipients/nobody", json={"name": "x"}, headers=SUP)
        ).status_code == 404
