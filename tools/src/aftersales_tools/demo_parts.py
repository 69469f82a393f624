"""The demo's spare parts (#23): a few parts, the central warehouse, a regional store, 张工's van
and the demo dealer's store, opening stock, and the seals the waiting ticket waits for reserved
(receiving them at the regional store resumes that ticket). Idempotent: skipped when the parts
exist."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from aftersales_shared.auth import mint_token

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the trips' days are the business time zone's
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
    load_expense_claims(parts_url, waiting, secret, datetime.now(SHANGHAI).date())
    load_invoices(parts_url, tickets_url, secret, datetime.now(SHANGHAI).date())
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


def load_expense_claims(parts_url: str, ticket_no: str | None, secret: str, today: date) -> None:
    """张工's travel expense claims (报销) for the waiting ticket: one for a trip 25 days ago never
    submitted — its ten working days are past, so the scheduler marks it overdue at once
    (ExpenseClaimOverdue) — and one for today's visit, submitted for approval. The ticket counts as
    his once parts has heard TicketAssigned: tried for up to 30 s. Idempotent: skipped when he has
    claims already."""
    if not ticket_no:
        return
    engineer = _token(secret, "eng-zhang", "engineer")
    with httpx.Client(base_url=parts_url, headers=engineer, timeout=10) as p:
        if p.get("/expense-claims").json().get("total", 0):
            return
        past = today - timedelta(days=25)
        late = _claim(past, "杭州市萧山区", "餐补（首次上门诊断）", "100.00", ticket_no)
        for _ in range(60):
            r = p.post("/expense-claims", json=late)
            if r.status_code != 422:
                break
            time.sleep(0.5)
        if r.status_code != 201:
            print(f"demo: expense claims skipped ({r.status_code}: {r.text[:200]})", flush=True)
            return
        late_no = r.json()["claim_no"]
        r = p.post(
            "/expense-claims", json=_claim(today, "杭州市萧山区", "餐补", "80.00", ticket_no)
        )
        r.raise_for_status()
        p.post(f"/expense-claims/{r.json()['claim_id']}/submit").raise_for_status()
    print(
        f"demo: expense claims — 张工's {late_no} for a trip 25 days ago, past its ten working "
        f"days (overdue), and {r.json()['claim_no']} submitted for approval",
        flush=True,
    )


def _claim(day: date, where: str, note: str, amount: str, ticket_no: str) -> dict[str, Any]:
    return {
        "trip_start": str(day),
        "trip_end": str(day),
        "destination": where,
        "purpose": f"工单{ticket_no}上门服务",
        "engineer_name": "张工",
        "lines": [
            {
                "spent_on": str(day),
                "category": "meal_allowance",
                "amount": amount,
                "note": note,
                "ticket_nos": [ticket_no],
            }
        ],
    }


BUYERS = (  # chargeable repairs (no contract covers them): one to invoice, one invoiced already
    ("无锡某某设备有限公司", "91320505MA1XYW123R", "2.5"),
    ("常州恒信精密机械有限公司", "91320505MA1XYW123R", "4"),
)


def load_invoices(parts_url: str, tickets_url: str, secret: str, today: date) -> None:
    """Finance's register (发票登记): two chargeable repairs (no contract covers them) dispatched to
    张工 with his labour on them and their VAT invoices requested — the first waiting for finance to
    register the issued invoice, the second registered already (a 数电 number: it can be reversed,
    红冲). Each ticket counts once parts has heard TicketOpened: tried for up to 30 s. Idempotent:
    skipped when the register has requests."""
    finance = _token(secret, "fin-qian", "finance")
    manager = _token(secret, "mgr-wang", "manager")
    with (
        httpx.Client(base_url=parts_url, headers=finance, timeout=10) as p,
        httpx.Client(base_url=tickets_url, timeout=10) as t,
    ):
        if p.get("/invoices").json().get("total", 0):
            return
        rate = {"kind": "labour", "name": "工程师工时", "unit": "小时", "rate": "180.00"}
        p.put("/price-list/LAB-STD", json=rate, headers=manager).raise_for_status()
        done = []
        for buyer, tax_no, hours in BUYERS:
            opened = {
                "channel": "phone",
                "request_type": "quality_issue",
                "urgency": "normal",
                "description": "过保设备主轴异响，客户同意有偿维修",
                "customer_name": buyer,
                "contact": {"name": "周工", "phone": "13951512345"},
            }
            r = t.post(
                "/tickets", json=opened, headers=_token(secret, "demo-agent", "service_agent")
            )
            r.raise_for_status()
            no = r.json()["ticket_no"]
            assign = {"assignee_id": "eng-zhang", "assignee_name": "张工", "reason": "有偿维修"}
            supervisor = _token(secret, "sup-zhang", "service_supervisor")
            t.post(f"/tickets/{no}/assign", json=assign, headers=supervisor).raise_for_status()
            for _ in range(60):
                if p.get(f"/tickets/{no}").status_code == 200:
                    break
                time.sleep(0.5)
            labour = {
                "kind": "labour",
                "person": "eng-zhang",
                "quantity": hours,
                "price_code": "LAB-STD",
                "idempotency_key": f"demo-labour-{no}",
            }
            r = p.post(f"/tickets/{no}/cost-lines", json=labour, headers=manager)
            if r.status_code != 201:
                print(f"demo: invoices skipped ({r.status_code}: {r.text[:200]})", flush=True)
                return
            r = p.post(f"/tickets/{no}/invoice", json={"buyer_name": buyer, "buyer_tax_no": tax_no})
            r.raise_for_status()
            done.append((no, r.json()["invoice_id"]))
        issued = {
            "invoice_number": f"{today:%y}3200000000{today:%m%d}0001",
            "issue_date": str(today),
        }
        p.post(f"/invoices/{done[1][1]}/issue", json=issued).raise_for_status()
    print(
        f"demo: invoices — {done[0][0]} waits for finance to register its issued invoice, "
        f"{done[1][0]} registered ({issued['invoice_number']})",
        flush=True,
    )
