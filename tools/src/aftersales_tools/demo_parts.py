"""The demo's spare parts (#23): a few parts, the central warehouse, a regional store, 张工's van
and the demo dealer's store, opening stock, and the seals the waiting ticket waits for reserved
(receiving them at the regional store resumes that ticket). Idempotent: skipped when the parts
exist."""

from __future__ import annotations

from typing import Any

import httpx

from aftersales_shared.auth import mint_token

PARTS = (
    # number, name, unit, price, warranty part, models, reorder point, reorder quantity
    ("XK-SEAL-HP01", "液压泵密封件", "套", "86.00", True, ["XK-200 数控机床"], 2, 10),
    ("XK-BRG-6205", "主轴轴承 6205", "件", "123.45", True, ["XK-200 数控机床"], 4, 20),
    ("XK-PANEL-FFC", "操作面板排线", "根", "38.50", True, ["XK-200 数控机床"], 5, 20),
    ("XK-FUSE-10A", "保险丝 10A", "只", "0.35", False, ["XK-200 数控机床", "岸桥"], 50, 500),
)
LOCATIONS = (
    {"location_id": "WH-CENTRAL", "name": "总仓（无锡）", "kind": "central", "region": "江苏"},
    {"location_id": "RS-HZ", "name": "杭州区域库", "kind": "regional", "region": "浙江"},
    {
        "location_id": "VAN-ENG-ZHANG",
        "name": "张工车载库",
        "kind": "van",
        "engineer_id": "eng-zhang",
    },
    {
        "location_id": "DS-D-ZJ-01",
        "name": "D-ZJ-01 经销商库",
        "kind": "dealer",
        "dealer_id": "D-ZJ-01",
    },
)
OPENING = (  # part, location, quantity (the seals are out of stock: the ticket waits for them)
    ("XK-BRG-6205", "WH-CENTRAL", 20),
    ("XK-BRG-6205", "VAN-ENG-ZHANG", 2),
    ("XK-PANEL-FFC", "WH-CENTRAL", 4),  # below its reorder point: StockBelowReorderPoint
    ("XK-FUSE-10A", "WH-CENTRAL", 300),
    ("XK-FUSE-10A", "VAN-ENG-ZHANG", 20),
    ("XK-FUSE-10A", "DS-D-ZJ-01", 30),
)


def _token(secret: str, sub: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(secret, sub, [role])}"}


def load_parts(parts_url: str, tickets_url: str, secret: str) -> None:
    keeper = _token(secret, "mgr-wang", "manager")
    with httpx.Client(base_url=parts_url, headers=keeper, timeout=10) as p:
        if p.get(f"/parts/{PARTS[0][0]}").status_code == 200:
            return
        for no, name, unit, price, warranty, models, point, qty in PARTS:
            body: dict[str, Any] = {
                "part_no": no,
                "name": name,
                "unit": unit,
                "unit_price": price,
                "warranty_part": warranty,
                "compatible_models": models,
                "reorder_point": point,
                "reorder_quantity": qty,
            }
            p.post("/parts", json=body).raise_for_status()
        for location in LOCATIONS:
            p.post("/locations", json=location).raise_for_status()
        for part_no, location_id, quantity in OPENING:
            move = {
                "kind": "receive",
                "part_no": part_no,
                "quantity": quantity,
                "to_location": location_id,
                "reason": "演示：期初库存 (opening stock)",
                "idempotency_key": f"demo-opening-{part_no}-{location_id}",
            }
            p.post("/movements", json=move).raise_for_status()
        waiting = _waiting_ticket(tickets_url, secret)
        if waiting:
            reserve = {
                "part_no": "XK-SEAL-HP01",
                "location_id": "RS-HZ",
                "ticket_no": waiting,
                "quantity": 2,
                "note": "密封件调货中",
            }
            engineer = _token(secret, "eng-zhang", "engineer")
            p.post("/reservations", json=reserve, headers=engineer).raise_for_status()
    print(
        "demo: parts — four parts, the central warehouse, a regional store, 张工's van and the "
        f"dealer's store with opening stock; two seals reserved for {waiting or 'no ticket'} "
        "(receive them at RS-HZ and the ticket resumes)",
        flush=True,
    )


def _waiting_ticket(tickets_url: str, secret: str) -> str | None:
    agent = _token(secret, "demo-agent", "service_agent")
    r = httpx.get(
        f"{tickets_url}/tickets",
        params={"customer_id": "C-001", "status": "waiting_parts"},
        headers=agent,
        timeout=10,
    )
    items = r.json().get("items", []) if r.status_code == 200 else []
    waiting = [t for t in items if t.get("status") == "waiting_parts"]
    return waiting[0]["ticket_no"] if waiting else None
