"""Return visits (回访): who gets one, when it is due on the office calendar, calls and outcomes,
overdue once — over the staff API on a real database, at named moments."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales_shared.events import Envelope
from aftersales_testing.support import auth
from surveys import domain
from surveys.domain import VisitOutcome, VisitReason, VisitStatus

pytestmark = pytest.mark.deadlines

SH = ZoneInfo("Asia/Shanghai")
AGENT, SUP = auth("service_agent"), auth("service_supervisor")


# ---------------------------------------------------------------- rules (no I/O)
def test_critical_tickets_and_complaints_always_get_a_visit_the_others_by_share():
    assert domain.visit_reason("quality_issue", "critical", "SV-1", 0) is VisitReason.CRITICAL
    assert domain.visit_reason("complaint", "normal", "SV-1", 0) is VisitReason.COMPLAINT
    assert domain.visit_reason("quality_issue", "normal", "SV-1", 0) is None
    assert domain.visit_reason("quality_issue", "normal", "SV-1", 100) is VisitReason.SAMPLED
    sampled = [domain.visit_reason("repair", "urgent", f"SV-{i}", 10) for i in range(2000)]
    share = sum(r is VisitReason.SAMPLED for r in sampled) / len(sampled)
    assert 0.07 < share < 0.13  # about the configured 10 %
    # the same ticket is decided the same way every time (a redelivered event)
    assert sampled == [domain.visit_reason("repair", "urgent", f"SV-{i}", 10) for i in range(2000)]


def test_an_unreached_customer_is_called_again_until_the_attempts_run_out():
    assert domain.visit_result(VisitOutcome.NOT_REACHED, 1, 3) is VisitStatus.OPEN
    assert domain.visit_result(VisitOutcome.NOT_REACHED, 3, 3) is VisitStatus.UNREACHABLE
    assert domain.visit_result(VisitOutcome.REACHED, 1, 3) is VisitStatus.DONE
    assert domain.visit_result(VisitOutcome.PROBLEM_PERSISTS, 2, 3) is VisitStatus.DONE


# ---------------------------------------------------------------- over the API
async def _visit(client, ticket_no: str) -> dict:
    r = await client.get("/return-visits", params={"ticket_no": ticket_no}, headers=AGENT)
    assert r.status_code == 200, r.text
    (item,) = r.json()["items"]
    return item


async def test_a_critical_ticket_completed_on_friday_evening_is_visited_by_wednesday(
    make_kit, make_completed, clock
):
    start = clock.at("friday-close")  # Friday 27 November 2026, 17:59 in Shanghai
    kit = await make_kit(return_visit_sample_percent=0)
    async with kit.client() as client:
        env = make_completed(completed_at=start, urgency="critical")
        assert await kit.deliver(env)
        assert not await kit.deliver(env)  # redelivered: handled once
        await kit.deliver(Envelope(data=env.data, source="/tests"))  # another event, same ticket
        visit = await _visit(client, env.data.ticket_no)
        assert visit["reason"] == "critical" and visit["status"] == "open"
        # three working days on the office calendar: by close of business on Wednesday
        assert datetime.fromisoformat(visit["due_at"]) == datetime(2026, 12, 2, 18, 0, tzinfo=SH)
        assert not visit["due_provisional"]

        complaint = make_completed(completed_at=start, request_type="complaint")
        plain = make_completed(completed_at=start, urgency="normal")
        await kit.deliver(complaint)
        await kit.deliver(plain)
        assert (await _visit(client, complaint.data.ticket_no))["reason"] == "complaint"
        r = await client.get(
            "/return-visits", params={"ticket_no": plain.data.ticket_no}, headers=AGENT
        )
        assert r.json()["total"] == 0  # neither critical nor a complaint, none sampled
        listed = await client.get("/return-visits", params={"reason": "critical"}, headers=SUP)
        assert [v["ticket_no"] for v in listed.json()["items"]] == [env.data.ticket_no]
        bad = await client.get("/return-visits", params={"status": "closed"}, headers=SUP)
        assert bad.status_code == 400


async def test_calls_until_the_customer_is_reached_or_given_up(make_kit, make_completed, clock):
    start = clock.at("sunday-evening")
    kit = await make_kit(return_visit_max_attempts=3)
    async with kit.client() as client:
        env = make_completed(completed_at=start - timedelta(hours=2), request_type="complaint")
        await kit.deliver(env)
        visit = await _visit(client, env.data.ticket_no)
        calls = f"/return-visits/{visit['id']}/calls"

        assert (
            await client.post(calls, json={"outcome": "reached"}, headers=auth("engineer"))
        ).status_code == 403
        assert (
            await client.post(calls, json={"outcome": "reached"}, headers=auth("manager"))
        ).status_code == 403
        future = {"outcome": "reached", "called_at": (start + timedelta(hours=1)).isoformat()}
        r = await client.post(calls, json=future, headers=AGENT)
        assert r.status_code == 422 and "future" in r.text
        early = {"outcome": "reached", "called_at": (start - timedelta(hours=3)).isoformat()}
        r = await client.post(calls, json=early, headers=AGENT)
        assert r.status_code == 422 and "before the service was completed" in r.text
        r = await client.post(calls, json={"outcome": "maybe"}, headers=AGENT)
        assert r.status_code == 400

        for n in (1, 2):
            r = await client.post(calls, json={"outcome": "not_reached"}, headers=AGENT)
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "open" and len(r.json()["calls"]) == n
        assert await kit.events("ReturnVisitRecorded", env.data.ticket_no) == []
        r = await client.post(calls, json={"outcome": "not_reached", "note": "关机"}, headers=SUP)
        assert r.json()["status"] == "unreachable" and r.json()["outcome"] == "unreachable"
        (event,) = await kit.events("ReturnVisitRecorded", env.data.ticket_no)
        assert event["outcome"] == "unreachable" and event["attempts"] == 3
        assert event["visited_by"] and event["reason"] == "complaint" and event["on_time"]
        r = await client.post(calls, json={"outcome": "reached"}, headers=AGENT)
        assert r.status_code == 409  # closed: nothing more is recorded
        assert len((await _visit(client, env.data.ticket_no))["calls"]) == 3


async def test_a_persisting_problem_needs_its_description_and_ends_the_visit(
    make_kit, make_completed, clock
):
    start = clock.at("sunday-evening")
    kit = await make_kit()
    async with kit.client() as client:
        env = make_completed(completed_at=start - timedelta(days=1), urgency="critical")
        await kit.deliver(env)
        visit = await _visit(client, env.data.ticket_no)
        calls = f"/return-visits/{visit['id']}/calls"
        r = await client.post(calls, json={"outcome": "problem_persists"}, headers=AGENT)
        assert r.status_code == 422 and "note" in r.text
        assert (await _visit(client, env.data.ticket_no))["calls"] == []  # nothing half-written
        said = {"outcome": "problem_persists", "note": "主轴异响又出现了"}
        r = await client.post(calls, json=said, headers=AGENT)
        assert r.status_code == 200 and r.json()["status"] == "done"
        (event,) = await kit.events("ReturnVisitRecorded", env.data.ticket_no)
        assert event["outcome"] == "problem_persists" and event["note"] == "主轴异响又出现了"
        assert event["ticket_id"] == env.data.ticket_id and event["attempts"] == 1


async def test_a_visit_not_ended_by_its_due_time_is_overdue_once(make_kit, make_completed, clock):
    start = clock.at("friday-close")
    kit = await make_kit(invite_delay_minutes=0)
    async with kit.client() as client:
        late = make_completed(completed_at=start, urgency="critical")
        done = make_completed(completed_at=start, request_type="complaint")
        await kit.deliver(late)
        await kit.deliver(done)
        visit = await _visit(client, done.data.ticket_no)
        r = await client.post(
            f"/return-visits/{visit['id']}/calls", json={"outcome": "reached"}, headers=AGENT
        )
        assert r.status_code == 200
        await kit.rt.scheduler.run_due()  # the invitations
        assert await kit.events("ReturnVisitOverdue", late.data.ticket_no) == []
        clock.at(datetime(2026, 12, 2, 17, 59, tzinfo=SH))  # a minute before it is due
        await kit.rt.scheduler.run_due()
        assert await kit.events("ReturnVisitOverdue", late.data.ticket_no) == []
        clock.at(datetime(2026, 12, 2, 18, 0, 30, tzinfo=SH))
        assert await kit.rt.scheduler.run_due() >= 1
        assert await kit.rt.scheduler.run_due() == 0
        (event,) = await kit.events("ReturnVisitOverdue", late.data.ticket_no)
        assert event["reason"] == "critical" and event["attempts"] == 0
        assert await kit.events("ReturnVisitOverdue", done.data.ticket_no) == []  # it was made
        overdue = await client.get("/return-visits", params={"overdue": "true"}, headers=SUP)
        assert [v["ticket_no"] for v in overdue.json()["items"]] == [late.data.ticket_no]


async def test_a_dealer_reads_its_own_visits_only_and_the_desk_filters_by_engineer(
    make_kit, make_completed, clock
):
    start = clock.at("sunday-evening")
    kit = await make_kit(return_visit_sample_percent=0)
    ours = auth("dealer", sub="dealer-chen", dealer_id="D-ZJ-01")
    theirs = auth("dealer", sub="dealer-other", dealer_id="D-SH-09")
    async with kit.client() as client:
        mine = make_completed(completed_at=start, urgency="critical", engineer_id="eng-wang")
        other = make_completed(
            completed_at=start, urgency="critical", dealer_id="D-SH-09", engineer_id="eng-zhang"
        )
        assert await kit.deliver(mine) and await kit.deliver(other)
        own = await _visit(client, mine.data.ticket_no)
        foreign = await _visit(client, other.data.ticket_no)

        listed = await client.get("/return-visits", headers=ours)
        assert listed.status_code == 200, listed.text
        assert [v["ticket_no"] for v in listed.json()["items"]] == [mine.data.ticket_no]
        # asking for another dealer's still lists only its own
        asked = await client.get("/return-visits", params={"dealer_id": "D-SH-09"}, headers=ours)
        assert [v["ticket_no"] for v in asked.json()["items"]] == [mine.data.ticket_no]
        assert (await client.get(f"/return-visits/{own['id']}", headers=ours)).status_code == 200
        refused = await client.get(f"/return-visits/{foreign['id']}", headers=ours)
        assert refused.status_code == 404 and other.data.ticket_no not in refused.text
        assert (
            await client.get(f"/return-visits/{foreign['id']}", headers=theirs)
        ).status_code == 200
        call = {"outcome": "reached", "note": "客户满意"}
        posted = await client.post(f"/return-visits/{own['id']}/calls", json=call, headers=ours)
        assert posted.status_code == 403  # a dealer reads, the desk calls
        assert (await _visit(client, mine.data.ticket_no))["calls"] == []

        by_engineer = await client.get(
            "/return-visits", params={"engineer_id": "eng-wang"}, headers=SUP
        )
        assert [v["ticket_no"] for v in by_engineer.json()["items"]] == [mine.data.ticket_no]
        engineer = await client.get("/return-visits", headers=auth("engineer"))
        assert engineer.status_code == 403
