"""Expense claims (报销) over HTTP on the real database, at named moments: a claim's whole life
(lines per ticket, totals, receipts kept and downloaded through the local file storage, submitted,
rejected with a reason, corrected, resubmitted, approved, settled, audited, announced through the
outbox), who may see and do what, bad amounts and files refused with nothing written, and the
submission deadline firing once (ExpenseClaimOverdue) with the late claim refused unless a manager
excuses it."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from parts import messaging
from parts.usecases import expenses
from parts_support import uid
from sqlalchemy import func, select
from test_money import deliver, opened

from aftersales_shared.db import scheduled_jobs
from aftersales_shared.events import Contact, Envelope, TicketAssignedV1
from aftersales_shared.scheduler import Scheduler, job_status
from aftersales_testing.support import auth

pytestmark = pytest.mark.deadlines

SH = ZoneInfo("Asia/Shanghai")
ENG_A, ENG_B = "eng-zhang", "eng-li"
A = auth("engineer", sub=ENG_A, name="张工")
B = auth("engineer", sub=ENG_B)
SUP = auth("service_supervisor", sub="sup-wang")
MGR = auth("manager", sub="mgr-li")
FIN = auth("finance", sub="fin-zhao")
DEALER = auth("dealer", sub="dealer-1", dealer_id="D-ZJ-01")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)


def assigned(ticket_no: str, engineer: str) -> Envelope[Any]:
    return Envelope(
        data=TicketAssignedV1(
            ticket_id=uid("t-"),
            ticket_no=ticket_no,
            assigned_at=datetime(2026, 11, 20, 3, 30, tzinfo=UTC),
            assignee_id=engineer,
            assignee_kind="engineer",
            assigned_by="sup-wang",
            urgency="normal",
            customer_name="苏州精密机械有限公司",
            contact=Contact(name="王工", phone="13800138000"),
        ),
        subject=ticket_no,
    )


async def tickets_of(kit: Any, engineer: str, n: int = 2) -> list[str]:
    """Tickets parts heard of (TicketOpened) and assigned to the engineer (TicketAssigned)."""
    nos = [uid("SV-") for _ in range(n)]
    for no in nos:
        assert await deliver(kit, opened(no, True))
        assert await deliver(kit, assigned(no, engineer))
    return nos


def trip(t1: str, t2: str, **kw: Any) -> dict[str, Any]:
    return {
        "trip_start": "2026-11-23",
        "trip_end": "2026-11-27",
        "destination": "江苏省苏州市",
        "purpose": "主轴维修",
        "lines": [
            {
                "spent_on": "2026-11-23",
                "category": "transport",
                "amount": "553.50",
                "note": "高铁 杭州东—苏州",
                "ticket_nos": [t1],
            },
            {
                "spent_on": "2026-11-24",
                "category": "lodging",
                "amount": "680.00",
                "ticket_nos": [t1, t2],
            },
            {
                "spent_on": "2026-11-25",
                "category": "meal_allowance",
                "amount": "150.00",
                "ticket_nos": [t2],
            },
        ],
    } | kw


async def receipt(
    c: Any, claim_id: int, data: bytes, kind: str, expect: int = 201, **params: Any
) -> dict[str, Any]:
    r = await c.post(
        f"/expense-claims/{claim_id}/receipts",
        params={"filename": "票据.png"} | params,
        content=data,
        headers=A | {"content-type": kind},
    )
    assert r.status_code == expect, r.text
    return r.json()


def at_shanghai(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(SH)


async def test_a_claim_lives_from_draft_to_settled_and_every_step_is_kept(
    make_kit, clock, tmp_path
):
    clock.at("sunday-evening")  # Sunday 29 Nov 2026 20:57 in Shanghai
    kit = await make_kit(files_dir=str(tmp_path))
    t1, t2 = await tickets_of(kit, ENG_A)
    async with kit.client() as c:
        r = await c.post("/expense-claims", json=trip(t1, t2), headers=A)
        assert r.status_code == 201, r.text
        claim = r.json()
        cid = claim["claim_id"]
        assert claim["state"] == "draft" and claim["engineer_id"] == ENG_A
        assert claim["claim_no"] == f"BX-20261129-{cid:04d}"
        assert claim["total"] == "1383.50"
        assert {t["category"]: t["total"] for t in claim["category_totals"]} == {
            "transport": "553.50",
            "lodging": "680.00",
            "meal_allowance": "150.00",
            "other": "0.00",
        }
        assert [t["label"] for t in claim["category_totals"]] == ["交通", "住宿", "餐补", "其他"]
        # trip ended Friday 27 Nov: 30 Nov – 4 Dec and 7 – 11 Dec are the ten working days
        assert at_shanghai(claim["submit_due_at"]) == datetime(2026, 12, 11, 18, 0, tzinfo=SH)
        async with kit.rt.sessions() as s:
            assert await job_status(s, expenses.SUBMIT_DUE_JOB, str(cid)) == "pending"

        # the fare and the hotel need their receipts; the allowance none
        r = await c.post(f"/expense-claims/{cid}/submit", headers=A)
        assert r.status_code == 422 and "第1、2行缺少凭证" in r.json()["detail"], r.text
        png = await receipt(c, cid, PNG, "image/png", line_no=1)
        pdf = await receipt(c, cid, PDF, "application/pdf", line_no=2, filename="住宿发票.pdf")
        assert png["size"] == len(PNG) and pdf["line_no"] == 2

        # the receipt comes back as it went in, to whoever may see the claim
        for who in (A, SUP, FIN):
            r = await c.get(f"/expense-claims/{cid}/receipts/{pdf['receipt_id']}", headers=who)
            assert r.status_code == 200 and r.content == PDF
            assert r.headers["content-type"].startswith("application/pdf")
            assert "filename*=UTF-8''%E4%BD%8F%E5%AE%BF" in r.headers["content-disposition"]
        assert list(tmp_path.rglob("*.pdf")), "kept in the local folder storage"

        # another engineer sees nothing of it, edits nothing; a dealer is refused at the door
        assert (await c.get(f"/expense-claims/{cid}", headers=B)).status_code == 404
        r = await c.get(f"/expense-claims/{cid}/receipts/{png['receipt_id']}", headers=B)
        assert r.status_code == 404
        assert (
            await c.put(f"/expense-claims/{cid}", json=trip(t1, t2), headers=B)
        ).status_code == 404
        assert (await c.post(f"/expense-claims/{cid}/submit", headers=B)).status_code == 404
        r = await c.post(
            f"/expense-claims/{cid}/receipts",
            params={"filename": "x.png"},
            content=PNG,
            headers=B | {"content-type": "image/png"},
        )
        assert r.status_code == 404
        assert (await c.get("/expense-claims", headers=B)).json()["total"] == 0
        assert (await c.get("/expense-claims", params={"engineer": ENG_A}, headers=B)).json()[
            "total"
        ] == 0
        assert (await c.get("/expense-claims", headers=DEALER)).status_code == 403
        assert (await c.get(f"/expense-claims/{cid}", headers=DEALER)).status_code == 403

        # not yet submitted: nobody decides; submitting disarms the deadline
        assert (await c.post(f"/expense-claims/{cid}/approve", headers=SUP)).status_code == 409
        r = await c.post(f"/expense-claims/{cid}/submit", headers=A)
        assert r.status_code == 200 and r.json()["state"] == "submitted", r.text
        async with kit.rt.sessions() as s:
            assert await job_status(s, expenses.SUBMIT_DUE_JOB, str(cid)) == "cancelled"
        assert (
            await c.put(f"/expense-claims/{cid}", json=trip(t1, t2), headers=A)
        ).status_code == 409
        assert (
            await c.post(
                f"/expense-claims/{cid}/settle", json={"payment_reference": "FK-1"}, headers=FIN
            )
        ).status_code == 409

        # rejected with a reason (none, or too short: refused), corrected, resubmitted
        r = await c.post(f"/expense-claims/{cid}/reject", json={"reason": "不行"}, headers=SUP)
        assert r.status_code == 422 and "原因" in r.json()["detail"]
        r = await c.post(f"/expense-claims/{cid}/reject", json={}, headers=SUP)
        assert r.status_code == 400
        why = "住宿发票抬头不是公司名称，请重开"
        r = await c.post(f"/expense-claims/{cid}/reject", json={"reason": why}, headers=SUP)
        assert r.status_code == 200 and r.json()["state"] == "rejected"
        assert r.json()["reject_reason"] == why
        body = trip(t1, t2)
        body["lines"][1]["amount"] = "640.00"
        r = await c.put(f"/expense-claims/{cid}", json=body, headers=A)
        assert r.status_code == 200 and r.json()["total"] == "1343.50", r.text
        assert r.json()["lines"][1]["receipts"] == [pdf["receipt_id"]], "receipts stay"
        r = await c.post(f"/expense-claims/{cid}/submit", headers=A)
        assert r.status_code == 200, r.text

        # approved by the supervisor, settled by finance with the payment reference
        assert (await c.post(f"/expense-claims/{cid}/approve", headers=A)).status_code == 403
        r = await c.post(f"/expense-claims/{cid}/approve", headers=SUP)
        assert r.status_code == 200 and r.json()["decided_by"] == "sup-wang"
        r = await c.post(
            f"/expense-claims/{cid}/settle",
            json={"payment_reference": "FK-2026-12-0017"},
            headers=SUP,
        )
        assert r.status_code == 403
        r = await c.post(
            f"/expense-claims/{cid}/settle",
            json={"payment_reference": "FK-2026-12-0017"},
            headers=FIN,
        )
        assert r.status_code == 200 and r.json()["state"] == "settled"
        assert r.json()["payment_reference"] == "FK-2026-12-0017"

        # the tickets' cost shows the approved lines that name them (the company's cost)
        r = await c.get(f"/tickets/{t2}/costs", headers=SUP)
        costs = r.json()
        assert [(e["category"], e["amount"], e["shared_with"]) for e in costs["expense_lines"]] == [
            ("lodging", "640.00", 1),
            ("meal_allowance", "150.00", 0),
        ]
        assert costs["expense_total"] == "790.00" and costs["grand_total"] == "0.00"
        r = await c.get(f"/tickets/{t1}/costs", headers=B)
        assert r.json()["expense_lines"] == [], "another engineer does not see A's amounts"

        r = await c.get(f"/expense-claims/{cid}/history", headers=SUP)
        steps = [(h["action"], h["from_state"], h["to_state"], h["actor"]) for h in r.json()]
        assert steps == [
            ("created", None, "draft", ENG_A),
            ("submitted", "draft", "submitted", ENG_A),
            ("rejected", "submitted", "rejected", "sup-wang"),
            ("updated", "rejected", "rejected", ENG_A),
            ("resubmitted", "rejected", "submitted", ENG_A),
            ("approved", "submitted", "approved", "sup-wang"),
            ("settled", "approved", "settled", "fin-zhao"),
        ]
        assert r.json()[2]["reason"] == why

    submitted = await kit.events("ExpenseClaimSubmitted")
    assert [e["resubmitted"] for e in submitted] == [False, True]
    assert submitted[0]["assignee_id"] == ENG_A and submitted[0]["ticket_nos"] == sorted([t1, t2])
    (rejected,) = await kit.events("ExpenseClaimRejected")
    assert rejected["reason"] == why and rejected["rejected_by"] == "sup-wang"
    (approved,) = await kit.events("ExpenseClaimApproved")
    assert approved["total"] == "1343.50"
    (settled,) = await kit.events("ExpenseClaimSettled")
    assert settled["payment_reference"] == "FK-2026-12-0017" and settled["assignee_id"] == ENG_A
    assert await kit.events("ExpenseClaimOverdue") == []


async def test_receipts_follow_their_expense_when_lines_are_removed_or_corrected(
    make_kit, clock, tmp_path
):
    clock.at("sunday-evening")
    kit = await make_kit(files_dir=str(tmp_path))
    t1, t2 = await tickets_of(kit, ENG_A)
    async with kit.client() as c:
        r = await c.post("/expense-claims", json=trip(t1, t2), headers=A)
        assert r.status_code == 201, r.text
        cid = r.json()["claim_id"]
        fare = await receipt(c, cid, PNG, "image/png", line_no=1)
        hotel = await receipt(c, cid, PDF, "application/pdf", line_no=2)
        meal = await receipt(c, cid, PNG, "image/png", line_no=3)

        # the fare is taken out: the hotel and the allowance move up, their receipts with them
        body = trip(t1, t2)
        body["lines"] = body["lines"][1:]
        body["lines"][0]["amount"] = "640.00"  # and the hotel's amount corrected
        r = await c.put(f"/expense-claims/{cid}", json=body, headers=A)
        assert r.status_code == 200, r.text
        lines = r.json()["lines"]
        assert [ln["category"] for ln in lines] == ["lodging", "meal_allowance"]
        assert lines[0]["receipts"] == [hotel["receipt_id"]]
        assert lines[1]["receipts"] == [meal["receipt_id"]]
        kept = {x["receipt_id"]: x["line_no"] for x in r.json()["receipts"]}
        assert kept == {fare["receipt_id"]: None, hotel["receipt_id"]: 1, meal["receipt_id"]: 2}

        # two lines of the same day and kind: which one a receipt belongs to is unknown
        body["lines"].append(dict(body["lines"][0], amount="100.00"))
        r = await c.put(f"/expense-claims/{cid}", json=body, headers=A)
        assert r.status_code == 200, r.text
        kept = {x["receipt_id"]: x["line_no"] for x in r.json()["receipts"]}
        assert kept[hotel["receipt_id"]] is None and kept[meal["receipt_id"]] == 2


async def test_no_one_approves_their_own_claim(make_kit, clock):
    clock.at("sunday-evening")
    kit = await make_kit()
    boss = "sup-eng-zhou"  # a supervisor who also travels as an engineer
    both = auth("engineer", "service_supervisor", sub=boss)
    (t1,) = await tickets_of(kit, boss, 1)
    async with kit.client() as c:
        body = {
            "trip_start": "2026-11-26",
            "trip_end": "2026-11-26",
            "destination": "宁波",
            "lines": [
                {
                    "spent_on": "2026-11-26",
                    "category": "meal_allowance",
                    "amount": "80.00",
                    "ticket_nos": [t1],
                }
            ],
        }
        r = await c.post("/expense-claims", json=body, headers=both)
        cid = r.json()["claim_id"]
        assert (await c.post(f"/expense-claims/{cid}/submit", headers=both)).status_code == 200
        r = await c.post(f"/expense-claims/{cid}/approve", headers=both)
        assert r.status_code == 403 and "不能审核本人" in r.json()["detail"]
        r = await c.post(
            f"/expense-claims/{cid}/reject", json={"reason": "自己退回自己"}, headers=both
        )
        assert r.status_code == 403
        assert (await c.post(f"/expense-claims/{cid}/approve", headers=SUP)).status_code == 200


async def _count_claims(kit: Any) -> int:
    async with kit.rt.sessions() as s:
        return await s.scalar(select(func.count()).select_from(expenses.ExpenseClaimRow)) or 0


async def test_bad_amounts_tickets_and_files_are_refused_and_nothing_is_written(
    make_kit, clock, tmp_path
):
    clock.at("sunday-evening")
    kit = await make_kit(files_dir=str(tmp_path), receipt_max_bytes=2048)
    t1, t2 = await tickets_of(kit, ENG_A)
    (theirs,) = await tickets_of(kit, ENG_B, 1)
    async with kit.client() as c:

        async def refused(body: dict[str, Any], status: int, words: str) -> None:
            r = await c.post("/expense-claims", json=body, headers=A)
            assert r.status_code == status, r.text
            assert words in r.text, r.text

        def with_amount(value: Any) -> dict[str, Any]:
            body = trip(t1, t2)
            body["lines"][0]["amount"] = value
            return body

        for bad in ("0", "-1.00", "12.345", "50000.01", "一百", "1e400", None):
            r = await c.post("/expense-claims", json=with_amount(bad), headers=A)
            assert 400 <= r.status_code < 500, (bad, r.status_code, r.text)
        other = trip(t1, t2)
        other["lines"][0]["ticket_nos"] = [theirs]
        await refused(other, 422, "未指派给您")
        unknown = trip(t1, t2)
        unknown["lines"][2]["ticket_nos"] = ["SV-NEVER-HEARD"]
        await refused(unknown, 422, "SV-NEVER-HEARD")
        outside = trip(t1, t2)
        outside["lines"][0]["spent_on"] = "2026-11-28"
        await refused(outside, 422, "不在出差期间")
        await refused(trip(t1, t2, trip_end="2026-11-30"), 422, "出差尚未结束")
        await refused(trip(t1, t2, trip_end="2026-11-20"), 422, "早于")
        await refused(trip(t1, t2, extra="x"), 400, "extra")
        r = await c.post("/expense-claims", json=trip(t1, t2), headers=SUP)
        assert r.status_code == 403, "supervisors approve claims, engineers make them"
        assert await _count_claims(kit) == 0

        cid = (await c.post("/expense-claims", json=trip(t1, t2), headers=A)).json()["claim_id"]
        await receipt(c, cid, b"GIF89a" + bytes(20), "image/gif", expect=422)
        await receipt(c, cid, PDF, "image/png", expect=422)  # the bytes are not what it says
        await receipt(c, cid, b"<html><script>", "application/pdf", expect=422)
        await receipt(c, cid, b"", "image/jpeg", expect=422)
        await receipt(c, cid, JPEG + bytes(4096), "image/jpeg", expect=413)
        await receipt(c, cid, JPEG, "image/jpeg", expect=422, line_no=9)
        r = await c.post(
            f"/expense-claims/{cid}/receipts",
            content=JPEG,
            headers=A | {"content-type": "image/jpeg"},
        )
        assert r.status_code == 400, "the file name is required"
        assert (await c.get(f"/expense-claims/{cid}", headers=A)).json()["receipts"] == []
        assert not [p for p in tmp_path.rglob("*") if p.is_file()], "no file left behind"
        kept = await receipt(c, cid, JPEG, "image/jpeg; charset=binary")
        assert kept["content_type"] == "image/jpeg" and kept["line_no"] is None

        r = await c.get("/expense-claims/99999999", headers=SUP)
        assert r.status_code == 404 and "不存在" in r.json()["detail"]
        for path in ("/expense-claims/3000000000", f"/expense-claims/{cid}/receipts/2147483648"):
            assert (await c.get(path, headers=SUP)).status_code == 400, path
        r = await c.get("/expense-claims", params={"month": "2026-13"}, headers=SUP)
        assert r.status_code == 400


async def test_the_deadline_fires_once_and_a_late_claim_needs_a_managers_exception(make_kit, clock):
    now = clock.at("sunday-evening")
    kit = await make_kit()
    t1, t2 = await tickets_of(kit, ENG_A)
    async with kit.client() as c:
        # a trip that ended Friday 6 Nov: ten working days end on Friday 20 Nov, already past
        body = trip(t1, t2, trip_start="2026-11-04", trip_end="2026-11-06")
        for line, day in zip(
            body["lines"], ("2026-11-04", "2026-11-05", "2026-11-06"), strict=True
        ):
            line["spent_on"] = day
        body["lines"] = body["lines"][2:]  # the allowance alone: no receipt needed
        r = await c.post("/expense-claims", json=body, headers=A)
        late = r.json()
        cid = late["claim_id"]
        assert at_shanghai(late["submit_due_at"]) == datetime(2026, 11, 20, 18, 0, tzinfo=SH)
        # one in time, whose deadline is still ahead: left alone
        r = await c.post("/expense-claims", json=trip(t1, t2), headers=A)
        on_time = r.json()["claim_id"]

        # before the deadline job has even run, the clock alone refuses the late submission
        r = await c.post(f"/expense-claims/{cid}/submit", headers=A)
        assert r.status_code == 409 and "逾期将不予报销" in r.json()["detail"], r.text

        # two replicas' schedulers race for the due job: it fires once
        replicas = []
        for _ in range(2):
            scheduler = Scheduler(kit.rt.sessions, clock=lambda: now.astimezone(UTC))
            messaging.register_jobs(scheduler, kit.rt.settings)
            replicas.append(scheduler)
        fired = await asyncio.gather(*(s.run_due() for s in replicas))
        assert sorted(fired) == [0, 1]
        assert [await s.run_due() for s in replicas] == [0, 0]
        (overdue,) = await kit.events("ExpenseClaimOverdue")
        assert overdue["claim_id"] == cid and overdue["working_days"] == 10
        assert overdue["assignee_id"] == ENG_A
        async with kit.rt.sessions() as s:
            assert await job_status(s, expenses.SUBMIT_DUE_JOB, str(on_time)) == "pending"
            due = await s.scalar(
                select(scheduled_jobs.c.due_at).where(
                    scheduled_jobs.c.kind == expenses.SUBMIT_DUE_JOB,
                    scheduled_jobs.c.key == str(on_time),
                )
            )
            assert due.astimezone(SH) == datetime(2026, 12, 11, 18, 0, tzinfo=SH)

        r = await c.get("/expense-claims", params={"overdue": "true"}, headers=SUP)
        assert [i["claim_id"] for i in r.json()["items"]] == [cid]
        r = await c.get(
            "/expense-claims", params={"month": "2026-11", "state": "draft"}, headers=SUP
        )
        assert {i["claim_id"] for i in r.json()["items"]} == {cid, on_time}
        r = await c.get("/expense-claims", params={"month": "2026-10"}, headers=SUP)
        assert r.json()["total"] == 0

        # the overdue claim's trip cannot be moved to dodge the deadline
        moved = dict(body, trip_end="2026-11-27")
        r = await c.put(f"/expense-claims/{cid}", json=moved, headers=A)
        assert r.status_code == 409 and "已逾期" in r.json()["detail"]

        # only a manager excuses it, with a reason; then it may be submitted
        why = "客户现场封闭管理，票据延迟寄回"
        r = await c.post(f"/expense-claims/{cid}/late-exception", json={"reason": why}, headers=SUP)
        assert r.status_code == 403
        r = await c.post(
            f"/expense-claims/{cid}/late-exception", json={"reason": "ok"}, headers=MGR
        )
        assert r.status_code == 422
        r = await c.post(f"/expense-claims/{cid}/late-exception", json={"reason": why}, headers=MGR)
        assert r.status_code == 200 and r.json()["late_exception_by"] == "mgr-li"
        r = await c.post(f"/expense-claims/{cid}/submit", headers=A)
        assert r.status_code == 200, r.text
        r = await c.post(
            f"/expense-claims/{on_time}/late-exception", json={"reason": why}, headers=MGR
        )
        assert r.status_code == 409, "a claim in time needs no exception"

        r = await c.get(f"/expense-claims/{cid}/history", headers=A)
        actions = [(h["action"], h["actor"], h["reason"]) for h in r.json()]
        assert actions[1][:2] == ("overdue", expenses.SCHEDULER_ACTOR)
        assert actions[2] == ("late_exception", "mgr-li", why)
    (submitted,) = await kit.events("ExpenseClaimSubmitted")
    assert submitted["late_exception"] is True and submitted["claim_id"] == cid
    assert len(await kit.events("ExpenseClaimOverdue")) == 1


async def test_the_audit_trail_cannot_be_changed(make_kit, clock):
    clock.at("sunday-evening")
    kit = await make_kit()
    t1, t2 = await tickets_of(kit, ENG_A)
    async with kit.client() as c:
        assert (await c.post("/expense-claims", json=trip(t1, t2), headers=A)).status_code == 201
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    async with kit.rt.sessions() as s:
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(text("UPDATE expense_claim_events SET actor = 'someone else'"))
        await s.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(text("DELETE FROM expense_claim_events"))


def test_named_trip_dates_are_what_the_moments_say():
    assert date(2026, 11, 27).weekday() == 4 and date(2026, 11, 6).weekday() == 4


async def _job(kit: Any, kind: str, key: str) -> tuple[str | None, datetime | None]:
    async with kit.rt.sessions() as s:
        row = (
            await s.execute(
                select(scheduled_jobs.c.status, scheduled_jobs.c.due_at).where(
                    scheduled_jobs.c.kind == kind, scheduled_jobs.c.key == key
                )
            )
        ).first()
    return (row.status, row.due_at) if row else (None, None)


async def test_a_submission_nobody_decides_reaches_the_supervisors_once(make_kit, clock):
    clock.at("friday-close")  # Friday 27 Nov 2026 17:59 in Shanghai
    kit = await make_kit()
    (t1,) = await tickets_of(kit, ENG_A, 1)
    body = {
        "trip_start": "2026-11-26",
        "trip_end": "2026-11-26",
        "destination": "绍兴",
        "lines": [
            {
                "spent_on": "2026-11-26",
                "category": "meal_allowance",
                "amount": "80.00",
                "ticket_nos": [t1],
            }
        ],
    }
    async with kit.client() as c:
        cid = (await c.post("/expense-claims", json=body, headers=A)).json()["claim_id"]
        assert (await c.post(f"/expense-claims/{cid}/submit", headers=A)).status_code == 200
        # three working days after Friday: Mon 30 Nov, Tue 1 and Wed 2 Dec, at close of business
        status, due = await _job(kit, expenses.APPROVAL_DUE_JOB, f"{cid}/1")
        assert status == "pending"
        assert due.astimezone(SH) == datetime(2026, 12, 2, 18, 0, tzinfo=SH)

        def scheduler_at(moment: datetime) -> Scheduler:
            scheduler = Scheduler(kit.rt.sessions, clock=lambda: moment)
            messaging.register_jobs(scheduler, kit.rt.settings)
            return scheduler

        assert await scheduler_at(datetime(2026, 12, 2, 17, 59, tzinfo=SH)).run_due() == 0
        late = scheduler_at(datetime(2026, 12, 2, 18, 0, tzinfo=SH))
        assert await late.run_due() == 1
        assert await late.run_due() == 0
        (overdue,) = await kit.events("ExpenseClaimOverdue")
        assert overdue["stage"] == "approval" and overdue["working_days"] == 3
        assert at_shanghai(overdue["approval_due_at"]) == datetime(2026, 12, 2, 18, 0, tzinfo=SH)
        r = await c.get(f"/expense-claims/{cid}", headers=SUP)
        assert r.json()["state"] == "submitted" and r.json()["overdue"] is False

        # rejected and resubmitted: a new deadline for the new submission, disarmed by approval
        r = await c.post(
            f"/expense-claims/{cid}/reject", json={"reason": "请补充出差事由"}, headers=SUP
        )
        assert r.status_code == 200
        assert (
            await c.put(f"/expense-claims/{cid}", json=body | {"purpose": "巡检"}, headers=A)
        ).status_code == 200
        assert (await c.post(f"/expense-claims/{cid}/submit", headers=A)).status_code == 200
        assert (await _job(kit, expenses.APPROVAL_DUE_JOB, f"{cid}/2"))[0] == "pending"
        assert (await c.post(f"/expense-claims/{cid}/approve", headers=SUP)).status_code == 200
        assert (await _job(kit, expenses.APPROVAL_DUE_JOB, f"{cid}/2"))[0] == "cancelled"
        assert await scheduler_at(datetime(2026, 12, 31, 18, 0, tzinfo=SH)).run_due() == 0
    assert len(await kit.events("ExpenseClaimOverdue")) == 1
