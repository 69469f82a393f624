"""A claim is paid at most once, also when the dealer confirms the same notice twice at the same
moment."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from aftersales_testing.support import migrated, runtime_of
from dealers.app import create_app
from dealers.models import ClaimPaymentRow
from dealers.settings import DealersSettings


async def test_concurrent_confirmations_pay_once(databases, kit):
    app = create_app(
        DealersSettings(
            database_url=await migrated(databases, "dealers"), nats_url="nats://127.0.0.1:1"
        )
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        dealer_id, dealer = await kit.new_dealer(c)
        for _ in range(3):
            serial = await kit.sell(c, dealer, days_ago=1)
            await kit.card(c, dealer, serial)
            await kit.repaired(c, dealer, serial, parts=[], labour="33.33", travel="0.01")
        r = await c.post(
            "/deduction-notices",
            json={
                "dealer_id": dealer_id,
                "period_start": str(kit.today()),
                "period_end": str(kit.today()),
            },
            headers=kit.FINANCE,
        )
        notice = r.json()
        assert notice["total"] == "100.02" and len(notice["lines"]) == 3
        for ln in notice["lines"]:
            await c.post(
                f"/deduction-notices/{notice['id']}/lines/{ln['id']}/answer",
                json={"decision": "confirmed"},
                headers=dealer,
            )
        answers = await asyncio.gather(
            *(
                c.post(f"/deduction-notices/{notice['id']}/confirm", headers=dealer)
                for _ in range(2)
            )
        )
        assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
        assert len(await kit.outbox_events(app, "DeductionIssued")) == 1
        async with runtime_of(app).sessions() as s:
            paid = (
                await s.execute(
                    select(func.count(), func.sum(ClaimPaymentRow.amount)).where(
                        ClaimPaymentRow.notice_id == notice["id"]
                    )
                )
            ).one()
        assert paid[0] == 3 and str(paid[1]) == "100.02"
