"""Demo data for a local run: a few customers' contracts, signed through the real API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from aftersales_shared.auth import mint_token

if TYPE_CHECKING:
    from .launcher import Launcher

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

DEMO_CUSTOMERS = (
    (
        "DEMO-HT-2026-001",
        "C-001",
        "苏州精工机床有限公司",
        "913205000000000011",
        "王建国",
        "13800138001",
        None,
    ),
    (
        "DEMO-HT-2026-002",
        "C-002",
        "杭州恒达包装机械有限公司",
        "913301000000000022",
        "陈静",
        "13900139002",
        "D-ZJ-01",
    ),
)


def _with_check(code17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(code17, WEIGHTS))
    return code17 + CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def load_demo(launcher: Launcher) -> None:
    """Create and sign demo contracts (idempotent: existing ones are left alone)."""
    from .catalog import service

    info = service("contracts")
    settings = info.settings_class()()
    headers = {
        "Authorization": f"Bearer {mint_token(settings.jwt_secret, 'demo-sales', ['sales'])}"
    }
    base = f"http://127.0.0.1:{launcher.port_of(info, 0)}"
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        for no, cid, name, code, contact, phone, dealer in DEMO_CUSTOMERS:
            if client.get(f"/contracts/{no}").status_code == 200:
                continue
            body = {
                "contract_no": no,
                "customer": {
                    "customer_id": cid,
                    "name": name,
                    "credit_code": _with_check(code[:17]),
                    "contacts": [{"name": contact, "phone": phone}],
                },
                "products": [
                    {
                        "model": "XK-200 数控机床",
                        "serial_no": f"{no}-SN{i}",
                        "warranty_end": "2028-11-30",
                    }
                    for i in (1, 2)
                ],
                "dealer_id": dealer,
            }
            client.post("/contracts", json=body).raise_for_status()
            client.post(f"/contracts/{no}/submit").raise_for_status()
            for part in (
                "legal",
                "finance",
                "delivery",
            ):  # each department signs off its own part with its own token
                token = mint_token(settings.jwt_secret, f"demo-{part}", [part])
                reviewer = {"Authorization": f"Bearer {token}"}
                r = client.post(
                    f"/contracts/{no}/reviews/{part}",
                    json={"decision": "approve", "comments": "演示：同意"},
                    headers=reviewer,
                )
                r.raise_for_status()
            now = datetime.now(UTC).isoformat()
            sign = {
                "document_sha256": r.json()["document_sha256"],
                "signatures": [  # the reviewed version's hash
                    {
                        "party": "company",
                        "signer": "销售经理 李明",
                        "signed_at": now,
                        "method": "seal",
                    },
                    {
                        "party": "customer",
                        "signer": contact,
                        "signed_at": now,
                        "method": "e_signature",
                    },
                ],
            }
            client.post(f"/contracts/{no}/sign", json=sign).raise_for_status()
            print(f"demo: signed contract {no} for {name}", flush=True)
