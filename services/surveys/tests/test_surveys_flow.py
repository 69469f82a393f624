"""Invitations from ServiceCompleted on a real database: one per ticket, the working-time deadline,
skips, the sent link blanked in the outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from aftersales_shared.db import scheduled_jobs
from aftersales_shared.scheduler import Scheduler
from aftersales_testing.support import auth, opened_link
from surveys import messaging
from surveys.usecases import invitations
from surveys.usecases.invitations import REDACT_JOB

pytestmark = pytest.mark.deadlines


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
