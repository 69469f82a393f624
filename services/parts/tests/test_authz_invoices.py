"""The authorisation table's rows for undoing invoices (test_authz_matrix's file is full): the
register in every state (v2), withdrawing a request and reversing an issued invoice — finance,
supervisors, managers (and admin), as for registering one; everyone else 403, no token 401, and a
refused call writes no event."""

from __future__ import annotations

from typing import Any

from test_authz_matrix import STAFF, Row, World, fresh_invoice, wrong_answers
from test_invoice_register import digital_number
from test_money import FINANCE


async def issued_invoice(w: World) -> dict[str, Any]:
    """A fresh request with its invoice registered, to reverse."""
    made = await fresh_invoice(w)
    r = await w.client.post(
        f"/invoices/{made['invoice_id']}/issue",
        json={"invoice_number": digital_number(), "issue_date": "2026-11-29"},
        headers=FINANCE,
    )
    assert r.status_code == 200, r.text
    return made


def red(w: World, _: dict[str, Any]) -> dict[str, Any]:
    return {
        "red_invoice_number": digital_number(),
        "red_issue_date": "2026-11-29",
        "reason": "billing_error",
    }


INVOICE_ROWS = [
    Row("GET", "/v2/invoices", STAFF | {"finance"}),
    Row(
        "POST",
        "/invoices/{invoice_id}/cancel",
        STAFF | {"finance"},
        prep=fresh_invoice,
        body=lambda w, _: {"reason": "购买方名称填错"},
    ),
    Row(
        "POST",
        "/invoices/{invoice_id}/reverse",
        STAFF | {"finance"},
        prep=issued_invoice,
        body=red,
    ),
]


async def test_undoing_invoices_answers_every_role_as_the_table_says(make_kit, clock, tmp_path):
    clock.at("sunday-evening")
    kit = await make_kit(files_dir=str(tmp_path))
    wrong = await wrong_answers(kit, INVOICE_ROWS)
    assert not wrong, "\n" + "\n".join(wrong)
