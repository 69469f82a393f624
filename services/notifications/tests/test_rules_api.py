"""The notification rules as data (usecases/rulebook.py, http/rules.py): the rules file seeds
version 1 once, every change is a validated new version (errors per rule and field, 409 on a stale
version, nothing half-written), the admin alone changes them, readers read them and their history,
old versions and the defaults are restored, a switched-off rule is not applied, and two replicas on
one database both plan the next event with the version committed last."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from local_providers import LocalSmsGateway, LocalSmtpServer
from notif_support import make_app, recipient, sla_breached, ticket_opened, uid
from sqlalchemy import func, select

from aftersales_shared.db import utcnow
from aftersales_testing.clock import MOMENTS
from aftersales_testing.support import auth, running, runtime_of
from notifications.app import rules_loader
from notifications.messaging import handle_events
from notifications.models import DeliveryRow, RuleSetVersionRow
from notifications.templates import load_yaml

ADMIN = auth("admin", sub="admin-wang")
SUP = auth("service_supervisor", sub="sup-1")
READERS = [auth("service_agent"), SUP, auth("manager", sub="mgr-1"), ADMIN]
OUTSIDERS = [auth("engineer"), auth("dealer", dealer_id="D-1"), auth("sales"), auth("technical")]
DEFAULTS = load_yaml(None, "rules.yaml")["rules"]


@pytest.fixture
async def app(databases, streams_ready):
    # no message goes out in these tests: the servers are never started
    return await make_app(databases, streams_ready, LocalSmtpServer(), LocalSmsGateway())


async def current(client) -> dict:
    r = await client.get("/rules", headers=SUP)
    assert r.status_code == 200, r.text
    return r.json()


def rule(rid: str, **kw) -> dict:
    base = {
        "id": rid,
        "event": "TicketOpened",
        "template": "ticket_opened",
        "recipients": ["contact"],
        "channels": ["sms"],
    }
    return base | kw


async def test_the_rules_file_is_version_1_and_every_reader_sees_it(app, clock):
    clock.at("sunday-evening")
    async with running(app, wait_broker=False) as client:
        for who in READERS:
            r = await client.get("/rules", headers=who)
            assert r.status_code == 200, r.text
        shown = r.json()
        assert shown["version"] == 1 and shown["action"] == "seed"
        assert shown["saved_by"] == "system" and shown["rules_added"] == len(DEFAULTS)
        assert [x["id"] for x in shown["rules"]] == [x["id"] for x in DEFAULTS]
        for who in OUTSIDERS:
            assert (await client.get("/rules", headers=who)).status_code == 403
            assert (await client.get("/rules/versions", headers=who)).status_code == 403
        catalog = (await client.get("/rules/catalog", headers=SUP)).json()
        opened = next(e for e in catalog["events"] if e["name"] == "TicketOpened")
        assert opened["type"] == "cn.aftersales.tickets.TicketOpened"
        assert "urgency" in opened["versions"]["1"] and "ticket_opened" in catalog["templates"]
        assert "group:<name>" in catalog["selectors"] and "wechat" in catalog["channels"]


async def test_only_the_admin_changes_the_rules(app):
    async with running(app, wait_broker=False) as client:
        body = {"expected_version": 1, "rules": [*DEFAULTS, rule("extra-ack")]}
        one = {"expected_version": 1, "rule": rule("extra-ack")}
        calls = [
            ("PUT", "/rules", body),
            ("PUT", "/rules/items/extra-ack", one),
            ("POST", "/rules/items/service-completed/enabled", {"expected_version": 1}),
            ("POST", "/rules/restore/1", {"expected_version": 1}),
            ("POST", "/rules/restore-defaults", {"expected_version": 1}),
        ]
        for who in [*READERS[:3], *OUTSIDERS]:
            for method, path, json in calls:
                r = await client.request(method, path, json=json, headers=who)
                assert r.status_code == 403, (method, path, r.text)
            r = await client.delete(
                "/rules/items/service-completed", params={"expected_version": 1}, headers=who
            )
            assert r.status_code == 403
        assert (await current(client))["version"] == 1  # nothing written
        r = await client.put("/rules", json=body | {"note": "加一条"}, headers=ADMIN)
        assert r.status_code == 200, r.text
        saved = r.json()
        assert saved["version"] == 2 and saved["saved_by"] == "admin-wang"
        assert (saved["rules_added"], saved["rules_changed"], saved["rules_removed"]) == (1, 0, 0)


@pytest.mark.parametrize(
    ("bad", "field", "said"),
    [
        ({"event": "TicketClosed"}, "event", "事件目录中没有"),
        ({"recipients": ["everyone"]}, "recipients", "通知对象不认识"),
        ({"recipients": []}, "recipients", "不能为空"),
        ({"when": {"colour": {"eq": "red"}}}, "when", "TicketOpened 没有字段 'colour'"),
        ({"versions": {"min": 3}}, "versions", "没有 3..∞ 的版本"),
        ({"channels": ["fax"]}, "channels.0", "取值不在可选范围内"),
        ({"template": "no_such_template"}, "template", "模板 no_such_template 不存在"),
        ({"enabled": "maybe"}, "enabled", "须为是/否"),
        ({"surprise": 1}, "surprise", "不认识的字段"),
    ],
)
async def test_a_bad_rule_is_a_400_naming_the_rule_and_field(app, bad, field, said):
    async with running(app, wait_broker=False) as client:
        body = {"expected_version": 1, "rules": [*DEFAULTS, rule("new-one", **bad)]}
        r = await client.put("/rules", json=body, headers=ADMIN)
        assert r.status_code == 400, r.text
        answer = r.json()
        (problem,) = answer["errors"]
        assert problem["rule"] == "new-one" and problem["field"] == field
        assert problem["index"] == len(DEFAULTS)
        assert said in answer["detail"] and "规则 new-one" in answer["detail"]
        assert f"rules.{len(DEFAULTS)}.{field}" in answer["detail"]  # the English place
        r = await client.put(
            "/rules/items/new-one",
            json={"expected_version": 1, "rule": rule("new-one", **bad)},
            headers=ADMIN,
        )
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == field
        assert (await current(client))["version"] == 1  # nothing half-written


async def test_no_empty_set_and_no_duplicate_ids(app):
    async with running(app, wait_broker=False) as client:
        r = await client.put("/rules", json={"expected_version": 1, "rules": []}, headers=ADMIN)
        assert r.status_code == 400 and "规则列表不能为空" in r.json()["detail"]
        twice = [*DEFAULTS, DEFAULTS[0]]
        r = await client.put("/rules", json={"expected_version": 1, "rules": twice}, headers=ADMIN)
        assert r.status_code == 400 and "appears twice" in r.json()["detail"]
        only = {"expected_version": 1, "rules": [rule("only-one")]}
        assert (await client.put("/rules", json=only, headers=ADMIN)).status_code == 200
        r = await client.delete(
            "/rules/items/only-one", params={"expected_version": 2}, headers=ADMIN
        )
        assert r.status_code == 422 and "不能删除最后一条规则" in r.json()["detail"]
        assert (await current(client))["version"] == 2


async def test_a_stale_version_is_a_409_and_the_later_save_is_kept(app):
    async with running(app, wait_broker=False) as client:
        first = {"expected_version": 1, "rule": rule("from-wang")}
        assert (await client.put("/rules/items/from-wang", json=first, headers=ADMIN)).is_success
        late = {"expected_version": 1, "rule": rule("from-li")}
        r = await client.put("/rules/items/from-li", json=late, headers=ADMIN)
        assert r.status_code == 409 and "已被他人修改" in r.json()["detail"]
        assert r.json()["current_version"] == 2
        for method, path, json in [
            ("PUT", "/rules", {"expected_version": 1, "rules": DEFAULTS}),
            ("POST", "/rules/items/from-wang/enabled", {"expected_version": 1, "enabled": False}),
            ("POST", "/rules/restore/1", {"expected_version": 1}),
        ]:
            r = await client.request(method, path, json=json, headers=ADMIN)
            assert r.status_code == 409, (path, r.text)
        shown = await current(client)
        assert shown["version"] == 2 and "from-wang" in [x["id"] for x in shown["rules"]]
        assert "from-li" not in [x["id"] for x in shown["rules"]]


async def test_history_restore_and_the_defaults(app, clock):
    clock.at("sunday-evening")
    async with running(app, wait_broker=False) as client:
        add = {"expected_version": 1, "rule": rule("extra-ack"), "note": "试用"}
        assert (await client.put("/rules/items/extra-ack", json=add, headers=ADMIN)).is_success
        off = {"expected_version": 2, "enabled": False, "note": "春节期间不发"}
        r = await client.post("/rules/items/service-completed/enabled", json=off, headers=ADMIN)
        assert r.status_code == 200, r.text
        completed = next(x for x in r.json()["rules"] if x["id"] == "service-completed")
        assert completed["enabled"] is False  # kept, switched off
        changed = rule("extra-ack", channels=["sms", "email"])
        edit = {"expected_version": 3, "rule": changed}
        assert (await client.put("/rules/items/extra-ack", json=edit, headers=ADMIN)).is_success
        r = await client.delete(
            "/rules/items/survey-invitation",
            params={"expected_version": 4, "note": "由回访代替"},
            headers=ADMIN,
        )
        assert r.status_code == 200 and r.json()["rules_removed"] == 1
        assert (
            await client.delete("/rules/items/nope", params={"expected_version": 5}, headers=ADMIN)
        ).status_code == 404
        page = (await client.get("/rules/versions", params={"limit": 3}, headers=SUP)).json()
        assert page["total"] == 5 and [v["version"] for v in page["items"]] == [5, 4, 3]
        counts = {
            v["version"]: (v["rules_added"], v["rules_changed"], v["rules_removed"])
            for v in page["items"]
        }
        assert counts == {5: (0, 0, 1), 4: (0, 1, 0), 3: (0, 1, 0)}
        assert (
            page["items"][2]["note"] == "春节期间不发" and page["items"][2]["action"] == "switched"
        )
        older = (await client.get("/rules/versions", params={"offset": 3}, headers=SUP)).json()
        assert [v["version"] for v in older["items"]] == [2, 1]
        v2 = (await client.get("/rules/versions/2", headers=SUP)).json()
        saved_at = datetime.fromisoformat(v2["saved_at"])  # the moment the use case was given
        assert abs((saved_at - MOMENTS["sunday-evening"].at).total_seconds()) < 600
        assert v2["note"] == "试用" and "extra-ack" in [x["id"] for x in v2["rules"]]
        assert (await client.get("/rules/versions/99", headers=SUP)).status_code == 404

        r = await client.post("/rules/restore/2", json={"expected_version": 5}, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 6 and r.json()["restored_from"] == 2
        assert r.json()["rules"] == v2["rules"]
        assert (r.json()["rules_added"], r.json()["rules_removed"]) == (1, 0)  # survey back
        r = await client.post(
            "/rules/restore-defaults",
            json={"expected_version": 6, "note": "回到默认"},
            headers=ADMIN,
        )
        assert r.status_code == 200 and r.json()["action"] == "defaults"
        assert r.json()["rules"] == DEFAULTS and r.json()["rules_removed"] == 1
        assert (await current(client))["version"] == 7


async def test_a_switched_off_rule_is_not_applied(app):
    ref = uid()
    async with running(app, wait_broker=False) as client:
        notifier = app.state["notifier"]
        sessions = runtime_of(app).sessions

        async def planned(env) -> set[str]:
            async with sessions.begin() as session:
                await handle_events(session, [env], notifier, utcnow())
            async with sessions() as session:
                rows = await session.scalars(
                    select(DeliveryRow.rule_id).where(DeliveryRow.source_event_id == env.id)
                )
                return set(rows)

        before = await planned(ticket_opened(f"{ref}a", tel="13900000001"))
        assert before == {"ticket-opened-ack"}
        off = {"expected_version": 1, "enabled": False}
        r = await client.post("/rules/items/ticket-opened-ack/enabled", json=off, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert await planned(ticket_opened(f"{ref}b", tel="13900000002")) == set()
        on = {"expected_version": 2, "enabled": True}
        r = await client.post("/rules/items/ticket-opened-ack/enabled", json=on, headers=ADMIN)
        assert "enabled" not in next(x for x in r.json()["rules"] if x["id"] == "ticket-opened-ack")
        assert await planned(ticket_opened(f"{ref}c", tel="13900000003")) == {"ticket-opened-ack"}


async def test_two_replicas_seed_once_and_plan_with_the_rules_saved_last(databases, streams_ready):
    """Two replicas on one (PostgreSQL in CI) database start together: version 1 is written once.
    An edit through one is applied by the other to its next event, without a restart."""
    smtp, gw = LocalSmtpServer(), LocalSmsGateway()
    first = await make_app(databases, streams_ready, smtp, gw)
    url = runtime_of(first).settings.database_url
    from notifications.app import create_app

    second = create_app(runtime_of(first).settings.model_copy(update={"database_url": url}))
    a, b = first.state["notifier"], second.state["notifier"]
    await asyncio.gather(rules_loader(a)(runtime_of(first)), rules_loader(b)(runtime_of(second)))
    async with runtime_of(second).sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RuleSetVersionRow)) == 1
    assert a.rules_version == b.rules_version == 1
    ref = uid()
    async with running(first, wait_broker=False) as one, running(second, wait_broker=False):
        sup = recipient(f"sup-{ref}", groups=["service_supervisor"], channels=["sms", "email"])
        assert (await one.post("/recipients", json=sup, headers=SUP)).status_code == 201
        old = next(x for x in DEFAULTS if x["id"] == "sla-breached-supervisor")
        moved = old | {"recipients": ["group:service_supervisor"], "channels": ["email"]}
        edit = {"expected_version": 1, "rule": moved}
        r = await one.put("/rules/items/sla-breached-supervisor", json=edit, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert a.rules_version == 2 and b.rules_version == 1  # b has not handled an event yet
        env = sla_breached(ref)
        async with runtime_of(second).sessions.begin() as session:
            await handle_events(session, [env], b, utcnow())
        assert b.rules_version == 2
        async with runtime_of(second).sessions() as session:
            rows = (
                await session.execute(
                    select(DeliveryRow.recipient_key, DeliveryRow.channel).where(
                        DeliveryRow.source_event_id == env.id
                    )
                )
            ).all()
        assert [tuple(r) for r in rows] == [(f"sup-{ref}", "email")]  # the edit: email, not sms
    await runtime_of(second).engine.dispose()
