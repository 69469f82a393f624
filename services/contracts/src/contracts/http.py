"""HTTP API of the contracts service: decode, call one use case, return."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.types import ControllerRouterHandler

from aftersales_shared.auth import Role, customer_scope, requires
from aftersales_shared.db import utcnow
from aftersales_shared.errors import NotFound
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    JSONBody,
    Limit,
    Offset,
    QueryParameter,
    RowId,
    Since,
    Until,
)
from aftersales_shared.service import Runtime

from . import fulfilment, services
from .domain import ReviewPart
from .models import ContractRow, OrderRow
from .schemas import (
    AcceptanceIn,
    AmendmentIn,
    ArchiveIn,
    AuditOut,
    BookingIn,
    ContractDraftIn,
    ContractOut,
    ContractPage,
    ContractPatch,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    LeadConvertIn,
    LeadIn,
    LeadOut,
    LeadPatch,
    ObjectionAnswerIn,
    OrderIn,
    OrderOut,
    Page,
    QuoteDecisionIn,
    QuoteIn,
    QuoteOut,
    ReceiptIn,
    RequirementConfirmIn,
    RequirementIn,
    RequirementOut,
    ShippingIn,
    SignIn,
    SignOffIn,
    SignOffOut,
    TrainingIn,
)
from .settings import ContractsSettings

SALES = (Role.SALES, Role.SALES_MANAGER)  # sales reps and sales assistants hold the sales role
REVIEWERS = (Role.LEGAL, Role.FINANCE, Role.DELIVERY)
READERS = (*SALES, *REVIEWERS, Role.MANAGER, Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR)
ORDER_READERS = (*READERS, Role.ENGINEER)
AUDITORS = (Role.SALES_MANAGER, Role.MANAGER, Role.LEGAL, Role.FINANCE)

StatusQ = Annotated[
    str | None, QueryParameter(pattern="^(draft|in_review|approved|signed|archived)$")
]


def contract_out(row: ContractRow) -> ContractOut:
    current = [s for s in row.sign_offs if s.review_round == row.review_round]
    plain = {
        c: getattr(row, c)
        for c in ContractOut.model_fields
        if c not in ("products", "signatures", "sign_offs", "missing_sign_offs")
    }
    return ContractOut.model_validate(
        plain
        | {
            "products": [
                {"model": p.model, "serial_no": p.serial_no, "warranty_end": p.warranty_end}
                for p in row.products
            ],
            "signatures": [
                {"party": s.party, "signer": s.signer, "signed_at": s.signed_at, "method": s.method}
                for s in row.signatures
            ],
            "sign_offs": [SignOffOut.model_validate(s) for s in current],
            "missing_sign_offs": [p.value for p in services.to_domain(row).missing_parts],
        }
    )


def review_part(part: str) -> ReviewPart:
    if part not in ReviewPart._value2member_map_:
        raise NotFound(
            f"评审部分“{part}”不存在，应为 legal、finance 或 delivery (unknown review part)"
        )
    return ReviewPart(part)


def order_out(row: OrderRow) -> OrderOut:
    return OrderOut.model_validate(row)


def route_handlers(rt: Runtime, settings: ContractsSettings) -> list[ControllerRouterHandler]:
    """Every controller of the service, bound to its runtime."""
    office = settings.office_calendar

    class CustomerController(Controller):
        path = "/customers"
        tags = ["customers"]

        @post(
            "/",
            guards=[requires(*SALES)],
            summary="Register a customer (credit code checked, duplicates refused)",
        )
        async def create(self, data: JSONBody[CustomerIn], request: Request) -> CustomerOut:
            async with rt.sessions.begin() as s:
                return CustomerOut.model_validate(
                    await services.register_customer(s, data, request.user, utcnow())
                )

        @get("/", guards=[requires(*READERS)], summary="List customers")
        async def list_(
            self,
            q: FromQuery[str | None] = None,
            owner: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[CustomerOut]:
            async with rt.sessions() as s:
                rows, total = await services.list_customers(
                    s, q=q, owner=owner, limit=limit, offset=offset
                )
                return Page[CustomerOut](
                    items=[CustomerOut.model_validate(r) for r in rows],
                    total=total,
                    limit=limit,
                    offset=offset,
                )

        @get("/{customer_id:str}", guards=[requires(*READERS)], summary="One customer")
        async def get_one(self, customer_id: FromPath[str]) -> CustomerOut:
            async with rt.sessions() as s:
                return CustomerOut.model_validate(await services.get_customer(s, customer_id))

        @patch(
            "/{customer_id:str}",
            guards=[requires(*SALES)],
            summary="Update contacts, addresses, name",
        )
        async def update(
            self, customer_id: FromPath[str], data: JSONBody[CustomerPatch], request: Request
        ) -> CustomerOut:
            async with rt.sessions.begin() as s:
                return CustomerOut.model_validate(
                    await services.update_customer(s, customer_id, data, request.user, utcnow())
                )

    class LeadController(Controller):
        path = "/leads"
        tags = ["leads"]

        @post("/", guards=[requires(*SALES)], summary="Record a lead (潜在客户) with its grade")
        async def create(self, data: JSONBody[LeadIn], request: Request) -> LeadOut:
            async with rt.sessions.begin() as s:
                return LeadOut.model_validate(
                    await services.create_lead(s, data, request.user, utcnow())
                )

        @get("/", guards=[requires(*SALES, Role.MANAGER)], summary="List leads")
        async def list_(
            self,
            grade: Annotated[str | None, QueryParameter(pattern="^[ABC]$")] = None,
            status: Annotated[
                str | None, QueryParameter(pattern="^(open|converted|dropped)$")
            ] = None,
            owner: FromQuery[str | None] = None,
            created_from: Since = None,
            created_to: Until = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[LeadOut]:
            async with rt.sessions() as s:
                rows, total = await services.list_leads(
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
        async def get_one(self, lead_id: FromPath[str]) -> LeadOut:
            async with rt.sessions() as s:
                return LeadOut.model_validate(await services.get_lead(s, lead_id))

        @patch(
            "/{lead_id:str}",
            guards=[requires(*SALES)],
            summary="Regrade, reassign, update or drop a lead",
        )
        async def update(
            self, lead_id: FromPath[str], data: JSONBody[LeadPatch], request: Request
        ) -> LeadOut:
            async with rt.sessions.begin() as s:
                return LeadOut.model_validate(
                    await services.update_lead(s, lead_id, data, request.user, utcnow())
                )

        @post(
            "/{lead_id:str}/convert",
            guards=[requires(*SALES)],
            summary="Convert a lead into a customer",
        )
        async def convert(
            self, lead_id: FromPath[str], data: JSONBody[LeadConvertIn], request: Request
        ) -> CustomerOut:
            async with rt.sessions.begin() as s:
                return CustomerOut.model_validate(
                    await services.convert_lead(s, lead_id, data, request.user, utcnow())
                )

    class RequirementController(Controller):
        path = "/requirements"
        tags = ["requirement forms"]

        @post(
            "/",
            guards=[requires(*SALES)],
            summary="Draft a requirement confirmation form (客户需求确认单)",
        )
        async def create(self, data: JSONBody[RequirementIn], request: Request) -> RequirementOut:
            async with rt.sessions.begin() as s:
                return RequirementOut.model_validate(
                    await services.create_requirement(s, data, request.user, utcnow())
                )

        @get("/", guards=[requires(*READERS)], summary="List requirement forms")
        async def list_(
            self,
            customer_id: FromQuery[str | None] = None,
            status: Annotated[str | None, QueryParameter(pattern="^(draft|confirmed)$")] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[RequirementOut]:
            async with rt.sessions() as s:
                rows, total = await services.list_requirements(
                    s, customer_id=customer_id, status=status, limit=limit, offset=offset
                )
                return Page[RequirementOut](
                    items=[RequirementOut.model_validate(r) for r in rows],
                    total=total,
                    limit=limit,
                    offset=offset,
                )

        @get("/{no:str}", guards=[requires(*READERS)], summary="One requirement form")
        async def get_one(self, no: FromPath[str]) -> RequirementOut:
            async with rt.sessions() as s:
                return RequirementOut.model_validate(await services.get_requirement(s, no))

        @post(
            "/{no:str}/confirm",
            guards=[requires(*SALES)],
            summary="Record the customer's confirmation",
            status_code=200,
        )
        async def confirm(
            self, no: FromPath[str], data: JSONBody[RequirementConfirmIn], request: Request
        ) -> RequirementOut:
            async with rt.sessions.begin() as s:
                return RequirementOut.model_validate(
                    await services.confirm_requirement(s, no, data, request.user, utcnow())
                )

    class QuoteController(Controller):
        path = "/quotes"
        tags = ["quotes"]

        @post(
            "/",
            guards=[requires(*SALES)],
            summary="Issue a quote; a discount above the limit waits for a sales manager",
        )
        async def create(self, data: JSONBody[QuoteIn], request: Request) -> QuoteOut:
            async with rt.sessions.begin() as s:
                row = await services.create_quote(
                    s, data, request.user, utcnow(), settings.quote_discount_limit_pct
                )
                return QuoteOut.model_validate(row)

        @get("/", guards=[requires(*READERS)], summary="List quotes")
        async def list_(
            self,
            customer_id: FromQuery[str | None] = None,
            owner: FromQuery[str | None] = None,
            status: Annotated[
                str | None, QueryParameter(pattern="^(pending_approval|approved|rejected)$")
            ] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[QuoteOut]:
            async with rt.sessions() as s:
                rows, total = await services.list_quotes(
                    s,
                    customer_id=customer_id,
                    status=status,
                    owner=owner,
                    limit=limit,
                    offset=offset,
                )
                return Page[QuoteOut](
                    items=[QuoteOut.model_validate(r) for r in rows],
                    total=total,
                    limit=limit,
                    offset=offset,
                )

        @get("/{no:str}", guards=[requires(*READERS)], summary="One quote")
        async def get_one(self, no: FromPath[str]) -> QuoteOut:
            async with rt.sessions() as s:
                return QuoteOut.model_validate(await services.get_quote(s, no))

        @post(
            "/{no:str}/decision",
            guards=[requires(Role.SALES_MANAGER)],
            summary="Sales manager approves or rejects a discount",
            status_code=200,
        )
        async def decide(
            self, no: FromPath[str], data: JSONBody[QuoteDecisionIn], request: Request
        ) -> QuoteOut:
            async with rt.sessions.begin() as s:
                return QuoteOut.model_validate(
                    await services.decide_quote(s, no, data, request.user, utcnow())
                )

    class ContractController(Controller):
        path = "/contracts"
        tags = ["contracts"]

        @post("/", guards=[requires(*SALES)], summary="Create a contract draft")
        async def create(self, data: JSONBody[ContractDraftIn], request: Request) -> ContractOut:
            async with rt.sessions.begin() as s:
                return contract_out(await services.create_draft(s, data, request.user, utcnow()))

        @get(
            "/",
            guards=[requires(*READERS, Role.CUSTOMER)],
            summary="List contracts (newest version of each; a customer: its own signed contracts)",
        )
        async def list_(
            self,
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
        ) -> ContractPage:
            customer = customer_scope(request.user)
            if customer is not None and customer_id not in (None, customer):
                return ContractPage(items=[], total=0, limit=limit, offset=offset)
            async with rt.sessions() as s:
                rows, total = await services.list_contracts(
                    s,
                    status=status,
                    customer_id=customer or customer_id,
                    owner=owner,
                    dealer_id=dealer_id,
                    signed_from=signed_from,
                    signed_to=signed_to,
                    created_from=created_from,
                    created_to=created_to,
                    limit=limit,
                    offset=offset,
                    signed_only=customer is not None,
                )
                return ContractPage(
                    items=[contract_out(r) for r in rows], total=total, limit=limit, offset=offset
                )

        @get(
            "/{contract_no:str}",
            guards=[requires(*READERS, Role.CUSTOMER)],
            summary="One contract (newest version unless ?version=; a customer: its own signed contracts)",
        )
        async def get_one(
            self,
            contract_no: FromPath[str],
            request: Request,
            version: Annotated[int | None, QueryParameter(ge=1)] = None,
        ) -> ContractOut:
            customer = customer_scope(request.user)
            async with rt.sessions() as s:
                row = await services.get_contract(s, contract_no, version)
                if customer is not None and (row.customer_id != customer or row.signed_at is None):
                    raise NotFound(
                        f"合同{contract_no}不存在 (contract not found)"
                    )  # as for one nobody has
                return contract_out(row)

        @get(
            "/{contract_no:str}/versions",
            guards=[requires(*READERS)],
            summary="Every version of a contract",
        )
        async def versions(self, contract_no: FromPath[str]) -> list[ContractOut]:
            async with rt.sessions() as s:
                return [contract_out(r) for r in await services.list_versions(s, contract_no)]

        @patch(
            "/{contract_no:str}",
            guards=[requires(*SALES)],
            summary="Edit the draft (voids review sign-offs)",
        )
        async def edit(
            self, contract_no: FromPath[str], data: JSONBody[ContractPatch], request: Request
        ) -> ContractOut:
            async with rt.sessions.begin() as s:
                return contract_out(
                    await services.edit_draft(s, contract_no, data, request.user, utcnow())
                )

        @post(
            "/{contract_no:str}/submit",
            guards=[requires(*SALES)],
            summary="Submit the draft for review",
            status_code=200,
        )
        async def submit(self, contract_no: FromPath[str], request: Request) -> ContractOut:
            async with rt.sessions.begin() as s:
                return contract_out(
                    await services.submit_for_review(s, contract_no, request.user, utcnow())
                )

        @post(
            "/{contract_no:str}/reviews/{part:str}",
            guards=[requires(*REVIEWERS)],
            status_code=200,
            summary="Legal, finance or delivery signs off (or rejects) its own part",
        )
        async def review(
            self,
            contract_no: FromPath[str],
            part: FromPath[str],
            data: JSONBody[SignOffIn],
            request: Request,
        ) -> ContractOut:
            async with rt.sessions.begin() as s:
                return contract_out(
                    await services.sign_off(
                        s, contract_no, review_part(part), data, request.user, utcnow()
                    )
                )

        @get(
            "/{contract_no:str}/reviews",
            guards=[requires(*READERS)],
            summary="Every review decision of every round",
        )
        async def reviews(
            self,
            contract_no: FromPath[str],
            version: Annotated[int | None, QueryParameter(ge=1)] = None,
        ) -> list[SignOffOut]:
            async with rt.sessions() as s:
                row = await services.get_contract(s, contract_no, version)
                return [SignOffOut.model_validate(r) for r in row.sign_offs]

        @post(
            "/{contract_no:str}/sign",
            guards=[requires(*SALES)],
            status_code=200,
            summary="Record both parties' signatures on the reviewed version; publishes ContractSigned",
        )
        async def sign(
            self, contract_no: FromPath[str], data: JSONBody[SignIn], request: Request
        ) -> ContractOut:
            async with rt.sessions.begin() as s:
                return contract_out(
                    await services.sign_contract(
                        s, contract_no, data, request.user, utcnow(), office
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
            contract_no: FromPath[str],
            data: JSONBody[ArchiveIn],
            request: Request,
            version: Annotated[int | None, QueryParameter(ge=1)] = None,
        ) -> ContractOut:
            async with rt.sessions.begin() as s:
                return contract_out(
                    await services.archive_contract(
                        s, contract_no, data, request.user, utcnow(), version
                    )
                )

        @post(
            "/{contract_no:str}/amendments",
            guards=[requires(*SALES)],
            summary="Start an amendment: a new draft version",
        )
        async def amend(
            self, contract_no: FromPath[str], data: JSONBody[AmendmentIn], request: Request
        ) -> ContractOut:
            async with rt.sessions.begin() as s:
                return contract_out(
                    await services.amend(s, contract_no, data, request.user, utcnow())
                )

        @get(
            "/{contract_no:str}/history",
            guards=[requires(*READERS)],
            summary="Audit trail of a contract: who, when, what",
        )
        async def history(
            self, contract_no: FromPath[str], limit: Limit = 100, offset: Offset = 0
        ) -> Page[AuditOut]:
            async with rt.sessions() as s:
                await services.list_versions(s, contract_no)
                rows, total = await services.list_audit(
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

    class OrderController(Controller):
        path = "/orders"
        tags = ["orders, delivery, installation"]

        @post("/", guards=[requires(*SALES)], summary="Enter an order from a signed contract")
        async def create(self, data: JSONBody[OrderIn], request: Request) -> OrderOut:
            async with rt.sessions.begin() as s:
                return order_out(
                    await fulfilment.create_order(s, data, request.user, utcnow(), office)
                )

        @get("/", guards=[requires(*ORDER_READERS)], summary="List orders")
        async def list_(
            self,
            contract_no: FromQuery[str | None] = None,
            customer_id: FromQuery[str | None] = None,
            status: FromQuery[str | None] = None,
            entered_from: Since = None,
            entered_to: Until = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[OrderOut]:
            async with rt.sessions() as s:
                rows, total = await fulfilment.list_orders(
                    s,
                    contract_no=contract_no,
                    customer_id=customer_id,
                    status=status,
                    entered_from=entered_from,
                    entered_to=entered_to,
                    limit=limit,
                    offset=offset,
                )
                return Page[OrderOut](
                    items=[order_out(r) for r in rows], total=total, limit=limit, offset=offset
                )

        @get("/{order_no:str}", guards=[requires(*ORDER_READERS)], summary="One order")
        async def get_one(self, order_no: FromPath[str]) -> OrderOut:
            async with rt.sessions() as s:
                return order_out(await fulfilment.get_order(s, order_no))

        @post(
            "/{order_no:str}/shipping",
            guards=[requires(Role.DELIVERY)],
            status_code=200,
            summary="Fix the shipping time; DeliveryNotice goes out 24 h before",
        )
        async def shipping(
            self, order_no: FromPath[str], data: JSONBody[ShippingIn], request: Request
        ) -> OrderOut:
            async with rt.sessions.begin() as s:
                return order_out(
                    await fulfilment.schedule_shipping(s, order_no, data, request.user, utcnow())
                )

        @post(
            "/{order_no:str}/receipt",
            guards=[requires(Role.DELIVERY, *SALES)],
            status_code=200,
            summary="Record the customer's receipt (收货确认单) with objections",
        )
        async def receipt(
            self, order_no: FromPath[str], data: JSONBody[ReceiptIn], request: Request
        ) -> OrderOut:
            async with rt.sessions.begin() as s:
                return order_out(
                    await fulfilment.record_receipt(
                        s, order_no, data, request.user, utcnow(), office
                    )
                )

        @post(
            "/{order_no:str}/objections/{objection_no:int}/answer",
            guards=[requires(Role.DELIVERY, *SALES)],
            status_code=200,
            summary="Answer an objection (due within 2 h)",
        )
        async def answer(
            self,
            order_no: FromPath[str],
            objection_no: RowId,
            data: JSONBody[ObjectionAnswerIn],
            request: Request,
        ) -> OrderOut:
            async with rt.sessions.begin() as s:
                return order_out(
                    await fulfilment.answer_objection(
                        s, order_no, objection_no, data, request.user, utcnow()
                    )
                )

        @post(
            "/{order_no:str}/installation/booking",
            guards=[requires(Role.ENGINEER, Role.DELIVERY)],
            status_code=200,
            summary="Book installation (due within 2 working days of receipt)",
        )
        async def book(
            self, order_no: FromPath[str], data: JSONBody[BookingIn], request: Request
        ) -> OrderOut:
            async with rt.sessions.begin() as s:
                return order_out(
                    await fulfilment.book_installation(s, order_no, data, request.user, utcnow())
                )

        @post(
            "/{order_no:str}/installation/acceptance",
            guards=[requires(Role.ENGINEER, Role.DELIVERY)],
            status_code=200,
            summary="Record the installation acceptance form (安装验收单)",
        )
        async def accept(
            self, order_no: FromPath[str], data: JSONBody[AcceptanceIn], request: Request
        ) -> OrderOut:
            async with rt.sessions.begin() as s:
                return order_out(
                    await fulfilment.accept_installation(s, order_no, data, request.user, utcnow())
                )

        @post(
            "/{order_no:str}/trainings",
            guards=[requires(Role.ENGINEER, Role.DELIVERY)],
            summary="Record a training session with its sign-in sheet",
        )
        async def training(
            self, order_no: FromPath[str], data: JSONBody[TrainingIn], request: Request
        ) -> OrderOut:
            async with rt.sessions.begin() as s:
                return order_out(
                    await fulfilment.record_training(s, order_no, data, request.user, utcnow())
                )

    class AuditController(Controller):
        path = "/audit"
        tags = ["audit"]

        @get(
            "/",
            guards=[requires(*AUDITORS)],
            summary="Audit trail of every change (who, when, what)",
        )
        async def list_(
            self,
            entity: Annotated[
                str | None,
                QueryParameter(pattern="^(customer|lead|requirement|quote|contract|order)$"),
            ] = None,
            key: FromQuery[str | None] = None,
            actor: FromQuery[str | None] = None,
            since: Since = None,
            until: Until = None,
            limit: Limit = 100,
            offset: Offset = 0,
        ) -> Page[AuditOut]:
            async with rt.sessions() as s:
                rows, total = await services.list_audit(
                    s,
                    entity=entity,
                    key=key,
                    actor=actor,
                    since=since,
                    until=until,
                    limit=limit,
                    offset=offset,
                )
                return Page[AuditOut](
                    items=[AuditOut.model_validate(r) for r in rows],
                    total=total,
                    limit=limit,
                    offset=offset,
                )

    return [
        CustomerController,
        LeadController,
        RequirementController,
        QuoteController,
        ContractController,
        OrderController,
        AuditController,
    ]
