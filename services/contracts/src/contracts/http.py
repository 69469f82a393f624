"""HTTP API of the contracts service: decode, call one use case, return."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset, QueryParameter
from aftersales_shared.service import Runtime

from . import services
from .models import ContractRow
from .schemas import ContractDraftIn, ContractOut, ContractPage, SignIn

READERS = (Role.SALES, Role.SALES_MANAGER, Role.LEGAL, Role.FINANCE, Role.DELIVERY, Role.MANAGER,
           Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR)
WRITERS = (Role.SALES, Role.SALES_MANAGER)


def to_out(row: ContractRow) -> ContractOut:
    return ContractOut.model_validate(
        {c: getattr(row, c) for c in ContractOut.model_fields if c not in ("products", "signatures")}
        | {
            "products": [{"model": p.model, "serial_no": p.serial_no, "warranty_end": p.warranty_end} for p in row.products],
            "signatures": [
                {"party": s.party, "signer": s.signer, "signed_at": s.signed_at, "method": s.method} for s in row.signatures
            ],
        }
    )


def contracts_controller(rt: Runtime) -> type[Controller]:
    class ContractController(Controller):
        path = "/contracts"
        tags = ["contracts"]

        @post("/", guards=[requires(*WRITERS)], summary="Create a contract draft")
        async def create(self, data: JSONBody[ContractDraftIn], request: Request) -> ContractOut:
            async with rt.sessions.begin() as session:
                row = await services.create_draft(session, data, request.user, utcnow())
                return to_out(row)

        @get("/", guards=[requires(*READERS)], summary="List contracts")
        async def list_(
            self,
            status: Annotated[str | None, QueryParameter(pattern="^(draft|signed)$")] = None,
            customer_id: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> ContractPage:
            async with rt.sessions() as session:
                rows, total = await services.list_contracts(
                    session, status=status, customer_id=customer_id, limit=limit, offset=offset
                )
                return ContractPage(items=[to_out(r) for r in rows], total=total, limit=limit, offset=offset)

        @get("/{contract_no:str}", guards=[requires(*READERS)], summary="One contract")
        async def get_one(self, contract_no: FromPath[str]) -> ContractOut:
            async with rt.sessions() as session:
                return to_out(await services.get_contract(session, contract_no))

        @post("/{contract_no:str}/sign", guards=[requires(*WRITERS)], summary="Sign (both parties); publishes ContractSigned", status_code=200)
        async def sign(self, contract_no: FromPath[str], data: JSONBody[SignIn], request: Request) -> ContractOut:
            async with rt.sessions.begin() as session:
                row = await services.sign_contract(session, contract_no, data, request.user, utcnow())
                return to_out(row)

    return ContractController
