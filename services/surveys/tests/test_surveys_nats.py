"""Over real NATS JetStream: ServiceCompleted in, one invitation out, a low answer published for
tickets."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import nats
from nats.js.api import DeliverPolicy
from sqlalchemy import select

from aftersales_shared.db import outbox
from aftersales_testing import natsaccess
from aftersales_testing.support import opened_link, publish, running, wait_until


async def _published(kit, ticket_no: str, name: str) -> bool:
    async with kit.rt.sessions() as session:
        rows = (await session.execute(select(outbox.c.headers, outbox.c.published_at))).all()
    return any(
        json.loads(h).get("ce-subject") == ticket_no
        and f".{name}.v" in json.loads(h)["ce-type"]
        and sent
        for h, sent in rows
    )


async def _from_stream(
    nats_url: str, subject: str, ticket_no: str, timeout: float = 20.0
) -> list[dict]:
    """Every message on a subject about one ticket, read with an ephemeral consumer from the
    start."""
    nc = await natsaccess.connect(nats_url)
    found: list[dict] = []
    try:
        sub = await nc.jetstream().subscribe(
            subject, deliver_policy=DeliverPolicy.ALL, ordered_consumer=True
        )
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except (TimeoutError, nats.errors.TimeoutError):
                if found:
                    break
                continue
            if msg.headers and msg.headers.get("ce-subject") == ticket_no:
                found.append(json.loads(msg.data))
        await sub.unsubscribe()
    finally:
        await nc.close()
    return found


async def test_completed_ticket_to_invitation_to_low_score_event_over_jetstream(
    make_kit, make_completed, streams_ready
):
    kit = await make_kit(nats_url=streams_ready, redact_after_seconds=0.2)
    env = make_completed(completed_at=datetime.now(UTC) - timedelta(days=2))
    async with running(kit.app) as client:
        await publish(streams_ready, env)
        await publish(
            streams_ready, env
        )  # a re-send: dropped by JetStream's duplicate window / the inbox
        await wait_until(
            lambda: _published(kit, env.data.ticket_no, "SurveyRequested"),
            what="SurveyRequested published",
        )
        assert await kit.count_surveys(env.data.ticket_id) == 1

        (requested,) = await _from_stream(
            streams_ready, "surveys.survey_requested.v2", env.data.ticket_no
        )
        path = "/s/" + opened_link(requested).rsplit("/s/", 1)[1]
        token = path.rsplit("/", 1)[1]
        assert token not in json.dumps(requested), (
            "the stream holds the link sealed, never in clear"
        )

        async def redacted() -> bool:
            async with kit.rt.sessions() as session:
                bodies = (await session.scalars(select(outbox.c.body))).all()
            return all(token.encode() not in b for b in bodies) and any(
                b'"link_sealed": "[redacted]"' in b for b in bodies
            )

        await wait_until(
            redacted, what="the sent token blanked in the outbox (only its hash stays)"
        )
        r = await client.post(
            path,
            data={"efficiency": "1", "attitude": "3", "professionalism": "2", "comment": "没修好"},
        )
        assert r.status_code == 303
        await wait_until(
            lambda: _published(kit, env.data.ticket_no, "SurveyAnswered"),
            what="SurveyAnswered published",
        )

    (answered,) = await _from_stream(
        streams_ready, "surveys.survey_answered.v1", env.data.ticket_no
    )
    assert answered["low_score"] is True and answered["ticket_id"] == env.data.ticket_id
    assert (answered["efficiency"], answered["attitude"], answered["professionalism"]) == (1, 3, 2)
    assert answered["engineer_id"] == "eng-zhang" and answered["channel"] == "phone"
