"""Complaints as a process (issue 19 item 2; seeds 002 第九条, 000 投诉处理确认书): a complaint
record for every complaint ticket, owned by a supervisor, with a level and its clocks;
acknowledgement → the time limit told to the customer → findings → a proposed resolution the
customer accepts or rejects through a single-use link (or staff record it); a rejection escalates
once; each missed step is announced once; the ticket completes only after an accepted resolution."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tickets_helpers import (
    AGENT,
    ENG,
    SUP,
    body,
    drain,
    outbox_events,
    tickets_app,
    time_machine,
)

from aftersales_shared.db import utcnow
from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import (
    ComplaintLevel,
    Contact,
    Envelope,
    SurveyAnsweredV1,
    TicketRequestedV1,
)
from aftersales_shared.publiclinks import new_token
from aftersales_shared.workcalendar import WorkCalendar
from aftersales_testing.support import auth, opened_link, running, runtime_of
from tickets.domain import (
    COMPLAINT_CLOCKS,
    ComplaintStage,
    check_complaint_step,
    escalated,
    follow_up_level,
    follow_up_type,
    promise_due,
)

SH = ZoneInfo("Asia/Shanghai")
TECH = auth("technical", sub="tech-sun")
MANAGER = auth("manager", sub="mgr-wu")
OTHER_SUP = auth("service_supervisor", sub="sup-li")
DEALER = auth("dealer", sub="dealer-user", dealer_id="D-ZJ-01")
OTHER_DEALER = auth("dealer", sub="dealer-2", dealer_id="D-SH-02")
FAULT = {"symptom": "LEAK", "cause_category": "installation"}


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def complaint(**kw: Any) -> dict[str, Any]:
    return body(
        request_type="complaint",
        urgency="normal",
        customer_name="苏州精工机床有限公司",
        description="液压站漏油修了三次仍未解决，要求赔偿",
        **kw,
    )


async def open_complaint(client: Any, who: Any = AGENT, **kw: Any) -> str:
    r = await client.post("/tickets", json=complaint(**kw), headers=who)
    assert r.status_code == 201, r.text
    return r.json()["ticket_no"]


async def step(client: Any, no: str, what: str, who: Any, payload: dict | None = None) -> Any:
    return await client.post(f"/complaints/{no}/{what}", json=payload or {}, headers=who)


async def ok(client: Any, no: str, what: str, who: Any, payload: dict | None = None) -> dict:
    r = await step(client, no, what, who, payload)
    assert r.status_code == 200, (what, r.text)
    return r.json()


def due(c: dict, stage: str, round_: int = 1) -> datetime:
    [clock] = [k for k in c["clocks"] if k["stage"] == stage and k["round"] == round_]
    return datetime.fromisoformat(clock["due_at"])


async def link_of(app: Any, no: str, index: int = -1) -> str:
    """The path of the confirmation link the customer got (sealed to notifications, opened here
    with the development key the tests hold)."""
    events = await outbox_events(app, "ComplaintResolutionProposed.v1", no)
    link = opened_link(events[index])
    base = runtime_of(app).settings.public_base_url
    assert link.startswith(base + "/c/"), link
    return link.removeprefix(base)


async def through_the_steps(client: Any, no: str, promised: str) -> None:
    await ok(client, no, "acknowledge", AGENT)
    await ok(client, no, "limit", SUP, {"promised_date": promised, "via": "phone"})
    await ok(client, no, "findings", TECH, {"findings": "安装时密封圈错装"})
    await ok(client, no, "resolution", SUP, {"resolution": "免费更换密封件并复检"})


async def assigned(client: Any, no: str) -> None:
    r = await client.post(f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"})
    assert r.status_code == 200, r.text


def confirmation() -> dict[str, Any]:
    return {
        "document": "complaint_confirmation",
        "confirmed_by": "王建国",
        "confirmed_at": utcnow().isoformat(),
        "method": "online",
        "fault": FAULT,
    }


# ------------------------------------------------------------------ rules, no database
def test_levels_escalate_by_one_and_serious_goes_to_management():
    assert escalated(ComplaintLevel.GENERAL) == (ComplaintLevel.MAJOR, False)
    assert escalated(ComplaintLevel.MAJOR) == (ComplaintLevel.SERIOUS, False)
    assert escalated(ComplaintLevel.SERIOUS) == (ComplaintLevel.SERIOUS, True)


def test_a_low_score_with_a_one_is_major_else_general():
    assert follow_up_level(1, 5, 5) is ComplaintLevel.MAJOR
    assert follow_up_level(2, 2, 2) is ComplaintLevel.GENERAL


def test_graver_levels_have_shorter_clocks_and_promises():
    start, cal = sh(2026, 11, 30, 9, 0), WorkCalendar(tz=SH)
    for stage in ("acknowledgement", "limit", "investigation", "resolution"):
        dues = [
            COMPLAINT_CLOCKS[lv].span(ComplaintStage(stage)).due(cal, start)
            for lv in (ComplaintLevel.GENERAL, ComplaintLevel.MAJOR, ComplaintLevel.SERIOUS)
        ]
        assert dues[0] > dues[1] > dues[2], stage
    assert [COMPLAINT_CLOCKS[lv].max_promise_days for lv in ComplaintLevel] == [10, 5, 3]


def test_steps_go_in_order_and_a_promise_stays_within_the_level():
    with pytest.raises(Conflict, match="待受理确认"):
        check_complaint_step("resolution", ComplaintStage.ACKNOWLEDGEMENT, "SV-1")
    assert check_complaint_step("reject", ComplaintStage.CONFIRMATION, "SV-1") is (
        ComplaintStage.LIMIT
    )
    cal, today, latest = WorkCalendar(tz=SH), date(2026, 11, 30), date(2026, 12, 4)
    major = ComplaintLevel.MAJOR
    assert promise_due(cal, date(2026, 12, 2), today, latest, major, 5) == sh(2026, 12, 2, 18, 0)
    for promised, says in (
        (date(2026, 11, 27), "past"),
        (date(2026, 12, 7), "2026-12-04"),
        (date(2026, 11, 29), "past"),
    ):
        with pytest.raises(DomainError, match=says):
            promise_due(cal, promised, today, latest, major, 5)
    with pytest.raises(DomainError, match="2026-10-08"):  # 国庆: the next working day is named
        promise_due(cal, date(2026, 10, 5), date(2026, 9, 30), date(2026, 10, 12), major, 5)


# ------------------------------------------------------------------ over HTTP
async def test_a_complaint_runs_to_the_customer_s_confirmation_through_its_link(
    databases, streams_ready, clock
):
    """Sunday 29 November 2026 20:57: a major complaint's clocks start Monday 09:00."""
    clock.at("sunday-evening")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        no = await open_complaint(client, complaint_level="major")
        r = await client.get(f"/complaints/{no}", headers=AGENT)
        assert r.status_code == 200, r.text
        c = r.json()
        assert (c["level"], c["stage"], c["owner_id"], c["round"]) == (
            "major",
            "acknowledgement",
            "sup-zhang",  # nobody named: the configured default owner
            1,
        )
        assert {k["stage"]: datetime.fromisoformat(k["due_at"]) for k in c["clocks"]} == {
            "acknowledgement": sh(2026, 11, 30, 11, 0),  # 2 working hours
            "limit": sh(2026, 11, 30, 14, 0),  # 4 working hours (lunch 12-13 is not)
            "investigation": sh(2026, 12, 1, 18, 0),  # close of the 2nd working day
            "resolution": sh(2026, 12, 2, 18, 0),  # close of the 3rd working day
        }
        # the steps go in order
        r = await step(client, no, "findings", TECH, {"findings": "x"})
        assert r.status_code == 409 and "acknowledgement" in r.json()["detail"]
        c = await ok(client, no, "acknowledge", AGENT, {"note": "电话确认已收到投诉"})
        assert c["stage"] == "limit" and c["acknowledged_by"] == "agent-wu"

        # the time limit told: within the level's 5 working days, a working day, not past
        for promised, says in (
            ("2026-11-27", "past"),
            ("2026-12-07", "2026-12-04"),
            ("2026-12-05", "2026-12-04"),
        ):
            r = await step(client, no, "limit", SUP, {"promised_date": promised, "via": "phone"})
            assert r.status_code == 422 and says in r.json()["detail"], (promised, r.text)
        c = await ok(client, no, "limit", SUP, {"promised_date": "2026-12-01", "via": "phone"})
        assert c["stage"] == "investigation" and c["promised_date"] == "2026-12-01"
        assert due(c, "resolution") == sh(2026, 12, 1, 18, 0)  # the promise is the deadline now
        [told] = await outbox_events(app, "ComplaintLimitTold.v1", no)
        assert told["promised_date"] == "2026-12-01" and told["contact"]["phone"] == "13912345678"
        assert told["level"] == "major" and told["owner_id"] == "sup-zhang"

        # an engineer neither investigates nor proposes; the technical department finds
        assert (await step(client, no, "findings", ENG, {"findings": "x"})).status_code == 403
        c = await ok(client, no, "findings", TECH, {"findings": "安装时密封圈错装"})
        assert c["stage"] == "resolution" and c["investigated_by"] == "tech-sun"
        r = await step(client, no, "resolution", ENG, {"resolution": "x"})
        assert r.status_code == 403
        c = await ok(client, no, "resolution", SUP, {"resolution": "免费更换密封件，上门复检一次"})
        assert c["stage"] == "confirmation" and c["overdue"] == []
        [proposal] = c["proposals"]
        assert proposal["outcome"] is None and proposal["link_masked"].endswith("……")
        [sent] = await outbox_events(app, "ComplaintResolutionProposed.v1", no)
        assert "link" not in sent and sent["link_masked"] == proposal["link_masked"]
        path = await link_of(app, no)

        # not completed before the customer accepted
        await assigned(client, no)
        r = await client.post(f"/tickets/{no}/complete", json=confirmation(), headers=ENG)
        assert r.status_code == 409 and "accepted" in r.json()["detail"], r.text
        # an engineer does not record the customer's answer either
        answer = {
            "outcome": "accepted",
            "confirmed_by": "王建国",
            "confirmed_at": utcnow().isoformat(),
            "method": "phone",
        }
        assert (await step(client, no, "answer", ENG, answer)).status_code == 403

        # the customer's page: the proposal, in Chinese, with the page's security headers
        r = await client.get(path)
        assert r.status_code == 200 and "免费更换密封件，上门复检一次" in r.text
        assert no in r.text and "投诉处理确认书" in r.text and "安装时密封圈错装" in r.text
        assert (
            r.headers["referrer-policy"] == "no-referrer"
            and "no-store" in r.headers["cache-control"]
        )
        r = await client.post(path, data={"decision": "accept", "signer": ""})
        assert r.status_code == 422 and "请填写确认人姓名" in r.text
        r = await client.post(path, data={"decision": "accept", "signer": "王建国"})
        assert r.status_code == 303 and r.headers["location"].endswith("/done")
        r = await client.get(f"{path}/done")
        assert r.status_code == 200 and "您已接受处理方案" in r.text
        # the link worked once
        assert (await client.get(path)).status_code == 409
        r = await client.post(path, data={"decision": "reject", "signer": "x", "reason": "y"})
        assert r.status_code == 409 and "只能使用一次" in r.text

        c = (await client.get(f"/complaints/{no}", headers=SUP)).json()
        assert c["stage"] == "accepted"
        [p] = c["proposals"]
        assert (p["outcome"], p["method"], p["confirmed_by"], p["recorded_by"]) == (
            "accepted",
            "link",
            "王建国",
            "customer:link",
        )
        r = await client.post(f"/tickets/{no}/complete", json=confirmation(), headers=ENG)
        assert r.status_code == 200, r.text
        c = (await client.get(f"/complaints/{no}", headers=SUP)).json()
        assert c["stage"] == "closed"
        assert [h["action"] for h in c["history"]] == [
            "opened",
            "acknowledged",
            "limit_told",
            "findings",
            "proposed",
            "accepted",
            "closed",
        ]
        assert await outbox_events(app, "ComplaintOverdue.v1", no) == []
        assert await outbox_events(app, "ComplaintEscalated.v1", no) == []


async def test_a_rejected_resolution_escalates_once_and_its_clocks_restart(
    databases, streams_ready, clock
):
    """Friday 27 November 2026 17:59: the customer rejects on the page; the complaint goes up one
    level, a new round's limit, investigation and proposal run from then on the new clocks; staff
    record the next answers; a serious one rejected again goes to management."""
    start = clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        no = await open_complaint(client)
        await through_the_steps(client, no, "2026-12-04")
        path = await link_of(app, no)
        r = await client.post(path, data={"decision": "reject", "signer": "王建国"})
        assert r.status_code == 422 and "不接受时请写明原因" in r.text
        r = await client.post(
            path, data={"decision": "reject", "signer": "王建国", "reason": "要求更换整台液压泵"}
        )
        assert r.status_code == 303
        r = await client.get(f"{path}/done")
        assert r.status_code == 200 and "升级处理" in r.text
        assert (await client.get(path)).status_code == 409  # used: not a second rejection

        c = (await client.get(f"/complaints/{no}", headers=SUP)).json()
        assert (c["level"], c["stage"], c["round"], c["escalations"], c["management"]) == (
            "major",
            "limit",
            2,
            1,
            False,
        )
        assert c["promised_date"] is None and c["findings"] == "安装时密封圈错装"
        rejected_at = datetime.fromisoformat(c["round_started_at"])
        assert rejected_at - start < timedelta(minutes=1)
        # round 2 runs on the major clocks from the rejection (Friday 17:59+, a minute before
        # close): limit 4 working hours → Monday 30 November 13:59 (lunch 12-13 is not working
        # time); investigation and proposal at close of the 2nd and 3rd working day after Friday
        assert abs(due(c, "limit", 2) - sh(2026, 11, 30, 13, 59)) < timedelta(minutes=1)
        assert due(c, "investigation", 2) == sh(2026, 12, 1, 18, 0)
        assert due(c, "resolution", 2) == sh(2026, 12, 2, 18, 0)
        assert {k["stage"] for k in c["clocks"] if k["round"] == 2} == {
            "limit",
            "investigation",
            "resolution",
        }
        [escalation] = await outbox_events(app, "ComplaintEscalated.v1", no)
        assert (escalation["previous_level"], escalation["level"], escalation["round"]) == (
            "general",
            "major",
            2,
        )
        assert escalation["reason"] == "要求更换整台液压泵" and escalation["rejected_via"] == "link"
        # a new limit (major: at most 5 working days from the rejection), findings, proposal
        r = await step(client, no, "limit", SUP, {"promised_date": "2026-12-08", "via": "phone"})
        assert r.status_code == 422 and "2026-12-04" in r.json()["detail"]
        await ok(client, no, "limit", SUP, {"promised_date": "2026-12-02", "via": "onsite"})
        await ok(client, no, "findings", TECH, {"findings": "液压泵壳体有砂眼"})
        await ok(client, no, "resolution", SUP, {"resolution": "更换整台液压泵"})
        assert (await client.get(path)).status_code == 409  # the first link stays dead

        # staff record the answers now: a rejection needs the customer's reason
        answer = {
            "outcome": "rejected",
            "confirmed_by": "王建国",
            "confirmed_at": utcnow().isoformat(),
            "method": "phone",
        }
        r = await step(client, no, "answer", AGENT, answer)
        assert r.status_code == 422 and "reason" in r.json()["detail"]
        c = await ok(client, no, "answer", AGENT, answer | {"reason": "要求退货"})
        assert (c["level"], c["round"], c["management"]) == ("serious", 3, False)
        await ok(client, no, "limit", SUP, {"promised_date": "2026-12-01", "via": "phone"})
        await ok(client, no, "findings", TECH, {"findings": "批次缺陷"})
        await ok(client, no, "resolution", MANAGER, {"resolution": "退货并赔偿停机损失"})
        c = await ok(client, no, "answer", MANAGER, answer | {"reason": "赔偿金额不足"})
        assert (c["level"], c["round"], c["management"], c["escalations"]) == (
            "serious",
            4,
            True,
            3,
        )
        events = await outbox_events(app, "ComplaintEscalated.v1", no)
        assert [(e["level"], e["management"]) for e in events] == [
            ("major", False),
            ("serious", False),
            ("serious", True),
        ]
        # the fourth proposal is accepted, signed on site
        await ok(client, no, "limit", SUP, {"promised_date": "2026-12-01", "via": "phone"})
        await ok(client, no, "findings", TECH, {"findings": "批次缺陷"})
        await ok(client, no, "resolution", MANAGER, {"resolution": "退货并按合同赔偿"})
        c = await ok(
            client,
            no,
            "answer",
            MANAGER,
            answer | {"outcome": "accepted", "method": "signature", "remarks": "现场签字"},
        )
        assert c["stage"] == "accepted"
        assert [(p["round"], p["outcome"], p["method"]) for p in c["proposals"]] == [
            (1, "rejected", "link"),
            (2, "rejected", "phone"),
            (3, "rejected", "phone"),
            (4, "accepted", "signature"),
        ]
        assert len(await outbox_events(app, "ComplaintEscalated.v1", no)) == 3


async def test_each_missed_step_is_announced_once_on_working_time(databases, streams_ready, clock):
    """Saturday 14 February 2026 17:59, a 调休 working day before the Spring Festival (15-23
    February): a general complaint acknowledged at once never breaches that step; its limit,
    investigation and proposal breach once each, on two scheduler replicas; one nobody touches
    breaches all four, once each."""
    clock.at("holiday-eve")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        no = await open_complaint(client)
        idle = await open_complaint(client)
        c = (await client.get(f"/complaints/{no}", headers=SUP)).json()
        expected = {
            # one working minute on Saturday, the rest from Tuesday 24 February 09:00
            "acknowledgement": sh(2026, 2, 24, 13, 59),  # 4 working hours
            "limit": sh(2026, 2, 24, 17, 59),  # 8 working hours
            "investigation": sh(2026, 2, 26, 18, 0),  # close of the 3rd working day
            "resolution": sh(2026, 2, 28, 18, 0),  # the 5th: Saturday 28 February, 调休
        }
        got = {k["stage"]: datetime.fromisoformat(k["due_at"]) for k in c["clocks"]}
        for stage, at in expected.items():  # within the minute the test started in
            assert timedelta(0) <= got[stage] - at < timedelta(minutes=1), stage
        await ok(client, no, "acknowledge", SUP)

        fired: list[str] = []
        for stage in ("acknowledgement", "limit", "investigation", "resolution"):
            at = got[stage]
            await drain(time_machine(app, at - timedelta(minutes=1)))
            assert [e["stage"] for e in await outbox_events(app, "ComplaintOverdue.v1", no)] == (
                fired
            ), f"{stage}: nothing before its deadline"
            after = at + timedelta(minutes=1)
            await drain(time_machine(app, after), time_machine(app, after))
            if stage != "acknowledgement":  # done in time: never announced
                fired.append(stage)
            events = await outbox_events(app, "ComplaintOverdue.v1", no)
            assert [e["stage"] for e in events] == fired, stage
        await drain(time_machine(app, got["resolution"] + timedelta(days=30)))
        events = await outbox_events(app, "ComplaintOverdue.v1", no)
        assert [e["stage"] for e in events] == ["limit", "investigation", "resolution"]
        assert {(e["level"], e["owner_id"], e["round"]) for e in events} == {
            ("general", "sup-zhang", 1)
        }
        untouched = await outbox_events(app, "ComplaintOverdue.v1", idle)
        assert [e["stage"] for e in untouched] == list(expected)
        for e in untouched:  # announced once its deadline had passed, by the next replica's tick
            late = datetime.fromisoformat(e["overdue_at"]) - datetime.fromisoformat(e["due_at"])
            assert timedelta(0) < late < timedelta(minutes=2), e
        c = (await client.get(f"/complaints/{no}", headers=SUP)).json()
        assert c["overdue"] == ["limit", "investigation", "resolution"]
        r = await client.get("/complaints", params={"overdue": True}, headers=SUP)
        assert no in [i["ticket_no"] for i in r.json()["items"]]
        # done late: no longer overdue, and the breach is not announced again
        await ok(client, no, "limit", SUP, {"promised_date": "2026-02-27", "via": "phone"})
        c = (await client.get(f"/complaints/{no}", headers=SUP)).json()
        assert c["overdue"] == ["investigation", "resolution"]
        assert len(await outbox_events(app, "ComplaintOverdue.v1", no)) == 3


async def test_owner_and_level_belong_to_supervisors_and_dealers_see_their_own(
    databases, streams_ready, clock
):
    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready, complaint_supervisors=["sup-wang"])
    async with running(app) as client:
        by_agent = await open_complaint(client)
        by_sup = await open_complaint(client, who=SUP, complaint_level="serious")
        ours = await open_complaint(client, who=DEALER, channel="dealer")
        theirs = await open_complaint(client, dealer_id="D-SH-02")
        r = await client.post(
            "/tickets", json=complaint(complaint_owner_id="agent-wu"), headers=AGENT
        )
        assert r.status_code == 422 and "sup-wang" in r.json()["detail"]  # not a supervisor
        r = await client.post(
            "/tickets",
            json=body(customer_name="客户", complaint_level="major"),
            headers=AGENT,
        )
        assert r.status_code == 422 and "complaint" in r.json()["detail"]
        owners = {
            no: (await client.get(f"/complaints/{no}", headers=SUP)).json()
            for no in (by_agent, by_sup, ours)
        }
        assert owners[by_agent]["owner_id"] == "sup-zhang" and owners[ours]["owner_id"] == (
            "sup-zhang"
        )
        assert (owners[by_sup]["owner_id"], owners[by_sup]["level"]) == ("sup-liu", "serious")

        # reassigned only to another supervisor, never to nobody
        move = {"owner_id": "sup-wang", "reason": "张主管休假"}
        assert (await step(client, by_agent, "owner", AGENT, move)).status_code == 403
        r = await step(client, by_agent, "owner", SUP, move | {"owner_id": "eng-zhang"})
        assert r.status_code == 422 and "not a supervisor" in r.json()["detail"]
        r = await step(client, by_agent, "owner", SUP, move | {"owner_id": ""})
        assert r.status_code in (400, 422)
        assert (await ok(client, by_agent, "owner", SUP, move))["owner_id"] == "sup-wang"
        c = await ok(client, by_agent, "owner", OTHER_SUP, {"owner_id": "sup-li", "reason": "接手"})
        assert c["owner_id"] == "sup-li"  # a supervisor takes it over herself
        r = await step(client, by_agent, "owner", OTHER_SUP, {"owner_id": "sup-li", "reason": "x"})
        assert r.status_code == 409

        # the level: supervisors, with a reason; the open steps follow the new clocks
        before = owners[by_agent]
        r = await step(client, by_agent, "level", AGENT, {"level": "major", "reason": "x"})
        assert r.status_code == 403
        r = await step(client, by_agent, "level", SUP, {"level": "major"})
        assert r.status_code in (400, 422)
        c = await ok(
            client, by_agent, "level", SUP, {"level": "major", "reason": "客户威胁媒体曝光"}
        )
        assert c["level"] == "major"
        assert due(c, "acknowledgement") < due(before, "acknowledgement")
        assert due(c, "investigation") < due(before, "investigation")
        changed = [h for h in c["history"] if h["action"] == "level_changed"]
        assert (
            changed[0]["detail"]
            == {
                "previous_level": "general",
                "level": "major",
                "reason": "客户威胁媒体曝光",
            }
            and changed[0]["actor"] == "sup-liu"
        )
        assert [h["action"] for h in c["history"]].count("owner_changed") == 2

        # lists filter and a dealer sees its own only
        r = await client.get("/complaints", params={"level": "serious"}, headers=SUP)
        assert [i["ticket_no"] for i in r.json()["items"]] == [by_sup]
        r = await client.get("/complaints", params={"owner_id": "sup-li"}, headers=SUP)
        assert [i["ticket_no"] for i in r.json()["items"]] == [by_agent]
        r = await client.get(
            "/complaints", params={"stage": "acknowledgement", "limit": 2}, headers=SUP
        )
        assert r.json()["total"] >= 4 and len(r.json()["items"]) == 2
        r = await client.get("/complaints", headers=DEALER)
        assert [i["ticket_no"] for i in r.json()["items"]] == [ours]
        assert (await client.get(f"/complaints/{theirs}", headers=DEALER)).status_code == 404
        assert (await client.get(f"/complaints/{theirs}", headers=OTHER_DEALER)).status_code == 200
        assert (await step(client, ours, "acknowledge", DEALER)).status_code == 403
        customer = auth("customer", customer_id="C")
        assert (await client.get("/complaints", headers=customer)).status_code == 403
        r = await client.get("/complaints/SV-NOPE", headers=SUP)
        assert r.status_code == 404 and "SV-NOPE" in r.json()["detail"]


async def test_complaints_from_partners_and_low_scores_have_their_record(
    databases, streams_ready, clock
):
    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    rt = runtime_of(app)
    ref = uuid.uuid4().hex[:8]
    async with running(app) as client:
        original = await open_complaint(client)  # any ticket will do as the surveyed one
        r = await client.get(f"/tickets/{original}", headers=SUP)
        ticket = r.json()
        requested = Envelope(
            source="/partners/call-centre",
            data=TicketRequestedV1(
                external_ref=f"CC-{ref}",
                channel="phone",
                request_type="complaint",
                urgency="normal",
                description="热线投诉：工程师态度差",
                customer_name="呼叫中心客户",
                contact=Contact(name="钱工", phone="13600000000"),
            ),
        )
        sub = rt.inbox.subscriptions["tickets-partners-ticket_requested-v1"]
        assert await rt.inbox.handle(sub, requested)
        for survey, scores in ((f"sv1-{ref}", (1, 4, 3)), (f"sv2-{ref}", (2, 3, 2))):
            answered = Envelope(
                source="/aftersales/surveys",
                data=SurveyAnsweredV1(
                    survey_id=survey,
                    ticket_id=ticket["id"],
                    ticket_no=original,
                    answered_at="2026-11-27T09:00:00Z",
                    efficiency=scores[0],
                    attitude=scores[1],
                    professionalism=scores[2],
                    low_score=True,
                ),
            )
            sub = rt.inbox.subscriptions["tickets-surveys-survey_answered-v1"]
            assert await rt.inbox.handle(sub, answered)
        r = await client.get("/complaints", headers=SUP, params={"limit": 10})
        items = {i["ticket_no"]: i for i in r.json()["items"]}
        assert len(items) == 4
        rows = {
            i["ticket_no"]: (i["level"], i["owner_id"], i["stage"], len(i["clocks"]))
            for i in items.values()
        }
        assert set(rows.values()) == {
            ("general", "sup-zhang", "acknowledgement", 4),
            ("major", "sup-zhang", "acknowledgement", 4),
        }
        levels = sorted(i["level"] for i in items.values())
        assert levels == ["general", "general", "general", "major"]  # only the score with a 1


async def test_a_forged_or_guessed_link_is_refused_and_guessing_is_limited(
    databases, streams_ready, clock
):
    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready, guess_limit=3)
    async with running(app) as client:
        no = await open_complaint(client)
        await through_the_steps(client, no, "2026-12-04")
        real = await link_of(app, no)
        forged, _ = new_token()
        for path in (f"/c/{forged}", "/c/not-a-token", f"/c/{forged}"):
            r = await client.get(path)
            assert r.status_code == 404 and "确认链接无效" in r.text, path
        r = await client.get(real)  # the right link, but this client used up its guesses
        assert r.status_code == 429 and "Retry-After" in r.headers
        app.state["guess_limiter"]._failures.clear()  # a new window (the limit is per process)
        r = await client.post(f"/c/{forged}", data={"decision": "accept", "signer": "x"})
        assert r.status_code == 404
        assert (await client.get(real)).status_code == 200
        c = (await client.get(f"/complaints/{no}", headers=SUP)).json()
        assert c["stage"] == "confirmation" and c["proposals"][0]["outcome"] is None
        assert not re.search(r"/c/[A-Za-z0-9_-]{43}", str(c))  # staff see the masked link only


async def test_two_answers_at_once_on_the_page_and_by_staff_one_lands(
    databases, streams_ready, clock
):
    """The customer rejects on the page while an agent records an acceptance from the phone: one
    of them is the answer, the other is refused; never both, never a second escalation."""
    import asyncio

    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        no = await open_complaint(client)
        await through_the_steps(client, no, "2026-12-04")
        path = await link_of(app, no)
        staff = {
            "outcome": "accepted",
            "confirmed_by": "王建国",
            "confirmed_at": utcnow().isoformat(),
            "method": "phone",
        }
        page = {"decision": "reject", "signer": "王建国", "reason": "方案不可接受"}
        answers = await asyncio.gather(
            client.post(path, data=page), step(client, no, "answer", AGENT, staff)
        )
        codes = sorted(r.status_code for r in answers)
        assert codes in ([200, 409], [303, 409]), [r.text for r in answers]
        c = (await client.get(f"/complaints/{no}", headers=SUP)).json()
        answered = [p for p in c["proposals"] if p["outcome"] is not None]
        assert len(answered) == 1
        escalations = await outbox_events(app, "ComplaintEscalated.v1", no)
        assert len(escalations) == (1 if answered[0]["outcome"] == "rejected" else 0)
        assert c["stage"] == ("limit" if escalations else "accepted")


def test_a_low_score_complains_about_its_lowest_dimension():
    assert follow_up_type(efficiency=4, attitude=1, professionalism=3) == "service_attitude"
    assert follow_up_type(efficiency=1, attitude=4, professionalism=2) == "timeliness"
    assert follow_up_type(efficiency=3, attitude=3, professionalism=2) == "repair_quality"
    assert follow_up_type(efficiency=2, attitude=2, professionalism=2) == "service_attitude"


async def test_a_complaint_s_type_and_level_are_announced_whenever_they_change(
    databases, streams_ready, clock
):
    """ComplaintClassified (what the monthly report counts complaints by): at registration, on a
    re-grading, and when the investigation says what the complaint is about."""
    clock.at("friday-close")
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        r = await client.post(
            "/tickets",
            json=body(customer_name="客户", complaint_type="charges"),
            headers=AGENT,
        )
        assert r.status_code == 422 and "complaint_type" in r.json()["detail"]
        r = await client.post("/tickets", json=complaint(complaint_type="price"), headers=AGENT)
        assert r.status_code == 400  # not one of the types
        typed = await open_complaint(client, who=SUP, complaint_type="repair_quality")
        untyped = await open_complaint(client)
        assert (await client.get(f"/complaints/{typed}", headers=SUP)).json()[
            "complaint_type"
        ] == "repair_quality"

        await ok(client, untyped, "level", SUP, {"level": "serious", "reason": "媒体曝光"})
        await ok(client, untyped, "acknowledge", AGENT)
        await ok(client, untyped, "limit", SUP, {"promised_date": "2026-12-01", "via": "phone"})
        c = await ok(
            client,
            untyped,
            "findings",
            TECH,
            {"findings": "配件缺货两周", "complaint_type": "parts_supply"},
        )
        assert c["complaint_type"] == "parts_supply"
        assert [h for h in c["history"] if h["action"] == "findings"][0]["detail"][
            "complaint_type"
        ] == "parts_supply"

    first = await outbox_events(app, "ComplaintClassified.v1", typed)
    assert [(e["change"], e["level"], e["complaint_type"]) for e in first] == [
        ("opened", "general", "repair_quality")
    ]
    assert first[0]["classified_by"] == "sup-liu"
    second = await outbox_events(app, "ComplaintClassified.v1", untyped)
    assert [(e["change"], e["level"], e["complaint_type"]) for e in second] == [
        ("opened", "general", None),
        ("level_changed", "serious", None),
        ("typed", "serious", "parts_supply"),
    ]
