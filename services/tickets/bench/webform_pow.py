"""The web form's proof of work: how long the page's own script (static/pow.js) takes in headless
Chromium per difficulty, and what checking an answer costs the server.

    uv run python services/tickets/bench/webform_pow.py [--bits 14 16 18 20] [--runs 8]

Per difficulty, --runs fresh challenges (signed as the service signs them) are solved by pow.js in a
page of its own (Chromium from /usr/bin/chromium, as the page tests use; CPU throttling with
--slowdown N emulates a slower phone through the DevTools protocol); each answer is checked by the
server's powcheck.verify. Prints the median and worst solving time, the tries per second, and the
server's cost of one verify (HMAC + SHA-256). The time a challenge takes is random (geometric: the
worst of a few runs is often 2–3× the median), so judge a difficulty by the median and the spread.
Nothing leaves the machine; nothing is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime
from importlib.resources import files

from playwright.async_api import async_playwright

from tickets import powcheck

KEY = b"bench-key-bench-key-bench-key-32"
PAGE = (
    '<form id="request-form"><input name="challenge" value="{c}"><input name="nonce" value="">'
    '<p id="check-status"></p><button type="submit">x</button></form>'
)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, nargs="+", default=[14, 16, 18, 20])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--slowdown", type=float, default=1.0, help="CPU throttling rate")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    script = files("tickets").joinpath("static/pow.js").read_text()

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=args.chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = await browser.new_page()
        if args.slowdown > 1:
            cdp = await page.context.new_cdp_session(page)
            await cdp.send("Emulation.setCPUThrottlingRate", {"rate": args.slowdown})
        print(
            f"pow.js in headless Chromium, {args.runs} challenges per difficulty, "
            f"CPU slowdown {args.slowdown}x"
        )
        print("bits | median ms | worst ms | median tries | tries/s")
        for bits in args.bits:
            times, tries = [], []
            for _ in range(args.runs):
                challenge = powcheck.issue(KEY, bits, datetime.now(UTC))
                await page.set_content(PAGE.format(c=challenge))
                await page.add_script_tag(content=script)
                await page.wait_for_function(
                    "document.querySelector('input[name=nonce]').value !== ''", timeout=600_000
                )
                data = await page.evaluate("({...document.getElementById('request-form').dataset})")
                nonce = await page.input_value("input[name=nonce]")
                powcheck.verify(
                    KEY, challenge, nonce, min_bits=bits, ttl_seconds=600, now=datetime.now(UTC)
                )  # the script's answer is the server's
                times.append(int(data["powMs"]))
                tries.append(int(data["powTries"]))
            rate = sum(tries) / max(1, sum(times)) * 1000
            print(
                f"{bits:4} | {statistics.median(times):9.0f} | {max(times):8} | "
                f"{statistics.median(tries):12.0f} | {rate:8.0f}"
            )
        await browser.close()

    challenge = powcheck.issue(KEY, 12, datetime.now(UTC))
    nonce = powcheck.solve(challenge)
    n = 20_000
    start = time.perf_counter()
    for _ in range(n):
        powcheck.verify(KEY, challenge, nonce, min_bits=12, ttl_seconds=600, now=datetime.now(UTC))
    took = (time.perf_counter() - start) / n
    print(f"server: one verify (HMAC-SHA256 + SHA-256) {took * 1e6:.1f} µs")


if __name__ == "__main__":
    asyncio.run(main())
