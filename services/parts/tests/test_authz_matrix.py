"""Who may call what: one table over EVERY endpoint of the parts API (taken from the app's own
OpenAPI, so a new endpoint without a row fails here) × every role — admin, manager, service
supervisor, service agent, the engineer who owns the object and another engineer, the dealer who
owns the store and another dealer, a customer, finance, no token, an expired and a forged token —
with the class of answer each must get: allowed (2xx, or 409/422 when the state or the body says
no), refused (403 or 404: never another's data), or 401. A denied call writes no event."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from openpyxl import load_workbook
from parts_support import KEEPER, MANAGER, move, new_location, new_part, uid
from sqlalchemy import func, select
from test_expenses import PNG, assigned, trip
from test_invoice_register import digital_number
from test_money import TAX_NO, deliver, opened, price_list

from aftersales_shared.auth import mint_token
from aftersales_shared.db import outbox
from aftersales_shared.settings import DEV_JWT_SECRET
from aftersales_testing.support import auth

ENG_A, ENG_B = "eng-zhang", "eng-li"
D1, D2 = "D-ZJ-01", "D-JS-02"


def _header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ROLES: dict[str, Callable[[], dict[str, str]]] = {
    "admin": lambda: dict(auth("admin", sub="adm-root")),
    "manager": lambda: dict(auth("manager", sub="mgr-li")),
    "service_supervisor": lambda: dict(auth("service_supervisor", sub="sup-wang")),
    "service_agent": lambda: dict(auth("service_agent", sub="agent-chen")),
    "engineer_own": lambda: dict(auth("engineer", sub=ENG_A, name="张工")),
    "engineer_other": lambda: dict(auth("engineer", sub=ENG_B, name="李工")),
    "dealer_own": lambda: dict(auth("dealer", sub="dlr-zj", dealer_id=D1)),
    "dealer_other": lambda: dict(auth("dealer", sub="dlr-js", dealer_id=D2)),
    "customer": lambda: dict(auth("customer", sub="cus-1", customer_id="C-1")),
    "finance": lambda: dict(auth("finance", sub="fin-zhao")),
    "no_token": lambda: {},
    "expired": lambda: _header(mint_token(DEV_JWT_SECRET, "adm-root", ["admin"], hours=-1)),
    "forged": lambda: _header(
        mint_token("not-the-secret-but-32-bytes-long!!", "adm-root", ["admin"])
    ),
}
UNAUTHENTICATED = {"no_token", "expired", "forged"}
STAFF = {"admin", "manager", "service_supervisor"}
KEEPERS = STAFF
READERS = STAFF | {"service_agent", "engineer_own", "engineer_other", "finance"}
READERS_AND_DEALERS = READERS | {"dealer_own", "dealer_other"}
COST_READERS = READERS
CLAIM_READERS = STAFF | {"finance", "engineer_own"}


@dataclass
class World:
    """What the rows act on: a part, stores of each kind, tickets, claims (made fresh per call
    where a call changes them)."""

    client: Any
    kit: Any
    part_no: str = ""
    central: str = ""
    van_a: str = ""
    store_d1: str = ""
    ticket: str = ""
    reservation_d1: str = ""
    invoiced: str = ""
    claim: int = 0
    receipt: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


async def ticket(w: World, chargeable: bool = False) -> str:
    no = uid("SV-")
    assert await deliver(w.kit, opened(no, not chargeable))
    assert await deliver(w.kit, assigned(no, ENG_A))
    return no


async def claim(w: World, state: str = "draft") -> int:
    a = ROLES["engineer_own"]()
    body = trip(w.ticket, w.ticket)
    body["lines"] = [line for line in body["lines"] if line["category"] == "meal_allowance"]
    r = await w.client.post("/expense-claims", json=body, headers=a)
    assert r.status_code == 201, r.text
    cid = r.json()["claim_id"]
    if state in ("submitted", "approved"):
        r = await w.client.post(f"/expense-claims/{cid}/submit", headers=a)
        assert r.status_code == 200, r.text
    if state == "approved":
        r = await w.client.post(f"/expense-claims/{cid}/approve", headers=KEEPER)
        assert r.status_code == 200, r.text
    return int(cid)


async def receipt(w: World, cid: int) -> int:
    r = await w.client.post(
        f"/expense-claims/{cid}/receipts",
        params={"filename": "餐费.png"},
        content=PNG,
        headers=ROLES["engineer_own"]() | {"content-type": "image/png"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["receipt_id"])


async def quote(w: World) -> tuple[str, str]:
    no = await ticket(w, chargeable=True)
    r = await w.client.post(
        f"/tickets/{no}/quotes",
        json={"lines": [{"price_code": "SVC-CAL", "quantity": "1"}]},
        headers=MANAGER,
    )
    assert r.status_code == 201, r.text
    return no, r.json()["quote_no"]


async def reservation(w: World, location: str) -> str:
    r = await w.client.post(
        "/reservations",
        json={"part_no": w.part_no, "location_id": location, "ticket_no": w.ticket, "quantity": 1},
        headers=KEEPER,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["reservation_id"])


async def build(client: Any, kit: Any) -> World:
    w = World(client=client, kit=kit)
    await price_list(client)
    w.part_no = (await new_part(client, unit_price="100.00"))["part_no"]
    w.central = await new_location(client, "central")
    w.van_a = await new_location(client, "van", engineer_id=ENG_A)
    w.store_d1 = await new_location(client, "dealer", dealer_id=D1)
    for place in (w.central, w.van_a, w.store_d1):
        await move(
            client, KEEPER, kind="receive", part_no=w.part_no, to_location=place, quantity=500
        )
    w.ticket = await ticket(w)
    w.reservation_d1 = await reservation(w, w.store_d1)
    w.claim = await claim(w)
    w.invoiced = await ticket(w, chargeable=True)
    labour = {"kind": "labour", "person": ENG_A, "quantity": "2.00", "price_code": "LAB-STD"}
    r = await client.post(
        f"/tickets/{w.invoiced}/cost-lines",
        json=labour | {"idempotency_key": key()},
        headers=MANAGER,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/tickets/{w.invoiced}/invoice",
        json={"buyer_name": "苏州精密机械有限公司", "buyer_tax_no": TAX_NO},
        headers=MANAGER,
    )
    assert r.status_code == 201, r.text
    w.receipt = await receipt(w, w.claim)
    return w


Prep = Callable[[World], Awaitable[dict[str, Any]]]


async def nothing(_: World) -> dict[str, Any]:
    return {}


@dataclass
class Row:
    method: str
    path: str  # the OpenAPI path; {names} filled from what `prep` returns
    allowed: set[str]
    prep: Prep = nothing
    body: Callable[[World, dict[str, Any]], Any] | None = None
    content: tuple[bytes, str] | None = None
    params: dict[str, str] = field(default_factory=dict)
    public: bool = False
    # the row names an object that need not exist (a dead letter): allowed roles may get its 404
    exists: bool = True
    # a role allowed by its role but refused on this object with this exact status
    refused_with: dict[str, int] = field(default_factory=dict)


def key() -> str:
    return uid("authz-")


def fresh_claim(state: str) -> Prep:
    async def prep(w: World) -> dict[str, Any]:
        return {"claim_id": await claim(w, state)}

    return prep


async def with_receipt(w: World) -> dict[str, Any]:
    cid = await claim(w)
    return {"claim_id": cid, "receipt_id": await receipt(w, cid)}


async def the_claim(w: World) -> dict[str, Any]:
    return {"claim_id": w.claim, "receipt_id": w.receipt}


async def the_ticket(w: World) -> dict[str, Any]:
    return {"ticket_no": w.ticket}


async def chargeable(w: World) -> dict[str, Any]:
    return {"ticket_no": await ticket(w, chargeable=True)}


async def with_quote(w: World) -> dict[str, Any]:
    no, quote_no = await quote(w)
    return {"ticket_no": no, "quote_no": quote_no}


async def fresh_invoice(w: World) -> dict[str, Any]:
    """A new invoice request (a chargeable ticket with an hour of labour) to register."""
    no = await ticket(w, chargeable=True)
    line = {"kind": "labour", "person": ENG_A, "quantity": "1.00", "price_code": "LAB-STD"}
    r = await w.client.post(
        f"/tickets/{no}/cost-lines", json=line | {"idempotency_key": key()}, headers=MANAGER
    )
    assert r.status_code == 201, r.text
    body = {"buyer_name": "苏州精密机械有限公司", "buyer_tax_no": TAX_NO}
    r = await w.client.post(f"/tickets/{no}/invoice", json=body, headers=MANAGER)
    assert r.status_code == 201, r.text
    return {"invoice_id": r.json()["invoice_id"]}


async def the_part(w: World) -> dict[str, Any]:
    return {"part_no": w.part_no}


async def d1_store(w: World) -> dict[str, Any]:
    return {"location_id": w.store_d1}


async def d1_reservation(w: World) -> dict[str, Any]:
    return {"reservation_id": w.reservation_d1}


async def fresh_d1_reservation(w: World) -> dict[str, Any]:
    return {"reservation_id": await reservation(w, w.store_d1)}


def movement(kind: str, place: str, **extra: Any) -> Callable[[World, dict[str, Any]], Any]:
    def body(w: World, _: dict[str, Any]) -> dict[str, Any]:
        where = {
            "issue": {"from_location": getattr(w, place), "ticket_no": w.ticket},
            "receive": {"to_location": getattr(w, place)},
        }[kind]
        return (
            {
                "kind": kind,
                "part_no": w.part_no,
                "quantity": 1,
                "idempotency_key": key(),
            }
            | where
            | extra
        )

    return body


def claim_body(w: World, _: dict[str, Any]) -> dict[str, Any]:
    body = trip(w.ticket, w.ticket)
    body["lines"] = [line for line in body["lines"] if line["category"] == "meal_allowance"]
    return body


EVERYONE = set(ROLES) - UNAUTHENTICATED
ENGINEERS_BOTH = {"engineer_own", "engineer_other"}

ROWS: list[Row] = [
    # operations
    Row("GET", "/health", EVERYONE | UNAUTHENTICATED, public=True),
    Row("GET", "/ready", EVERYONE | UNAUTHENTICATED, public=True),
    Row("GET", "/metrics", EVERYONE | UNAUTHENTICATED, public=True),
    Row("GET", "/asyncapi.json", EVERYONE | UNAUTHENTICATED, public=True),
    Row("GET", "/admin/dead-letters", {"admin"}),
    Row(
        "GET",
        "/admin/dead-letters/{dead_letter_id}",
        {"admin"},
        prep=lambda w: _const(dead_letter_id="1"),
        exists=False,
    ),
    Row(
        "POST",
        "/admin/dead-letters/{dead_letter_id}/replay",
        {"admin"},
        prep=lambda w: _const(dead_letter_id="1"),
        exists=False,
    ),
    # the part master
    Row("GET", "/parts", READERS_AND_DEALERS),
    Row(
        "POST",
        "/parts",
        KEEPERS,
        body=lambda w, _: {"part_no": uid("AZ-"), "name": "密封圈", "unit_price": "1.00"},
    ),
    Row("GET", "/parts/{part_no}", READERS_AND_DEALERS, prep=the_part),
    Row(
        "PATCH", "/parts/{part_no}", KEEPERS, prep=the_part, body=lambda w, _: {"name": "主轴轴承"}
    ),
    Row("GET", "/reorder-suggestions", KEEPERS),
    # locations and stock
    Row("GET", "/locations", READERS_AND_DEALERS),
    Row(
        "POST",
        "/locations",
        KEEPERS,
        body=lambda w, _: {"location_id": uid("RG-"), "name": "华东区域库", "kind": "regional"},
    ),
    Row("GET", "/locations/{location_id}", READERS | {"dealer_own"}, prep=d1_store),
    Row("GET", "/stock", READERS_AND_DEALERS),
    Row("GET", "/movements", READERS_AND_DEALERS),
    Row("POST", "/movements", KEEPERS | {"engineer_own"}, body=movement("issue", "van_a")),
    Row("POST", "/movements", KEEPERS | {"dealer_own"}, body=movement("receive", "store_d1")),
    Row("GET", "/reservations", READERS_AND_DEALERS),
    Row(
        "POST",
        "/reservations",
        KEEPERS | {"dealer_own"},
        body=lambda w, _: {
            "part_no": w.part_no,
            "location_id": w.store_d1,
            "ticket_no": w.ticket,
            "quantity": 1,
        },
    ),
    Row("GET", "/reservations/{reservation_id}", READERS | {"dealer_own"}, prep=d1_reservation),
    Row(
        "POST",
        "/reservations/{reservation_id}/cancel",
        KEEPERS | {"dealer_own"},
        prep=fresh_d1_reservation,
        body=lambda w, _: {"reason": "客户取消"},
    ),
    # Excel
    Row("POST", "/excel/import", KEEPERS, content=(b"not a workbook", "application/octet-stream")),
    Row("GET", "/excel/stock.xlsx", READERS_AND_DEALERS),
    Row("GET", "/excel/ledger.xlsx", READERS_AND_DEALERS),
    # a ticket's money
    Row("GET", "/tickets/{ticket_no}", COST_READERS, prep=the_ticket),
    Row("GET", "/tickets/{ticket_no}/costs", COST_READERS, prep=the_ticket),
    Row(
        "PUT",
        "/tickets/{ticket_no}/coverage",
        STAFF,
        prep=chargeable,
        body=lambda w, _: {"coverage": "warranty", "reason": "主管核定：属三包范围"},
    ),
    Row("GET", "/tickets/{ticket_no}/coverage/history", COST_READERS, prep=the_ticket),
    Row(
        "POST",
        "/tickets/{ticket_no}/cost-lines",
        STAFF | {"service_agent", "engineer_own"},
        prep=the_ticket,
        body=lambda w, _: {
            "kind": "labour",
            "person": ENG_A,
            "quantity": "1.00",
            "price_code": "LAB-STD",
            "idempotency_key": key(),
        },
    ),
    Row("GET", "/tickets/{ticket_no}/quotes", COST_READERS, prep=the_ticket),
    Row(
        "POST",
        "/tickets/{ticket_no}/quotes",
        STAFF | {"service_agent"},
        prep=chargeable,
        body=lambda w, _: {"lines": [{"price_code": "SVC-CAL", "quantity": "1"}]},
    ),
    Row(
        "POST",
        "/tickets/{ticket_no}/quotes/{quote_no}/withdraw",
        STAFF | {"service_agent"},
        prep=with_quote,
        body=lambda w, _: {"reason": "客户改约，重新报价"},
    ),
    Row(
        "GET",
        "/tickets/{ticket_no}/invoice",
        COST_READERS,
        prep=lambda w: _const(ticket_no=w.invoiced),
    ),
    Row(
        "POST",
        "/tickets/{ticket_no}/invoice",
        STAFF | {"finance"},
        prep=chargeable,
        body=lambda w, _: {"buyer_name": "苏州精密机械有限公司", "buyer_tax_no": TAX_NO},
    ),
    # the invoice register: finance, supervisors, managers
    Row("GET", "/invoices", STAFF | {"finance"}),
    Row("GET", "/invoices/export.xlsx", STAFF | {"finance"}),
    Row(
        "POST",
        "/invoices/{invoice_id}/issue",
        STAFF | {"finance"},
        prep=fresh_invoice,
        body=lambda w, _: {"invoice_number": digital_number(), "issue_date": "2026-11-29"},
    ),
    Row("GET", "/price-list", READERS_AND_DEALERS),
    Row(
        "PUT",
        "/price-list/{code}",
        STAFF | {"finance"},
        prep=lambda w: _const(code="SVC-X"),
        body=lambda w, _: {"kind": "service", "name": "保养", "unit": "次", "rate": "300.00"},
    ),
    # expense claims
    Row("GET", "/expense-claims", CLAIM_READERS | {"engineer_other"}),
    Row(
        "POST",
        "/expense-claims",
        {"engineer_own"},
        body=claim_body,
        refused_with={"engineer_other": 422},
    ),
    Row("GET", "/expense-claims/{claim_id}", CLAIM_READERS, prep=the_claim),
    Row(
        "PUT",
        "/expense-claims/{claim_id}",
        {"engineer_own"},
        prep=fresh_claim("draft"),
        body=claim_body,
    ),
    Row("POST", "/expense-claims/{claim_id}/submit", {"engineer_own"}, prep=fresh_claim("draft")),
    Row(
        "POST",
        "/expense-claims/{claim_id}/approve",
        {"admin", "manager", "service_supervisor"},
        prep=fresh_claim("submitted"),
    ),
    Row(
        "POST",
        "/expense-claims/{claim_id}/reject",
        {"admin", "manager", "service_supervisor"},
        prep=fresh_claim("submitted"),
        body=lambda w, _: {"reason": "请补充住宿发票"},
    ),
    Row(
        "POST",
        "/expense-claims/{claim_id}/settle",
        {"admin", "finance"},
        prep=fresh_claim("approved"),
        body=lambda w, _: {"payment_reference": "PAY-2026-1129-01"},
    ),
    Row(
        "POST",
        "/expense-claims/{claim_id}/late-exception",
        {"admin", "manager"},
        prep=fresh_claim("draft"),
        body=lambda w, _: {"reason": "高铁停运，延误提交"},
    ),
    Row("GET", "/expense-claims/{claim_id}/history", CLAIM_READERS, prep=the_claim),
    Row(
        "POST",
        "/expense-claims/{claim_id}/receipts",
        {"engineer_own"},
        prep=fresh_claim("draft"),
        content=(PNG, "image/png"),
        params={"filename": "餐费.png"},
    ),
    Row("GET", "/expense-claims/{claim_id}/receipts/{receipt_id}", CLAIM_READERS, prep=the_claim),
    Row(
        "DELETE",
        "/expense-claims/{claim_id}/receipts/{receipt_id}",
        {"engineer_own"},
        prep=with_receipt,
    ),
]


async def _const(**values: Any) -> dict[str, Any]:
    return values


def verdict(row: Row, status: int) -> str:
    if row.public and status == 503:
        return "allowed"  # /ready says "not ready" (no NATS in this test) to anyone
    if not row.exists and status == 404:
        return "allowed"
    if status == 401:
        return "401"
    if status in (403, 404):
        return "refused"
    if status >= 500:
        return "ERROR"
    return "allowed"  # 2xx/3xx, or 400/409/413/422 that the state or the input caused


def expected(row: Row, role: str) -> str:
    if role in UNAUTHENTICATED and not row.public:
        return "401"
    return "allowed" if role in row.allowed else "refused"


def leaked(w: World, role: str, path: str, r: Any) -> str | None:
    """What another dealer or another engineer must never see in an answer they may get."""
    if r.headers.get("content-type", "").startswith(XLSX):
        text = " ".join(
            str(cell)
            for sheet in load_workbook(io.BytesIO(r.content), read_only=True)
            for row in sheet.iter_rows(values_only=True)
            for cell in row
        )
    else:
        text = r.text
    if role == "dealer_other" and w.store_d1 in text:
        return f"dealer {D1}'s store {w.store_d1}"
    if role == "engineer_other" and path.startswith("/expense-claims") and ENG_A in text:
        return f"{ENG_A}'s expense claims"
    return None


XLSX = "application/vnd.openxmlformats"


async def events(kit: Any) -> int:
    async with kit.rt.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(outbox))).scalar_one())


def test_the_table_names_every_endpoint_of_the_openapi_document():
    from parts.app import create_app
    from parts.settings import PartsSettings

    app = create_app(PartsSettings(database_url="sqlite+aiosqlite:///:memory:"))
    documented = {
        (method.upper(), path)
        for path, item in app.openapi_schema.to_schema()["paths"].items()
        for method in item
    }
    from test_authz_invoices import INVOICE_ROWS  # the rows that did not fit in this file

    assert documented == {(r.method, r.path) for r in ROWS + INVOICE_ROWS}


@pytest.mark.long(45)
async def test_every_endpoint_answers_every_role_as_the_table_says(make_kit, clock, tmp_path):
    clock.at("sunday-evening")
    kit = await make_kit(files_dir=str(tmp_path))
    wrong = await wrong_answers(kit, ROWS)
    assert not wrong, "\n" + "\n".join(wrong)


async def wrong_answers(kit: Any, rows: list[Row]) -> list[str]:
    """Each row called as each role on a fresh world: what answered otherwise than the table."""
    wrong: list[str] = []
    async with kit.client() as c:
        w = await build(c, kit)
        for row in rows:
            for role, headers in ROLES.items():
                params = await row.prep(w)
                path = row.path.format(**params)
                kw: dict[str, Any] = {"headers": headers(), "params": row.params}
                if row.body is not None:
                    kw["json"] = row.body(w, params)
                if row.content is not None:
                    kw["content"] = row.content[0]
                    kw["headers"] |= {"content-type": row.content[1]}
                before = await events(kit)
                r = await c.request(row.method, path, **kw)
                got, want = verdict(row, r.status_code), expected(row, role)
                if role in row.refused_with and role not in row.allowed:
                    ok = r.status_code == row.refused_with[role]
                else:
                    ok = got == want
                if ok and want != "allowed" and await events(kit) != before:
                    ok, got = False, f"{got} but wrote an event"
                if ok and r.status_code >= 400 and not r.content:
                    ok, got = False, f"{got} without a message"
                if ok and got == "allowed" and (leak := leaked(w, role, path, r)):
                    ok, got = False, f"allowed but shows {leak}"
                if not ok:
                    wrong.append(
                        f"{row.method} {row.path} as {role}: {r.status_code} ({got}), "
                        f"want {want}: {r.text[:160]}"
                    )
    return wrong
