"""A customer's token sees its own tickets (by the customer id the contract gave them), their SLA
state and the progress meant for customers — never another customer's ticket (the same 404 as a
number nobody has), never an internal note, and it changes nothing."""

from __future__ import annotations

import uuid

from tickets_helpers import entitle, tickets_app

from aftersales_testing.support import auth, running

AGENT = auth("service_agent", sub="agent-wu")
ENG = auth("engineer", sub="eng-zhang")
SUP = auth("service_supervisor", sub="sup-liu")


def _uid() -> str:
    return uuid.uuid4().hex[:8]


async def _open(client, serial: str) -> dict:
    r = await client.post(
        "/tickets",
        headers=AGENT,
        json={
            "channel": "phone",
            "request_type": "quality_issue",
            "urgency": "urgent",
            "description": "液压系统漏油",
            "contact": {"name": "赵工", "phone": "13912345678"},
            "serial_no": serial,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_customer_sees_its_own_tickets_and_customer_notes_only(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)
    mine_contract, theirs_contract = f"HT-{_uid()}", f"HT-{_uid()}"
    async with running(app) as c:
        await entitle(app, mine_contract, [f"{mine_contract}-SN1"])
        await entitle(app, theirs_contract, [f"{theirs_contract}-SN1"])
        mine = await _open(c, f"{mine_contract}-SN1")
        theirs = await _open(c, f"{theirs_contract}-SN1")
        no = mine["ticket_no"]
        assert (
            await c.post(
                f"/tickets/{no}/assign",
                headers=SUP,
                json={"assignee_id": "eng-zhang", "assignee_name": "张工"},
            )
        ).status_code == 200
        for visibility, text in (
            ("internal", "怀疑是供应商批次问题"),
            ("customer", "工程师明早九点到场"),
        ):
            r = await c.post(
                f"/tickets/{no}/progress",
                headers=ENG,
                json={"kind": "note", "text": text, "visibility": visibility},
            )
            assert r.status_code == 201, r.text

        me = auth("customer", sub="zhao", customer_id=f"C-{mine_contract}")
        assert mine["customer_id"] == f"C-{mine_contract}"
        one = await c.get(f"/tickets/{no}", headers=me)
        assert one.status_code == 200 and one.json()["ticket_no"] == no
        page = (await c.get("/tickets", headers=me)).json()
        assert [t["ticket_no"] for t in page["items"]] == [no] and page["total"] == 1
        # a filter for someone else's customer id finds nothing of theirs
        other = (
            await c.get("/tickets", params={"customer_id": f"C-{theirs_contract}"}, headers=me)
        ).json()
        assert other["items"] == []
        texts = [p["text"] for p in (await c.get(f"/tickets/{no}/progress", headers=me)).json()]
        assert "工程师明早九点到场" in texts and "怀疑是供应商批次问题" not in texts
        texts = [
            p["text"]
            for p in (
                await c.get(
                    f"/tickets/{no}/progress", params={"customer_view": "false"}, headers=me
                )
            ).json()
        ]
        assert "怀疑是供应商批次问题" not in texts

        hidden = await c.get(f"/tickets/{theirs['ticket_no']}", headers=me)
        nobody = await c.get("/tickets/SV-20000101-9999", headers=me)
        assert hidden.status_code == nobody.status_code == 404
        assert hidden.json()["detail"].replace(theirs["ticket_no"], "X") == nobody.json()[
            "detail"
        ].replace("SV-20000101-9999", "X")
        for path in (f"/tickets/{no}/acknowledge", f"/tickets/{no}/respond"):
            assert (await c.post(path, headers=me, json={})).status_code == 403
        assert (await c.get("/queue", headers=me)).status_code == 403
