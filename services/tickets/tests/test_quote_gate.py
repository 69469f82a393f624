"""The parts service's quotes gate a chargeable repair: a ticket whose quote awaits the customer,
or was declined, cannot go on site (409); once QuoteAccepted arrives it can. A late QuoteDeclined
never undoes an acceptance; a redelivered event changes nothing; a withdrawn quote (QuoteWithdrawn)
holds nothing up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tickets_helpers import AGENT, ENG, SUP, body, tickets_app

from aftersales_shared.events import (
    Contact,
    Envelope,
    QuoteAcceptedV1,
    QuoteDeclinedV1,
    QuoteIssuedV1,
    QuoteWithdrawnV1,
)
from aftersales_shared.sealing import dev_public_key, seal
from aftersales_testing.support import running, runtime_of

NOW = datetime.now(UTC)


def issued(no: str) -> Envelope[Any]:
    return Envelope(
        data=QuoteIssuedV1(
            quote_id="q-1",
            quote_no=f"Q-{no}-1",
            ticket_no=no,
            net_amount=Decimal("800.00"),
            tax_rate=Decimal("0.13"),
            tax_amount=Decimal("104.00"),
            total=Decimal("904.00"),
            lines=[],
            contact=Contact(name="王工", phone="13800138000"),
            link_masked="http://127.0.0.1/q/xxxx…",
            link_sealed=seal(dev_public_key(), "http://127.0.0.1/q/" + "x" * 43),
            expires_at=NOW + timedelta(days=7),
            issued_by="agent-chen",
            issued_at=NOW,
        ),
        subject=no,
    )


def decided(no: str, accepted: bool) -> Envelope[Any]:
    common = dict(
        quote_id="q-1",
        quote_no=f"Q-{no}-1",
        ticket_no=no,
        total=Decimal("904.00"),
        signer="王工",
        decided_at=NOW,
    )
    data = QuoteAcceptedV1(**common) if accepted else QuoteDeclinedV1(**common, reason="太贵")
    return Envelope(data=data, subject=no)


async def deliver(app: Any, env: Envelope[Any]) -> bool:
    rt = runtime_of(app)
    sub = next(s for s in rt.inbox.subscriptions.values() if isinstance(env.data, s.accepts))
    return await rt.inbox.handle(sub, env)


async def test_a_chargeable_ticket_goes_on_site_only_after_the_quote_is_accepted(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        r = await client.post(
            "/tickets", json=body(customer_name="苏州客户", urgency="normal"), headers=AGENT
        )
        no = r.json()["ticket_no"]
        r = await client.post(
            f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"}
        )
        assert r.status_code == 200, r.text

        await deliver(app, issued(no))
        r = await client.post(f"/tickets/{no}/onsite", headers=ENG, json={})
        assert r.status_code == 409 and "报价尚待客户确认" in r.json()["detail"], r.text
        await deliver(app, decided(no, accepted=False))
        r = await client.post(f"/tickets/{no}/onsite", headers=ENG, json={})
        assert r.status_code == 409 and "拒绝" in r.json()["detail"]

        await deliver(app, quote_event(no, 2, "issued", NOW))  # a new quote after the decline
        accepted = quote_event(no, 2, "accepted", NOW)
        await deliver(app, accepted)
        assert await deliver(app, accepted) is False  # redelivered: no second effect
        await deliver(app, decided(no, accepted=False))  # late: never undoes an acceptance
        r = await client.post(f"/tickets/{no}/onsite", headers=ENG, json={})
        assert r.status_code == 200 and r.json()["onsite_at"], r.text

        # a ticket without any quote (warranty) is not held up
        r = await client.post(
            "/tickets", json=body(customer_name="无锡客户", urgency="normal"), headers=AGENT
        )
        other = r.json()["ticket_no"]
        await client.post(
            f"/tickets/{other}/assign", headers=SUP, json={"assignee_id": "eng-zhang"}
        )
        r = await client.post(f"/tickets/{other}/onsite", headers=ENG, json={})
        assert r.status_code == 200, r.text


async def test_a_withdrawn_quote_holds_the_ticket_up_no_more(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        r = await client.post(
            "/tickets", json=body(customer_name="嘉兴客户", urgency="normal"), headers=AGENT
        )
        no = r.json()["ticket_no"]
        await client.post(f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"})
        await deliver(app, issued(no))
        r = await client.post(f"/tickets/{no}/onsite", headers=ENG, json={})
        assert r.status_code == 409, r.text
        withdrawn = Envelope(
            data=QuoteWithdrawnV1(
                quote_id="q-1",
                quote_no=f"Q-{no}-1",
                ticket_no=no,
                total=Decimal("904.00"),
                reason="报价有误，撤回重报",
                withdrawn_by="agent-chen",
                withdrawn_at=NOW,
            ),
            subject=no,
        )
        assert await deliver(app, withdrawn) is True
        r = await client.post(f"/tickets/{no}/onsite", headers=ENG, json={})
        assert r.status_code == 200, r.text


def quote_event(no: str, n: int, kind: str, at: datetime) -> Envelope[Any]:
    """An event of the ticket's n-th quote at the quote's own time `at`."""
    quote = {"quote_id": f"q-{n}", "quote_no": f"Q-{no}-{n}", "ticket_no": no}
    money = {"total": Decimal("904.00")}
    if kind == "issued":
        env = issued(no)
        data = env.data.model_copy(update=quote | {"issued_at": at})
    elif kind == "withdrawn":
        data = QuoteWithdrawnV1(
            **quote,
            **money,
            reason="报价有误，撤回重报",
            withdrawn_by="agent-chen",
            withdrawn_at=at,
        )
    elif kind == "declined":
        data = QuoteDeclinedV1(**quote, **money, signer="王工", reason="太贵", decided_at=at)
    else:
        data = QuoteAcceptedV1(**quote, **money, signer="王工", decided_at=at)
    return Envelope(data=data, subject=no)


async def test_the_gate_does_not_depend_on_the_order_the_quote_events_arrive_in(
    databases, streams_ready
):
    """QuoteIssued and QuoteWithdrawn (or a decision) reach tickets on separate consumers: a
    QuoteIssued that arrives after its quote was withdrawn or declined changes nothing."""
    app = await tickets_app(databases, streams_ready)
    t0 = NOW - timedelta(hours=3)
    at = [t0 + timedelta(minutes=10 * i) for i in range(6)]
    async with running(app) as client:

        async def ticket() -> str:
            r = await client.post(
                "/tickets", json=body(customer_name="湖州客户", urgency="normal"), headers=AGENT
            )
            no = r.json()["ticket_no"]
            r = await client.post(
                f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"}
            )
            assert r.status_code == 200, r.text
            return no

        async def onsite(no: str) -> int:
            return (await client.post(f"/tickets/{no}/onsite", headers=ENG, json={})).status_code

        # issued, then withdrawn: the usual order
        usual = await ticket()
        await deliver(app, quote_event(usual, 1, "issued", at[0]))
        assert await onsite(usual) == 409
        await deliver(app, quote_event(usual, 1, "withdrawn", at[1]))
        assert await onsite(usual) == 200

        # withdrawn first, its QuoteIssued late: nothing awaits
        late = await ticket()
        assert await deliver(app, quote_event(late, 1, "withdrawn", at[1])) is True
        assert await deliver(app, quote_event(late, 1, "issued", at[0])) is True
        assert await onsite(late) == 200

        # declined first, its QuoteIssued late: still declined; then a second quote awaits, and
        # the first quote's late events say nothing about the second
        declined = await ticket()
        await deliver(app, quote_event(declined, 1, "declined", at[1]))
        await deliver(app, quote_event(declined, 1, "issued", at[0]))
        r = await client.post(f"/tickets/{declined}/onsite", headers=ENG, json={})
        assert r.status_code == 409 and r.json()["code"] == "quote_declined", r.text
        await deliver(app, quote_event(declined, 2, "issued", at[2]))
        await deliver(app, quote_event(declined, 1, "declined", at[1]))  # redelivered as new
        r = await client.post(f"/tickets/{declined}/onsite", headers=ENG, json={})
        assert r.status_code == 409 and r.json()["code"] == "quote_not_accepted", r.text
        # the second quote accepted before its QuoteIssued arrived: accepted, and final
        other = await ticket()
        await deliver(app, quote_event(other, 1, "accepted", at[4]))
        await deliver(app, quote_event(other, 1, "issued", at[3]))
        await deliver(app, quote_event(other, 2, "issued", at[5]))
        assert await onsite(other) == 200


def test_one_quote_keeps_its_decision_and_the_ticket_follows_its_newest_quote():
    from tickets.usecases.quote_gate import later, ticket_state

    t = [NOW + timedelta(minutes=i) for i in range(4)]
    assert later(("withdrawn", t[1]), ("awaiting", t[0])) == ("withdrawn", t[1])
    assert later(("awaiting", t[0]), ("declined", t[1])) == ("declined", t[1])
    assert ticket_state([]) is None
    assert ticket_state([("withdrawn", t[1]), ("awaiting", t[2])]) == "awaiting"
    assert ticket_state([("declined", t[3]), ("awaiting", t[2])]) == "declined"
    assert ticket_state([("accepted", t[0]), ("awaiting", t[3])]) == "accepted"
    assert ticket_state([("awaiting", t[1]), ("withdrawn", t[1])]) == "withdrawn"
