"""Invitations from ServiceCompleted, the public page, phone answers and figures, on a real database."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from aftersales_shared.db import scheduled_jobs
from aftersales_shared.scheduler import Scheduler, job_status
from aftersales_testing.support import auth, opened_link
from surveys import messaging
from surveys.models import AnswerRow, SurveyRow
from surveys.usecases import invitations
from surveys.usecases.invitations import INVITE_JOB, REDACT_JOB

pytestmark = pytest.mark.deadlines

GOOD = {
    "efficiency": "5",
    "attitude": "4",
    "professionalism": "5",
    "recommend": "9",
    "comment": "工程师很专业",
}


# ---------------------------------------------------------------- invitations
async def test_one_invitation_per_ticket_with_the_link_and_the_ticket_attributes(
    make_kit, make_completed
):
    kit = await make_kit()
    async with kit.client():
        env = make_completed(
            engineer_id="eng-li", dealer_id="D-SZ-02", product_model="XK-300", channel="wechat"
        )
        assert await kit.deliver(env)
        assert not await kit.deliver(env), "a redelivered event has no second effect"
        again = make_completed(
            ticket_no=env.data.ticket_no, ticket_id=env.data.ticket_id
        )  # re-completed ticket
        assert await kit.deliver(again)
        assert await kit.count_surveys(env.data.ticket_id) == 1

        assert await kit.rt.scheduler.run_due() == 1
        assert await kit.rt.scheduler.run_due() == 0
        (requested,) = await kit.events("SurveyRequested", env.data.ticket_no)
        link = opened_link(
            requested
        )  # sealed for notifications: staff and the stream see a masked link
        assert link.startswith("https://survey.example.cn/s/")
        token = link.rsplit("/", 1)[1]
        assert requested["link_masked"] == f"https://survey.example.cn/s/{token[:4]}……"
        assert token not in json.dumps(requested)
        assert len(token) >= 43  # ≥ 256 bits in URL-safe base64
        assert requested["contact"]["phone"] == "13800138000"

        survey = await kit.survey_of(env.data.ticket_id)
        assert survey.status == "invited" and survey.token_hash and token not in survey.token_hash
        assert survey.expires_at - survey.invited_at == timedelta(days=14)
        assert (survey.engineer_id, survey.dealer_id, survey.product_model, survey.channel) == (
            "eng-li",
            "D-SZ-02",
            "XK-300",
            "wechat",
        )


async def test_sent_token_is_blanked_in_the_outbox_once_published(make_kit, make_completed):
    kit = await make_kit()
    async with kit.client():
        data, path = await kit.invite()
        token = path.rsplit("/", 1)[1]
        survey = await kit.survey_of(data.ticket_id)
        event_id = dict(await _jobs(kit, REDACT_JOB))[f"{survey.id}:0"]
        policy = kit.rt.settings.policy()
        async with (
            kit.rt.sessions.begin() as session
        ):  # relay has not published yet: try again later
            assert not await invitations.redact_link(session, survey.id, event_id, 0, policy)
        assert f"{survey.id}:1" in dict(await _jobs(kit, REDACT_JOB))
        assert token in opened_link((await kit.events("SurveyRequested", data.ticket_no))[0])

        await kit.sql(
            "UPDATE outbox SET published_at = :t WHERE id = :id", t=datetime.now(UTC), id=event_id
        )
        async with kit.rt.sessions.begin() as session:
            assert await invitations.redact_link(session, survey.id, event_id, 1, policy)
        (requested,) = await kit.events("SurveyRequested", data.ticket_no)
        assert requested["link_sealed"] == "[redacted]" and "link" not in requested
        assert requested["survey_id"] == survey.id


async def _jobs(kit, kind: str) -> list[tuple[str, str]]:
    async with kit.rt.sessions() as session:
        rows = (
            await session.execute(
                select(scheduled_jobs.c.key, scheduled_jobs.c.payload).where(
                    scheduled_jobs.c.kind == kind
                )
            )
        ).all()
    return [(k, json.loads(p)["event_id"]) for k, p in rows]


async def test_invitation_waits_for_its_working_time_deadline(make_kit, make_completed):
    kit = await make_kit(invite_delay_minutes=60)
    async with kit.client():
        now = datetime.now(UTC)
        env = make_completed(completed_at=now)
        await kit.deliver(env)
        survey = await kit.survey_of(env.data.ticket_id)
        assert survey.status == "scheduled" and now < survey.due_at <= now + timedelta(days=10)
        assert await kit.rt.scheduler.run_due() == 0, "not due yet"

        later = Scheduler(kit.rt.sessions, clock=lambda: survey.due_at + timedelta(seconds=1))
        messaging.register_jobs(later, kit.rt.settings.policy())
        assert await later.run_due() == 1
        assert (await kit.survey_of(env.data.ticket_id)).status == "invited"
        assert len(await kit.events("SurveyRequested", env.data.ticket_no)) == 1


async def test_recently_surveyed_customer_is_skipped_with_the_reason(make_kit, make_completed):
    kit = await make_kit(quiet_days=30)
    async with kit.client() as client:
        first = make_completed(
            customer_id="C-repeat", completed_at=datetime(2026, 11, 2, tzinfo=UTC)
        )
        second = make_completed(
            customer_id="C-repeat", completed_at=datetime(2026, 11, 20, tzinfo=UTC)
        )
        later = make_completed(
            customer_id="C-repeat", completed_at=datetime(2026, 12, 3, tzinfo=UTC)
        )
        nobody = make_completed(phone=None, email=None)
        for env in (first, second, later, nobody):
            await kit.deliver(env)
        statuses = [(await kit.survey_of(e.data.ticket_id)) for e in (first, second, later, nobody)]
        assert [(s.status, s.skip_reason) for s in statuses] == [
            ("scheduled", None),
            ("skipped", "recently_surveyed"),
            ("scheduled", None),
            ("skipped", "no_contact"),
        ]
        r = await client.get(
            "/surveys",
            params={"status": "skipped", "customer_id": "C-repeat"},
            headers=auth("service_supervisor"),
        )
        assert r.status_code == 200 and r.json()["total"] == 1
        assert r.json()["items"][0]["skip_reason"] == "recently_surveyed"


# ---------------------------------------------------------------- the public page
async def test_customer_answers_once_and_the_link_is_then_refused(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        data, path = await kit.invite()
        r = await client.get(path)
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        assert '<html lang="zh-CN">' in r.text and "效率" in r.text and data.ticket_no in r.text
        assert (
            r.headers["referrer-policy"] == "no-referrer"
            and r.headers["cache-control"] == "no-store"
        )
        for d in ("efficiency", "attitude", "professionalism"):
            assert f'<fieldset id="{d}-field"' in r.text and f'for="{d}-5"' in r.text
        assert "<script" not in r.text

        r = await client.post(path, data=GOOD)
        assert r.status_code == 303 and r.headers["location"].endswith("/thanks?lang=zh-CN")
        r = await client.get(f"{path}/thanks")
        assert r.status_code == 200 and "感谢" in r.text

        survey = await kit.survey_of(data.ticket_id)
        assert survey.status == "answered"
        assert (survey.answer.efficiency, survey.answer.recommend, survey.answer.method) == (
            5,
            9,
            "web",
        )
        (answered,) = await kit.events("SurveyAnswered", data.ticket_no)
        assert answered["low_score"] is False and answered["recorded_by_agent"] is None
        assert answered["engineer_id"] == "eng-zhang" and answered["comment"] == "工程师很专业"

        r = await client.get(path)
        assert r.status_code == 409 and "<h2>该调查已提交</h2>" in r.text
        r = await client.post(path, data=GOOD | {"efficiency": "1"})
        assert r.status_code == 409 and "已提交" in r.text
        assert await kit.count_answers(survey.id) == 1
        assert len(await kit.events("SurveyAnswered", data.ticket_no)) == 1


async def test_low_score_is_flagged_for_a_follow_up(make_kit):
    kit = await make_kit(low_score_threshold=2)
    async with kit.client() as client:
        data, path = await kit.invite()
        r = await client.post(
            path,
            data={
                "efficiency": "2",
                "attitude": "4",
                "professionalism": "4",
                "comment": "到场太慢",
            },
        )
        assert r.status_code == 303
        (answered,) = await kit.events("SurveyAnswered", data.ticket_no)
        assert answered["low_score"] is True and (answered["efficiency"], answered["attitude"]) == (
            2,
            4,
        )
        r = await client.get(f"{path}/thanks")
        assert "客服主管会尽快与您联系" in r.text


async def test_wrong_input_is_shown_next_to_the_field_and_nothing_is_stored(make_kit):
    kit = await make_kit(comment_max_chars=200)
    async with kit.client() as client:
        data, path = await kit.invite()
        survey = await kit.survey_of(data.ticket_id)
        cases = [
            ({"attitude": "4", "professionalism": "5"}, "efficiency", "请选择一个分数"),
            (GOOD | {"efficiency": "6"}, "efficiency", "分数超出范围"),
            (GOOD | {"attitude": "0"}, "attitude", "分数超出范围"),
            (GOOD | {"professionalism": "-3"}, "professionalism", "请选择列表中的一个分数"),
            (GOOD | {"recommend": "42"}, "recommend", "0–10"),
            (GOOD | {"comment": "慢" * 201}, "comment", "意见最多 200 个字，当前 201 个字"),
        ]
        for form, field, message in cases:
            r = await client.post(path, data=form)
            assert r.status_code == 422, (field, r.status_code)
            assert f'<p class="error" id="{field}-error">' in r.text and message in r.text, field
            assert 'role="alert"' in r.text and f'href="#{field}-field"' in r.text
        # what the customer already chose is kept in the form
        r = await client.post(
            path,
            data={
                "efficiency": "4",
                "attitude": "9",
                "professionalism": "5",
                "comment": "<b>x</b>",
            },
        )
        assert 'id="efficiency-4" name="efficiency" value="4" checked' in r.text
        assert "&lt;b&gt;x&lt;/b&gt;" in r.text and "<b>x</b>" not in r.text
        assert await kit.count_answers(survey.id) == 0
        assert (await kit.survey_of(data.ticket_id)).status == "invited"


async def test_english_page_on_request(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        _, path = await kit.invite()
        r = await client.get(path, params={"lang": "en"})
        assert (
            '<html lang="en">' in r.text and "Efficiency" in r.text and "Professionalism" in r.text
        )
        r = await client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert "Attitude" in r.text
        r = await client.post(f"{path}?lang=en", data={"lang": "en", "efficiency": "3"})
        assert r.status_code == 422 and "Please choose a score" in r.text
        r = await client.post(f"{path}?lang=en", data=GOOD | {"lang": "en"})
        assert r.headers["location"].endswith("?lang=en")
        r = await client.get(path, params={"lang": "en"})
        assert r.status_code == 409 and "already answered" in r.text


async def test_unknown_malformed_and_expired_links_get_clear_pages(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        data, path = await kit.invite()
        for bad in ("/s/" + "A" * 43, "/s/short", "/s/" + path[3:-1] + "!", f"{path}x/thanks"):
            r = await client.get(bad)
            assert r.status_code == 404 and "调查链接无效" in r.text, bad
            assert r.headers["content-type"].startswith("text/html") and "Traceback" not in r.text
        r = await client.get(
            "/s/%00%27", headers={"accept": "text/html"}
        )  # a control character: the input layer
        assert (
            r.status_code == 400
            and "请求地址无效" in r.text
            and r.headers["content-type"].startswith("text/html")
        )
        r = await client.post("/s/" + "B" * 43, data=GOOD)
        assert r.status_code == 404

        await kit.sql(
            "UPDATE surveys SET expires_at = :t WHERE ticket_id = :id",
            t=datetime.now(UTC) - timedelta(minutes=1),
            id=data.ticket_id,
        )
        r = await client.get(path)
        assert (
            r.status_code == 410
            and "已过期" in r.text
            and r.headers["content-type"].startswith("text/html")
        )
        r = await client.post(path, data=GOOD)
        assert r.status_code == 410
        assert await kit.count_answers((await kit.survey_of(data.ticket_id)).id) == 0


async def test_oversized_submission_is_refused_with_a_page(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        _, path = await kit.invite()
        r = await client.post(path, data=GOOD | {"comment": "x" * 200_000})
        assert (
            r.status_code == 413
            and "提交内容过大" in r.text
            and "text/html" in r.headers["content-type"]
        )


async def test_two_submissions_at_once_store_exactly_one_answer(make_kit):
    kit = await make_kit()
    async with kit.client() as client:
        data, path = await kit.invite()
        forms = [GOOD | {"efficiency": str(i % 5 + 1)} for i in range(6)]
        results = await asyncio.gather(*(client.post(path, data=f) for f in forms))
        codes = sorted(r.status_code for r in results)
        assert codes == [303] + [409] * 5, codes
        survey = await kit.survey_of(data.ticket_id)
        assert await kit.count_answers(survey.id) == 1
        assert len(await kit.events("SurveyAnswered", data.ticket_no)) == 1


async def test_guessing_tokens_is_rate_limited_per_client_ip(make_kit):
    kit = await make_kit(guess_limit=3)
    async with kit.client() as client:
        _, path = await kit.invite()
        for i in range(3):
            assert (await client.get(f"/s/{'G' * 42}{i}")).status_code == 404
        r = await client.get(f"/s/{'G' * 42}9")
        assert (
            r.status_code == 429
            and "<h2>尝试次数过多</h2>" in r.text
            and int(r.headers["retry-after"]) > 0
        )
        r = await client.get(path)
        assert r.status_code == 429, "a blocked client learns nothing, not even about a real token"
        kit.app.state["guess_limiter"]._failures.clear()
        assert (await client.get(path)).status_code == 200


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


def test_forwarded_for_counts_only_from_a_trusted_proxy():
    from aftersales_shared.clientaddr import client_address

    assert (
        client_address("127.0.0.1", "1.2.3.4", []) == "127.0.0.1"
    )  # nothing trusted: the peer, always
    assert (
        client_address("203.0.113.9", "1.2.3.4", ["10.0.0.0/8"]) == "203.0.113.9"
    )  # not our proxy
    assert client_address("10.1.2.3", "1.2.3.4, 198.51.100.7", ["10.0.0.0/8"]) == "198.51.100.7"
    assert client_address("10.1.2.3", "198.51.100.7, 10.9.9.9", ["10.0.0.0/8"]) == "198.51.100.7"
    assert client_address("10.1.2.3", "not-an-ip", ["10.0.0.0/8"]) == "10.1.2.3"
    assert client_address("10.1.2.3", None, ["10.0.0.0/8"]) == "10.1.2.3"
    assert client_address(None, "1.2.3.4", ["10.0.0.0/8"]) == "unknown"


def test_spoofed_forwarded_for_does_not_reset_the_guess_limit_of_a_running_service(
    tmp_path, databases
):
    """The audit's way in: uvicorn believed X-Forwarded-For from loopback peers; 45 guesses from 3 'addresses'."""
    import asyncio
    import os
    import subprocess
    import sys

    import httpx

    from aftersales_shared.migrations import upgrade
    from aftersales_shared.natsserver import free_port

    url = f"sqlite+aiosqlite:///{tmp_path / 'surveys.db'}"
    asyncio.run(upgrade("surveys", url))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYS_")}
    env |= {
        "SURVEYS_DATABASE_URL": url,
        "SURVEYS_PORT": str(port),
        "SURVEYS_GUESS_LIMIT": "5",
        "SURVEYS_NATS_URL": "nats://127.0.0.1:1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "surveys"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(300):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                import time

                time.sleep(0.1)
            codes = [
                client.get(
                    f"/s/{'Q' * 42}{i % 10}", headers={"x-forwarded-for": f"198.51.100.{i % 3}"}
                ).status_code
                for i in range(45)
            ]
        assert codes[:5] == [404] * 5 and set(codes[5:]) == {429}, codes
    finally:
        proc.terminate()
        proc.wait(15)
