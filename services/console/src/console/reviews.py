"""The contract review inbox (合同评审): the contracts in review still waiting for the signed-in
department's part (legal, finance, delivery), read from the contracts API with the reviewer's own
token; a sign-off or a rejection (with its reasons) goes back to it. No web code."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .actions import FormError
from .people import SessionUser
from .upstream import Upstream

PARTS = {"legal": "法务评审", "finance": "财务评审", "delivery": "交付评审"}
LISTED = 100  # contracts in review read per visit (the newest first)
STATUS = {
    "draft": "草稿",
    "in_review": "评审中",
    "approved": "评审通过",
    "signed": "已签署",
    "archived": "已归档",
}


def my_parts(user: SessionUser) -> list[str]:
    """The parts this user signs off: the role of the same name (admin: every part)."""
    if "admin" in user.roles:
        return list(PARTS)
    return [p for p in PARTS if p in user.roles]


def total(contract: dict[str, Any]) -> Decimal | None:
    """The contract's price: the sum of its price components (None when it names none)."""
    parts = ((contract.get("terms") or {}).get("price_components")) or []
    try:
        return sum((Decimal(str(p.get("amount", "0"))) for p in parts), Decimal("0"))
    except (InvalidOperation, TypeError):
        return None


@dataclass(frozen=True)
class Waiting:
    contract: dict[str, Any]
    parts: list[str]  # which of my parts it waits for
    total: Decimal | None


async def load_inbox(upstream: Upstream, user: SessionUser) -> tuple[list[Waiting], int]:
    """The contracts in review waiting for one of my parts; and how many are in review."""
    mine = my_parts(user)
    page = await upstream.get(
        "contracts", "/contracts", user.token, {"status": "in_review", "limit": LISTED}
    )
    waiting = []
    for c in page.get("items", []):
        parts = [p for p in mine if p in (c.get("missing_sign_offs") or [])]
        if parts:
            waiting.append(Waiting(c, parts, total(c)))
    return waiting, int(page.get("total", 0))


def decision_body(form: dict[str, str], user: SessionUser) -> tuple[str, dict[str, str]]:
    """(part, the contracts API's SignOffIn) from the review form, or FormError."""
    part = (form.get("part") or "").strip()
    if part not in my_parts(user):
        raise FormError("您只能评审本部门的部分")
    decision = (form.get("decision") or "").strip()
    if decision not in ("approve", "reject"):
        raise FormError("请选择通过或驳回")
    comments = (form.get("comments") or "").strip()
    if decision == "reject" and not comments:
        raise FormError("驳回时请写明理由，销售据此修改合同")
    if len(comments) > 4000:
        raise FormError("评审意见最多 4000 个字")
    return part, {"decision": decision, "comments": comments}
