"""`GET /repair-records?parts_owed=true`: the records with old parts still to ship back, whatever
page of the newest records they fall on (the portal's 待返还旧件 list is built from it), and only
the dealer's own."""

from __future__ import annotations

from aftersales_testing.support import running


async def test_parts_owed_lists_records_with_parts_still_at_the_dealer(dealers_app, kit):
    async with running(dealers_app) as client:
        _, dealer = await kit.new_dealer(client)
        _, other = await kit.new_dealer(client)
        serial = await kit.sell(client, dealer, days_ago=3)
        await kit.card(client, dealer, serial)
        owing = await kit.repaired(client, dealer, serial)
        shipped = await kit.repaired(client, dealer, serial)
        r = await client.post(
            "/part-shipments", json={"record_ids": [shipped["id"]]}, headers=dealer
        )
        assert r.status_code == 201, r.text
        labour_only = await kit.repaired(client, dealer, serial, parts=[])
        theirs = await kit.sell(client, other, days_ago=3)
        await kit.card(client, other, theirs)
        await kit.repaired(client, other, theirs)

        async def listed(token: dict[str, str], **params: object) -> list[str]:
            r = await client.get("/repair-records", params=params, headers=token)
            assert r.status_code == 200, r.text
            return [x["id"] for x in r.json()["items"]]

        newest_first = [labour_only["id"], shipped["id"], owing["id"]]
        assert await listed(dealer) == newest_first
        assert await listed(dealer, parts_owed="true") == [owing["id"]]
        assert await listed(dealer, parts_owed="false") == [labour_only["id"], shipped["id"]]
        # the oldest record still owes parts though it is beyond the first page of the newest
        assert await listed(dealer, limit=1) == [labour_only["id"]]
        assert await listed(dealer, parts_owed="true", limit=1) == [owing["id"]]
        r = await client.get("/repair-records", params={"parts_owed": "maybe"}, headers=dealer)
        assert r.status_code == 400
