"""HTTP API of the tickets service."""

from __future__ import annotations

from litestar import Controller, Request, get

from aftersales_shared.auth import Role, dealer_scope, requires
from aftersales_shared.errors import NotFound
from aftersales_shared.http import FromPath, FromQuery, Limit, Offset
from aftersales_shared.service import Runtime

from . import services
from .models import EntitlementRow
from .schemas import EntitlementOut, EntitlementPage

READERS = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.ENGINEER, Role.DEALER, Role.MANAGER, Role.TECHNICAL)


def to_out(row: EntitlementRow) -> EntitlementOut:
    return EntitlementOut.model_validate(row, from_attributes=True)


def entitlements_controller(rt: Runtime) -> type[Controller]:
    class EntitlementController(Controller):
        path = "/entitlements"
        tags = ["entitlements"]
        guards = [requires(*READERS)]

        @get("/", summary="Service entitlements learnt from signed contracts")
        async def list_(
            self,
            request: Request,
            customer_id: FromQuery[str | None] = None,
            serial_no: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> EntitlementPage:
            async with rt.sessions() as session:
                rows, total = await services.list_entitlements(
                    session, customer_id=customer_id, serial_no=serial_no, dealer_id=dealer_scope(request.user),
                    limit=limit, offset=offset,
                )
                return EntitlementPage(items=[to_out(r) for r in rows], total=total, limit=limit, offset=offset)

        @get("/{contract_no:str}", summary="Entitlement of one contract")
        async def get_one(self, contract_no: FromPath[str], request: Request) -> EntitlementOut:
            async with rt.sessions() as session:
                row = await services.get_entitlement(session, contract_no)
                scope = dealer_scope(request.user)
                if scope is not None and row.dealer_id != scope:
                    raise NotFound(f"合同{contract_no}没有服务权益记录 (no entitlement for this contract)")
                return to_out(row)

    return EntitlementController
