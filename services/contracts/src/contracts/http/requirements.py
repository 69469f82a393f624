"""HTTP: requirement confirmation forms (客户需求确认单)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    JSONBody,
    Limit,
    Offset,
    QueryParameter,
)
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.quotes import RequirementConfirmIn, RequirementIn, RequirementOut
from ..usecases import requirements
from .common import READERS, SALES


def new_requirement(data: RequirementIn) -> requirements.NewRequirement:
    return requirements.NewRequirement(
        **data.model_dump(mode="json", exclude={"delivery_date"}), delivery_date=data.delivery_date
    )


class RequirementController(Controller):
    path = "/requirements"
    tags = ["requirement forms"]

    @post(
        "/",
        guards=[requires(*SALES)],
        summary="Draft a requirement confirmation form (客户需求确认单)",
    )
    async def create(
        self, rt: NamedDependency[Runtime], data: JSONBody[RequirementIn], request: Request
    ) -> RequirementOut:
        async with rt.sessions.begin() as s:
            return RequirementOut.model_validate(
                await requirements.create_requirement(
                    s, new_requirement(data), request.user, utcnow()
                )
            )

    @get("/", guards=[requires(*READERS)], summary="List requirement forms")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        customer_id: FromQuery[str | None] = None,
        status: Annotated[str | None, QueryParameter(pattern="^(draft|confirmed)$")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[RequirementOut]:
        async with rt.sessions() as s:
            rows, total = await requirements.list_requirements(
                s, customer_id=customer_id, status=status, limit=limit, offset=offset
            )
            return Page[RequirementOut](
                items=[RequirementOut.model_validate(r) for r in rows],
                total=total,
                limit=limit,
                offset=offset,
            )

    @get("/{no:str}", guards=[requires(*READERS)], summary="One requirement form")
    async def get_one(self, rt: NamedDependency[Runtime], no: FromPath[str]) -> RequirementOut:
        async with rt.sessions() as s:
            return RequirementOut.model_validate(await requirements.get_requirement(s, no))

    @post(
        "/{no:str}/confirm",
        guards=[requires(*SALES)],
        summary="Record the customer's confirmation",
        status_code=200,
    )
    async def confirm(
        self,
        rt: NamedDependency[Runtime],
        no: FromPath[str],
        data: JSONBody[RequirementConfirmIn],
        request: Request,
    ) -> RequirementOut:
        async with rt.sessions.begin() as s:
            return RequirementOut.model_validate(
                await requirements.confirm_requirement(
                    s, no, requirements.Confirmation(**data.model_dump()), request.user, utcnow()
                )
            )
