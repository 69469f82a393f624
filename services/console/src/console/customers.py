"""The customer list as the console shows it (客户): the search contracts' `q` does (part of the
name, the credit code or its start, part of a contact's phone), the owner (sales rep) filter and
pages. Read with the user's own token: contracts admits its readers only. No web code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .forms import FormError, text_field

# contracts' READERS of customers (admin passes every check); never dealers or engineers
READERS = (
    "sales",
    "sales_manager",
    "legal",
    "finance",
    "delivery",
    "manager",
    "service_agent",
    "service_supervisor",
)
MAX_PAGE = 10_000


@dataclass(frozen=True)
class CustomerQuery:
    q: str = ""
    owner: str = ""
    page: int = 1

    def api_params(self, size: int) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": size, "offset": (self.page - 1) * size}
        if self.q:
            params["q"] = self.q
        if self.owner:
            params["owner"] = self.owner
        return params

    def link(self, **changes: Any) -> str:
        values = {"q": self.q, "owner": self.owner, "page": self.page} | changes
        kept = {k: v for k, v in values.items() if v not in ("", 1)}
        return "/customers" + ("?" + urlencode(kept) if kept else "")


def parse_query(params: dict[str, str]) -> CustomerQuery:
    """The list's query string, or FormError saying what to fix."""
    q = text_field(params, "q", 100, "搜索内容")
    owner = text_field(params, "owner", 100, "负责人")
    raw_page = (params.get("page") or "1").strip()
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise FormError("页码须为 1 起的整数")
    return CustomerQuery(q, owner, int(raw_page))


def row(customer: dict[str, Any]) -> dict[str, Any]:
    """A customer with its first contact picked out for the table."""
    contacts = customer.get("contacts") or []
    return customer | {"contact": contacts[0] if contacts else None, "more": len(contacts) - 1}
