"""Finance reads the one ticket it invoices — the ticket with its clocks and its whole progress log
(GET /tickets/{no}, …/progress) — and nothing else of tickets: no list, no queue, no search, no
step, no note, no fault, no complaint."""

from __future__ import annotations

import uuid

from tickets_helpers import entitle, tickets_app

from aftersales_testing.support import auth, running

AGENT = auth("service_agent", sub="agent-wu")
FINANCE = auth("finance", sub="fin-qian")


async def _open(client, serial: str) -> str:
    body = {
        "channel": "phone",
        "request_type": "quality_issue",
        "urgency": "normal",
        "description": "主轴异响",
        "contact": {"name": "赵工", "phone": "13912345678"},
        "serial_no": serial,
    }
    r = await client.post("/tickets", headers=AGENT, json=body)
    assert r.status_code == 201, r.text
    return r.json()["ticket_no"]


async def test_finance_reads_one_ticket_and_changes_nothing(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)
    contract = f"HT-{uuid.uuid4().hex[:8]}"
    async with running(app) as c:
        await entitle(app, contract, [f"{contract}-SN1"])
        no = await _open(c, f"{contract}-SN1")
        note = {"kind": "note", "text": "内部：怀疑供应商批次", "visibility": "internal"}
        assert (await c.post(f"/tickets/{no}/progress", headers=AGENT, json=note)).status_code in (
            200,
            201,
        )

        ticket = await c.get(f"/tickets/{no}", headers=FINANCE)
        assert ticket.status_code == 200 and ticket.json()["ticket_no"] == no
        assert ticket.json()["clocks"], "with its SLA clocks"
        log = await c.get(f"/tickets/{no}/progress", headers=FINANCE)
        assert log.status_code == 200 and "内部：怀疑供应商批次" in log.text
        assert (await c.get("/tickets/NO-SUCH-1", headers=FINANCE)).status_code == 404

        for path in ("/tickets", "/queue", f"/tickets/{no}/fault", f"/tickets/{no}/suggestions"):
            r = await c.get(path, headers=FINANCE)
            assert r.status_code == 403, (path, r.status_code)
        for path, body in (
            (f"/tickets/{no}/acknowledge", {}),
            (f"/tickets/{no}/progress", note),
            (f"/tickets/{no}/assign", {"assignee_id": "eng-zhang", "assignee_name": "张工"}),
        ):
            r = await c.post(path, headers=FINANCE, json=body)
            assert r.status_code == 403, (path, r.status_code)
        after = (await c.get(f"/tickets/{no}", headers=AGENT)).json()
        assert after["status"] == "new" and after["assignee_id"] is None
