"""A completed ticket's fault classification (问题归因): recorded at completion — symptom, cause
category, failed part — or left to the technical department's analysis (待分析) with a deadline in
working days on the ticket's calendar. Filling it in (or correcting it) later publishes
FaultClassified; a missed deadline publishes CauseAnalysisOverdue once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.events import (
    CauseAnalysisOverdueV1,
    CauseCategory,
    Envelope,
    FaultClassifiedV1,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule

from ..calendar_cache import calendar_for
from ..domain import (
    ANALYSIS_WORKING_DAYS,
    CAUSE_LABELS,
    CatalogueKind,
    FaultReport,
    Status,
    check_fault_report,
    product_line,
)
from ..models import TicketFaultRow, TicketRow
from . import catalogue
from .access import load
from .progress import log_entry

ANALYSIS_DUE = "cause_analysis_due"


@dataclass(frozen=True)
class FaultAnalysis:
    """The technical department's finding: the cause (and the symptom if none was recorded)."""

    cause_category: CauseCategory
    symptom: str | None = None
    failed_part: str | None = None
    cause_detail: str | None = None


@dataclass(frozen=True)
class Classified:
    """A ticket's classification with the catalogue's names, as answers and events carry it."""

    row: TicketFaultRow
    ticket: TicketRow
    symptom: str | None
    failed_part: str | None


@dataclass(frozen=True)
class FaultFilters:
    needs_analysis: bool | None = None
    overdue: bool | None = None
    cause_category: str | None = None
    product_line: str | None = None
    symptom: str | None = None
    failed_part: str | None = None
    classified_from: datetime | None = None
    classified_to: datetime | None = None


def job_key(row: TicketFaultRow) -> str:
    """One analysis deadline per request for analysis (a re-completion may ask again)."""
    return f"{row.ticket_id}:{row.analysis_round}"


async def record_at_completion(
    session: AsyncSession,
    ticket: TicketRow,
    report: FaultReport | None,
    user: Principal,
    now: datetime,
) -> Classified | None:
    """Check and keep what the engineer says about the fault; a cause left to analysis gets its
    deadline (a pending one keeps the deadline it has)."""
    check_fault_report(ticket.request_type, report, ticket.ticket_no)
    if report is None:
        return None
    line = product_line(ticket.product_model)
    symptom = (
        await catalogue.usable(session, CatalogueKind.SYMPTOM, report.symptom, line)
        if report.symptom
        else None
    )
    part = (
        await catalogue.usable(session, CatalogueKind.PART, report.failed_part, line)
        if report.failed_part
        else None
    )
    row = await session.get(TicketFaultRow, ticket.id, with_for_update=True)
    if row is None:
        row = TicketFaultRow(ticket_id=ticket.id, needs_analysis=False, analysis_round=0)
        session.add(row)
    row.product_line = line
    row.symptom_code = symptom.code if symptom else None
    row.failed_part_code = part.code if part else None
    row.cause_detail = report.cause_detail
    row.recorded_by, row.recorded_at = user.subject, now
    if report.needs_analysis:
        await _ask_for_analysis(session, ticket, row, now)
        row.cause_category = row.classified_by = row.classified_at = row.classified_via = None
    else:
        if row.needs_analysis:
            await cancel(session, ANALYSIS_DUE, job_key(row))
        row.needs_analysis = False
        row.cause_category = report.cause_category.value if report.cause_category else None
        row.classified_by, row.classified_at, row.classified_via = user.subject, now, "completion"
    found = Classified(row, ticket, symptom.name if symptom else None, part.name if part else None)
    session.add(log_entry(ticket, user.subject, "fault", describe(found), now))
    return found


async def _ask_for_analysis(
    session: AsyncSession, ticket: TicketRow, row: TicketFaultRow, now: datetime
) -> None:
    if row.needs_analysis:
        return
    calendar = await calendar_for(session, ticket.calendar_id)
    row.needs_analysis = True
    row.analysis_round += 1
    row.analysis_due_at = calendar.add_working_days(now, ANALYSIS_WORKING_DAYS)
    row.analysis_overdue_at = None
    await schedule(session, ANALYSIS_DUE, job_key(row), row.analysis_due_at)


def describe(c: Classified) -> str:
    row = c.row
    cause = (
        "原因待技术部分析 (cause to be analysed)"
        if row.needs_analysis
        else f"原因类别：{CAUSE_LABELS[CauseCategory(row.cause_category)][0]}"
        if row.cause_category
        else "原因类别：无"
    )
    parts = [
        f"故障现象：{c.symptom} ({row.symptom_code})" if row.symptom_code else None,
        cause,
        f"故障部件：{c.failed_part} ({row.failed_part_code})" if row.failed_part_code else None,
        f"说明：{row.cause_detail}" if row.cause_detail else None,
    ]
    return "故障分类 — " + "；".join(p for p in parts if p)


async def analyse(
    session: AsyncSession, no: str, finding: FaultAnalysis, user: Principal, now: datetime
) -> Classified:
    """The technical department fills in a cause left to analysis (its deadline is cancelled), or
    corrects a recorded one; FaultClassified either way."""
    ticket = await load(session, no, user, lock=True)
    row = await session.get(TicketFaultRow, ticket.id, with_for_update=True)
    if ticket.status != Status.COMPLETED.value or row is None:
        raise Conflict(
            f"工单{ticket.ticket_no}尚未完成或未记录故障分类 (only a completed ticket with a "
            "recorded fault is analysed)"
        )
    symptom_code = finding.symptom or row.symptom_code
    if not symptom_code:
        raise DomainError(
            "缺少故障现象 (missing: symptom — none was recorded at completion)",
            code="fault_incomplete",
            missing=["symptom"],
        )
    line = row.product_line
    symptom = await _named(session, CatalogueKind.SYMPTOM, finding.symptom, row.symptom_code, line)
    part = await _named(
        session, CatalogueKind.PART, finding.failed_part, row.failed_part_code, line
    )
    after_analysis = row.needs_analysis
    previous = None if after_analysis or not row.cause_category else row.cause_category
    if after_analysis:
        await cancel(session, ANALYSIS_DUE, job_key(row))
    row.symptom_code = symptom[0]
    row.failed_part_code = part[0] if part else None
    row.cause_category = finding.cause_category.value
    if finding.cause_detail is not None:
        row.cause_detail = finding.cause_detail
    row.needs_analysis = False
    row.classified_by, row.classified_at = user.subject, now
    row.classified_via = "analysis" if after_analysis else "reclassification"
    found = Classified(row, ticket, symptom[1], part[1] if part else None)
    session.add(log_entry(ticket, user.subject, "fault", describe(found), now))
    await enqueue(
        session,
        Envelope(
            subject=ticket.ticket_no,
            data=_classified(found, after_analysis, previous),
        ),
    )
    await session.flush()
    return found


async def _named(
    session: AsyncSession,
    kind: CatalogueKind,
    given: str | None,
    kept: str | None,
    line: str | None,
) -> tuple[str, str] | None:
    """(code, name) of a newly given entry (checked as at completion) or of the one kept."""
    if given:
        row = await catalogue.usable(session, kind, given, line)
        return row.code, row.name
    if kept:
        return kept, (await catalogue.names(session, kind, {kept})).get(kept, kept)
    return None


def _classified(c: Classified, after_analysis: bool, previous: str | None) -> FaultClassifiedV1:
    row, ticket = c.row, c.ticket
    return FaultClassifiedV1(
        ticket_id=ticket.id,
        ticket_no=ticket.ticket_no,
        classified_at=row.classified_at,
        classified_by=row.classified_by,
        request_type=ticket.request_type,
        completed_at=ticket.completed_at,
        product_model=ticket.product_model,
        product_line=row.product_line,
        serial_no=ticket.serial_no,
        batch_no=ticket.batch_no,
        dealer_id=ticket.dealer_id,
        symptom_code=row.symptom_code,
        symptom=c.symptom or row.symptom_code,
        cause_category=CauseCategory(row.cause_category),
        failed_part_code=row.failed_part_code,
        failed_part=c.failed_part,
        cause_detail=row.cause_detail,
        after_analysis=after_analysis,
        analysis_overdue=after_analysis and row.analysis_overdue_at is not None,
        previous_cause_category=CauseCategory(previous) if previous else None,
    )


async def analysis_overdue(session: AsyncSession, key: str, now: datetime) -> None:
    """The analysis deadline passed with the cause still open: CauseAnalysisOverdue, once (the job
    fires once; the row says whether this request for analysis was already announced)."""
    ticket_id, _, analysis_round = key.rpartition(":")
    row = await session.get(TicketFaultRow, ticket_id, with_for_update=True)
    if (
        row is None
        or not row.needs_analysis
        or str(row.analysis_round) != analysis_round
        or row.analysis_overdue_at is not None
        or row.analysis_due_at is None
        or row.analysis_due_at > now
    ):
        return
    row.analysis_overdue_at = now
    ticket = await session.get(TicketRow, ticket_id)
    symptom = (
        await catalogue.names(session, CatalogueKind.SYMPTOM, {row.symptom_code})
        if row.symptom_code
        else {}
    )
    await enqueue(
        session,
        Envelope(
            subject=ticket.ticket_no,
            data=CauseAnalysisOverdueV1(
                ticket_id=ticket.id,
                ticket_no=ticket.ticket_no,
                request_type=ticket.request_type,
                completed_at=ticket.completed_at,
                due_at=row.analysis_due_at,
                overdue_at=now,
                product_model=ticket.product_model,
                product_line=row.product_line,
                serial_no=ticket.serial_no,
                dealer_id=ticket.dealer_id,
                engineer_id=ticket.assignee_id if ticket.assignee_kind == "engineer" else None,
                symptom_code=row.symptom_code,
                symptom=symptom.get(row.symptom_code or ""),
            ),
        ),
    )


async def get_fault(session: AsyncSession, no: str, user: Principal) -> Classified:
    ticket = await load(session, no, user)
    row = await session.get(TicketFaultRow, ticket.id)
    if row is None:
        raise NotFound(
            f"工单{ticket.ticket_no}没有故障分类记录 (no fault classification recorded for "
            "this ticket)"
        )
    return (await _with_names(session, [(row, ticket)]))[0]


async def list_faults(
    session: AsyncSession, f: FaultFilters, limit: int, offset: int
) -> tuple[list[Classified], int]:
    """Classifications for the technical department's queue and the analyses (staff only)."""
    query = _filtered(
        select(TicketFaultRow, TicketRow).join(TicketRow, TicketRow.id == TicketFaultRow.ticket_id),
        f,
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (
        await session.execute(
            query.order_by(
                TicketFaultRow.needs_analysis.desc(),
                TicketFaultRow.analysis_due_at.asc().nulls_last(),
                TicketRow.completed_at.desc(),
                TicketRow.ticket_no,
            )
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return await _with_names(session, [(r, t) for r, t in rows]), total


def _filtered(query: Select, f: FaultFilters) -> Select:
    r = TicketFaultRow
    if f.needs_analysis is not None:
        query = query.where(r.needs_analysis.is_(f.needs_analysis))
    if f.overdue is not None:
        query = query.where(
            r.analysis_overdue_at.is_not(None) if f.overdue else r.analysis_overdue_at.is_(None)
        )
    for column, value in (
        (r.cause_category, f.cause_category),
        (r.product_line, f.product_line.upper() if f.product_line else None),
        (r.symptom_code, f.symptom.upper() if f.symptom else None),
        (r.failed_part_code, f.failed_part.upper() if f.failed_part else None),
    ):
        if value:
            query = query.where(column == value)
    if f.classified_from:
        query = query.where(r.classified_at >= f.classified_from)
    if f.classified_to:
        query = query.where(r.classified_at < f.classified_to)
    return query


async def _with_names(
    session: AsyncSession, rows: list[tuple[TicketFaultRow, TicketRow]]
) -> list[Classified]:
    symptoms = await catalogue.names(
        session, CatalogueKind.SYMPTOM, {r.symptom_code for r, _ in rows if r.symptom_code}
    )
    parts = await catalogue.names(
        session, CatalogueKind.PART, {r.failed_part_code for r, _ in rows if r.failed_part_code}
    )
    return [
        Classified(r, t, symptoms.get(r.symptom_code or ""), parts.get(r.failed_part_code or ""))
        for r, t in rows
    ]
