"""HTTP: leads (潜在客户)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    JSONBody,
    Limit,
    Offset,
    QueryParameter,
    Since,
    Until,
)
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..schemas.customers import CustomerOut, LeadConvertIn, LeadIn, LeadOut, LeadPatch
from ..settings import ContractsSettings
from ..usecases import leads
from .common import SALES, business_tz


class LeadController(Controller):
    path = "/leads"
    tags = ["leads"]

    @post("/", guards=[requires(*SALES)], summary="Record a lead (潜在客户) with its grade")
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[ContractsSettings],
        data: JSONBody[LeadIn],
        request: Request,
    ) -> LeadOut:
        async with rt.sessions.begin() as s:
            return LeadOut.model_validate(
                await leads.create_lead(
                    s,
                    leads.NewLead(**data.model_dump()),
                    request.user,
                    utcnow(),
                    tz=business_tz(settings),
                )
            )

    @get("/", guards=[requires(*SALES, Role.MANAGER)], summary="List leads")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        grade: Annotated[str | None, QueryParameter(pattern="^[ABC]$")] = None,
        status: Annotated[str | None, QueryParameter(pattern="^(open|converted|dropped)$")] = None,
        owner: FromQuery[str | None] = None,
        created_from: Since = None,
        created_to: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[LeadOut]:
        async with rt.sessions() as s:
            rows, total = await leads.list_leads(
                s,
                grade=grade,
                status=status,
                owner=owner,
                created_from=created_from,
                created_to=created_to,
                limit=limit,
                offset=offset,
            )
            return Page[LeadOut](
                items=[LeadOut.model_validate(r) for r in rows],
                total=total,
                limit=limit,
                offset=offset,
            )

    @get("/{lead_id:str}", guards=[requires(*SALES, Role.MANAGER)], summary="One lead")
    async def get_one(self, rt: NamedDependency[Runtime], lead_id: FromPath[str]) -> LeadOut:
        async with rt.sessions() as s:
            return LeadOut.model_validate(await leads.get_lead(s, lead_id))

    @patch(
        "/{lead_id:str}",
        guards=[requires(*SALES)],
        summary="Regrade, reassign, update or drop a lead",
    )
    async def update(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[ContractsSettings],
        lead_id: FromPath[str],
        data: JSONBody[LeadPatch],
        request: Request,
    ) -> LeadOut:
        async with rt.sessions.begin() as s:
            return LeadOut.model_validate(
                await leads.update_lead(
                    s,
                    lead_id,
                    leads.LeadChanges(data.model_dump(exclude_unset=True, mode="json")),
                    request.user,
                    utcnow(),
                    tz=business_tz(settings),
                )
            )

    @post(
        "/{lead_id:str}/convert",
        guards=[requires(*SALES)],
        summary="Convert a lead into a customer",
    )
    async def convert(
        self,
        rt: NamedDependency[Runtime],
        lead_id: FromPath[str],
        data: JSONBody[LeadConvertIn],
        request: Request,
    ) -> CustomerOut:
        async with rt.sessions.begin() as s:
            return CustomerOut.model_validate(
                await leads.convert_lead(
                    s, lead_id, leads.LeadConversion(**data.model_dump()), request.user, utcnow()
                )
            )
