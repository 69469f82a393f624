"""The fault catalogue (symptoms and failed parts per product line, the fixed cause categories),
the classifications of completed tickets, the quality audit trail."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from aftersales_shared.auth import requires
from aftersales_shared.db import utcnow
from aftersales_shared.events import CauseCategory
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset, Since, Until
from aftersales_shared.service import Runtime

from ..domain import CAUSE_LABELS, CatalogueKind
from ..models import FaultCatalogueRow
from ..schemas import (
    AuditEntryOut,
    AuditPage,
    CatalogueEntryIn,
    CatalogueEntryOut,
    CatalogueEntryPage,
    CatalogueEntryPatch,
    CauseCategoryOut,
    FaultOut,
    FaultPage,
)
from ..usecases import catalogue, faults, quality_audit
from .roles import QUALITY_EDITORS, READERS, STAFF


class Listed(StrEnum):
    """The catalogue's two lists, as their paths name them."""

    SYMPTOMS = "symptoms"
    PARTS = "parts"


KINDS = {Listed.SYMPTOMS: CatalogueKind.SYMPTOM, Listed.PARTS: CatalogueKind.PART}


def entry_out(row: FaultCatalogueRow) -> CatalogueEntryOut:
    return CatalogueEntryOut.model_validate(row, from_attributes=True)


def fault_out(c: faults.Classified) -> FaultOut:
    row, ticket = c.row, c.ticket
    category = CauseCategory(row.cause_category) if row.cause_category else None
    return FaultOut(
        ticket_no=ticket.ticket_no,
        request_type=ticket.request_type,
        product_model=ticket.product_model,
        product_line=row.product_line,
        completed_at=ticket.completed_at,
        symptom_code=row.symptom_code,
        symptom=c.symptom,
        cause_category=row.cause_category,
        cause_label=CAUSE_LABELS[category][0] if category else None,
        failed_part_code=row.failed_part_code,
        failed_part=c.failed_part,
        cause_detail=row.cause_detail,
        needs_analysis=row.needs_analysis,
        analysis_due_at=row.analysis_due_at,
        analysis_overdue_at=row.analysis_overdue_at,
        calendar_id=ticket.calendar_id,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        classified_by=row.classified_by,
        classified_at=row.classified_at,
        classified_via=row.classified_via,
    )


class CatalogueController(Controller):
    path = "/fault-catalogue"
    tags = ["fault causes"]

    @get(
        "/cause-categories",
        guards=[requires(*READERS)],
        summary="The fixed cause categories (原因类别)",
    )
    async def categories(self) -> list[CauseCategoryOut]:
        return [
            CauseCategoryOut(code=c, label_zh=zh, label_en=en)
            for c, zh, en in catalogue.cause_categories()
        ]

    @get(
        "/{kind:str}",
        guards=[requires(*READERS)],
        summary="Symptoms or failed parts per product line (model=…: the ones a ticket may use)",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        kind: FromPath[Listed],
        product_line: Annotated[str | None, QueryParameter(max_length=40)] = None,
        model: Annotated[
            str | None,
            QueryParameter(max_length=100, description="its product line's entries and generic"),
        ] = None,
        active: FromQuery[bool | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CatalogueEntryPage:
        filters = catalogue.EntryFilters(product_line, model, active, q)
        async with rt.sessions() as session:
            rows, total = await catalogue.list_entries(session, KINDS[kind], filters, limit, offset)
            return CatalogueEntryPage(
                items=[entry_out(r) for r in rows], total=total, limit=limit, offset=offset
            )

    @post(
        "/{kind:str}",
        guards=[requires(*QUALITY_EDITORS)],
        summary="Add a symptom or failed part (technical department, supervisors)",
    )
    async def create(
        self,
        rt: NamedDependency[Runtime],
        kind: FromPath[Listed],
        data: JSONBody[CatalogueEntryIn],
        request: Request,
    ) -> CatalogueEntryOut:
        entry = catalogue.NewEntry(**data.model_dump())
        async with rt.sessions.begin() as session:
            row = await catalogue.create_entry(
                session, KINDS[kind], entry, request.user.subject, utcnow()
            )
            return entry_out(row)

    @get("/{kind:str}/{code:str}", guards=[requires(*READERS)], summary="One catalogue entry")
    async def get_one(
        self, rt: NamedDependency[Runtime], kind: FromPath[Listed], code: FromPath[str]
    ) -> CatalogueEntryOut:
        async with rt.sessions() as session:
            return entry_out(await catalogue.get_entry(session, KINDS[kind], code))

    @patch(
        "/{kind:str}/{code:str}",
        guards=[requires(*QUALITY_EDITORS)],
        summary="Rename, describe, deactivate or reactivate an entry (never deleted)",
    )
    async def change(
        self,
        rt: NamedDependency[Runtime],
        kind: FromPath[Listed],
        code: FromPath[str],
        data: JSONBody[CatalogueEntryPatch],
        request: Request,
    ) -> CatalogueEntryOut:
        given = data.model_dump(exclude_unset=True)
        changes = catalogue.EntryChanges(
            name=given.get("name"),
            description=given.get("description"),
            description_cleared="description" in given and given["description"] is None,
            active=given.get("active"),
        )
        async with rt.sessions.begin() as session:
            row = await catalogue.change_entry(
                session, KINDS[kind], code, changes, request.user.subject, utcnow()
            )
            return entry_out(row)


class FaultController(Controller):
    path = "/fault-classifications"
    tags = ["fault causes"]

    @get(
        "/",
        guards=[requires(*STAFF)],
        summary="Fault classifications of completed tickets (needs_analysis=true: to analyse)",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        needs_analysis: FromQuery[bool | None] = None,
        overdue: FromQuery[bool | None] = None,
        cause_category: FromQuery[CauseCategory | None] = None,
        product_line: Annotated[str | None, QueryParameter(max_length=40)] = None,
        symptom: Annotated[str | None, QueryParameter(max_length=40)] = None,
        failed_part: Annotated[str | None, QueryParameter(max_length=40)] = None,
        classified_from: Since = None,
        classified_to: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> FaultPage:
        filters = faults.FaultFilters(
            needs_analysis=needs_analysis,
            overdue=overdue,
            cause_category=cause_category.value if cause_category else None,
            product_line=product_line,
            symptom=symptom,
            failed_part=failed_part,
            classified_from=classified_from,
            classified_to=classified_to,
        )
        async with rt.sessions() as session:
            found, total = await faults.list_faults(session, filters, limit, offset)
            return FaultPage(
                items=[fault_out(c) for c in found], total=total, limit=limit, offset=offset
            )


class QualityAuditController(Controller):
    path = "/quality-audit"
    tags = ["fault causes"]

    @get(
        "/",
        guards=[requires(*STAFF)],
        summary="Who changed the fault catalogue, a corrective action or the engineer roster, "
        "newest first",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        entity: Annotated[
            str | None, QueryParameter(pattern="^(symptom|part|corrective_action|engineer)$")
        ] = None,
        entity_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AuditPage:
        async with rt.sessions() as session:
            rows, total = await quality_audit.list_audit(session, entity, entity_id, limit, offset)
            return AuditPage(
                items=[AuditEntryOut.model_validate(r, from_attributes=True) for r in rows],
                total=total,
                limit=limit,
                offset=offset,
            )
