"""Corrective and preventive actions (纠正/预防措施): linked to tickets and/or a cause, owned by a
department, due at close of business of a working day on a calendar; open → in_progress → done →
verified by someone other than the doer (a rejection sends it back to in_progress). A missed due
date publishes CorrectiveActionOverdue once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role
from aftersales_shared.calendars import DEFAULT_CALENDAR
from aftersales_shared.errors import DomainError, Forbidden, NotFound
from aftersales_shared.events import (
    CauseCategory,
    CorrectiveActionChangedV1,
    CorrectiveActionOverdueV1,
    Envelope,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule
from aftersales_shared.workcalendar import WorkCalendar

from ..calendar_cache import calendar_for
from ..domain import (
    DEPARTMENT_ZH,
    UNFINISHED,
    ActionStatus,
    CatalogueKind,
    Department,
    action_due,
    check_action_transition,
    check_verifier,
)
from ..models import CorrectiveActionRow, CorrectiveActionTicketRow, QualityAuditRow, TicketRow
from . import catalogue, quality_audit

ACTION_DUE = "corrective_action_due"
ENTITY = "corrective_action"
# who may create, verify and reject actions (the technical department, supervisors, management)
QUALITY_LEADS = (Role.TECHNICAL, Role.SERVICE_SUPERVISOR, Role.MANAGER)
# who, besides the named owner and management, works on a department's actions
DEPARTMENT_ROLES: dict[Department, tuple[Role, ...]] = {
    Department.TECHNICAL: (Role.TECHNICAL,),
    Department.DELIVERY: (Role.DELIVERY,),
    Department.PURCHASING: (),
    Department.SERVICE: (Role.SERVICE_SUPERVISOR, Role.SERVICE_AGENT),
    Department.SALES: (Role.SALES_MANAGER, Role.SALES),
}


@dataclass(frozen=True)
class NewAction:
    kind: str  # corrective | preventive
    title: str
    owner_department: Department
    description: str | None = None
    owner_id: str | None = None
    ticket_nos: tuple[str, ...] = ()
    cause_category: CauseCategory | None = None
    product_line: str | None = None
    symptom: str | None = None
    failed_part: str | None = None
    due_date: date | None = None
    due_working_days: int | None = None


@dataclass(frozen=True)
class ActionFilters:
    status: str | None = None
    kind: str | None = None
    owner_department: str | None = None
    owner_id: str | None = None
    cause_category: str | None = None
    product_line: str | None = None
    ticket_no: str | None = None
    overdue: bool | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None


def _not_found(no: str) -> NotFound:
    return NotFound(f"措施{no}不存在 (corrective action {no} not found)")


async def get_action(session: AsyncSession, no: str, lock: bool = False) -> CorrectiveActionRow:
    query = select(CorrectiveActionRow).where(CorrectiveActionRow.action_no == no)
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise _not_found(no)
    return row


async def create_action(
    session: AsyncSession, cmd: NewAction, user: Principal, now: datetime
) -> CorrectiveActionRow:
    """Due on the first linked ticket's calendar (the office that serves it), else the default."""
    tickets = await _tickets(session, cmd.ticket_nos)
    if not tickets and cmd.cause_category is None:
        raise DomainError(
            "措施须关联至少一张工单或一个原因类别 (link the action to one or more tickets "
            "(ticket_nos) and/or a cause (cause_category))",
            code="unlinked_action",
        )
    line = cmd.product_line.upper() if cmd.product_line else None
    symptom = await _entry(session, CatalogueKind.SYMPTOM, cmd.symptom, line)
    part = await _entry(session, CatalogueKind.PART, cmd.failed_part, line)
    calendar_id = tickets[0].calendar_id if tickets else DEFAULT_CALENDAR
    calendar = await calendar_for(session, calendar_id)
    due_date = _due_date(cmd, calendar, now)
    due_at = action_due(calendar, due_date, now.astimezone(calendar.tz).date())
    row = CorrectiveActionRow(
        id=str(uuid.uuid4()),
        action_no=f"CA-{now.astimezone(calendar.tz):%Y%m%d}-{uuid.uuid4().hex[:6].upper()}",
        kind=cmd.kind,
        title=cmd.title,
        description=cmd.description,
        owner_department=cmd.owner_department.value,
        owner_id=cmd.owner_id,
        cause_category=cmd.cause_category.value if cmd.cause_category else None,
        product_line=line,
        symptom_code=symptom,
        failed_part_code=part,
        calendar_id=calendar_id,
        due_date=due_date,
        due_at=due_at,
        status=ActionStatus.OPEN.value,
        created_at=now,
        created_by=user.subject,
        rejections=0,
        tickets=[CorrectiveActionTicketRow(ticket_id=t.id, ticket_no=t.ticket_no) for t in tickets],
    )
    session.add(row)
    await schedule(session, ACTION_DUE, row.id, due_at)
    quality_audit.record(
        session,
        ENTITY,
        row.action_no,
        "created",
        user.subject,
        now,
        owner_department=row.owner_department,
        due_date=due_date,
        tickets=[t.ticket_no for t in tickets],
        cause_category=row.cause_category,
    )
    await session.flush()
    await _changed(session, row, "created", user, now, cmd.description)
    return row


def _due_date(cmd: NewAction, calendar: WorkCalendar, now: datetime) -> date:
    if (cmd.due_date is None) == (cmd.due_working_days is None):
        raise DomainError(
            "请给出截止日期 due_date 或工作日天数 due_working_days 之一 (give either due_date or "
            "due_working_days)",
            code="due_required",
        )
    if cmd.due_date is not None:
        return cmd.due_date
    return calendar.add_working_days(now, cmd.due_working_days).astimezone(calendar.tz).date()


async def _tickets(session: AsyncSession, nos: tuple[str, ...]) -> list[TicketRow]:
    wanted = list(dict.fromkeys(nos))
    if not wanted:
        return []
    rows = (await session.scalars(select(TicketRow).where(TicketRow.ticket_no.in_(wanted)))).all()
    found = {r.ticket_no: r for r in rows}
    unknown = [n for n in wanted if n not in found]
    if unknown:
        raise DomainError(
            f"工单不存在: {', '.join(unknown)} (unknown tickets)", code="unknown_tickets"
        )
    return [found[n] for n in wanted]


async def _entry(
    session: AsyncSession, kind: CatalogueKind, code: str | None, line: str | None
) -> str | None:
    if not code:
        return None
    if line is None:  # a cause without a product line may name any line's entry
        return (await catalogue.get_entry(session, kind, code)).code
    return (await catalogue.usable(session, kind, code, line)).code


def _may_work_on(row: CorrectiveActionRow, user: Principal) -> None:
    """The named owner, the owner department's roles, or management (who may also verify)."""
    roles = DEPARTMENT_ROLES[Department(row.owner_department)]
    if user.subject == row.owner_id or user.has(Role.MANAGER, *roles):
        return
    dept = DEPARTMENT_ZH[Department(row.owner_department)]
    raise Forbidden(
        f"只有{dept}或措施负责人可以执行此操作 (only the owner department "
        f"{row.owner_department}, the owner or management may do this)"
    )


async def _step(
    session: AsyncSession, no: str, action: str
) -> tuple[CorrectiveActionRow, ActionStatus]:
    row = await get_action(session, no, lock=True)
    target = check_action_transition(action, ActionStatus(row.status), row.action_no)
    return row, target


async def start(
    session: AsyncSession, no: str, note: str, user: Principal, now: datetime
) -> CorrectiveActionRow:
    row, target = await _step(session, no, "start")
    _may_work_on(row, user)
    row.status, row.started_at = target.value, now
    quality_audit.record(session, ENTITY, row.action_no, "started", user.subject, now, note=note)
    await session.flush()
    await _changed(session, row, "started", user, now, note)
    return row


async def finish(
    session: AsyncSession, no: str, result: str, user: Principal, now: datetime
) -> CorrectiveActionRow:
    """Done, waiting for verification: the due date no longer runs."""
    row, target = await _step(session, no, "done")
    _may_work_on(row, user)
    row.status, row.done_at, row.done_by, row.result = target.value, now, user.subject, result
    await cancel(session, ACTION_DUE, row.id)
    quality_audit.record(session, ENTITY, row.action_no, "done", user.subject, now, result=result)
    await session.flush()
    await _changed(session, row, "done", user, now, result)
    return row


async def verify(
    session: AsyncSession, no: str, note: str, user: Principal, now: datetime
) -> CorrectiveActionRow:
    row, target = await _step(session, no, "verify")
    check_verifier(row.done_by, user.subject, row.action_no)
    row.status, row.verified_at, row.verified_by = target.value, now, user.subject
    quality_audit.record(session, ENTITY, row.action_no, "verified", user.subject, now, note=note)
    await session.flush()
    await _changed(session, row, "verified", user, now, note)
    return row


async def reject(
    session: AsyncSession, no: str, reason: str, user: Principal, now: datetime
) -> CorrectiveActionRow:
    """Not effective: back to in_progress; its due date runs again (overdue at once if it has
    passed and was never announced)."""
    row, target = await _step(session, no, "reject")
    check_verifier(row.done_by, user.subject, row.action_no)
    row.status, row.rejections = target.value, row.rejections + 1
    row.done_at = row.done_by = None
    if row.overdue_at is None:
        await schedule(session, ACTION_DUE, row.id, row.due_at)
    quality_audit.record(
        session, ENTITY, row.action_no, "rejected", user.subject, now, reason=reason
    )
    await session.flush()
    await _changed(session, row, "rejected", user, now, reason)
    return row


async def _changed(
    session: AsyncSession,
    row: CorrectiveActionRow,
    change: str,
    user: Principal,
    now: datetime,
    note: str | None = None,
) -> None:
    """CorrectiveActionChanged for this step, in its transaction (outbox)."""
    await enqueue(
        session,
        Envelope(
            subject=row.action_no,
            data=CorrectiveActionChangedV1(
                action_id=row.id,
                action_no=row.action_no,
                change=change,
                changed_at=now,
                changed_by=user.subject,
                kind=row.kind,
                title=row.title,
                owner_department=row.owner_department,
                owner_id=row.owner_id,
                status=row.status,
                due_date=row.due_date,
                due_at=row.due_at,
                note=note,
                cause_category=CauseCategory(row.cause_category) if row.cause_category else None,
                product_line=row.product_line,
                ticket_nos=[t.ticket_no for t in row.tickets],
            ),
        ),
    )


async def action_overdue(session: AsyncSession, action_id: str, now: datetime) -> None:
    """Not done by its due time: CorrectiveActionOverdue, once per action."""
    row = await session.get(CorrectiveActionRow, action_id, with_for_update=True)
    if (
        row is None
        or ActionStatus(row.status) not in UNFINISHED
        or row.overdue_at is not None
        or row.due_at > now
    ):
        return
    row.overdue_at = now
    await enqueue(
        session,
        Envelope(
            subject=row.action_no,
            data=CorrectiveActionOverdueV1(
                action_id=row.id,
                action_no=row.action_no,
                kind=row.kind,
                title=row.title,
                owner_department=row.owner_department,
                owner_id=row.owner_id,
                status=row.status,
                due_date=row.due_date,
                due_at=row.due_at,
                overdue_at=now,
                cause_category=CauseCategory(row.cause_category) if row.cause_category else None,
                product_line=row.product_line,
                ticket_nos=[t.ticket_no for t in row.tickets],
            ),
        ),
    )
    quality_audit.record(
        session, ENTITY, row.action_no, "overdue", "system", now, due_at=row.due_at
    )


async def list_actions(
    session: AsyncSession, f: ActionFilters, limit: int, offset: int
) -> tuple[list[CorrectiveActionRow], int]:
    query = _filtered(select(CorrectiveActionRow), f)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(CorrectiveActionRow.due_at, CorrectiveActionRow.action_no)
        .limit(limit)
        .offset(offset)
    )
    return list(rows.all()), total


def _filtered(query: Select, f: ActionFilters) -> Select:
    a = CorrectiveActionRow
    for column, value in (
        (a.status, f.status),
        (a.kind, f.kind),
        (a.owner_department, f.owner_department),
        (a.owner_id, f.owner_id),
        (a.cause_category, f.cause_category),
        (a.product_line, f.product_line.upper() if f.product_line else None),
    ):
        if value:
            query = query.where(column == value)
    if f.ticket_no:
        query = query.where(
            a.id.in_(
                select(CorrectiveActionTicketRow.action_id).where(
                    CorrectiveActionTicketRow.ticket_no == f.ticket_no
                )
            )
        )
    if f.overdue is not None:
        query = query.where(a.overdue_at.is_not(None) if f.overdue else a.overdue_at.is_(None))
    if f.due_from:
        query = query.where(a.due_at >= f.due_from)
    if f.due_to:
        query = query.where(a.due_at < f.due_to)
    return query


async def history(session: AsyncSession, row: CorrectiveActionRow) -> list[QualityAuditRow]:
    """The action's audit entries, oldest first."""
    rows, _ = await quality_audit.list_audit(session, ENTITY, row.action_no, 200, 0)
    return list(reversed(rows))
