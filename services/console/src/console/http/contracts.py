"""Contracts and customers (合同与客户): the list with filters and pages, one contract (parties,
units, versions and their differences, review), one customer (contacts, units, contracts,
tickets). Read with the user's own token: a dealer sees the contracts sold through it, and no
customer page (the dealer portal shows its units)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from .. import contracts, customers, sales
from ..board import REQUEST_TYPES, STATUSES, URGENCY
from ..forms import FormError
from ..reviews import PARTS, STATUS
from ..upstream import Upstream
from .pages import current_user, problem, sign_in_again, take_flash

CONTRACT_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ContractsController(Controller):
    path = "/contracts"
    include_in_schema = False

    @get("/")
    async def contract_list(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        query, zh, en = contracts.parse_query(dict(request.query_params))
        if query is None:
            return problem(request, 400, zh, en)
        listed = await contracts.load_list(upstream, user, query)
        return Template(
            "contracts.html",
            context={
                "user": user,
                "listed": listed,
                "status": STATUS,
                "dealer": user.dealer_id,
                "drafts": user.has(*sales.SALES),
            },
        )

    @get("/{contract_no:str}")
    async def contract(
        self, request: Request, contract_no: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not CONTRACT_NO.fullmatch(contract_no):
            return problem(request, 400, "合同号格式不对", "a contract number: letters, digits, -")
        page = await contracts.load_contract(upstream, user, contract_no)
        return Template(
            "contract.html",
            context={
                "user": user,
                "page": page,
                "c": page.contract,
                "status": STATUS,
                "parts": PARTS,
                "urgencies": URGENCY,
                "customer_link": "dealer" not in user.roles,
                "flash": take_flash(request),
                "sales_actions": sales.actions(page.contract, user.roles),
                "signed": contracts.local(
                    page.contract.get("signed_at"), ZoneInfo(upstream.settings.business_timezone)
                ),
            },
        )


class CustomersController(Controller):
    path = "/customers"
    include_in_schema = False

    @get("/")
    async def customer_list(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        """The search: name, credit code, contact phone (contracts' `q`), owner, pages."""
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not user.has(*customers.READERS):
            return problem(
                request, 403, "客户列表仅限销售、评审部门、客服和管理层", "not your role's list"
            )
        try:
            query = customers.parse_query(dict(request.query_params))
        except FormError as exc:
            return problem(request, 400, str(exc), "fix the search")
        size = upstream.settings.page_size
        found = await upstream.get("contracts", "/customers", user.token, query.api_params(size))
        total = int(found.get("total", 0))
        return Template(
            "customers.html",
            context={
                "user": user,
                "f": query,
                "rows": [customers.row(c) for c in found.get("items", [])],
                "registers": user.has(*sales.SALES),
                "total": total,
                "pages": max(1, -(-total // size)),
            },
        )

    @get("/{customer_id:str}")
    async def customer(
        self, request: Request, customer_id: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if "dealer" in user.roles and not user.has("manager", "admin"):
            return problem(
                request,
                403,
                "经销商请在经销商门户查看本店售出的设备",
                "dealers see their units on the dealer portal",
            )
        if not contracts.ID.fullmatch(customer_id) or not customer_id:
            return problem(request, 400, "客户编号格式不对", "a customer id: letters, digits, -")
        page = await contracts.load_customer(upstream, user, customer_id)
        return Template(
            "customer.html",
            context={
                "user": user,
                "page": page,
                "cu": page.customer,
                "status": STATUS,
                "ticket_status": STATUSES,
                "types": REQUEST_TYPES,
                "flash": take_flash(request),
                "drafts": user.has(*sales.SALES),
            },
        )
