"""HTTP: customers."""

from __future__ import annotations

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    JSONBody,
    Limit,
    Offset,
)
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.customers import CustomerIn, CustomerOut, CustomerPatch
from ..usecases import customers
from .common import READERS, SALES


def new_customer(data: CustomerIn) -> customers.NewCustomer:
    return customers.NewCustomer(**data.model_dump())


def customer_changes(data: CustomerPatch) -> customers.CustomerChanges:
    return customers.CustomerChanges(data.model_dump(exclude_unset=True, mode="json"))


class CustomerController(Controller):
    path = "/customers"
    tags = ["customers"]

    @post(
        "/",
        guards=[requires(*SALES)],
        summary="Register a customer (credit code checked, duplicates refused)",
    )
    async def create(
        self, rt: NamedDependency[Runtime], data: JSONBody[CustomerIn], request: Request
    ) -> CustomerOut:
        async with rt.sessions.begin() as s:
            return CustomerOut.model_validate(
                await customers.register_customer(s, new_customer(data), request.user, utcnow())
            )

    @get("/", guards=[requires(*READERS)], summary="List customers")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        q: FromQuery[str | None] = None,
        owner: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[CustomerOut]:
        async with rt.sessions() as s:
            rows, total = await customers.list_customers(
                s, q=q, owner=owner, limit=limit, offset=offset
            )
            return Page[CustomerOut](
                items=[CustomerOut.model_validate(r) for r in rows],
                total=total,
                limit=limit,
                offset=offset,
            )

    @get("/{customer_id:str}", guards=[requires(*READERS)], summary="One customer")
    async def get_one(
        self, rt: NamedDependency[Runtime], customer_id: FromPath[str]
    ) -> CustomerOut:
        async with rt.sessions() as s:
            return CustomerOut.model_validate(await customers.get_customer(s, customer_id))

    @patch(
        "/{customer_id:str}",
        guards=[requires(*SALES)],
        summary="Update contacts, addresses, name",
    )
    async def update(
        self,
        rt: NamedDependency[Runtime],
        customer_id: FromPath[str],
        data: JSONBody[CustomerPatch],
        request: Request,
    ) -> CustomerOut:
        async with rt.sessions.begin() as s:
            return CustomerOut.model_validate(
                await customers.update_customer(
                    s, customer_id, customer_changes(data), request.user, utcnow()
                )
            )
