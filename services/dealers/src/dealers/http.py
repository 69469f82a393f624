"""HTTP API of the dealers service: decode, call one use case, return. Dealer isolation lives in services."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.types import ControllerRouterHandler

from aftersales_shared.auth import Role, dealer_scope, requires
from aftersales_shared.db import utcnow
from aftersales_shared.exports import csv_response
from aftersales_shared.http import (
    FromPath,
    FromQuery,
    JSONBody,
    Limit,
    Offset,
    QueryParameter,
    RowId,
)
from aftersales_shared.service import Runtime

from .schemas import (
    ArrangeIn,
    AuditOut,
    CardIn,
    CardOut,
    CompleteIn,
    DealerIn,
    DealerOut,
    DealerPatchIn,
    GradeChangeOut,
    GradeDecisionIn,
    GradeReviewIn,
    GradeReviewOut,
    GradeSetIn,
    InspectionIn,
    LineAnswerIn,
    MeasuresOut,
    NoticeIn,
    NoticeOut,
    OverrideIn,
    Page,
    PlanIn,
    PlanOut,
    RepairIn,
    RepairOut,
    SeasonIn,
    SeasonOut,
    ShipmentIn,
    ShipmentOut,
    StockEntryOut,
    TruckVisitIn,
    UnitConflictDecisionIn,
    UnitConflictOut,
    UnitIn,
    UnitOut,
)
from .settings import DealersSettings
from .usecases import audit as uc_audit
from .usecases import cards as uc_cards
from .usecases import common as uc_common
from .usecases import conflicts as uc_conflicts
from .usecases import dealers as uc_dealers
from .usecases import grades as uc_grades
from .usecases import inspection as uc_inspection
from .usecases import repairs as uc_repairs
from .usecases import returns as uc_returns
from .usecases import settlement as uc_settlement
from .usecases import stocking as uc_stocking
from .usecases import units as uc_units

R = Role
READ = (
    R.TECHNICAL,
    R.FINANCE,
    R.MANAGER,
    R.DEALER,
)  # dealer users are confined to their own dealer
DEALER_WORK = (R.DEALER, R.MANAGER)
WindowDays = Annotated[
    int | None, QueryParameter(ge=7, le=730, description="measurement window in days")
]


def _page(out: Any, rows: Sequence[Any], total: int, limit: int, offset: int) -> Any:
    return Page[out](
        items=[out.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def _csv(name: str, header: list[str], rows: Iterable[list[Any]]) -> Response[str]:
    return csv_response(name, header, rows)


def controllers(rt: Runtime) -> list[ControllerRouterHandler]:
    cfg: DealersSettings = rt.settings  # type: ignore[assignment]

    def ctx(request: Request[Any, Any, Any]) -> uc_common.Ctx:
        return uc_common.Ctx(request.user, utcnow(), cfg)

    def scope(request: Request[Any, Any, Any]) -> str | None:
        return dealer_scope(request.user)

    class Dealers(Controller):
        path = "/dealers"
        tags = ["dealers"]

        @post(
            "/",
            guards=[requires(R.MANAGER)],
            summary="Register a dealer and its regional agency agreement",
        )
        async def create(self, data: JSONBody[DealerIn], request: Request) -> DealerOut:
            async with rt.sessions.begin() as s:
                return DealerOut.model_validate(
                    await uc_dealers.create_dealer(s, data, ctx(request))
                )

        @get("/", guards=[requires(*READ)], summary="Dealers (a dealer user sees only itself)")
        async def list_(
            self,
            request: Request,
            region: FromQuery[str | None] = None,
            grade: Annotated[str | None, QueryParameter(pattern="^[ABCD]$")] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[DealerOut]:
            async with rt.sessions() as s:
                rows, total = await uc_dealers.list_dealers(
                    s, scope(request), region=region, grade=grade, limit=limit, offset=offset
                )
                return _page(DealerOut, rows, total, limit, offset)

        @get("/{dealer_id:str}", guards=[requires(*READ)], summary="One dealer")
        async def get_one(self, dealer_id: FromPath[str], request: Request) -> DealerOut:
            async with rt.sessions() as s:
                return DealerOut.model_validate(
                    await uc_dealers.get_dealer(s, dealer_id, scope(request))
                )

        @patch(
            "/{dealer_id:str}",
            guards=[requires(R.MANAGER)],
            summary="Change contacts, term, calendar, return mode",
        )
        async def update(
            self, dealer_id: FromPath[str], data: JSONBody[DealerPatchIn], request: Request
        ) -> DealerOut:
            async with rt.sessions.begin() as s:
                return DealerOut.model_validate(
                    await uc_dealers.update_dealer(s, dealer_id, data, ctx(request))
                )

        @get("/{dealer_id:str}/grade-history", guards=[requires(*READ)], summary="Grade history")
        async def history(self, dealer_id: FromPath[str], request: Request) -> list[GradeChangeOut]:
            async with rt.sessions() as s:
                rows = await uc_grades.grade_history(s, dealer_id, scope(request))
                return [GradeChangeOut.model_validate(r) for r in rows]

        @post(
            "/{dealer_id:str}/grade",
            guards=[requires(R.MANAGER)],
            status_code=200,
            summary="Set a grade with a reason",
        )
        async def set_grade(
            self, dealer_id: FromPath[str], data: JSONBody[GradeSetIn], request: Request
        ) -> DealerOut:
            async with rt.sessions.begin() as s:
                return DealerOut.model_validate(
                    await uc_grades.set_grade(s, dealer_id, data, ctx(request))
                )

        @get(
            "/{dealer_id:str}/measures",
            guards=[requires(*READ)],
            summary="Measured service and demotion rules broken",
        )
        async def measures(
            self, dealer_id: FromPath[str], request: Request, window_days: WindowDays = None
        ) -> MeasuresOut:
            async with rt.sessions() as s:
                return MeasuresOut.model_validate(
                    await uc_grades.service_measures(s, dealer_id, ctx(request), window_days)
                )

        @post(
            "/{dealer_id:str}/grade-reviews",
            guards=[requires(R.MANAGER)],
            summary="Propose a demotion from measured service",
        )
        async def propose(
            self, dealer_id: FromPath[str], data: JSONBody[GradeReviewIn], request: Request
        ) -> GradeReviewOut:
            async with rt.sessions.begin() as s:
                row = await uc_grades.propose_demotion(s, dealer_id, data.window_days, ctx(request))
                return GradeReviewOut.model_validate(row)

        @post(
            "/{dealer_id:str}/truck-visits",
            guards=[requires(R.MANAGER, R.DELIVERY)],
            summary="A delivery truck calls (old parts may ride back)",
        )
        async def add_truck(
            self, dealer_id: FromPath[str], data: JSONBody[TruckVisitIn], request: Request
        ) -> dict[str, Any]:
            async with rt.sessions.begin() as s:
                row = await uc_dealers.add_truck_visit(s, dealer_id, data.visit_date, ctx(request))
                return {
                    "id": row.id,
                    "dealer_id": row.dealer_id,
                    "visit_date": row.visit_date.isoformat(),
                }

        @get(
            "/{dealer_id:str}/truck-visits",
            guards=[requires(*READ, R.DELIVERY)],
            summary="Delivery truck visits",
        )
        async def trucks(self, dealer_id: FromPath[str], request: Request) -> list[dict[str, Any]]:
            async with rt.sessions() as s:
                rows = await uc_dealers.list_truck_visits(s, dealer_id, scope(request))
                return [
                    {"id": r.id, "dealer_id": r.dealer_id, "visit_date": r.visit_date.isoformat()}
                    for r in rows
                ]

    class Reviews(Controller):
        path = "/grade-reviews"
        tags = ["dealers"]

        @get("/", guards=[requires(*READ)], summary="Demotion proposals")
        async def list_(
            self,
            request: Request,
            dealer_id: FromQuery[str | None] = None,
            status: Annotated[
                str | None, QueryParameter(pattern="^(proposed|confirmed|rejected)$")
            ] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[GradeReviewOut]:
            async with rt.sessions() as s:
                rows, total = await uc_grades.list_reviews(
                    s,
                    scope(request),
                    dealer_id=dealer_id,
                    status=status,
                    limit=limit,
                    offset=offset,
                )
                return _page(GradeReviewOut, rows, total, limit, offset)

        @post(
            "/{review_id:str}/decision",
            guards=[requires(R.MANAGER)],
            status_code=200,
            summary="Manager confirms or rejects a demotion",
        )
        async def decide(
            self, review_id: FromPath[str], data: JSONBody[GradeDecisionIn], request: Request
        ) -> GradeReviewOut:
            async with rt.sessions.begin() as s:
                return GradeReviewOut.model_validate(
                    await uc_grades.decide_review(s, review_id, data, ctx(request))
                )

    class Units(Controller):
        path = "/units"
        tags = ["warranty cards"]

        @post(
            "/",
            guards=[requires(R.DEALER, R.MANAGER, R.SALES)],
            summary="Register a unit sold through a dealer",
        )
        async def create(self, data: JSONBody[UnitIn], request: Request) -> UnitOut:
            async with rt.sessions.begin() as s:
                return UnitOut.model_validate(await uc_units.register_unit(s, data, ctx(request)))

        @get(
            "/",
            guards=[requires(*READ)],
            summary="Units sold through dealers and their card status",
        )
        async def list_(
            self,
            request: Request,
            dealer_id: FromQuery[str | None] = None,
            card_status: Annotated[
                str | None, QueryParameter(pattern="^(pending|registered|overdue)$")
            ] = None,
            serial_no: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[UnitOut]:
            async with rt.sessions() as s:
                rows, total = await uc_units.list_units(
                    s,
                    scope(request),
                    dealer_id=dealer_id,
                    card_status=card_status,
                    serial_no=serial_no,
                    limit=limit,
                    offset=offset,
                )
                return _page(UnitOut, rows, total, limit, offset)

        @get("/{serial_no:str}", guards=[requires(*READ)], summary="One sold unit")
        async def get_one(self, serial_no: FromPath[str], request: Request) -> UnitOut:
            async with rt.sessions() as s:
                return UnitOut.model_validate(await uc_units.get_unit(s, serial_no, scope(request)))

    class UnitConflicts(Controller):
        path = "/unit-conflicts"
        tags = ["warranty cards"]
        guards = [requires(R.MANAGER)]

        @get(
            "/", summary="Serials a dealer registered that a contract sells through another dealer"
        )
        async def list_(
            self,
            status: Annotated[str | None, QueryParameter(pattern="^(open|resolved)$")] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[UnitConflictOut]:
            async with rt.sessions() as s:
                rows, total = await uc_conflicts.list_conflicts(s, status, limit, offset)
                return _page(UnitConflictOut, rows, total, limit, offset)

        @post(
            "/{conflict_id:str}/resolve",
            status_code=200,
            summary="A manager closes an ownership conflict",
        )
        async def resolve(
            self,
            conflict_id: FromPath[str],
            data: JSONBody[UnitConflictDecisionIn],
            request: Request,
        ) -> UnitConflictOut:
            async with rt.sessions.begin() as s:
                row = await uc_conflicts.resolve_conflict(
                    s, conflict_id, data.resolution, data.note, ctx(request)
                )
                return UnitConflictOut.model_validate(row)

    class Cards(Controller):
        path = "/cards"
        tags = ["warranty cards"]

        @post(
            "/",
            guards=[requires(*DEALER_WORK)],
            summary="Register a warranty card (三包回执卡); publishes WarrantyCardRegistered",
        )
        async def create(self, data: JSONBody[CardIn], request: Request) -> CardOut:
            async with rt.sessions.begin() as s:
                return CardOut.model_validate(await uc_cards.register_card(s, data, ctx(request)))

        @get("/", guards=[requires(*READ)], summary="Warranty cards")
        async def list_(
            self,
            request: Request,
            dealer_id: FromQuery[str | None] = None,
            recognised: FromQuery[bool | None] = None,
            serial_no: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[CardOut]:
            async with rt.sessions() as s:
                rows, total = await uc_cards.list_cards(
                    s,
                    scope(request),
                    dealer_id=dealer_id,
                    recognised=recognised,
                    serial_no=serial_no,
                    limit=limit,
                    offset=offset,
                )
                return _page(CardOut, rows, total, limit, offset)

        @get("/export.csv", guards=[requires(*READ)], summary="Warranty cards as CSV")
        async def export(
            self, request: Request, dealer_id: FromQuery[str | None] = None
        ) -> Response[str]:
            async with rt.sessions() as s:
                rows, _ = await uc_cards.list_cards(
                    s,
                    scope(request),
                    dealer_id=dealer_id,
                    recognised=None,
                    serial_no=None,
                    limit=100_000,
                    offset=0,
                )
            return _csv(
                "warranty-cards.csv",
                [
                    "dealer_id",
                    "serial_no",
                    "model",
                    "sale_date",
                    "customer_name",
                    "registered_at",
                    "day",
                    "on_time",
                    "warranty_recognised",
                    "reason",
                    "override_by",
                    "override_note",
                ],
                (
                    [
                        r.dealer_id,
                        r.serial_no,
                        r.model,
                        r.sale_date,
                        r.customer_name,
                        r.registered_at.isoformat(),
                        r.day,
                        r.on_time,
                        r.warranty_recognised,
                        r.reason or "",
                        r.override_by or "",
                        r.override_note or "",
                    ]
                    for r in rows
                ),
            )

        @get("/{card_id:str}", guards=[requires(*READ)], summary="One warranty card")
        async def get_one(self, card_id: FromPath[str], request: Request) -> CardOut:
            async with rt.sessions() as s:
                return CardOut.model_validate(await uc_cards.get_card(s, card_id, scope(request)))

        @post(
            "/{card_id:str}/override",
            guards=[requires(R.MANAGER)],
            status_code=200,
            summary="Manager recognises a late card, with a note",
        )
        async def override(
            self, card_id: FromPath[str], data: JSONBody[OverrideIn], request: Request
        ) -> CardOut:
            async with rt.sessions.begin() as s:
                return CardOut.model_validate(
                    await uc_cards.override_card(s, card_id, data, ctx(request))
                )

    class Repairs(Controller):
        path = "/repair-records"
        tags = ["warranty repairs"]

        @post(
            "/",
            guards=[requires(*DEALER_WORK)],
            summary="Record a service request (三包维修记录 or paid service); starts the 2-hour clock",
        )
        async def create(self, data: JSONBody[RepairIn], request: Request) -> RepairOut:
            async with rt.sessions.begin() as s:
                return RepairOut.model_validate(await uc_repairs.open_repair(s, data, ctx(request)))

        @get("/", guards=[requires(*READ)], summary="Repair records")
        async def list_(
            self,
            request: Request,
            dealer_id: FromQuery[str | None] = None,
            kind: Annotated[str | None, QueryParameter(pattern="^(warranty|paid)$")] = None,
            status: Annotated[
                str | None, QueryParameter(pattern="^(requested|arranged|completed)$")
            ] = None,
            claim_status: FromQuery[str | None] = None,
            serial_no: FromQuery[str | None] = None,
            ticket_no: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[RepairOut]:
            async with rt.sessions() as s:
                rows, total = await uc_repairs.list_repairs(
                    s,
                    scope(request),
                    dealer_id=dealer_id,
                    kind=kind,
                    status=status,
                    claim_status=claim_status,
                    serial_no=serial_no,
                    ticket_no=ticket_no,
                    limit=limit,
                    offset=offset,
                )
                return _page(RepairOut, rows, total, limit, offset)

        @get("/export.csv", guards=[requires(*READ)], summary="Repair records as CSV")
        async def export(
            self, request: Request, dealer_id: FromQuery[str | None] = None
        ) -> Response[str]:
            async with rt.sessions() as s:
                rows, _ = await uc_repairs.list_repairs(
                    s,
                    scope(request),
                    dealer_id=dealer_id,
                    kind=None,
                    status=None,
                    claim_status=None,
                    serial_no=None,
                    ticket_no=None,
                    limit=100_000,
                    offset=0,
                )
            return _csv(
                "repair-records.csv",
                [
                    "record_no",
                    "dealer_id",
                    "serial_no",
                    "kind",
                    "ticket_no",
                    "status",
                    "requested_at",
                    "arrange_due",
                    "arranged_late",
                    "confirmed_by",
                    "parts_cost",
                    "labour_fee",
                    "travel_fee",
                    "claim_amount",
                    "customer_charge",
                    "claim_status",
                    "claim_reason",
                ],
                (
                    [
                        r.record_no,
                        r.dealer_id,
                        r.serial_no,
                        r.kind,
                        r.ticket_no or "",
                        r.status,
                        r.requested_at.isoformat(),
                        r.arrange_due.isoformat(),
                        r.arranged_late,
                        r.confirmed_by or "",
                        r.parts_cost,
                        r.labour_fee,
                        r.travel_fee,
                        r.claim_amount,
                        r.customer_charge,
                        r.claim_status,
                        r.claim_reason or "",
                    ]
                    for r in rows
                ),
            )

        @get("/{record_id:str}", guards=[requires(*READ)], summary="One repair record")
        async def get_one(self, record_id: FromPath[str], request: Request) -> RepairOut:
            async with rt.sessions() as s:
                return RepairOut.model_validate(
                    await uc_repairs.get_repair(s, record_id, scope(request))
                )

        @post(
            "/{record_id:str}/arrange",
            guards=[requires(*DEALER_WORK)],
            status_code=200,
            summary="Service arranged: engineer, appointment, user told",
        )
        async def arrange(
            self, record_id: FromPath[str], data: JSONBody[ArrangeIn], request: Request
        ) -> RepairOut:
            async with rt.sessions.begin() as s:
                return RepairOut.model_validate(
                    await uc_repairs.arrange_repair(s, record_id, data, ctx(request))
                )

        @post(
            "/{record_id:str}/complete",
            guards=[requires(*DEALER_WORK)],
            status_code=200,
            summary="Repair done: parts, fees, the user's confirmation",
        )
        async def complete(
            self, record_id: FromPath[str], data: JSONBody[CompleteIn], request: Request
        ) -> RepairOut:
            async with rt.sessions.begin() as s:
                return RepairOut.model_validate(
                    await uc_repairs.complete_repair(s, record_id, data, ctx(request))
                )

    def shipment_out(row: Any, parts: int) -> ShipmentOut:
        return ShipmentOut.model_validate(row).model_copy(update={"parts": parts})

    class Shipments(Controller):
        path = "/part-shipments"
        tags = ["old-part returns"]

        @post(
            "/",
            guards=[requires(*DEALER_WORK)],
            summary="Ship old parts back, listing the repair records covered",
        )
        async def create(self, data: JSONBody[ShipmentIn], request: Request) -> ShipmentOut:
            async with rt.sessions.begin() as s:
                return shipment_out(*await uc_returns.ship_parts(s, data, ctx(request)))

        @get("/", guards=[requires(*READ)], summary="Old-part shipments")
        async def list_(
            self,
            request: Request,
            dealer_id: FromQuery[str | None] = None,
            received: FromQuery[bool | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[ShipmentOut]:
            async with rt.sessions() as s:
                rows, total = await uc_returns.list_shipments(
                    s,
                    scope(request),
                    dealer_id=dealer_id,
                    received=received,
                    limit=limit,
                    offset=offset,
                )
                return _page(ShipmentOut, rows, total, limit, offset)

        @get("/{shipment_id:str}", guards=[requires(*READ)], summary="One shipment")
        async def get_one(self, shipment_id: FromPath[str], request: Request) -> ShipmentOut:
            async with rt.sessions() as s:
                row = await uc_returns.get_shipment(s, shipment_id, scope(request))
                return shipment_out(row, await uc_returns.shipment_parts(s, row.id))

        @post(
            "/{shipment_id:str}/receive",
            guards=[requires(R.TECHNICAL)],
            status_code=200,
            summary="Technical department receives the parts",
        )
        async def receive(self, shipment_id: FromPath[str], request: Request) -> ShipmentOut:
            async with rt.sessions.begin() as s:
                return shipment_out(
                    *await uc_returns.receive_shipment(s, shipment_id, ctx(request))
                )

    class Inspections(Controller):
        path = "/parts"
        tags = ["inspection"]

        @post(
            "/{part_id:int}/inspection",
            guards=[requires(R.TECHNICAL)],
            status_code=200,
            summary="Verdict on a returned part; decides the claim",
        )
        async def inspect(
            self, part_id: RowId, data: JSONBody[InspectionIn], request: Request
        ) -> RepairOut:
            async with rt.sessions.begin() as s:
                return RepairOut.model_validate(
                    await uc_inspection.inspect_part(s, part_id, data, ctx(request))
                )

    class Stock(Controller):
        path = "/stock-entries"
        tags = ["inspection"]

        @get(
            "/",
            guards=[requires(*READ)],
            summary="Inspected parts in the reusable and scrap stores",
        )
        async def list_(
            self,
            request: Request,
            store: Annotated[str | None, QueryParameter(pattern="^(reusable|scrap)$")] = None,
            dealer_id: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[StockEntryOut]:
            async with rt.sessions() as s:
                rows, total = await uc_inspection.list_stock(
                    s, scope(request), store=store, dealer_id=dealer_id, limit=limit, offset=offset
                )
                return _page(StockEntryOut, rows, total, limit, offset)

    class Notices(Controller):
        path = "/deduction-notices"
        tags = ["reconciliation"]

        @post(
            "/",
            guards=[requires(R.FINANCE)],
            summary="Issue a deduction notice (三包费用核销通知) for a dealer and period",
        )
        async def create(self, data: JSONBody[NoticeIn], request: Request) -> NoticeOut:
            async with rt.sessions.begin() as s:
                return NoticeOut.model_validate(
                    await uc_settlement.issue_notice(s, data, ctx(request))
                )

        @get("/", guards=[requires(*READ)], summary="Deduction notices")
        async def list_(
            self,
            request: Request,
            dealer_id: FromQuery[str | None] = None,
            status: Annotated[
                str | None, QueryParameter(pattern="^(issued|confirmed|disputed)$")
            ] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[NoticeOut]:
            async with rt.sessions() as s:
                rows, total = await uc_settlement.list_notices(
                    s,
                    scope(request),
                    dealer_id=dealer_id,
                    status=status,
                    limit=limit,
                    offset=offset,
                )
                return _page(NoticeOut, rows, total, limit, offset)

        @get(
            "/{notice_id:str}",
            guards=[requires(*READ)],
            summary="One deduction notice with its lines",
        )
        async def get_one(self, notice_id: FromPath[str], request: Request) -> NoticeOut:
            async with rt.sessions() as s:
                return NoticeOut.model_validate(
                    await uc_settlement.get_notice(s, notice_id, scope(request))
                )

        @get(
            "/{notice_id:str}/export.csv",
            guards=[requires(*READ)],
            summary="A notice's lines as CSV",
        )
        async def export(self, notice_id: FromPath[str], request: Request) -> Response[str]:
            async with rt.sessions() as s:
                n = await uc_settlement.get_notice(s, notice_id, scope(request))
            return _csv(
                f"{n.notice_no}.csv",
                ["notice_no", "record_no", "serial_no", "amount", "decision", "dispute_reason"],
                [
                    *(
                        [
                            n.notice_no,
                            ln.record_no,
                            ln.serial_no,
                            ln.amount,
                            ln.decision,
                            ln.dispute_reason or "",
                        ]
                        for ln in n.lines
                    ),
                    [n.notice_no, "TOTAL", "", n.total, n.status, ""],
                ],
            )

        @post(
            "/{notice_id:str}/lines/{line_id:int}/answer",
            guards=[requires(R.DEALER)],
            status_code=200,
            summary="Dealer confirms or disputes one line",
        )
        async def answer(
            self,
            notice_id: FromPath[str],
            line_id: RowId,
            data: JSONBody[LineAnswerIn],
            request: Request,
        ) -> NoticeOut:
            async with rt.sessions.begin() as s:
                return NoticeOut.model_validate(
                    await uc_settlement.answer_line(s, notice_id, line_id, data, ctx(request))
                )

        @post(
            "/{notice_id:str}/confirm",
            guards=[requires(R.DEALER)],
            status_code=200,
            summary="Dealer confirms the notice; publishes DeductionIssued",
        )
        async def confirm(self, notice_id: FromPath[str], request: Request) -> NoticeOut:
            async with rt.sessions.begin() as s:
                return NoticeOut.model_validate(
                    await uc_settlement.confirm_notice(s, notice_id, ctx(request))
                )

    class Plans(Controller):
        path = "/"
        tags = ["stocking plans"]

        @post(
            "/seasons",
            guards=[requires(R.MANAGER)],
            summary="A selling season; plans are due 30 days before it",
        )
        async def create_season(self, data: JSONBody[SeasonIn], request: Request) -> SeasonOut:
            async with rt.sessions.begin() as s:
                return SeasonOut.model_validate(
                    await uc_stocking.create_season(s, data, ctx(request))
                )

        @get("/seasons", guards=[requires(*READ)], summary="Selling seasons")
        async def seasons(self, limit: Limit = 50, offset: Offset = 0) -> Page[SeasonOut]:
            async with rt.sessions() as s:
                rows, total = await uc_stocking.list_seasons(s, limit, offset)
                return _page(SeasonOut, rows, total, limit, offset)

        @post(
            "/stocking-plans",
            guards=[requires(*DEALER_WORK)],
            summary="Submit a parts stocking plan",
        )
        async def submit(self, data: JSONBody[PlanIn], request: Request) -> PlanOut:
            async with rt.sessions.begin() as s:
                return PlanOut.model_validate(await uc_stocking.submit_plan(s, data, ctx(request)))

        @get("/stocking-plans", guards=[requires(*READ)], summary="Stocking plans")
        async def plans(
            self,
            request: Request,
            dealer_id: FromQuery[str | None] = None,
            season_code: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[PlanOut]:
            async with rt.sessions() as s:
                rows, total = await uc_stocking.list_plans(
                    s,
                    scope(request),
                    dealer_id=dealer_id,
                    season_code=season_code,
                    limit=limit,
                    offset=offset,
                )
                return _page(PlanOut, rows, total, limit, offset)

        @get("/stocking-plans/{plan_id:str}", guards=[requires(*READ)], summary="One stocking plan")
        async def plan(self, plan_id: FromPath[str], request: Request) -> PlanOut:
            async with rt.sessions() as s:
                return PlanOut.model_validate(
                    await uc_stocking.get_plan(s, plan_id, scope(request))
                )

        @get("/audit", guards=[requires(*READ)], summary="Audit trail: who changed what")
        async def audit(
            self,
            request: Request,
            entity: FromQuery[str | None] = None,
            entity_id: FromQuery[str | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[AuditOut]:
            async with rt.sessions() as s:
                rows, total = await uc_audit.list_audit(
                    s,
                    scope(request),
                    entity=entity,
                    entity_id=entity_id,
                    limit=limit,
                    offset=offset,
                )
                return _page(AuditOut, rows, total, limit, offset)

    return [
        Dealers,
        Reviews,
        Units,
        UnitConflicts,
        Cards,
        Repairs,
        Shipments,
        Inspections,
        Stock,
        Notices,
        Plans,
    ]
