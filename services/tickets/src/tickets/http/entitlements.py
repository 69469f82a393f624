"""Entitlements learnt from signed contracts, as the desk and dealers read them."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import NamedDependency

from aftersales_shared.auth import requires
from aftersales_shared.http import FromPath, FromQuery, Limit, Offset
from aftersales_shared.service import Runtime

from ..models import EntitlementRow
from ..schemas import EntitlementOut, EntitlementPage
from ..usecases import entitlements
from .roles import READERS


def to_out(row: EntitlementRow) -> EntitlementOut:
    return EntitlementOut.model_validate(row, from_attributes=True)


class EntitlementController(Controller):
    path = "/entitlements"
    tags = ["entitlements"]
    guards = [requires(*READERS)]

    @get("/", summary="Service entitlements learnt from signed contracts")
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        customer_id: FromQuery[str | None] = None,
        serial_no: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> EntitlementPage:
        async with rt.sessions() as session:
            rows, total = await entitlements.list_entitlements(
                session,
                request.user,
                customer_id=customer_id,
                serial_no=serial_no,
                limit=limit,
                offset=offset,
            )
            return EntitlementPage(
                items=[to_out(r) for r in rows], total=total, limit=limit, offset=offset
            )

    @get("/{contract_no:str}", summary="Entitlement of one contract")
    async def get_one(
        self, rt: NamedDependency[Runtime], contract_no: FromPath[str], request: Request
    ) -> EntitlementOut:
        async with rt.sessions() as session:
            return to_out(await entitlements.get_entitlement(session, contract_no, request.user))
