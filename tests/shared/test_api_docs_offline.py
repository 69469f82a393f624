"""The API docs page of a service renders in headless Chromium with every request outside 127.0.0.1
refused: Swagger UI's files come from the service itself (aftersales_shared.apidocs), never from a
CDN."""

from __future__ import annotations

import asyncio

import uvicorn

from aftersales_testing.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    free_port,
    require_chromium,
)
from aftersales_testing.support import migrated


async def test_the_docs_page_renders_with_no_network(databases, streams_ready, artifacts_dir):
    require_chromium()
    from playwright.async_api import async_playwright

    from tickets.app import create_app
    from tickets.settings import TicketsSettings

    app = create_app(
        TicketsSettings(database_url=await migrated(databases, "tickets"), nats_url=streams_ready)
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    shots = artifacts_dir / "api-docs"
    shots.mkdir(exist_ok=True)
    outside: list[str] = []
    failed: list[str] = []
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                    page = await (
                        await browser.new_context(viewport=viewport, locale="zh-CN")
                    ).new_page()

                    async def only_local(route, request):  # type: ignore[no-untyped-def]
                        if request.url.startswith(f"http://127.0.0.1:{port}/"):
                            await route.continue_()
                        else:
                            outside.append(request.url)
                            await route.abort()

                    await page.route("**/*", only_local)
                    page.on("requestfailed", lambda r: failed.append(r.url))
                    await page.goto(f"http://127.0.0.1:{port}/schema", wait_until="networkidle")
                    title = page.locator(".swagger-ui .info .title")
                    await title.wait_for(timeout=15000)
                    assert "Aftersales tickets" in await title.inner_text()
                    # the operations are listed (the document was read and rendered, not just the
                    # frame)
                    assert (
                        await page.locator(".opblock-summary-path", has_text="/tickets").count()
                        >= 3
                    )
                    await page.screenshot(path=str(shots / f"tickets-{name}.png"), full_page=False)
                    await page.context.close()
            finally:
                await browser.close()
    finally:
        server.should_exit = True
        await serving
    assert outside == [], f"the docs page asked for files outside the service: {outside}"
    assert failed == [], failed


async def test_a_hostile_asset_name_is_a_404_never_a_500(databases, streams_ready):
    """A name too long for the file system, a path through a file, a way out of the folder: not
    found."""
    import httpx

    from tickets.app import create_app
    from tickets.settings import TicketsSettings

    app = create_app(
        TicketsSettings(database_url=await migrated(databases, "tickets"), nats_url=streams_ready)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.get("/schema/assets/swagger-ui.css")
        assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/css")
        for name in ("a" * 5000, "swagger-ui.css/x", "..%2f..%2fpyproject.toml", "%00"):
            r = await client.get(f"/schema/assets/{name}")
            assert r.status_code in (400, 404), (name[:40], r.status_code, r.text[:200])
