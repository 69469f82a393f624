"""Every producer's alerts reach people by the default rules, over real NATS, SMTP and an SMS
gateway: a missed deadline of contracts, dealers and tickets and a low survey score each fire their
rule once — and once again when the same event is delivered a second time."""

from __future__ import annotations

from typing import Any

from notif_support import all_deliveries, from_sample, make_app, recipient, streams, uid

from aftersales_testing.support import auth, publish, running, wait_until

SUP = auth("service_supervisor", sub="sup-1")


async def sent(condition: Any, what: str) -> Any:
    try:
        return await wait_until(condition, what=what)
    except AssertionError as exc:  # say what there was instead
        seen = getattr(all_deliveries, "last", None)
        raise AssertionError(f"{exc}; deliveries: {seen}") from None


async def test_each_producer_s_alert_fires_its_default_rule_once(databases, own_nats, servers):
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    dealer_id = f"D-{ref}"
    awake = {"quiet_hours": None}  # whatever time the suite runs: nobody's quiet hours hold these
    people = {
        "sup": recipient(
            f"sup-{ref}", groups=["service_supervisor"], channels=["sms", "email"], **awake
        ),
        "delivery": recipient(f"dlv-{ref}", groups=["delivery"], channels=["sms"], **awake),
        "salesmgr": recipient(f"smg-{ref}", groups=["sales_manager"], channels=["sms"], **awake),
        "dealer": recipient(
            f"dlr-{ref}", groups=["dealer"], dealer_id=dealer_id, channels=["sms"], **awake
        ),
    }
    events = {
        "contracts": from_sample("ObjectionAnswerOverdue", order_no=f"SO-{ref}"),
        "dealers": from_sample("CardOverdue", dealer_id=dealer_id, serial_no=f"SN-{ref}"),
        "tickets": from_sample("FollowUpOpened", ticket_no=f"FU-{ref}"),
        "surveys": from_sample("SurveyAnswered", low_score=True, ticket_no=f"SV-{ref}"),
    }
    expected = {  # event → (recipient, channel) of its default rule
        "contracts": {(people["delivery"]["id"], "sms"), (people["salesmgr"]["id"], "sms")},
        "dealers": {(people["dealer"]["id"], "sms"), (people["sup"]["id"], "sms")}
        | {(people["sup"]["id"], "email")},
        "tickets": {(people["sup"]["id"], "email")},
        "surveys": {(people["sup"]["id"], "sms"), (people["sup"]["id"], "email")},
    }
    async with running(app) as client:
        for body in people.values():
            r = await client.post("/recipients", json=body, headers=SUP)
            assert r.status_code == 201, r.text
        for env in events.values():
            await publish(own_nats.url, env)
        for producer, env in events.items():
            rows = await sent(
                lambda env=env, n=len(expected[producer]): all_deliveries(
                    client, event_id=env.id, status="sent", n=n
                ),
                what=f"{producer}'s {env.data.NAME} sent to {sorted(expected[producer])}",
            )
            assert {(r["recipient_key"], r["channel"]) for r in rows} == expected[producer]
        sms_before = len(gw.accepted)
        # the same events delivered again (past JetStream's duplicate window): nobody hears twice
        for env in events.values():
            await publish(own_nats.url, env, msg_id=f"{env.id}-again")
        marker = from_sample("CardOverdue", dealer_id=dealer_id, serial_no=f"SN2-{ref}")
        await publish(
            own_nats.url, marker
        )  # published after the repeats: once it is sent, they ran
        await wait_until(
            lambda: all_deliveries(client, event_id=marker.id, status="sent", n=3),
            what="the marker event sent",
        )
        for producer, env in events.items():
            rows = await all_deliveries(client, event_id=env.id, n=len(expected[producer]))
            assert rows is not None, f"{producer}: deliveries changed after a redelivery"
        assert len(gw.accepted) == sms_before + 2  # the marker's two SMS, nothing repeated
        texts = " ".join(r.body["text"] for r in gw.accepted)
        assert f"SN-{ref}" in texts and f"SO-{ref}" in texts and f"SV-{ref}" in texts


async def test_a_signed_contract_s_copies_reach_finance_delivery_and_customer_service(
    databases, own_nats, servers
):
    """Seed 000 (合同签订): the customer and the sales rep hear, and copies go to finance,
    delivery and customer service (its supervisors); other departments do not."""
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    awake = {"quiet_hours": None, "channels": ["sms", "email"]}
    people = {
        group: recipient(f"{group}-{ref}", groups=[group], **awake)
        for group in ("finance", "delivery", "service_supervisor", "technical")
    }
    rep = recipient(f"rep-{ref}", groups=["sales"], **awake)
    env = from_sample("ContractSigned", contract_no=f"HT-{ref}", sales_rep=rep["id"])
    async with running(app) as client:
        for body in (*people.values(), rep):
            r = await client.post("/recipients", json=body, headers=SUP)
            assert r.status_code == 201, r.text
        await publish(own_nats.url, env)
        rows = await sent(
            lambda: all_deliveries(client, event_id=env.id, status="sent", n=5),
            what="ContractSigned to the customer, the sales rep and three departments",
        )
    by_rule: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        by_rule.setdefault(row["rule_id"], set()).add((row["recipient_key"], row["channel"]))
    assert by_rule.pop("contract-signed-departments") == {
        (people[g]["id"], "email") for g in ("finance", "delivery", "service_supervisor")
    }
    assert by_rule.pop("contract-signed-sales") == {(rep["id"], "email")}
    assert set(by_rule) == {"contract-signed-customer"}  # the contact; technical hears nothing
    mail = smtp.to(people["finance"]["email"])
    assert len(mail) == 1 and f"HT-{ref}" in mail[0].message.get_body(("plain",)).get_content()


async def test_a_published_monthly_report_reaches_product_production_sales_and_management(
    databases, own_nats, servers
):
    """Seed 000 §三(四): the month's analysis goes to product, production and sales (and the
    managers) so they fix what it shows; the technical department is not on that list."""
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    awake = {"quiet_hours": None, "channels": ["sms", "email"]}
    people = {
        group: recipient(f"{group}-{ref}", groups=[group], **awake)
        for group in ("product", "production", "sales", "manager", "technical")
    }
    env = from_sample("ReportPublished", report_id=f"R-{ref}")
    async with running(app) as client:
        for body in people.values():
            r = await client.post("/recipients", json=body, headers=SUP)
            assert r.status_code == 201, r.text
        await publish(own_nats.url, env)
        rows = await sent(
            lambda: all_deliveries(client, event_id=env.id, status="sent", n=4),
            what="ReportPublished to product, production, sales and the managers",
        )
    assert {(r["rule_id"], r["recipient_key"], r["channel"]) for r in rows} == {
        ("report-published", people[g]["id"], "email")
        for g in ("product", "production", "sales", "manager")
    }
    mail = smtp.to(people["product"]["email"])
    assert len(mail) == 1
    text = mail[0].message.get_body(("plain",)).get_content()
    assert "2026-11售后服务月度分析报告" in text and "异常批次 1 个" in text
    assert env.data.links.pdf in text and "95.6%" in text


async def test_a_part_at_its_reorder_point_reaches_the_managers_and_service_supervisors(
    databases, own_nats, servers
):
    """Issue #23: the warehouse's keepers hear when a part's stock falls to its reorder point
    (parts announces each crossing once); a part issued to a ticket is nobody's news."""
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    awake = {"quiet_hours": None, "channels": ["sms", "email"]}
    people = {
        group: recipient(f"{group}-{ref}", groups=[group], **awake)
        for group in ("manager", "service_supervisor", "technical")
    }
    low = from_sample("StockBelowReorderPoint", part_no=f"XK-{ref}".upper())
    issued = from_sample("PartIssued", ticket_no=f"SV-{ref}")
    async with running(app) as client:
        for body in people.values():
            r = await client.post("/recipients", json=body, headers=SUP)
            assert r.status_code == 201, r.text
        await publish(own_nats.url, issued)
        await publish(own_nats.url, low)
        rows = await sent(
            lambda: all_deliveries(client, event_id=low.id, status="sent", n=2),
            what="StockBelowReorderPoint to the managers and the service supervisors",
        )
        assert await all_deliveries(client, event_id=issued.id, n=0) is not None
    assert {(r["rule_id"], r["recipient_key"], r["channel"]) for r in rows} == {
        ("stock-below-reorder-point", people[g]["id"], "email")
        for g in ("manager", "service_supervisor")
    }
    [mail] = smtp.to(people["manager"]["email"])
    text = mail.message.get_body(("plain",)).get_content()
    assert f"XK-{ref}".upper() in text and "再订货点" in text


async def test_an_overdue_expense_claim_reaches_its_engineer_and_the_supervisors(
    databases, own_nats, servers
):
    """Issue #23 item 4: parts' ExpenseClaimOverdue names the engineer who claims as assignee_id;
    the default rule reaches them and the service supervisors by SMS and e-mail."""
    smtp, gw = servers
    await streams(own_nats.url)
    app = await make_app(databases, own_nats.url, smtp, gw)
    ref = uid()
    awake = {"quiet_hours": None, "channels": ["sms", "email"]}
    engineer = recipient(f"eng-{ref}", groups=["engineer"], **awake)
    supervisor = recipient(f"sup-{ref}", groups=["service_supervisor"], **awake)
    overdue = from_sample(
        "ExpenseClaimOverdue", assignee_id=engineer["id"], claim_no=f"BX-{ref}".upper()
    )
    async with running(app) as client:
        for body in (engineer, supervisor):
            r = await client.post("/recipients", json=body, headers=SUP)
            assert r.status_code == 201, r.text
        await publish(own_nats.url, overdue)
        rows = await sent(
            lambda: all_deliveries(client, event_id=overdue.id, status="sent", n=4),
            what="ExpenseClaimOverdue to the engineer and the service supervisors",
        )
    assert {(r["rule_id"], r["recipient_key"], r["channel"]) for r in rows} == {
        ("expense-claim-overdue", who["id"], channel)
        for who in (engineer, supervisor)
        for channel in ("sms", "email")
    }
    [mail] = smtp.to(engineer["email"])
    text = mail.message.get_body(("plain",)).get_content()
    assert f"BX-{ref}".upper() in text and "逾期将不予报销" in text
