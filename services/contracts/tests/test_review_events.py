"""Each step of a review is an event through the outbox (the console's review inbox updates live
on them): ContractSubmitted with the three parts waiting, ContractReviewed per decision with what
still waits — none after a rejection, which sends the contract back to draft."""

from __future__ import annotations

import json

from contracts_flow import FINANCE, LEGAL, REP, app_on, draft, new_customer, ok, uid
from sqlalchemy import select

from aftersales_shared.db import outbox
from aftersales_testing.support import migrated, running, runtime_of


async def _events(app, name: str, no: str) -> list[dict]:
    async with runtime_of(app).sessions() as session:
        rows = (
            await session.execute(
                select(outbox.c.headers, outbox.c.body).order_by(outbox.c.created_at)
            )
        ).all()
    return [
        json.loads(body)
        for headers, body in rows
        if json.loads(headers)["ce-type"] == f"cn.aftersales.contracts.{name}.v1"
        and json.loads(headers).get("ce-subject") == no
    ]


async def test_submitting_and_each_decision_are_events(databases, streams_ready):
    app = app_on(await migrated(databases, "contracts"), streams_ready)
    async with running(app) as c:
        no = f"HT-{uid()}"
        customer = await new_customer(c)
        ok(
            await c.post(
                "/contracts",
                json=draft(no, customer["customer_id"], dealer_id="D-ZJ-01"),
                headers=REP,
            ),
            201,
        )
        ok(await c.post(f"/contracts/{no}/submit", headers=REP))
        (submitted,) = await _events(app, "ContractSubmitted", no)
        assert submitted["waiting_for"] == ["legal", "finance", "delivery"]
        assert (submitted["version"], submitted["review_round"], submitted["dealer_id"]) == (
            1,
            0,
            "D-ZJ-01",
        )
        assert (
            submitted["customer_name"] == customer["name"] and submitted["submitted_by"] == "rep-li"
        )

        approve = {"decision": "approve", "comments": "同意"}
        ok(await c.post(f"/contracts/{no}/reviews/legal", json=approve, headers=LEGAL))
        reject = {"decision": "reject", "comments": "付款期限过长"}
        ok(await c.post(f"/contracts/{no}/reviews/finance", json=reject, headers=FINANCE))
        legal, finance = await _events(app, "ContractReviewed", no)
        assert (legal["part"], legal["approved"], legal["status_after"]) == (
            "legal",
            True,
            "in_review",
        )
        assert legal["waiting_for"] == ["finance", "delivery"]
        assert (finance["part"], finance["approved"], finance["status_after"]) == (
            "finance",
            False,
            "draft",
        )
        assert finance["waiting_for"] == []
