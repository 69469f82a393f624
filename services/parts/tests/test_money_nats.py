"""Over real NATS JetStream: TicketOpened (as tickets publishes it) reaches parts' inbox once; the
quote's events leave through the outbox onto the PARTS stream with the link sealed, never in
clear."""

from __future__ import annotations

import asyncio
import json

import nats
from nats.js.api import DeliverPolicy
from parts_support import uid
from test_money import AGENT, opened, price_list

from aftersales_shared.sealing import dev_private_key, unseal
from aftersales_testing import natsaccess
from aftersales_testing.support import publish, running, wait_until


async def _from_stream(nats_url: str, subject: str, ticket_no: str) -> list[dict]:
    nc = await natsaccess.connect(nats_url)
    found: list[dict] = []
    try:
        sub = await nc.jetstream().subscribe(
            subject, deliver_policy=DeliverPolicy.ALL, ordered_consumer=True
        )
        deadline = asyncio.get_running_loop().time() + 20
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


async def test_ticket_opened_over_jetstream_then_quote_accepted_published(make_kit, streams_ready):
    kit = await make_kit(nats_url=streams_ready)
    no = uid("T-")
    env = opened(no, False)
    async with running(kit.app) as c:
        await publish(streams_ready, env)
        await publish(streams_ready, env)  # a re-send: the duplicate window / the inbox drop it

        async def known() -> bool:
            return (await c.get(f"/tickets/{no}", headers=AGENT)).status_code == 200

        await wait_until(known, what="TicketOpened consumed by parts")
        r = await c.get(f"/tickets/{no}", headers=AGENT)
        assert r.json()["coverage"] == "chargeable" and r.json()["in_warranty"] is False
        await price_list(c)
        r = await c.post(
            f"/tickets/{no}/quotes", json={"lines": [{"price_code": "SVC-CAL"}]}, headers=AGENT
        )
        assert r.status_code == 201, r.text
        link = r.json()["link"]
        token = link.rsplit("/", 1)[1]
        r = await c.post(f"/q/{token}", data={"decision": "accept", "signer": "王工"})
        assert r.status_code == 303

        (issued,) = await _from_stream(streams_ready, "parts.quote_issued.v1", no)
        assert token not in json.dumps(issued), "the stream holds the link sealed only"
        assert unseal(dev_private_key(), issued["link_sealed"]) == link
        (accepted,) = await _from_stream(streams_ready, "parts.quote_accepted.v1", no)
        assert accepted["total"] == "904.00" and accepted["signer"] == "王工"
