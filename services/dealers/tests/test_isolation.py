"""Dealer isolation on every endpoint: another dealer's record answers like a missing one (404,
never 403).

One world of records belonging to dealer A is built once; each route is then called with dealer B's
token. Routes a dealer may not use at all answer 403 for every id (A's own user included), which
leaks nothing. A route added to the app without a row here fails `test_every_route_is_covered`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from aftersales_testing.support import migrated
from dealers.app import create_app
from dealers.settings import DealersSettings


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    body: Callable[[dict[str, Any]], Any] | None = None
    b_expect: int | str = (
        404  # a status, "list" (nothing of A in it) or "like_unknown" (same answer as a made-up id)
    )
    a_expect: int | None = None  # A's own user, to show the record is real


def own(w: dict[str, Any]) -> str:
    return w["dealer"]


ROUTES = [
    Route("POST", "/dealers", lambda w: {}, 403),
    Route("GET", "/dealers", b_expect="list"),
    Route("GET", "/dealers/{dealer}", a_expect=200),
    Route("PATCH", "/dealers/{dealer}", lambda w: {"return_mode": "truck"}, 403, 403),
    Route("GET", "/dealers/{dealer}/grade-history", a_expect=200),
    Route("POST", "/dealers/{dealer}/grade", lambda w: {"grade": "A", "reason": "好"}, 403, 403),
    Route("GET", "/dealers/{dealer}/measures", a_expect=200),
    Route("POST", "/dealers/{dealer}/grade-reviews", lambda w: {}, 403, 403),
    Route(
        "POST", "/dealers/{dealer}/truck-visits", lambda w: {"visit_date": "2030-01-01"}, 403, 403
    ),
    Route("GET", "/dealers/{dealer}/truck-visits", a_expect=200),
    Route("GET", "/grade-reviews", b_expect="list"),
    Route(
        "POST",
        "/grade-reviews/{review}/decision",
        lambda w: {"confirm": True, "note": "同意"},
        403,
        403,
    ),
    Route(
        "POST",
        "/units",
        lambda w: {
            "dealer_id": w["dealer"],
            "serial_no": "X-NEW",
            "model": "M",
            "sale_date": "2026-01-01",
            "customer_name": "某",
        },
        "like_unknown",
    ),
    Route("GET", "/units", b_expect="list"),
    Route("GET", "/units/{serial}", a_expect=200),
    Route("GET", "/unit-conflicts", b_expect=403, a_expect=403),  # managers only
    Route(
        "POST",
        "/unit-conflicts/{conflict}/resolve",
        lambda w: {"resolution": "contract_confirmed", "note": "x"},
        403,
        403,
    ),
    Route(
        "POST",
        "/cards",
        lambda w: {"serial_no": w["serial"], "customer_name": "某"},
        "like_unknown",
    ),
    Route("GET", "/cards", b_expect="list"),
    Route("GET", "/cards/export.csv", b_expect="list"),
    Route("GET", "/cards/{card}", a_expect=200),
    Route("POST", "/cards/{card}/override", lambda w: {"note": "特批说明"}, 403, 403),
    Route(
        "POST",
        "/repair-records",
        lambda w: {"serial_no": w["serial"], "kind": "warranty", "fault_description": "故障描述"},
        "like_unknown",
    ),
    Route("GET", "/repair-records", b_expect="list"),
    Route("GET", "/repair-records/export.csv", b_expect="list"),
    Route("GET", "/repair-records/{record}", a_expect=200),
    Route(
        "POST",
        "/repair-records/{record}/arrange",
        lambda w: {
            "engineer": "某",
            "appointment_at": "2030-01-01T09:00:00+08:00",
            "user_informed": True,
            "reported_to_technical": True,
        },
        404,
        409,
    ),
    Route(
        "POST",
        "/repair-records/{record}/complete",
        lambda w: {
            "repair_description": "修好",
            "parts": [],
            "labour_fee": "1.00",
            "travel_fee": "0.00",
            "confirmation": {
                "confirmed_by": "某",
                "confirmed_at": "2026-01-01T09:00:00+08:00",
                "method": "phone",
            },
        },
        404,
        409,
    ),
    Route("POST", "/part-shipments", lambda w: {"record_ids": [w["record"]]}, "like_unknown"),
    Route("GET", "/part-shipments", b_expect="list"),
    Route("GET", "/part-shipments/{shipment}", a_expect=200),
    Route("POST", "/part-shipments/{shipment}/receive", None, 403, 403),
    Route("POST", "/parts/{part}/inspection", lambda w: {"verdict": "scrap"}, 403, 403),
    Route("GET", "/stock-entries", b_expect="list"),
    Route(
        "POST",
        "/deduction-notices",
        lambda w: {
            "dealer_id": w["dealer"],
            "period_start": "2026-01-01",
            "period_end": "2026-01-31",
        },
        403,
        403,
    ),
    Route("GET", "/deduction-notices", b_expect="list"),
    Route("GET", "/deduction-notices/{notice}", a_expect=200),
    Route("GET", "/deduction-notices/{notice}/export.csv", a_expect=200),
    Route(
        "POST",
        "/deduction-notices/{notice}/lines/{line}/answer",
        lambda w: {"decision": "confirmed"},
        404,
        200,
    ),
    Route("POST", "/deduction-notices/{notice}/confirm", None, 404),
    Route(
        "POST",
        "/seasons",
        lambda w: {"code": "S-X", "name": "x", "starts_on": "2030-03-01"},
        403,
        403,
    ),
    Route("GET", "/seasons", b_expect=200),  # company-wide calendar of seasons, no dealer data
    Route(
        "POST",
        "/stocking-plans",
        lambda w: {
            "dealer_id": w["dealer"],
            "season_code": w["season"],
            "lines": [{"part_no": "P", "name": "n", "quantity": 1}],
        },
        "like_unknown",
    ),
    Route("GET", "/stocking-plans", b_expect="list"),
    Route("GET", "/stocking-plans/{plan}", a_expect=200),
    Route("GET", "/audit", b_expect="list"),
]

UNKNOWN = {
    "dealer": "NO-SUCH-DEALER",
    "serial": "NO-SUCH-SERIAL",
    "record": "00000000-0000-0000-0000-000000000000",
    "season": "NO-SUCH-SEASON",
    "conflict": "NO-SUCH-CONFLICT",
}


def _route_id(r: Route) -> str:
    return f"{r.method} {r.path}"


@pytest.fixture(scope="module")
async def world(databases, kit) -> dict[str, Any]:
    """Dealer A with one record of every kind, dealer B with its own unit; no lifespan needed for
    HTTP."""
    cfg = DealersSettings(
        database_url=await migrated(databases, "dealers"),
        nats_url="nats://127.0.0.1:1",
        demotion_max_late_cards=0,
    )
    app = create_app(cfg)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        a_id, a = await kit.new_dealer(c)
        b_id, b = await kit.new_dealer(c)
        await kit.sell(c, b)
        late = await kit.sell(c, a, days_ago=25)
        late_card = await kit.card(c, a, late)
        serial = await kit.sell(c, a, days_ago=3)
        await kit.card(c, a, serial)
        record = await kit.repaired(c, a, serial)
        labour_only = await kit.repaired(c, a, serial, parts=[], labour="66.60", travel="0.00")
        shipment = (
            await c.post("/part-shipments", json={"record_ids": [record["id"]]}, headers=a)
        ).json()
        await c.post(f"/part-shipments/{shipment['id']}/receive", headers=kit.TECH)
        r = await c.post(
            f"/parts/{record['parts'][0]['id']}/inspection",
            json={"verdict": "reusable"},
            headers=kit.TECH,
        )
        assert r.status_code == 200, r.text
        notice = (
            await c.post(
                "/deduction-notices",
                json={
                    "dealer_id": a_id,
                    "period_start": str(kit.today()),
                    "period_end": str(kit.today()),
                },
                headers=kit.FINANCE,
            )
        ).json()
        assert [ln["record_id"] for ln in notice["lines"]] == [labour_only["id"]]
        season = kit.uid("S")
        r = await c.post(
            "/seasons",
            json={
                "code": season,
                "name": "春季",
                "starts_on": str(kit.today() + timedelta(days=60)),
            },
            headers=kit.MANAGER,
        )
        assert r.status_code == 201, r.text
        plan = (
            await c.post(
                "/stocking-plans",
                json={
                    "season_code": season,
                    "lines": [{"part_no": "P-100", "name": "主轴轴承", "quantity": 10}],
                },
                headers=a,
            )
        ).json()
        r = await c.post(f"/dealers/{a_id}/grade-reviews", json={}, headers=kit.MANAGER)
        assert r.status_code == 201, r.text
        return {
            "app": app,
            "a": a,
            "b": b,
            "b_id": b_id,
            "dealer": a_id,
            "serial": serial,
            "card": late_card["id"],
            "record": record["id"],
            "part": record["parts"][0]["id"],
            "shipment": shipment["id"],
            "notice": notice["id"],
            "line": notice["lines"][0]["id"],
            "plan": plan["id"],
            "season": season,
            "review": r.json()["id"],
            "conflict": "00000000-0000-0000-0000-000000000001",
            "marks": [a_id, serial, record["record_no"], notice["notice_no"]],
        }


async def _call(
    w: dict[str, Any], route: Route, token: dict[str, str], refs: dict[str, Any]
) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=w["app"]), base_url="http://t"
    ) as c:
        path = route.path.format(**refs)
        body = route.body(refs) if route.body else None
        return await c.request(route.method, path, json=body, headers=token)


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
async def test_another_dealer_cannot_see_or_touch(world, route: Route):
    w = world
    r = await _call(w, route, w["b"], w)
    if route.b_expect == "list":
        assert r.status_code == 200, r.text
        assert not any(m in r.text for m in w["marks"]), (
            f"dealer B sees dealer A's data: {r.text[:300]}"
        )
        mine = await _call(w, route, w["a"], w)
        assert any(m in mine.text for m in w["marks"]), (
            "A's own list should show A's data (else the test proves nothing)"
        )
        if route.path.endswith(".csv"):
            assert r.headers["content-type"].startswith("text/csv")
    elif route.b_expect == "like_unknown":
        unknown = await _call(w, route, w["b"], w | UNKNOWN)
        assert 400 <= r.status_code < 500 and r.status_code != 403, r.text
        assert (
            r.status_code,
            r.json().get("code"),
            r.json()["detail"]
            .replace(w["dealer"], "?")
            .replace(w["serial"], "?")
            .replace(w["record"], "?"),
        ) == (
            unknown.status_code,
            unknown.json().get("code"),
            unknown.json()["detail"]
            .replace(UNKNOWN["dealer"], "?")
            .replace(UNKNOWN["serial"], "?")
            .replace(UNKNOWN["record"], "?"),
        )
    else:
        assert r.status_code == route.b_expect, r.text
        if route.b_expect == 404:
            assert r.json()["code"] == "not_found"
            unknown = await _call(
                w, route, w["b"], w | {k: "999999" for k in w if isinstance(w[k], (str, int))}
            )
            assert unknown.status_code == 404
    if route.a_expect is not None:
        mine = await _call(w, route, w["a"], w)
        assert mine.status_code == route.a_expect, mine.text


async def test_nothing_changed_for_dealer_a(world):
    """After all of B's attempts, A's notice is still open and A's record still has its parts at the
    dealer."""
    w = world
    notice = (await _call(w, Route("GET", "/deduction-notices/{notice}"), w["a"], w)).json()
    assert notice["status"] == "issued"
    rec = (await _call(w, Route("GET", "/repair-records/{record}"), w["a"], w)).json()
    assert [p["status"] for p in rec["parts"]] == ["inspected", "received"]
    units = (await _call(w, Route("GET", "/units"), w["b"], w)).json()
    assert units["total"] == 1 and units["items"][0]["dealer_id"] == w["b_id"]


def test_every_route_is_covered(world):
    ops = ("/health", "/ready", "/metrics", "/schema", "/asyncapi.json", "/admin")
    actual = {
        (m, r.path.replace(":str", "").replace(":int", "").replace("_id}", "}"))
        for r in world["app"].routes
        for m in r.methods
        if m not in ("OPTIONS", "HEAD") and not r.path.startswith(ops)
    }
    normalise = {
        "{dealer}",
        "{review}",
        "{serial_no}",
        "{card}",
        "{record}",
        "{shipment}",
        "{part}",
        "{notice}",
        "{line}",
        "{plan}",
    }
    listed = {(r.method, r.path) for r in ROUTES}
    actual = {(m, p.replace("{serial_no}", "{serial}")) for m, p in actual}
    assert normalise  # names used in the templates above
    assert actual == listed, (
        f"missing isolation rows: {sorted(actual - listed)}; stale: {sorted(listed - actual)}"
    )
