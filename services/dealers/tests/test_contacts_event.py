"""A dealer's contacts travel to notifications: DealerContactsChanged when a dealer is registered
and when its contacts change (not when something else changes)."""

from __future__ import annotations

import httpx


async def test_registering_a_dealer_and_changing_its_contacts_publish_them(dealers_app, kit):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=dealers_app), base_url="http://t"
    ) as c:
        dealer_id, _ = await kit.new_dealer(c)
        first = [e for e in await kit.outbox_events(dealers_app, "DealerContactsChanged")]
        assert [e["dealer_id"] for e in first] == [dealer_id]
        assert first[0]["contacts"] == [
            {
                "name": "陈经理",
                "phone": "13900000000",
                "email": None,
                "role": None,
                "wechat_openid": None,
            }
        ]
        r = await c.patch(
            f"/dealers/{dealer_id}",
            json={"agreement_end": str(kit.today().replace(year=kit.today().year + 2))},
            headers=kit.MANAGER,
        )
        assert r.status_code == 200, r.text
        assert len(await kit.outbox_events(dealers_app, "DealerContactsChanged")) == 1
        contacts = [
            {"name": "陈经理", "phone": "13900000000"},
            {"name": "刘工", "phone": "13900000001", "email": "liu@dealer.example.cn"},
        ]
        r = await c.patch(f"/dealers/{dealer_id}", json={"contacts": contacts}, headers=kit.MANAGER)
        assert r.status_code == 200, r.text
        events = await kit.outbox_events(dealers_app, "DealerContactsChanged")
        assert len(events) == 2 and [x["name"] for x in events[-1]["contacts"]] == [
            "陈经理",
            "刘工",
        ]
        assert events[-1]["changed_at"] >= events[0]["changed_at"]
