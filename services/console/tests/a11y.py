"""The accessibility scan of a console page in Chromium: axe-core (the axe.min.js bundled in the
axe-playwright-python package, injected by Playwright: nothing fetched) run on the page as it is,
its folded panels opened;
no serious or critical violation may remain. Every finding, of any impact, is kept beside the
screenshots (test-artifacts/console/axe/<page>.json) to be read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe

AXE = Axe()
BLOCKING = ("serious", "critical")
# WCAG 2.1 A and AA and axe's best practices (landmarks, one main, headings)
OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
}


async def accessible(page: Any, where: str, artifacts: Path | None = None) -> list[dict]:
    """Run axe on the page; fail on a serious or critical violation, naming the rule and the
    elements. Returns every violation found (minor and moderate ones included)."""
    # the folded panels (the ticket's action forms) are scanned open, then folded back
    opened = await page.evaluate(
        "Array.from(document.querySelectorAll('details:not([open])'))"
        ".map(function (d, i) { d.open = true; d.setAttribute('data-axe-opened', ''); return i; })"
        ".length"
    )
    try:
        results = await AXE.run(page, options=OPTIONS)
    finally:
        if opened:
            await page.evaluate(
                "document.querySelectorAll('details[data-axe-opened]').forEach(function (d) {"
                " d.open = false; d.removeAttribute('data-axe-opened'); })"
            )
    violations = results.response["violations"]
    assert results.response.get("passes"), f"{where}: axe checked nothing"
    if artifacts is not None:
        folder = artifacts / "axe"
        folder.mkdir(parents=True, exist_ok=True)
        kept = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]],
            }
            for v in violations
        ]
        slug = where.replace(" ", "-").replace("/", "-")
        (folder / f"{slug}.json").write_text(json.dumps(kept, ensure_ascii=False, indent=2))
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{where}: accessibility violations\n" + "\n".join(
        f"- {v['impact']} {v['id']}: {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:6])
        for v in blocking
    )
    return violations
