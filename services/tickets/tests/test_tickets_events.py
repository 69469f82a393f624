"""Tickets as a consumer: partner TicketRequested, low survey scores → follow-ups, return visits
that find the problem persists → the work reopened."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select
from tickets_helpers import entitle, outbox_events, tickets_app

from aftersales_shared.events import (
    Contact,
    Envelope,
    ReturnVisitRecordedV1,
    SurveyAnsweredV1,
    TicketRequestedV1,
)
from aftersales_testing import natsaccess
from aftersales_testing.support import auth, publish, running, runtime_of, wait_until
from tickets.models import TicketRow

SUP = auth("service_supervisor")


async def _tickets_where(app, *where):
    async with runtime_of(app).sessions() as s:
        return (await s.scalars(select(TicketRow).where(*where))).all()


async def test_partner_ticket_requested_opens_one_ticket_and_bad_ones_are_dead_lettered(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    ref = f"CC-{uuid.uuid4().hex[:8]}"
    req = TicketRequestedV1(
        external_ref=ref,
        channel="phone",
        request_type="quality_issue",
        urgency="urgent",
        description="设备无法启动",
        customer_name="呼叫中心客户",
        contact=Contact(name="钱工", phone="13600000000"),
        serial_no=f"UNKNOWN-{ref}",
    )
    env = Envelope(data=req, source="/partners/call-centre")
    async with running(app) as client:
        await publish(streams_ready, env)
        await publish(
            streams_ready, Envelope(data=req, source="/partners/call-centre")
        )  # re-sent with a new id
        nc = await natsaccess.connect(streams_ready)
        await nc.jetstream().publish(
            req.subject(),
            b'{"external_ref": "x"}',
            headers={k: v for k, v in env.headers().items() if k != "Nats-Msg-Id"}
            | {"ce-id": f"bad-{ref}"},
        )
        await nc.close()

        async def one():
            rows = await _tickets_where(app, TicketRow.external_ref == ref)
            return rows if rows else None

        [ticket] = await wait_until(one, what="partner ticket")
        assert (
            ticket.channel == "phone"
            and ticket.policy["source"] == "default"
            and ticket.opened_by.startswith("partner:")
        )

        async def dead():
            r = await client.get(
                "/admin/dead-letters",
                params={"consumer": "tickets-partners-ticket_requested-v1"},
                headers=auth("admin"),
            )
            items = [i for i in r.json()["items"] if i["event_id"] == f"bad-{ref}"]
            return items or None

        [item] = await wait_until(dead, what="malformed TicketRequested dead-lettered")
        assert item["reason"] == "malformed" and "customer_name" in item["error"]
        async with runtime_of(app).sessions() as s:
            assert (
                await s.scalar(
                    select(func.count()).select_from(TicketRow).where(TicketRow.external_ref == ref)
                )
                == 1
            )


async def test_low_survey_score_opens_a_linked_follow_up_once(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        await entitle(app, f"HT-{uuid.uuid4().hex[:6]}", [sn := f"SN-{uuid.uuid4().hex[:6]}"])
        r = await client.post(
            "/tickets",
            headers=auth("service_agent"),
            json={
                "channel": "phone",
                "request_type": "quality_issue",
                "description": "异响",
                "contact": {"name": "赵工", "phone": "13912345678"},
                "serial_no": sn,
            },
        )
        original = r.json()
        survey = f"sv-{uuid.uuid4().hex[:8]}"

        def answered(score: int, low: bool) -> Envelope:
            return Envelope(
                source="/aftersales/surveys",
                data=SurveyAnsweredV1(
                    survey_id=survey,
                    ticket_id=original["id"],
                    ticket_no=original["ticket_no"],
                    answered_at="2026-11-25T02:00:00Z",
                    efficiency=score,
                    attitude=4,
                    professionalism=3,
                    comment="上门太慢",
                    low_score=low,
                    customer_id=original["customer_id"],
                ),
            )

        await publish(streams_ready, answered(1, True))
        await publish(
            streams_ready, answered(1, True)
        )  # the same answer published twice with new ids

        async def follow_up():
            rows = await _tickets_where(app, TicketRow.parent_ticket_id == original["id"])
            return rows or None

        [fu] = await wait_until(follow_up, what="follow-up ticket")
        assert fu.request_type == "complaint" and fu.survey_id == survey and fu.serial_no == sn
        assert "效率1" in fu.description and "上门太慢" in fu.description
        [event] = await outbox_events(app, "FollowUpOpened.v1")
        assert event["original_ticket_id"] == original["id"]

        fine = Envelope(
            source="/aftersales/surveys",
            data=SurveyAnsweredV1(
                survey_id=f"sv-{uuid.uuid4().hex[:8]}",
                ticket_id=original["id"],
                ticket_no=original["ticket_no"],
                answered_at="2026-11-25T02:00:00Z",
                efficiency=5,
                attitude=5,
                professionalism=5,
                low_score=False,
            ),
        )
        await publish(streams_ready, fine)
        await publish(streams_ready, answered(1, True))  # a marker behind the good score
        await wait_until(lambda: _handled(app, fine.id), what="good score handled")
        assert len(await _tickets_where(app, TicketRow.parent_ticket_id == original["id"])) == 1
        assert json.loads(json.dumps(event))


async def test_a_follow_up_comes_in_on_the_channel_the_answer_did(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        await entitle(app, f"HT-{uuid.uuid4().hex[:6]}", [sn := f"SN-{uuid.uuid4().hex[:6]}"])
        r = await client.post(
            "/tickets",
            headers=auth("service_agent"),
            json={
                "channel": "email",  # neither answer's channel: the follow-up does not copy it
                "request_type": "quality_issue",
                "description": "异响",
                "contact": {"name": "赵工", "phone": "13912345678"},
                "serial_no": sn,
            },
        )
        original = r.json()
        expected = {  # survey → the follow-up's channel
            "phone": "phone",  # answered on the phone (surveys says so)
            "web": "web_form",  # answered on the survey page
            "old-phone": "phone",  # an event from before answered_via: the agent who recorded it
            "old-web": "web_form",  # neither field: the survey page, as before
        }
        fields = {
            "phone": {"answered_via": "phone", "recorded_by_agent": "agent-007"},
            "web": {"answered_via": "web"},
            "old-phone": {"recorded_by_agent": "agent-008"},
            "old-web": {},
        }
        ref = uuid.uuid4().hex[:8]
        for kind, extra in fields.items():
            await publish(
                streams_ready,
                Envelope(
                    source="/aftersales/surveys",
                    data=SurveyAnsweredV1(
                        survey_id=f"sv-{ref}-{kind}",
                        ticket_id=original["id"],
                        ticket_no=original["ticket_no"],
                        answered_at="2026-11-25T02:00:00Z",
                        efficiency=1,
                        attitude=2,
                        professionalism=2,
                        low_score=True,
                        customer_id=original["customer_id"],
                        channel="email",
                        **extra,
                    ),
                ),
            )

        async def follow_ups():
            rows = await _tickets_where(app, TicketRow.parent_ticket_id == original["id"])
            return rows if len(rows) == len(expected) else None

        rows = await wait_until(follow_ups, what="four follow-up tickets")
        seen = {}
        for row in rows:
            r = await client.get(f"/tickets/{row.ticket_no}", headers=SUP)
            assert r.status_code == 200, r.text
            seen[row.survey_id.removeprefix(f"sv-{ref}-")] = r.json()["channel"]
        assert seen == expected


async def _handled(app, event_id: str) -> bool:
    from aftersales_shared.db import inbox

    async with runtime_of(app).sessions() as s:
        return bool(
            await s.scalar(
                select(func.count()).select_from(inbox).where(inbox.c.event_id == event_id)
            )
        )


async def _completed_ticket(app, client) -> dict:
    await entitle(app, f"HT-{uuid.uuid4().hex[:6]}", [sn := f"SN-{uuid.uuid4().hex[:6]}"])
    r = await client.post(
        "/tickets",
        headers=auth("service_agent"),
        json={
            "channel": "phone",
            "request_type": "maintenance",
            "urgency": "critical",
            "description": "主轴异响",
            "contact": {"name": "赵工", "phone": "13912345678"},
            "serial_no": sn,
        },
    )
    ticket = r.json()
    no = ticket["ticket_no"]
    assign = {"assignee_id": "eng-li", "assignee_name": "李工"}
    assert (await client.post(f"/tickets/{no}/assign", json=assign, headers=SUP)).status_code < 300
    done = {
        "document": "repair_sheet",
        "confirmed_by": "赵工",
        "confirmed_at": ticket["opened_at"],
        "method": "signature",
    }
    r = await client.post(
        f"/tickets/{no}/complete", json=done, headers=auth("engineer", sub="eng-li")
    )
    assert r.status_code < 300, r.text
    return ticket


def _visited(ticket: dict, outcome: str, note: str | None = None) -> Envelope:
    return Envelope(
        source="/aftersales/surveys",
        subject=ticket["ticket_no"],
        data=ReturnVisitRecordedV1(
            visit_id=f"rv-{uuid.uuid4().hex[:8]}",
            ticket_id=ticket["id"],
            ticket_no=ticket["ticket_no"],
            reason="critical",
            outcome=outcome,
            note=note,
            visited_at="2026-11-25T02:00:00Z",
            visited_by="agent-wang",
            attempts=1,
            on_time=True,
            customer_name="苏州客户",
        ),
    )


async def test_a_return_visit_finding_the_problem_persists_reopens_the_ticket_once(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        ticket = await _completed_ticket(app, client)
        no = ticket["ticket_no"]
        solved = _visited(ticket, "reached")
        await publish(streams_ready, solved)
        await wait_until(lambda: _handled(app, solved.id), what="the solved visit handled")
        assert (await client.get(f"/tickets/{no}", headers=SUP)).json()["status"] == "completed"

        persists = _visited(ticket, "problem_persists", "主轴异响又出现了")
        await publish(streams_ready, persists)
        await publish(streams_ready, persists)  # redelivered: handled once

        async def reopened():
            r = await client.get(f"/tickets/{no}", headers=SUP)
            return r.json() if r.json()["status"] != "completed" else None

        now = await wait_until(reopened, what="the ticket reopened")
        assert now["status"] == "in_progress" and now["reopen_count"] == 1
        [event] = await outbox_events(app, "TicketReopened.v1")
        assert "主轴异响又出现了" in event["reason"]
        assert event["reopened_by"] == "surveys:return-visit"
        # a second visit's finding while the work goes on: noted in the log, not a second reopen
        again = _visited(ticket, "problem_persists", "仍有异响")
        await publish(streams_ready, again)
        await wait_until(lambda: _handled(app, again.id), what="the second finding handled")
        assert (await client.get(f"/tickets/{no}", headers=SUP)).json()["reopen_count"] == 1
        assert len(await outbox_events(app, "TicketReopened.v1")) == 1


async def test_a_persisting_problem_after_the_reopen_window_opens_a_linked_ticket(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready, reopen_window_days=1e-9)
    async with running(app) as client:
        ticket = await _completed_ticket(app, client)
        persists = _visited(ticket, "problem_persists", "液压站漏油")
        await publish(streams_ready, persists)

        async def linked():
            rows = await _tickets_where(app, TicketRow.parent_ticket_id == ticket["id"])
            return rows or None

        [child] = await wait_until(linked, what="a linked ticket")
        assert child.request_type == "maintenance" and "液压站漏油" in child.description
        assert child.serial_no == ticket["serial_no"] and child.status == "new"
        r = await client.get(f"/tickets/{ticket['ticket_no']}", headers=SUP)
        assert r.json()["status"] == "completed"  # the original stays closed
