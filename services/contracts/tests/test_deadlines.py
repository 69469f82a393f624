"""Deadlines: a missed archive fires ContractArchiveOverdue exactly once, also across restarts;
orders' clocks.

Every test starts at a named moment (aftersales_testing/clock.py) and compares with deadlines
computed by hand."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta

import pytest
from contracts_flow import (
    ALL_ITEMS,
    ASSISTANT,
    DELIVERY,
    ENGINEER,
    REP,
    Watcher,
    app_on,
    fake_scheduler,
    fire_until_done,
    ok,
    signed_contract,
)
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from aftersales_shared.db import outbox, scheduled_jobs, utcnow
from aftersales_shared.scheduler import job_status
from aftersales_testing.clock import SH
from aftersales_testing.support import migrated, running, runtime_of
from contracts.usecases.archiving import ARCHIVE_JOB
from contracts.usecases.installation import BOOKING_JOB
from contracts.usecases.receipt import OBJECTION_JOB
from contracts.usecases.shipping import NOTICE_JOB

pytestmark = pytest.mark.deadlines

# signed at the moment → close of business (18:00 in Shanghai) of the third working day after that
# day
ARCHIVE_DUE = [
    (
        "sunday-evening",
        datetime(2026, 12, 2, 18, 0, tzinfo=SH),
        False,
    ),  # Mon, Tue, Wed — under 3 calendar days
    ("friday-close", datetime(2026, 12, 2, 18, 0, tzinfo=SH), False),  # the weekend does not count
    (
        "holiday-eve",
        datetime(2026, 2, 26, 18, 0, tzinfo=SH),
        False,
    ),  # 15-23 Feb off: 24, 25, 26 Feb
    ("spring-festival-eve", datetime(2026, 2, 26, 18, 0, tzinfo=SH), False),
    (
        "make-up-saturday",
        datetime(2026, 3, 4, 18, 0, tzinfo=SH),
        False,
    ),  # Sunday 1 March off: 2, 3, 4 March
    (
        "year-end",
        datetime(2027, 1, 6, 18, 0, tzinfo=SH),
        True,
    ),  # 1 Jan holiday, weekend: 4, 5, 6 Jan 2027, no table yet
    (
        "november-first",
        datetime(2026, 11, 4, 18, 0, tzinfo=SH),
        False,
    ),  # Sunday 00:00: 2, 3, 4 November
]


async def _outbox_types(app, subject: str) -> list[str]:  # type: ignore[no-untyped-def]
    async with runtime_of(app).sessions() as s:
        rows = (await s.execute(select(outbox.c.headers, outbox.c.subject))).all()
    return [r.subject for r in rows if f'"ce-subject": "{subject}"' in r.headers]


@pytest.mark.parametrize(
    ("moment", "expected_due", "provisional"), ARCHIVE_DUE, ids=[m for m, *_ in ARCHIVE_DUE]
)
async def test_missed_archive_fires_once_across_restarts(
    databases, streams_ready, clock, moment, expected_due, provisional
):
    url = await migrated(databases, "contracts")
    clock.at(moment)
    first = app_on(url, streams_ready)
    async with running(first) as c:
        contract = await signed_contract(c)
    no = contract["contract_no"]
    due = datetime.fromisoformat(contract["archive_due_at"])
    assert due == expected_due  # three working days, closing at close of business
    assert contract["archive_due_provisional"] is provisional

    # second instance, after the deadline: fires once and the event reaches an outside subscriber
    second = app_on(url, streams_ready)
    async with (
        running(second) as c,
        Watcher(streams_ready, "contracts.contract_archive_overdue.v1") as watch,
    ):
        assert await fake_scheduler(second, due - timedelta(minutes=1)).run_due() == 0
        await fire_until_done(second, ARCHIVE_JOB, f"{no}/v1", due + timedelta(minutes=1))
        assert await fake_scheduler(second, due + timedelta(days=1)).run_due() == 0
        [event] = await watch.collect(no, settle=1.0)
        assert (
            event["due_at"].startswith(due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
            and event["sales_rep"] == "rep-li"
        )
        shown = ok(await c.get(f"/contracts/{no}", headers=REP))
        assert shown["archive_overdue_at"] is not None and shown["status"] == "signed"

    # third instance (another restart): nothing fires again
    third = app_on(url, streams_ready)
    async with running(third) as c:
        assert await fake_scheduler(third, due + timedelta(days=30)).run_due() == 0
        assert (await _outbox_types(third, no)).count("contracts.contract_archive_overdue.v1") == 1
        # archiving after the overdue event still works (on_time compares the real clock with the
        # due time)
        archived = ok(
            await c.post(f"/contracts/{no}/archive", json={"items": ALL_ITEMS}, headers=ASSISTANT)
        )
        assert archived["status"] == "archived"
        async with runtime_of(third).sessions() as s:
            assert await job_status(s, ARCHIVE_JOB, f"{no}/v1") == "done"


async def test_archiving_in_time_cancels_the_deadline(databases, streams_ready, clock):
    clock.at("sunday-evening")
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        contract = await signed_contract(c)
        no = contract["contract_no"]
        assert datetime.fromisoformat(contract["archive_due_at"]) == datetime(
            2026, 12, 2, 18, 0, tzinfo=SH
        )
        archived = ok(
            await c.post(f"/contracts/{no}/archive", json={"items": ALL_ITEMS}, headers=ASSISTANT)
        )
        assert archived["archived_on_time"] is True
        due = datetime.fromisoformat(contract["archive_due_at"])
        assert await fake_scheduler(app, due + timedelta(days=1)).run_due() == 0
        async with runtime_of(app).sessions() as s:
            assert await job_status(s, ARCHIVE_JOB, f"{no}/v1") == "cancelled"
        assert "contracts.contract_archive_overdue.v1" not in await _outbox_types(app, no)


async def test_order_delivery_receipt_installation_training(databases, streams_ready, clock):
    start = clock.at("friday-close")  # Friday 27 November 2026, 17:59 in Shanghai
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        contract = await signed_contract(c)
        no = contract["contract_no"]
        r = await c.post(
            "/orders",
            json={
                "contract_no": no,
                "delivery_place": "苏州",
                "lines": [{"model": "XK-200", "quantity": 3}],
            },
            headers=REP,
        )
        assert r.status_code == 422 and "超过合同数量" in r.json()["detail"]
        order = ok(
            await c.post(
                "/orders",
                json={"contract_no": no, "delivery_place": "苏州工业园区星湖街 1 号"},
                headers=REP,
            ),
            201,
        )
        order_no = order["order_no"]
        assert (
            order["lines"] == [{"model": "XK-200", "quantity": 2}]
            and order["entered_on_time"] is True
        )

        # shipping at least 24 h ahead; the notice goes out at ships_at − 24 h, once
        r = await c.post(
            f"/orders/{order_no}/shipping",
            json={"ships_at": (utcnow() + timedelta(hours=20)).isoformat()},
            headers=DELIVERY,
        )
        assert r.status_code == 422 and "24" in r.json()["detail"]
        assert (
            await c.post(
                f"/orders/{order_no}/shipping",
                json={"ships_at": "2099-01-01T00:00:00Z"},
                headers=REP,
            )
        ).status_code == 403
        ships_at = (utcnow() + timedelta(hours=25)).replace(microsecond=0)  # Saturday 18:59
        shipped = ok(
            await c.post(
                f"/orders/{order_no}/shipping",
                json={"ships_at": ships_at.isoformat()},
                headers=DELIVERY,
            )
        )
        assert datetime.fromisoformat(shipped["notice_due_at"]) == ships_at - timedelta(hours=24)
        async with Watcher(streams_ready, "contracts.delivery_notice.v1") as watch:
            assert await fake_scheduler(app, ships_at - timedelta(hours=25)).run_due() == 0
            await fire_until_done(
                app, NOTICE_JOB, order_no, ships_at - timedelta(hours=23, minutes=59)
            )
            [notice] = await watch.collect(no, settle=0.5)
        assert (
            notice["order_no"] == order_no
            and notice["items"] == ["XK-200 × 2"]
            and notice["contacts"][0]["name"] == "王建国"
        )
        r = await c.post(
            f"/orders/{order_no}/shipping",
            json={"ships_at": (ships_at + timedelta(days=1)).isoformat()},
            headers=DELIVERY,
        )
        assert r.status_code == 409

        # a receipt dated before the goods ship is refused, naming the shipping time
        r = await c.post(
            f"/orders/{order_no}/receipt",
            json={
                "received_at": utcnow().isoformat(),
                "signed_by": "王建国",
                "quantity_ok": True,
                "model_ok": True,
                "appearance_ok": True,
            },
            headers=DELIVERY,
        )
        assert r.status_code == 422 and "早于发货时间" in r.json()["detail"], r.text
        assert datetime.fromisoformat(r.json()["ships_at"]) == ships_at
        assert ok(await c.get(f"/orders/{order_no}", headers=DELIVERY))["status"] == "scheduled"

        # receipt with an objection: 2 h to answer; installation booking due in 2 working days
        clock.at(ships_at + timedelta(hours=1))  # the goods shipped and arrived an hour later
        received_at = utcnow()
        r = await c.post(
            f"/orders/{order_no}/receipt",
            json={
                "received_at": received_at.isoformat(),
                "signed_by": "王建国",
                "quantity_ok": True,
                "model_ok": True,
                "appearance_ok": False,
            },
            headers=DELIVERY,
        )
        assert r.status_code == 422 and "异议" in r.json()["detail"]
        got = ok(
            await c.post(
                f"/orders/{order_no}/receipt",
                json={
                    "received_at": received_at.isoformat(),
                    "signed_by": "王建国",
                    "quantity_ok": True,
                    "model_ok": True,
                    "appearance_ok": False,
                    "objections": ["外包装破损", "缺少说明书"],
                },
                headers=DELIVERY,
            )
        )
        assert [o["objection_no"] for o in got["objections"]] == [1, 2]
        assert datetime.fromisoformat(
            got["objections"][0]["answer_due_at"]
        ) == received_at + timedelta(hours=2)
        booking_due = datetime.fromisoformat(got["booking_due_at"])
        assert received_at.astimezone(SH).date() == start.date() + timedelta(days=1)
        assert booking_due == datetime(
            2026, 12, 1, 18, 0, tzinfo=SH
        )  # Saturday's receipt: Monday, Tuesday
        ok(
            await c.post(
                f"/orders/{order_no}/objections/1/answer",
                json={"answer": "已安排更换包装并补发"},
                headers=DELIVERY,
            )
        )
        assert (
            await c.post(
                f"/orders/{order_no}/objections/1/answer", json={"answer": "x"}, headers=DELIVERY
            )
        ).status_code == 409
        async with Watcher(streams_ready, "contracts.objection_answer_overdue.v1") as watch:
            await fire_until_done(
                app, OBJECTION_JOB, f"{order_no}/2", received_at + timedelta(hours=2, minutes=1)
            )
            [overdue] = await watch.collect(
                no, settle=1.0
            )  # only no. 2: no. 1 was answered in time
        assert overdue["objection_no"] == 2
        late = ok(
            await c.post(
                f"/orders/{order_no}/objections/2/answer",
                json={"answer": "说明书已电邮"},
                headers=REP,
            )
        )
        assert [o["overdue_at"] is not None for o in late["objections"]] == [False, True]
        assert all(o["answered_by"] for o in late["objections"])

        # booking: the date is confirmed at least 3 days ahead; booking in time cancels the deadline
        r = await c.post(
            f"/orders/{order_no}/installation/booking",
            json={"scheduled_for": (utcnow() + timedelta(days=1)).isoformat(), "engineer": "马工"},
            headers=ENGINEER,
        )
        assert r.status_code == 422 and "3天" in r.json()["detail"]
        booked = ok(
            await c.post(
                f"/orders/{order_no}/installation/booking",
                json={
                    "scheduled_for": (utcnow() + timedelta(days=4)).isoformat(),
                    "engineer": "马工",
                },
                headers=ENGINEER,
            )
        )
        assert booked["status"] == "installation_booked" and booked["booked_on_time"] is True

        # a day past the booking deadline (Wednesday 18:00) nothing about the booking fires; the
        # contract's own archive deadline (signed Friday 17:59: Wednesday 2 December 18:00) falls
        # due then and fires
        async def done_jobs() -> set[tuple[str, str]]:
            async with runtime_of(app).sessions() as s:
                return set(
                    (
                        await s.execute(
                            select(scheduled_jobs.c.kind, scheduled_jobs.c.key).where(
                                scheduled_jobs.c.status == "done"
                            )
                        )
                    ).all()
                )

        before = await done_jobs()
        await fake_scheduler(app, booking_due + timedelta(days=1)).run_due()
        assert {kind for kind, _ in await done_jobs() - before} == {ARCHIVE_JOB}
        async with runtime_of(app).sessions() as s:
            assert await job_status(s, BOOKING_JOB, order_no) == "cancelled"
            assert await job_status(s, NOTICE_JOB, order_no) == "done"

        # acceptance and training
        today = datetime.now(SH).date().isoformat()
        failed = ok(
            await c.post(
                f"/orders/{order_no}/installation/acceptance",
                json={
                    "accepted_on": today,
                    "equipment_state": "主轴异响",
                    "accepted_by": "王建国",
                    "passed": False,
                },
                headers=ENGINEER,
            )
        )
        assert failed["status"] == "installation_booked"
        done = ok(
            await c.post(
                f"/orders/{order_no}/installation/acceptance",
                json={
                    "accepted_on": today,
                    "equipment_state": "运行正常",
                    "customer_remarks": "满意",
                    "accepted_by": "王建国",
                },
                headers=ENGINEER,
            )
        )
        assert done["status"] == "installed" and [a["passed"] for a in done["acceptance"]] == [
            False,
            True,
        ]
        r = await c.post(
            f"/orders/{order_no}/trainings",
            json={
                "held_at": (utcnow() + timedelta(hours=1)).isoformat(),
                "trainer": "马工",
                "topics": ["操作"],
                "attendees": [{"name": "小王"}],
            },
            headers=ENGINEER,
        )
        assert r.status_code == 422
        trained = ok(
            await c.post(
                f"/orders/{order_no}/trainings",
                json={
                    "held_at": utcnow().isoformat(),
                    "trainer": "马工",
                    "topics": ["日常操作", "保养"],
                    "attendees": [
                        {"name": "小王", "role": "操作工"},
                        {"name": "小李", "role": "设备员"},
                    ],
                },
                headers=ENGINEER,
            ),
            201,
        )
        assert len(trained["trainings"]) == 1 and len(trained["trainings"][0]["attendees"]) == 2
        await _training_follow_up(app, c, order_no, trained["trainings"][0])
        listed = ok(
            await c.get(
                "/orders", params={"contract_no": no, "status": "installed"}, headers=ENGINEER
            )
        )
        assert [o["order_no"] for o in listed["items"]] == [order_no]
        history = ok(
            await c.get(
                "/audit", params={"entity": "order", "key": order_no}, headers=auth_manager()
            )
        )
        assert [h["action"] for h in history["items"]][:3] == [
            "entered",
            "shipping_scheduled",
            "delivery_notice_sent",
        ]


async def _training_follow_up(app, c, order_no: str, trained: dict) -> None:  # type: ignore[no-untyped-def]
    """培训后3个工作日内回访: held Friday evening → due Wednesday 18:00; a call not reaching the
    customer keeps it open; the due time passing makes it overdue once; the call that reaches the
    customer ends it (TrainingFollowUpRecorded), and nothing more is recorded after."""
    due = datetime(2026, 12, 2, 18, 0, tzinfo=SH)  # Mon, Tue, Wed: the weekend does not count
    assert datetime.fromisoformat(trained["follow_up_due_at"]) == due
    calls = f"/orders/{order_no}/trainings/{trained['id']}/follow-up-calls"
    assert (await c.post(calls, json={"outcome": "mastered"}, headers=REP)).status_code == 403
    r = await c.post(
        f"/orders/{order_no}/trainings/999999/follow-up-calls",
        json={"outcome": "mastered"},
        headers=DELIVERY,
    )
    assert r.status_code == 404
    r = await c.post(calls, json={"outcome": "needs_retraining"}, headers=DELIVERY)
    assert r.status_code == 422 and "note" in r.json()["detail"]
    missed = ok(await c.post(calls, json={"outcome": "not_reached"}, headers=DELIVERY))
    assert missed["follow_up_outcome"] is None and len(missed["follow_up_calls"]) == 1

    async def events(kind: str) -> list[str]:
        return [t for t in await _outbox_types(app, order_no) if t == kind]

    overdue = "contracts.training_follow_up_overdue.v1"
    await fake_scheduler(app, due - timedelta(minutes=1)).run_due()
    assert await events(overdue) == []
    await fake_scheduler(app, due + timedelta(minutes=1)).run_due()
    await fake_scheduler(app, due + timedelta(hours=2)).run_due()
    assert len(await events(overdue)) == 1  # once
    late = ok(await c.get("/training-follow-ups", params={"overdue": "true"}, headers=DELIVERY))
    assert [t["id"] for t in late["items"]] == [trained["id"]]

    said = {"outcome": "needs_retraining", "note": "换刀程序仍不熟练"}
    ended = ok(await c.post(calls, json=said, headers=DELIVERY))
    assert ended["follow_up_outcome"] == "needs_retraining" and ended["follow_up_by"] == "dlv-zhou"
    assert await events("contracts.training_follow_up_recorded.v1") == [
        "contracts.training_follow_up_recorded.v1"
    ]
    r = await c.post(calls, json={"outcome": "mastered"}, headers=DELIVERY)
    assert r.status_code == 409
    still_open = ok(await c.get("/training-follow-ups", params={"open": "true"}, headers=DELIVERY))
    assert trained["id"] not in [t["id"] for t in still_open["items"]]


async def test_booking_missed_fires_once(databases, streams_ready, clock):
    start = clock.at(
        "holiday-eve"
    )  # Saturday 14 February 2026 17:59, a 调休 working day before the Spring Festival
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        contract = await signed_contract(c)
        order_no = ok(
            await c.post(
                "/orders",
                json={"contract_no": contract["contract_no"], "delivery_place": "苏州"},
                headers=REP,
            ),
            201,
        )["order_no"]
        ok(
            await c.post(
                f"/orders/{order_no}/shipping",
                json={"ships_at": (utcnow() + timedelta(days=2)).isoformat()},
                headers=DELIVERY,
            )
        )
        got = ok(
            await c.post(
                f"/orders/{order_no}/receipt",
                json={
                    "received_at": (utcnow() + timedelta(days=2, minutes=1)).isoformat(),
                    "signed_by": "王",
                    "quantity_ok": True,
                    "model_ok": True,
                    "appearance_ok": True,
                },
                headers=DELIVERY,
            ),
            422,
        )
        assert "future" in got["detail"]
    # receipt recorded through the use case with a clock after shipping
    from aftersales_shared.auth import Principal, Role
    from contracts.usecases import receipt

    rt = runtime_of(app)
    shipped = start + timedelta(days=2)  # Monday 16 February, inside the holiday
    async with rt.sessions.begin() as s:
        row = await receipt.record_receipt(
            s,
            order_no,
            receipt.Receipt(
                received_at=shipped + timedelta(hours=5),
                signed_by="王",
                quantity_ok=True,
                model_ok=True,
                appearance_ok=True,
            ),
            Principal("dlv", frozenset({Role.DELIVERY})),
            shipped + timedelta(hours=6),
        )
        due = row.booking_due_at
    assert due == datetime(
        2026, 2, 25, 18, 0, tzinfo=SH
    )  # received on the 16th: 24 and 25 February
    app2 = app_on(rt.settings.database_url, streams_ready)
    async with (
        running(app2),
        Watcher(streams_ready, "contracts.installation_booking_overdue.v1") as watch,
    ):
        # the earlier deadline (the stale delivery notice that sends nothing) fires first; booking
        # is still pending
        with suppress(OperationalError):  # SQLite's single writer: whatever failed is retried below
            await fake_scheduler(app2, due - timedelta(minutes=1)).run_due()
        async with runtime_of(app2).sessions() as s:
            assert await job_status(s, BOOKING_JOB, order_no) == "pending"
        await fire_until_done(app2, BOOKING_JOB, order_no, due + timedelta(minutes=1))
        [event] = await watch.collect(contract["contract_no"], settle=1.0)
        # nine days on only the archive deadline (26 February 18:00) is left to fire, and the
        # booking's never again
        with suppress(OperationalError):
            await fake_scheduler(app2, due + timedelta(days=9)).run_due()
        assert await fake_scheduler(app2, due + timedelta(days=9)).run_due() == 0
        async with runtime_of(app2).sessions() as s:
            subjects = (await s.execute(select(outbox.c.subject))).scalars().all()
        assert subjects.count("contracts.installation_booking_overdue.v1") == 1
    assert event["order_no"] == order_no
    assert datetime.fromisoformat(event["due_at"]) == due


def auth_manager():  # type: ignore[no-untyped-def]
    from contracts_flow import MANAGER

    return MANAGER
