r"""A partner system opens a ticket over NATS and finds it again over HTTP — written from the
AsyncAPI document (`/asyncapi.json` of tickets: message cn.aftersales.partners.TicketRequested.v1)
and the README alone.

    NATS_USER=partners NATS_PASSWORD=… python examples/partner_ticket.py \
        NATS_URL TICKETS_URL PARTNER_TOKEN [CHANNEL]

NATS refuses a client without a user. The `partners` user may publish only `partners.>` and hears
the JetStream acknowledgement on its own inbox prefix `_INBOX_partners` (see infra/README.md,
"Partner credentials").
"""

import asyncio
import datetime as dt
import json
import os
import sys
import uuid

import httpx
import nats


async def main(
    nats_url: str, tickets_url: str, token: str, channel: str = "partner-call-centre-east"
) -> int:
    ref, event_id = f"ERP-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    body = {
        "external_ref": ref,
        "channel": channel,
        "request_type": "quality_issue",
        "urgency": "urgent",
        "description": "主轴异响，无法启动",
        "customer_name": "无锡某某设备有限公司",
        "contact": {"name": "赵工", "phone": "13912345678"},
    }
    headers = {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "Nats-Msg-Id": event_id,
        "ce-source": f"/partners/{channel}",
        "ce-type": "cn.aftersales.partners.TicketRequested.v1",
        "content-type": "application/json",
        "ce-time": dt.datetime.now(dt.UTC).isoformat(),
    }
    user = os.environ.get("NATS_USER", "partners")
    nc = await nats.connect(
        nats_url,
        user=user,
        password=os.environ.get("NATS_PASSWORD", ""),
        inbox_prefix=f"_INBOX_{user}",
    )
    await nc.jetstream().publish(
        "partners.ticket_requested.v1", json.dumps(body).encode(), headers=headers
    )
    await nc.close()
    async with httpx.AsyncClient(
        base_url=tickets_url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        for _ in range(150):  # the ticket is opened asynchronously: look it up by our own reference
            found = (await client.get("/tickets", params={"external_ref": ref})).json()["items"]
            if found:
                print(ref, found[0]["ticket_no"], found[0]["status"])
                return 0
            await asyncio.sleep(0.2)
    print(f"no ticket for {ref}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:])))
