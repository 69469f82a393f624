"""The staff API on a real database: phone answers, roles, figures, answers append-only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from aftersales_shared.scheduler import job_status
from aftersales_testing.support import auth
from surveys.models import AnswerRow, SurveyRow
from surveys.usecases.invitations import INVITE_JOB

pytestmark = pytest.mark.deadlines

GOOD = {
    "efficiency": "5",
    "attitude": "4",
    "professionalism": "5",
    "recommend": "9",
    "comment": "工程师很专业",
}


# ---------------------------------------------------------------- phone answers and roles
async def test_agent_records_a_phone_answer_marked_as_such(make_kit, make_completed):
    kit = await make_kit(invite_delay_minutes=60)
    async with kit.client() as client:
        env = make_completed(completed_at=datetime.now(UTC))
        await kit.deliver(env)
        survey = await kit.survey_of(env.data.ticket_id)
        body = {
            "efficiency": 1,
            "attitude": 3,
            "professionalism": 2,
            "comment": "电话回访：等待时间长",
            "respondent": "王建国",
        }

        r = await client.post(
            f"/surveys/{survey.id}/phone-answer", json=body, headers=auth("engineer")
        )
        assert r.status_code == 403
        r = await client.post(
            f"/surveys/{survey.id}/phone-answer",
            json=body | {"efficiency": 7},
            headers=auth("service_agent"),
        )
        assert r.status_code == 400
        r = await client.post(
            f"/surveys/{survey.id}/phone-answer",
            json=body | {"comment": "长" * 501},
            headers=auth("service_agent"),
        )
        assert r.status_code == 422 and r.json()["errors"] == {"comment": "too_long"}

        r = await client.post(
            f"/surveys/{survey.id}/phone-answer",
            json=body,
            headers=auth("service_agent", sub="agent-007"),
        )
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["status"] == "answered" and out["answer"]["method"] == "phone"
        assert (
            out["answer"]["recorded_by"] == "agent-007" and out["answer"]["respondent"] == "王建国"
        )
        (answered,) = await kit.events("SurveyAnswered", env.data.ticket_no)
        assert answered["recorded_by_agent"] == "agent-007" and answered["low_score"] is True
        assert answered["answered_via"] == "phone"  # tickets opens the follow-up as a phone one
        async with kit.rt.sessions() as session:
            assert await job_status(session, INVITE_JOB, survey.id) == "cancelled", (
                "no link after a phone answer"
            )

        r = await client.post(
            f"/surveys/{survey.id}/phone-answer", json=body, headers=auth("service_agent")
        )
        assert r.status_code == 409
        r = await client.post(
            "/surveys/nope/phone-answer", json=body, headers=auth("service_agent")
        )
        assert r.status_code == 404


async def test_phone_answer_closes_an_open_link(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        data, path = await kit.invite()
        survey = await kit.survey_of(data.ticket_id)
        body = {"efficiency": 4, "attitude": 4, "professionalism": 4}
        r = await client.post(
            f"/surveys/{survey.id}/phone-answer", json=body, headers=auth("service_supervisor")
        )
        assert r.status_code == 201
        assert (await client.get(path)).status_code == 409


async def test_roles_on_the_staff_api(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        assert (await client.get("/surveys")).status_code == 401
        assert (
            await client.get("/surveys", headers=auth("dealer", dealer_id="D-1"))
        ).status_code == 403
        assert (
            await client.get("/figures/satisfaction", headers=auth("service_agent"))
        ).status_code == 403
        assert (
            await client.get("/figures/satisfaction.csv", headers=auth("engineer"))
        ).status_code == 403
        for role in ("service_supervisor", "manager", "admin"):
            assert (
                await client.get("/figures/distribution", headers=auth(role))
            ).status_code == 200, role
        r = await client.get(
            "/figures/satisfaction", params={"by": "weather"}, headers=auth("manager")
        )
        assert r.status_code == 400
        r = await client.get(
            "/figures/satisfaction", params={"month_from": "2026-13"}, headers=auth("manager")
        )
        assert r.status_code == 400


# ---------------------------------------------------------------- figures
async def test_figures_per_group_response_rate_distribution_and_csv(
    make_kit, make_completed, clock
):
    clock.at(
        "friday-close"
    )  # 27 November 2026: the tickets below were completed in October and November
    kit = await make_kit()
    answers = [  # engineer, dealer, month completed (UTC), scores or None (not answered)
        ("eng-a", "D-1", datetime(2026, 10, 10, tzinfo=UTC), (5, 5, 5, 10)),
        ("eng-a", "D-1", datetime(2026, 11, 10, tzinfo=UTC), (3, 4, 2, None)),
        ("eng-b", "D-2", datetime(2026, 11, 11, tzinfo=UTC), (1, 2, 3, 0)),
        ("eng-b", "D-2", datetime(2026, 11, 12, tzinfo=UTC), None),
    ]
    async with kit.client() as client:
        for engineer, dealer, when, scores in answers:
            env = make_completed(engineer_id=engineer, dealer_id=dealer, completed_at=when)
            await kit.deliver(env)
            await kit.rt.scheduler.run_due()
            if scores:
                path = await kit.link_path(env.data.ticket_no)
                form = dict(
                    zip(("efficiency", "attitude", "professionalism"), map(str, scores[:3]))
                )
                form["recommend"] = "" if scores[3] is None else str(scores[3])
                assert (await client.post(path, data=form)).status_code == 303
        await kit.deliver(make_completed(phone=None, engineer_id="eng-a"))  # skipped: not counted

        mgr = auth("manager")
        r = await client.get("/figures/satisfaction", params={"by": "engineer"}, headers=mgr)
        assert r.status_code == 200, r.text
        rows = {row["key"]: row for row in r.json()["rows"]}
        assert rows["eng-a"] | {} == rows["eng-a"]
        assert (
            rows["eng-a"]["surveyed"],
            rows["eng-a"]["answered"],
            rows["eng-a"]["response_rate"],
        ) == (2, 2, 1.0)
        assert (
            rows["eng-a"]["efficiency"],
            rows["eng-a"]["professionalism"],
            rows["eng-a"]["recommend"],
        ) == (4.0, 3.5, 10.0)
        assert (
            rows["eng-b"]["surveyed"],
            rows["eng-b"]["answered"],
            rows["eng-b"]["response_rate"],
        ) == (2, 1, 0.5)
        assert rows["eng-b"]["overall"] == 2.0 and rows["eng-b"]["low_scores"] == 1
        total = r.json()["total"]
        assert (
            total["surveyed"],
            total["answered"],
            total["response_rate"],
            total["low_scores"],
        ) == (4, 3, 0.75, 2)

        r = await client.get("/figures/satisfaction", params={"by": "month"}, headers=mgr)
        assert [(row["key"], row["surveyed"]) for row in r.json()["rows"]] == [
            ("2026-10", 1),
            ("2026-11", 3),
        ]
        r = await client.get(
            "/figures/satisfaction",
            params={"by": "dealer", "month_from": "2026-11", "month_to": "2026-11"},
            headers=mgr,
        )
        assert {row["key"]: row["answered"] for row in r.json()["rows"]} == {"D-1": 1, "D-2": 1}
        for by in ("product", "channel"):
            r = await client.get("/figures/satisfaction", params={"by": by}, headers=mgr)
            assert r.status_code == 200 and r.json()["total"]["answered"] == 3

        r = await client.get("/figures/distribution", headers=mgr)
        scores = r.json()["scores"]
        assert scores["efficiency"] == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1}
        assert (
            scores["recommend"]["0"] == 1
            and scores["recommend"]["10"] == 1
            and sum(scores["recommend"].values()) == 2
        )
        assert r.json()["response_rate"] == 0.75

        r = await client.get("/figures/satisfaction.csv", params={"by": "engineer"}, headers=mgr)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        lines = r.content.decode("utf-8-sig").strip().splitlines()
        assert lines[0].startswith(
            "分组 group,已调查 surveyed,已回复 answered,回复率 response rate"
        )
        assert lines[1].startswith("eng-a,2,2,1.0,4.0,4.5,3.5,4.0,10.0,1") and lines[-1].startswith(
            "合计 total,4,3,0.75"
        )


async def test_answers_are_append_only_in_the_api(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        data, path = await kit.invite()
        await client.post(path, data=GOOD)
        survey = await kit.survey_of(data.ticket_id)
        for method in ("PUT", "PATCH", "DELETE"):
            r = await client.request(method, f"/surveys/{survey.id}", headers=auth("admin"))
            assert r.status_code == 405, method
        async with kit.rt.sessions() as session:
            assert (
                await session.scalars(select(AnswerRow).where(AnswerRow.survey_id == survey.id))
            ).one().efficiency == 5
            assert (await session.get(SurveyRow, survey.id)).answered_at is not None
