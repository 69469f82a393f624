"""Fault causes (issue 19): the catalogue per product line and who manages it, completion of a
repair refused without its cause, "cause needs analysis" breaching once on working time, the
classification in ServiceCompleted and FaultClassified."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tickets_helpers import (
    AGENT,
    ENG,
    SUP,
    body,
    drain,
    entitle,
    outbox_events,
    tickets_app,
    time_machine,
    uid,
)

from aftersales_shared.db import utcnow
from aftersales_shared.errors import DomainError
from aftersales_shared.events import CauseCategory
from aftersales_shared.scheduler import job_status
from aftersales_testing.support import auth, running, runtime_of
from tickets.domain import FaultReport, check_fault_report, product_line
from tickets.usecases import faults

SH = ZoneInfo("Asia/Shanghai")
TECH = auth("technical", sub="tech-sun")
DEALER = auth("dealer", sub="dealer-user", dealer_id="D-ZJ-01")


def confirmation(fault: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "document": "repair_sheet",
        "confirmed_by": "赵工",
        "confirmed_at": utcnow().isoformat(),
        "method": "signature",
        **({"fault": fault} if fault is not None else {}),
        **extra,
    }


async def assigned_ticket(client: Any, serial: str | None = None, **kw: Any) -> str:
    r = await client.post("/tickets", json=body(serial, customer_name="客户", **kw), headers=AGENT)
    assert r.status_code == 201, r.text
    no = r.json()["ticket_no"]
    r = await client.post(f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"})
    assert r.status_code == 200, r.text
    return no


# ------------------------------------------------------------------ rules, no database
def test_the_product_line_is_the_model_family():
    assert product_line("XK-200 数控机床") == "XK"
    assert product_line("xk300") == "XK"
    assert product_line("数控机床 200型") == "数控机床"
    assert product_line("  ") is None and product_line(None) is None


@pytest.mark.parametrize(
    ("request_type", "report", "missing"),
    [
        ("quality_issue", None, "symptom"),
        ("complaint", None, "cause_category"),
        ("quality_issue", FaultReport(symptom="NOISE"), "cause_category"),
        ("quality_issue", FaultReport(cause_category=CauseCategory.WEAR), "symptom"),
        ("usage_question", FaultReport(failed_part="SEAL"), "symptom"),
    ],
)
def test_a_repair_or_complaint_needs_symptom_and_cause(request_type, report, missing):
    with pytest.raises(DomainError, match=missing):
        check_fault_report(request_type, report, "SV-1")


def test_needs_analysis_stands_for_the_cause_and_other_requests_need_none():
    check_fault_report("quality_issue", FaultReport(needs_analysis=True), "SV-1")
    check_fault_report("usage_question", None, "SV-1")
    with pytest.raises(DomainError, match="one or the other"):
        check_fault_report(
            "quality_issue",
            FaultReport("NOISE", CauseCategory.WEAR, needs_analysis=True),
            "SV-1",
        )


# ------------------------------------------------------------------ the catalogue over HTTP
async def test_the_catalogue_is_managed_by_technical_and_supervisors_and_read_by_handlers(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    code, other = f"XK-SPINDLE-{uid().upper()}", f"HT-HOOK-{uid().upper()}"
    async with running(app) as client:
        entry = {"code": code, "product_line": "xk", "name": "主轴异响"}
        for who in (ENG, AGENT, DEALER):  # handlers read, they do not edit
            r = await client.post("/fault-catalogue/symptoms", json=entry, headers=who)
            assert r.status_code == 403, r.text
        r = await client.post("/fault-catalogue/symptoms", json=entry, headers=TECH)
        assert r.status_code == 201 and r.json()["product_line"] == "XK", r.text
        assert (
            await client.post("/fault-catalogue/symptoms", json=entry, headers=SUP)
        ).status_code == 409
        other_line = {"code": other, "product_line": "HT", "name": "吊钩变形"}
        assert (
            await client.post("/fault-catalogue/symptoms", json=other_line, headers=SUP)
        ).status_code == 201
        r = await client.patch(
            f"/fault-catalogue/symptoms/{code}", json={"active": False}, headers=ENG
        )
        assert r.status_code == 403

        # an engineer sees what a ticket of model XK-200 may use: its line and the generic entries
        r = await client.get(
            "/fault-catalogue/symptoms", params={"model": "XK-200", "limit": 100}, headers=ENG
        )
        page = r.json()
        lines = {e["code"]: e["product_line"] for e in page["items"]}
        assert lines[code] == "XK" and lines["NOISE"] == "*" and other not in lines
        assert page["total"] == len(page["items"])
        r = await client.get(
            "/fault-catalogue/symptoms", params={"limit": 2, "offset": 1}, headers=DEALER
        )
        assert len(r.json()["items"]) == 2 and r.json()["total"] > 3
        categories = (await client.get("/fault-catalogue/cause-categories", headers=ENG)).json()
        assert [c["code"] for c in categories] == [c.value for c in CauseCategory]
        assert {c["code"]: c["label_zh"] for c in categories}["material_supplier"] == "材料/供应商"

        # deactivated, never deleted: still listed, no longer offered as active
        r = await client.patch(
            f"/fault-catalogue/symptoms/{code}", json={"active": False}, headers=TECH
        )
        assert r.status_code == 200 and r.json()["active"] is False
        r = await client.get(
            "/fault-catalogue/symptoms", params={"product_line": "XK", "active": True}, headers=ENG
        )
        assert code not in {e["code"] for e in r.json()["items"]}
        assert (await client.get(f"/fault-catalogue/symptoms/{code}", headers=ENG)).json()[
            "active"
        ] is False
        assert (
            await client.delete(f"/fault-catalogue/symptoms/{code}", headers=TECH)
        ).status_code in (
            404,
            405,
        )
        r = await client.get(
            "/quality-audit", params={"entity": "symptom", "entity_id": code}, headers=TECH
        )
        assert [(e["action"], e["actor"]) for e in r.json()["items"]] == [
            ("deactivated", "tech-sun"),
            ("created", "tech-sun"),
        ]


# ------------------------------------------------------------------ completion
async def test_completing_a_repair_without_its_cause_is_refused_naming_what_is_missing(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    serial, xk, ht = f"SN-{uid().upper()}", f"XK-GEAR-{uid().upper()}", f"HT-ROPE-{uid().upper()}"
    await entitle(app, f"HT-{uid().upper()}", [serial])  # model XK-200: product line XK
    async with running(app) as client:
        for code, line in ((xk, "XK"), (ht, "HT")):
            entry = {"code": code, "product_line": line, "name": code}
            assert (
                await client.post("/fault-catalogue/parts", json=entry, headers=TECH)
            ).status_code == 201
        no = await assigned_ticket(client, serial)

        async def refused(fault: dict[str, Any] | None) -> str:
            r = await client.post(f"/tickets/{no}/complete", json=confirmation(fault), headers=ENG)
            assert r.status_code == 422, r.text
            return r.json()["detail"]

        assert "symptom" in (d := await refused(None)) and "cause_category" in d and "故障现象" in d
        assert "cause_category" in await refused({"symptom": "NOISE"})
        assert "symptom" in await refused({"cause_category": "wear"})
        assert "NOPE" in await refused(
            {"symptom": "NOPE", "cause_category": "wear"}
        )  # not in the catalogue
        assert "product line HT" in await refused(
            {"symptom": "NOISE", "cause_category": "wear", "failed_part": ht}
        )
        assert "one or the other" in await refused(
            {"needs_analysis": True, "cause_category": "design"}
        )
        assert (await client.get(f"/tickets/{no}", headers=ENG)).json()["status"] == "assigned"

        fault = {
            "symptom": "noise",
            "cause_category": "manufacturing_batch",
            "failed_part": xk,
            "cause_detail": "齿轮热处理硬度不足",
        }
        r = await client.post(f"/tickets/{no}/complete", json=confirmation(fault), headers=ENG)
        assert r.status_code == 200 and r.json()["status"] == "completed", r.text
        [done] = await outbox_events(app, "ServiceCompleted.v1", no)
        assert {k: done[k] for k in fault} | {"product_line": done["product_line"]} == {
            "symptom": "异响",
            "cause_category": "manufacturing_batch",
            "failed_part": xk,
            "cause_detail": "齿轮热处理硬度不足",
            "product_line": "XK",
        }
        assert done["symptom_code"] == "NOISE" and done["failed_part_code"] == xk
        assert done["needs_analysis"] is False
        shown = (await client.get(f"/tickets/{no}/fault", headers=ENG)).json()
        assert shown["cause_label"] == "制造/批次" and shown["classified_via"] == "completion"
        assert shown["classified_by"] == "eng-zhang" and shown["needs_analysis"] is False

        # a usage question needs no classification; its ServiceCompleted says nothing about one
        question = await assigned_ticket(client, request_type="usage_question")
        r = await client.post(
            f"/tickets/{question}/complete",
            json=confirmation(document="answer_confirmation"),
            headers=ENG,
        )
        assert r.status_code == 200, r.text
        [answered] = await outbox_events(app, "ServiceCompleted.v1", question)
        assert answered["cause_category"] is None and answered["needs_analysis"] is None
        assert (await client.get(f"/tickets/{question}/fault", headers=SUP)).status_code == 404


# ------------------------------------------------------------------ cause needs analysis
# completed at the moment → close of business of the third working day after that day
ANALYSIS_DUE = datetime(2026, 2, 26, 18, 0, tzinfo=SH)  # 15-23 Feb off: 24, 25, 26 Feb


async def test_a_cause_left_to_analysis_breaches_once_and_not_after_it_is_filled_in(
    databases, streams_ready, clock
):
    clock.at("holiday-eve")  # Saturday 14 February 2026 17:59, the last workday before 春节
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        late, filled = await assigned_ticket(client), await assigned_ticket(client)
        for no in (late, filled):
            r = await client.post(
                f"/tickets/{no}/complete",
                json=confirmation({"symptom": "LEAK", "needs_analysis": True}),
                headers=ENG,
            )
            assert r.status_code == 200, r.text
            fault = (await client.get(f"/tickets/{no}/fault", headers=TECH)).json()
            assert datetime.fromisoformat(fault["analysis_due_at"]) == ANALYSIS_DUE
            assert fault["needs_analysis"] and fault["cause_category"] is None
        [completed] = await outbox_events(app, "ServiceCompleted.v1", late)
        assert completed["needs_analysis"] is True and completed["cause_category"] is None
        queue = await client.get(
            "/fault-classifications", params={"needs_analysis": True}, headers=TECH
        )
        assert {f["ticket_no"] for f in queue.json()["items"]} == {late, filled}

        finding = {"cause_category": "material_supplier", "failed_part": "SEAL"}
        r = await client.post(f"/tickets/{filled}/fault-analysis", json=finding, headers=ENG)
        assert r.status_code == 403  # engineers record faults; the technical department analyses
        r = await client.post(f"/tickets/{filled}/fault-analysis", json=finding, headers=TECH)
        assert r.status_code == 200 and r.json()["classified_via"] == "analysis", r.text
        [classified] = await outbox_events(app, "FaultClassified.v1", filled)
        assert classified["after_analysis"] is True and classified["analysis_overdue"] is False
        assert (classified["symptom_code"], classified["symptom"]) == ("LEAK", "漏油/渗漏")
        assert classified["cause_category"] == "material_supplier"
        assert classified["failed_part"] == "密封件" and classified["classified_by"] == "tech-sun"
        async with runtime_of(app).sessions() as s:  # filling it in cancelled its deadline
            key = f"{classified['ticket_id']}:1"
            assert await job_status(s, faults.ANALYSIS_DUE, key) == "cancelled"

        # the deadline, on two replicas: nothing a minute before, once after, never again
        await drain(time_machine(app, ANALYSIS_DUE - timedelta(minutes=1)))
        assert await outbox_events(app, "CauseAnalysisOverdue.v1") == []
        after = ANALYSIS_DUE + timedelta(minutes=1)
        await drain(time_machine(app, after), time_machine(app, after))
        await drain(time_machine(app, after + timedelta(days=30)))
        [overdue] = await outbox_events(app, "CauseAnalysisOverdue.v1", late)
        assert await outbox_events(app, "CauseAnalysisOverdue.v1", filled) == []
        assert datetime.fromisoformat(overdue["due_at"]) == ANALYSIS_DUE
        assert overdue["symptom"] == "漏油/渗漏" and overdue["engineer_id"] == "eng-zhang"
        r = await client.get("/fault-classifications", params={"overdue": True}, headers=SUP)
        assert [f["ticket_no"] for f in r.json()["items"]] == [late]

        # filled in late: FaultClassified says so, nothing fires any more
        r = await client.post(
            f"/tickets/{late}/fault-analysis", json={"cause_category": "design"}, headers=SUP
        )
        assert r.status_code == 200, r.text
        [late_classified] = await outbox_events(app, "FaultClassified.v1", late)
        assert late_classified["analysis_overdue"] is True
        assert late_classified["cause_category"] == "design"
        await drain(time_machine(app, after + timedelta(days=60)))
        assert len(await outbox_events(app, "CauseAnalysisOverdue.v1", late)) == 1

        # a later correction is a reclassification naming what it replaces
        r = await client.post(
            f"/tickets/{late}/fault-analysis", json={"cause_category": "wear"}, headers=TECH
        )
        fixes = await outbox_events(app, "FaultClassified.v1", late)
        assert r.json()["classified_via"] == "reclassification"
        assert (fixes[-1]["after_analysis"], fixes[-1]["previous_cause_category"]) == (
            False,
            "design",
        )


async def test_analysis_is_only_for_a_completed_ticket_with_a_recorded_fault(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        no = await assigned_ticket(client)
        r = await client.post(
            f"/tickets/{no}/fault-analysis", json={"cause_category": "wear"}, headers=TECH
        )
        assert r.status_code == 409 and "completed" in r.json()["detail"]
        r = await client.post(
            f"/tickets/{no}/complete",
            json=confirmation({"needs_analysis": True}),  # the symptom unknown too
            headers=ENG,
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/tickets/{no}/fault-analysis", json={"cause_category": "wear"}, headers=TECH
        )
        assert r.status_code == 422 and "symptom" in r.json()["detail"]
