"""Live updates beyond the board: the review inbox hears the contracts service (ContractSubmitted,
ContractReviewed) and the dealer portal the dealers service (WarrantyCardRegistered, …) through
the console's NATS user; each page fetches itself again with the user's own session. In Chromium at
both sizes: a contract submitted over the contracts API appears in finance's open inbox, a card
registered over the dealers API appears in 陈经理's open portal, neither page reloaded (a marker on
`window` survives). A stream for an unknown topic, or a ticket with another topic, is refused."""

from __future__ import annotations

import httpx
from a11y import accessible
from console_support import sign_in
from contracts_flow import REP, draft, new_customer, ok, uid
from dealer_support import OURS, open_dealers, token
from review_support import open_reviews
from test_live import WAIT, _feed_connected
from test_pages_browser import LAPTOP, _fits
from test_work_pages_browser import _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE

MARK = "window.__live = 'not reloaded'"


async def _opened(page, base: str, sub: str, path: str) -> None:
    await _sign_in(page, base, sub, path)
    await page.wait_for_selector("html[data-live-state=open]", timeout=WAIT * 1000)
    await page.evaluate(MARK)


async def _still_same(page) -> None:
    assert await page.evaluate("window.__live") == "not reloaded", "the page reloaded"
    assert "列表已更新" in await page.locator("#live-status").inner_text()


async def test_the_review_inbox_updates_itself(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_reviews(*desk_parts) as world, serving(world.console_app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as probe:
            await _feed_connected(probe)
            await sign_in(probe, "fin-qian")
            bad = await probe.get("/live?topic=parts")
            assert bad.status_code == 400 and "topic" in bad.text
            mixed = await probe.get("/live?topic=contracts&ticket=SV-20261129-0001")
            assert mixed.status_code == 400
        customer = await new_customer(world.client)
        async with chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _opened(page, base, "fin-qian", "/reviews")
                no = f"HT-{uid()}"
                made = await world.client.post(
                    "/contracts", json=draft(no, customer["customer_id"]), headers=REP
                )
                ok(made, 201)
                ok(await world.client.post(f"/contracts/{no}/submit", headers=REP))
                await page.locator("#review-list a.no", has_text=no).wait_for(timeout=WAIT * 1000)
                await _still_same(page)
                await _fits(page, size["width"])
                await page.screenshot(
                    path=str(shots / f"{name}-21-live-reviews.png"), full_page=True
                )
                await accessible(page, f"{name}-21-live-reviews", shots)
                assert outside == [], outside
                await context.close()


async def test_the_dealer_portal_updates_itself(desk_parts, artifacts_dir):
    shots = artifacts_dir / "console"
    shots.mkdir(exist_ok=True)
    async with open_dealers(*desk_parts) as world, serving(world.console_app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as probe:
            await _feed_connected(probe)
        async with chromium() as browser:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, page = await _page(browser, base, size, outside)
                await _opened(page, base, "dealer-chen", "/dealer")
                # a shipment being typed: its waybill sits outside the swapped lists and stays
                await page.fill("#shipment input[name=waybill]", f"SF-{name}-typed")
                sold = {
                    "serial_no": f"SN-{uid()}",
                    "model": "XK-200",
                    "sale_date": "2026-11-27",
                    "warranty_end": "2028-11-27",
                    "customer_name": "宁波某某机械",
                }
                r = await world.client.post("/units", json=sold, headers=token(OURS))
                assert r.status_code == 201, r.text
                card = {
                    "serial_no": sold["serial_no"],
                    "customer_name": "宁波某某机械",
                    "customer_phone": "0574-88888888",
                }
                r = await world.client.post("/cards", json=card, headers=token(OURS))
                assert r.status_code == 201, r.text
                await page.locator("#cards", has_text=sold["serial_no"]).wait_for(
                    timeout=WAIT * 1000
                )
                await _still_same(page)
                waybill = await page.input_value("#shipment input[name=waybill]")
                assert waybill == f"SF-{name}-typed"
                await _fits(page, size["width"])
                await page.screenshot(
                    path=str(shots / f"{name}-22-live-dealer.png"), full_page=True
                )
                await accessible(page, f"{name}-22-live-dealer", shots)
                assert outside == [], outside
                await context.close()
