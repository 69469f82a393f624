"""Ticket lifecycle through the HTTP API against the real database and NATS."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from tickets_helpers import (
    AGENT,
    ENG,
    OTHER_ENG,
    SUP,
    body,
    entitle,
    outbox_events,
    tickets_app,
    uid,
)

from aftersales_shared.db import utcnow
from aftersales_testing.support import auth, running

pytestmark = pytest.mark.deadlines


async def test_intake_picks_up_the_entitlement_or_refuses_an_unknown_serial(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    contract, serial = f"HT-{uid()}", f"SN-{uid()}"
    async with running(app) as client:
        await entitle(app, contract, [serial])
        r = await client.post("/tickets", json=body(serial), headers=AGENT)
        assert r.status_code == 201, r.text
        t = r.json()
        assert re.fullmatch(r"SV-\d{8}-\d{4}", t["ticket_no"])
        assert t["contract_no"] == contract and t["customer_name"] == "无锡某某设备有限公司"
        assert (
            t["policy"]["response_minutes"] == 60
            and t["policy"]["source"] == f"contract {contract}"
        )
        assert {c["kind"] for c in t["clocks"]} == {
            "acknowledge",
            "response",
            "onsite",
            "resolution",
        }
        assert all(c["deadline"] for c in t["clocks"]) and t["in_warranty"] is True
        [opened] = await outbox_events(app, "TicketOpened.v1", t["ticket_no"])
        assert opened["contract_no"] == contract and opened["response_due"]
        assert opened["in_warranty"] is True  # parts decides warranty or chargeable from it

        r = await client.post("/tickets", json=body(f"NOPE-{uid()}"), headers=AGENT)
        assert r.status_code == 422 and "use_default_policy" in r.json()["detail"]
        # a NUL character (PostgreSQL cannot store one) is bad input, not a 500; nothing written
        # (this serial's only: the app may also open tickets from requests other tests left on
        # the session's NATS streams, a mail or a partner's, when it starts consuming)
        r = await client.post(
            "/tickets", json=body(serial, description="异响\u0000"), headers=AGENT
        )
        assert r.status_code == 400 and "NUL" in r.text, r.text
        opened = await outbox_events(app, "TicketOpened.v1")
        assert [e["ticket_no"] for e in opened if e.get("serial_no") == serial] == [t["ticket_no"]]
        r = await client.post(
            "/tickets", json=body(f"NOPE-{uid()}", contract_no=contract), headers=AGENT
        )
        assert r.status_code == 422
        r = await client.post(
            "/tickets",
            json=body(f"NEW-{uid()}", use_default_policy=True, customer_name="散户"),
            headers=AGENT,
        )
        assert r.status_code == 201 and r.json()["policy"]["source"] == "default"
        assert r.json()["policy"]["response_minutes"] == 120
        r = await client.post(
            "/tickets", json=body(customer_name="散户", urgency="extreme"), headers=AGENT
        )
        assert r.status_code == 400
        r = await client.post(
            "/tickets",
            json=body(customer_name="散户") | {"contact": {"name": "x", "phone": "abc"}},
            headers=AGENT,
        )
        assert r.status_code == 400
        r = await client.post(
            "/tickets", json=body(customer_name="散户"), headers=auth("customer", customer_id="C-x")
        )
        assert r.status_code == 403
        # a customer reads only its own tickets (services/tickets/tests/test_customer_scope.py); a
        # token without its id: 401
        assert (await client.get("/tickets", headers=auth("customer", customer_id="C-x"))).json()[
            "items"
        ] == []
        assert (await client.get("/tickets", headers=auth("customer"))).status_code == 401


async def test_full_lifecycle_with_dispatch_pause_progress_and_completion(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        no = await _open_unassigned(client)
        await _acknowledge_and_dispatch(app, client, no)
        await _engineer_sees_own_only(client, no)
        await _respond_pause_resume(client, no)
        await _log_work_and_complete(app, client, no)
        await _closed_log_and_reopen(app, client, no)


async def _open_unassigned(client: Any) -> str:
    """A new ticket, nobody assigned yet."""
    r = await client.post(
        "/tickets", json=body(customer_name="苏州客户", urgency="normal"), headers=AGENT
    )
    no = r.json()["ticket_no"]
    # nobody assigned yet: completing is refused, engineers cannot see it
    r = await client.post(
        f"/tickets/{no}/complete",
        headers=SUP,
        json={
            "document": "repair_sheet",
            "confirmed_by": "赵工",
            "confirmed_at": utcnow().isoformat(),
            "method": "signature",
        },
    )
    assert r.status_code == 409 and "unassigned" in r.json()["detail"]
    assert (await client.get(f"/tickets/{no}", headers=ENG)).status_code == 404
    return no


async def _acknowledge_and_dispatch(app: Any, client: Any, no: str) -> None:
    """Acknowledge once; only a supervisor dispatches; a reassignment needs a reason."""
    assert (await client.post(f"/tickets/{no}/acknowledge", headers=AGENT)).json()[
        "status"
    ] == "acknowledged"
    assert (await client.post(f"/tickets/{no}/acknowledge", headers=AGENT)).status_code == 409
    assert (
        await client.post(f"/tickets/{no}/assign", headers=AGENT, json={"assignee_id": "eng-zhang"})
    ).status_code == 403
    r = await client.post(
        f"/tickets/{no}/assign",
        headers=SUP,
        json={"assignee_id": "eng-wang", "assignee_name": "王工"},
    )
    assert r.status_code == 200 and r.json()["status"] == "assigned"
    r = await client.post(f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = await client.post(
        f"/tickets/{no}/assign",
        headers=SUP,
        json={"assignee_id": "eng-zhang", "reason": "王工休假"},
    )
    assert r.status_code == 200 and r.json()["assignee_id"] == "eng-zhang"
    assert [e["assignee_id"] for e in await outbox_events(app, "TicketAssigned.v1", no)] == [
        "eng-wang",
        "eng-zhang",
    ]
    # the first acknowledgement is told once (the first response per channel in the reports),
    # with the deadline its clock had; dispatching afterwards acknowledges nothing again
    [ack] = await outbox_events(app, "TicketAcknowledged.v1", no)
    ticket = (await client.get(f"/tickets/{no}", headers=SUP)).json()
    assert ack["ticket_no"] == no and ack["acknowledged_by"] == "agent-wu"
    assert ack["channel"] == ticket["channel"] and ack["acknowledge_due"] is not None
    assert datetime.fromisoformat(ack["acknowledged_at"]) <= datetime.fromisoformat(
        ack["acknowledge_due"]
    )


async def _engineer_sees_own_only(client: Any, no: str) -> None:
    """The assigned engineer sees the ticket, another engineer does not."""
    assert (await client.get(f"/tickets/{no}", headers=ENG)).status_code == 200
    assert (await client.get(f"/tickets/{no}", headers=OTHER_ENG)).status_code == 404
    mine = (await client.get("/tickets", headers=ENG)).json()
    assert [t["ticket_no"] for t in mine["items"]] == [no]
    assert (
        await client.post(f"/tickets/{no}/respond", headers=OTHER_ENG, json={})
    ).status_code == 404


async def _respond_pause_resume(client: Any, no: str) -> None:
    """First response meets two clocks; waiting for parts pauses them; resuming runs them."""
    r = await client.post(
        f"/tickets/{no}/respond", headers=ENG, json={"note": "已电话联系，约明早上门"}
    )
    clocks = {c["kind"]: c for c in r.json()["clocks"]}
    assert clocks["response"]["state"] == "met" and clocks["acknowledge"]["state"] == "met"
    r = await client.post(
        f"/tickets/{no}/pause",
        headers=ENG,
        json={"reason": "waiting_parts", "note": "主轴轴承缺货"},
    )
    assert r.json()["status"] == "waiting_parts"
    assert {c["kind"]: c["state"] for c in r.json()["clocks"]}["resolution"] == "paused"
    assert (
        await client.post(f"/tickets/{no}/pause", headers=ENG, json={"reason": "waiting_parts"})
    ).status_code == 409
    r = await client.post(f"/tickets/{no}/resume", headers=ENG, json={})
    assert (
        r.json()["status"] == "assigned"
        and {c["kind"]: c["state"] for c in r.json()["clocks"]}["resolution"] == "running"
    )


async def _log_work_and_complete(app: Any, client: Any, no: str) -> None:
    """Parts and a fee on the log; the customer's confirmation completes it (ServiceCompleted)."""
    r = await client.post(
        f"/tickets/{no}/progress",
        headers=ENG,
        json={
            "kind": "parts",
            "text": "更换主轴轴承",
            "visibility": "customer",
            "parts": [{"name": "轴承 6205", "quantity": 2}],
            "fee": {"kind": "travel", "amount": "120.50"},
        },
    )
    assert r.status_code == 201 and r.json()["fee_amount"] == "120.50"
    r = await client.post(
        f"/tickets/{no}/progress",
        headers=ENG,
        json={"kind": "fee", "text": "x", "fee": {"kind": "repair", "amount": "-1"}},
    )
    assert r.status_code == 400
    r = await client.post(
        f"/tickets/{no}/complete",
        headers=ENG,
        json={
            "document": "repair_sheet",
            "confirmed_by": "赵工",
            "confirmed_at": utcnow().isoformat(),
            "method": "signature",
            "fault": {"symptom": "NOISE", "cause_category": "wear", "failed_part": "BEARING"},
        },
    )
    assert r.status_code == 200 and r.json()["status"] == "completed"
    assert all(c["state"] == "met" for c in r.json()["clocks"])
    [done] = await outbox_events(app, "ServiceCompleted.v1", no)
    assert (
        done["confirmed_by"] == "赵工"
        and done["engineer_id"] == "eng-zhang"
        and done["within_sla"] is True
    )


async def _closed_log_and_reopen(app: Any, client: Any, no: str) -> None:
    """Nothing more on a completed ticket's log; the customer's view; reopening."""
    r = await client.post(
        f"/tickets/{no}/progress", headers=ENG, json={"kind": "note", "text": "late"}
    )
    assert r.status_code == 409
    log = (await client.get(f"/tickets/{no}/progress", headers=SUP)).json()
    assert [e["kind"] for e in log][:3] == ["milestone", "dispatch", "dispatch"]
    customer_view = (
        await client.get(f"/tickets/{no}/progress", params={"customer_view": True}, headers=SUP)
    ).json()
    assert all(e["visibility"] == "customer" for e in customer_view) and len(customer_view) < len(
        log
    )

    r = await client.post(
        f"/tickets/{no}/reopen", headers=AGENT, json={"reason": "同样异响再次出现"}
    )
    assert (
        r.status_code == 200
        and r.json()["status"] == "in_progress"
        and r.json()["reopen_count"] == 1
    )
    assert len(await outbox_events(app, "TicketReopened.v1", no)) == 1


async def test_a_dealer_sees_only_its_own_units_and_contracts_at_intake(databases, streams_ready):
    """Dealer A naming dealer B's serial or contract learns nothing: the answer is the one for a
    serial nobody has."""
    app = await tickets_app(databases, streams_ready)
    a_contract, a_serial = f"HT-A-{uid()}", f"SN-A-{uid()}"
    b_contract, b_serial = f"HT-B-{uid()}", f"SN-B-{uid()}"
    dealer_a = auth("dealer", sub="user-a", dealer_id="D-A")
    async with running(app) as client:
        await entitle(app, a_contract, [a_serial], dealer_id="D-A")
        await entitle(app, b_contract, [b_serial], dealer_id="D-B")
        nobody = f"SN-N-{uid()}"

        def same(detail: str, value: str) -> str:
            return detail.replace(value, "<x>")

        for field, theirs, unknown in (
            ("serial_no", b_serial, nobody),
            ("contract_no", b_contract, f"HT-N-{uid()}"),
        ):
            r_theirs = await client.post("/tickets", json=body(**{field: theirs}), headers=dealer_a)
            r_unknown = await client.post(
                "/tickets", json=body(**{field: unknown}), headers=dealer_a
            )
            assert r_theirs.status_code == r_unknown.status_code == 422, (
                r_theirs.text,
                r_unknown.text,
            )
            assert same(r_theirs.json()["detail"], theirs) == same(
                r_unknown.json()["detail"], unknown
            )
        # B's serial together with A's own contract: no "belongs to contract HT-B-…" either
        r = await client.post(
            "/tickets", json=body(b_serial, contract_no=a_contract), headers=dealer_a
        )
        r_unknown = await client.post(
            "/tickets", json=body(nobody, contract_no=a_contract), headers=dealer_a
        )
        assert r.status_code == r_unknown.status_code == 422 and b_contract not in r.text
        assert same(r.json()["detail"], b_serial) == same(r_unknown.json()["detail"], nobody)
        # with the default policy allowed, nothing of B's customer, contract or SLA is copied
        r = await client.post(
            "/tickets",
            json=body(b_serial, use_default_policy=True, customer_name="自报客户"),
            headers=dealer_a,
        )
        assert r.status_code == 201, r.text
        t = r.json()
        assert (
            t["customer_name"] == "自报客户"
            and t["customer_id"] is None
            and t["contract_no"] is None
        )
        assert t["policy"]["source"] == "default" and t["dealer_id"] == "D-A"
        assert "无锡某某设备有限公司" not in r.text and b_contract not in r.text
        # its own unit: the contract's customer and SLA, as for staff
        r = await client.post("/tickets", json=body(a_serial), headers=dealer_a)
        assert r.status_code == 201 and r.json()["contract_no"] == a_contract
        assert r.json()["policy"]["source"] == f"contract {a_contract}"
        # staff see every dealer's units
        r = await client.post("/tickets", json=body(b_serial), headers=AGENT)
        assert r.status_code == 201 and r.json()["contract_no"] == b_contract


async def test_a_partner_finds_its_ticket_by_its_own_reference_and_only_its_own(
    databases, streams_ready
):
    from aftersales_shared.events import Envelope, TicketRequestedV1
    from aftersales_testing.support import runtime_of

    app = await tickets_app(databases, streams_ready)
    ref = f"ERP-{uid()}"
    data = TicketRequestedV1(
        external_ref=ref,
        channel="partner-call-centre-east",
        request_type="quality_issue",
        urgency="urgent",
        description="主轴异响",
        customer_name="无锡某某设备有限公司",
        contact={"name": "赵工", "phone": "13912345678"},
    )
    rt = runtime_of(app)
    assert await rt.inbox.handle(
        rt.inbox.subscriptions["tickets-partners-ticket_requested-v1"],
        Envelope(data=data, source="/partners/erp-east"),
    )
    async with running(app) as client:
        east = auth("partner", sub="partner-call-centre-east")
        r = await client.get("/tickets", params={"external_ref": ref}, headers=east)
        assert r.status_code == 200, r.text
        [ticket] = r.json()["items"]
        assert ticket["external_ref"] == ref and ticket["channel"] == "partner-call-centre-east"
        west = auth("partner", sub="partner-call-centre-west")
        r = await client.get(
            "/tickets",
            params={"external_ref": ref, "channel": "partner-call-centre-east"},
            headers=west,
        )
        assert (
            r.status_code == 200 and r.json()["items"] == []
        )  # another partner's tickets are not its to read
        r = await client.get("/tickets", params={"external_ref": ref}, headers=AGENT)
        assert [t["ticket_no"] for t in r.json()["items"]] == [ticket["ticket_no"]]


async def test_the_board_filters_type_unassigned_and_orders_by_the_next_deadline(
    databases, streams_ready, clock
):
    """What the console's board asks for: a request type, nobody assigned yet, the next running
    deadline first; a paused clock says how much working time it has used."""
    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:

        async def opened(**kw: Any) -> str:
            r = await client.post(
                "/tickets", json=body(customer_name="苏州某某", **kw), headers=AGENT
            )
            assert r.status_code == 201, r.text
            return r.json()["ticket_no"]

        normal = await opened(urgency="normal", request_type="usage_question")
        critical = await opened(urgency="critical")
        taken = await opened(urgency="urgent")
        assign = {"assignee_id": "eng-zhang", "assignee_name": "张工"}
        assert (await client.post(f"/tickets/{taken}/assign", json=assign, headers=SUP)).is_success

        async def listed(**params: Any) -> list[str]:
            r = await client.get("/tickets", params={"open_only": True, **params}, headers=SUP)
            assert r.status_code == 200, r.text
            return [t["ticket_no"] for t in r.json()["items"]]

        assert await listed(request_type="usage_question") == [normal]
        assert set(await listed(unassigned=True)) == {normal, critical}
        by_deadline = await listed(order="deadline", request_type="quality_issue")
        assert by_deadline[0] == critical  # the shortest response target comes first
        assert set(by_deadline) == {critical, taken}
        bad = await client.get("/tickets", params={"order": "random"}, headers=SUP)
        assert bad.status_code == 400

        pause = {"reason": "waiting_customer"}
        r = await client.post(f"/tickets/{taken}/pause", json=pause, headers=ENG)
        assert r.status_code == 200, r.text
        clocks = {c["kind"]: c for c in r.json()["clocks"]}
        assert clocks["resolution"]["state"] == "paused"
        assert clocks["resolution"]["deadline"] is None
        assert clocks["resolution"]["running_since"] is None
        assert 0 <= clocks["resolution"]["elapsed_minutes"] <= 1  # Friday's last minute at most


async def test_pages_by_next_deadline_join_up_and_tickets_without_a_running_clock_come_last(
    databases, streams_ready, clock
):
    """The board's order page by page (the nearest running deadlines walked through their index)
    is the order computed from the tickets' own clocks: earliest running deadline first, ties by
    opening, tickets whose clocks all stand still last by opening."""
    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        opened = []
        for i, urgency in enumerate(["normal", "critical", "urgent", "normal", "critical"] * 2):
            r = await client.post(
                "/tickets",
                json=body(customer_name=f"排序客户{i}", urgency=urgency),
                headers=AGENT,
            )
            assert r.status_code == 201, r.text
            opened.append(r.json()["ticket_no"])
        for no in opened[1:4]:  # three assigned and paused: no running resolution clock
            assign = {"assignee_id": "eng-zhang", "assignee_name": "张工"}
            assert (await client.post(f"/tickets/{no}/assign", json=assign, headers=SUP)).is_success
            r = await client.post(
                f"/tickets/{no}/pause", json={"reason": "waiting_customer"}, headers=ENG
            )
            assert r.status_code == 200, r.text
        r = await client.get("/tickets", params={"limit": 100}, headers=SUP)
        tickets = r.json()["items"]
        assert len(tickets) == 10

        def key(t: dict[str, Any]) -> tuple[Any, ...]:
            running_deadlines = [
                c["deadline"] for c in t["clocks"] if c["state"] == "running" and c["deadline"]
            ]
            nearest = min(running_deadlines) if running_deadlines else None
            return (nearest is None, nearest or "", t["opened_at"], t["ticket_no"])

        expected = [t["ticket_no"] for t in sorted(tickets, key=key)]
        assert any(key(t)[0] for t in tickets)  # some have no running clock at all
        for size in (1, 3, 4, 10):
            pages: list[str] = []
            for offset in range(0, 12, size):
                r = await client.get(
                    "/tickets",
                    params={
                        "order": "deadline",
                        "limit": size,
                        "offset": offset,
                    },
                    headers=SUP,
                )
                assert r.status_code == 200 and r.json()["total"] == 10, r.text
                pages += [t["ticket_no"] for t in r.json()["items"]]
            assert pages == expected, size
