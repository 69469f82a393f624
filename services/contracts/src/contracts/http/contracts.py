"""HTTP: contract drafts, review, signing, archiving, amendments and history."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, customer_scope, dealer_scope, requires
from aftersales_shared.db import utcnow
from aftersales_shared.errors import NotFound
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

from ..schemas.audit import AuditOut
from ..schemas.contracts import (
    AmendmentIn,
    ArchiveIn,
    ContractDraftIn,
    ContractOut,
    ContractPatch,
    SignIn,
    SignOffIn,
    SignOffOut,
)
from ..settings import ContractsSettings
from ..usecases import amendments, archiving, audit, contracts, drafting, review, signing
from .common import READERS, REVIEWERS, SALES, business_tz, dealers_own
from .contract_io import contract_out, draft_content, new_draft, review_part, signing_of

StatusQ = Annotated[
    str | None, QueryParameter(pattern="^(draft|in_review|approved|signed|archived)$")
]


class ContractController(Controller):
    path = "/contracts"
    tags = ["contracts"]

    @post("/", guards=[requires(*SALES)], summary="Create a contract draft")
    async def create(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[ContractsSettings],
        data: JSONBody[ContractDraftIn],
        request: Request,
    ) -> ContractOut:
        async with rt.sessions.begin() as s:
            return contract_out(
                await drafting.create_draft(
                    s, new_draft(data), request.user, utcnow(), tz=business_tz(settings)
                )
            )

    @get(
        "/",
        guards=[requires(*READERS, Role.CUSTOMER, Role.DEALER)],
        summary=(
            "List contracts (newest version of each; a customer: its own signed contracts; a "
            "dealer: the contracts sold through it)"
        ),
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        status: StatusQ = None,
        customer_id: FromQuery[str | None] = None,
        owner: FromQuery[str | None] = None,
        dealer_id: FromQuery[str | None] = None,
        signed_from: Since = None,
        signed_to: Until = None,
        created_from: Since = None,
        created_to: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ContractOut]:
        customer, dealer = customer_scope(request.user), dealer_scope(request.user)
        if (customer is not None and customer_id not in (None, customer)) or (
            dealer is not None and dealer_id not in (None, dealer)
        ):
            return Page[ContractOut](items=[], total=0, limit=limit, offset=offset)
        async with rt.sessions() as s:
            rows, total = await contracts.list_contracts(
                s,
                status=status,
                customer_id=customer or customer_id,
                owner=owner,
                dealer_id=dealer or dealer_id,
                signed_from=signed_from,
                signed_to=signed_to,
                created_from=created_from,
                created_to=created_to,
                limit=limit,
                offset=offset,
                signed_only=customer is not None,
            )
            return Page[ContractOut](
                items=[contract_out(r) for r in rows], total=total, limit=limit, offset=offset
            )

    @get(
        "/{contract_no:str}",
        guards=[requires(*READERS, Role.CUSTOMER, Role.DEALER)],
        summary=(
            "One contract (newest version unless ?version=; a customer: its own signed contracts; "
            "a dealer: its own)"
        ),
    )
    async def get_one(
        self,
        rt: NamedDependency[Runtime],
        contract_no: FromPath[str],
        request: Request,
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> ContractOut:
        customer = customer_scope(request.user)
        async with rt.sessions() as s:
            row = await contracts.get_contract(s, contract_no, version)
            if customer is not None and (row.customer_id != customer or row.signed_at is None):
                raise NotFound(
                    f"合同{contract_no}不存在 (contract not found)"
                )  # as for one nobody has
            dealers_own(request, row)
            return contract_out(row)

    @get(
        "/{contract_no:str}/versions",
        guards=[requires(*READERS, Role.DEALER)],
        summary="Every version of a contract (a dealer: of its own)",
    )
    async def versions(
        self, rt: NamedDependency[Runtime], contract_no: FromPath[str], request: Request
    ) -> list[ContractOut]:
        async with rt.sessions() as s:
            dealers_own(request, await contracts.get_contract(s, contract_no, None))
            return [contract_out(r) for r in await contracts.list_versions(s, contract_no)]

    @patch(
        "/{contract_no:str}",
        guards=[requires(*SALES)],
        summary="Edit the draft (voids review sign-offs)",
    )
    async def edit(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[ContractsSettings],
        contract_no: FromPath[str],
        data: JSONBody[ContractPatch],
        request: Request,
    ) -> ContractOut:
        async with rt.sessions.begin() as s:
            return contract_out(
                await drafting.edit_draft(
                    s,
                    contract_no,
                    draft_content(data, data.model_fields_set),
                    request.user,
                    utcnow(),
                    tz=business_tz(settings),
                )
            )

    @post(
        "/{contract_no:str}/submit",
        guards=[requires(*SALES)],
        summary="Submit the draft for review",
        status_code=200,
    )
    async def submit(
        self, rt: NamedDependency[Runtime], contract_no: FromPath[str], request: Request
    ) -> ContractOut:
        async with rt.sessions.begin() as s:
            return contract_out(
                await review.submit_for_review(s, contract_no, request.user, utcnow())
            )

    @post(
        "/{contract_no:str}/reviews/{part:str}",
        guards=[requires(*REVIEWERS)],
        status_code=200,
        summary="Legal, finance or delivery signs off (or rejects) its own part",
    )
    async def review(
        self,
        rt: NamedDependency[Runtime],
        contract_no: FromPath[str],
        part: FromPath[str],
        data: JSONBody[SignOffIn],
        request: Request,
    ) -> ContractOut:
        async with rt.sessions.begin() as s:
            return contract_out(
                await review.sign_off(
                    s,
                    contract_no,
                    review_part(part),
                    review.ReviewDecision(
                        approved=data.decision == "approve", comments=data.comments
                    ),
                    request.user,
                    utcnow(),
                )
            )

    @get(
        "/{contract_no:str}/reviews",
        guards=[requires(*READERS, Role.DEALER)],
        summary="Every review decision of every round (a dealer: of its own contracts)",
    )
    async def reviews(
        self,
        rt: NamedDependency[Runtime],
        contract_no: FromPath[str],
        request: Request,
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> list[SignOffOut]:
        async with rt.sessions() as s:
            row = await contracts.get_contract(s, contract_no, version)
            dealers_own(request, row)
            return [SignOffOut.model_validate(r) for r in row.sign_offs]

    @post(
        "/{contract_no:str}/sign",
        guards=[requires(*SALES)],
        status_code=200,
        summary="Record both parties' signatures on the reviewed version; publishes ContractSigned",
    )
    async def sign(
        self,
        rt: NamedDependency[Runtime],
        settings: NamedDependency[ContractsSettings],
        contract_no: FromPath[str],
        data: JSONBody[SignIn],
        request: Request,
    ) -> ContractOut:
        async with rt.sessions.begin() as s:
            return contract_out(
                await signing.sign_contract(
                    s,
                    contract_no,
                    signing_of(data),
                    request.user,
                    utcnow(),
                    tz=business_tz(settings),
                    office_calendar=settings.office_calendar,
                )
            )

    @post(
        "/{contract_no:str}/archive",
        guards=[requires(*SALES)],
        status_code=200,
        summary="Sales assistant archives the signed originals; publishes ContractArchived",
    )
    async def archive(
        self,
        rt: NamedDependency[Runtime],
        contract_no: FromPath[str],
        data: JSONBody[ArchiveIn],
        request: Request,
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> ContractOut:
        async with rt.sessions.begin() as s:
            return contract_out(
                await archiving.archive_contract(
                    s,
                    contract_no,
                    archiving.Filing(items=list(data.items), location=data.location),
                    request.user,
                    utcnow(),
                    version,
                )
            )

    @post(
        "/{contract_no:str}/amendments",
        guards=[requires(*SALES)],
        summary="Start an amendment: a new draft version",
    )
    async def amend(
        self,
        rt: NamedDependency[Runtime],
        contract_no: FromPath[str],
        data: JSONBody[AmendmentIn],
        request: Request,
    ) -> ContractOut:
        async with rt.sessions.begin() as s:
            return contract_out(
                await amendments.amend(
                    s, contract_no, amendments.Amendment(reason=data.reason), request.user, utcnow()
                )
            )

    @get(
        "/{contract_no:str}/history",
        guards=[requires(*READERS)],
        summary="Audit trail of a contract: who, when, what",
    )
    async def history(
        self,
        rt: NamedDependency[Runtime],
        contract_no: FromPath[str],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[AuditOut]:
        async with rt.sessions() as s:
            await contracts.list_versions(s, contract_no)
            rows, total = await audit.list_audit(
                s,
                entity="contract",
                key=contract_no,
                actor=None,
                since=None,
                until=None,
                limit=limit,
                offset=offset,
            )
            return Page[AuditOut](
                items=[AuditOut.model_validate(r) for r in rows],
                total=total,
                limit=limit,
                offset=offset,
            )
