"""Reading complaints: one the caller may see (its ticket's rules; an engineer the ones about their
work, complaint_scope), the list with its filters and scope, the steps overdue now, the
finger-signed confirmations and the audit trail (quality_audit entries under ENTITY)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, dealer_scope
from aftersales_shared.errors import Forbidden, NotFound

from ...domain import (
    ComplaintStage,
)
from ...models import (
    ComplaintClockRow,
    ComplaintRow,
    ComplaintSignatureRow,
    QualityAuditRow,
    TicketRow,
)
from .. import quality_audit
from ..access import STAFF_ROLES, visible_to
from ..complaint_scope import engineer_of, engineer_sees, worked_on

ENTITY = "complaint"


@dataclass(frozen=True)
class ComplaintFilters:
    level: str | None = None
    stage: str | None = None
    owner_id: str | None = None
    overdue: bool | None = None
    open_only: bool = False


def _not_found(no: str) -> NotFound:
    return NotFound(f"投诉{no}不存在 (no complaint for ticket {no})")


async def get_complaint(
    session: AsyncSession, no: str, user: Principal, lock: bool = False
) -> ComplaintRow:
    """A complaint the caller may see (its ticket's rules: staff all, a dealer its own; an engineer
    the ones about their work, complaint_scope); 404 for the others as for none."""
    query = select(ComplaintRow).where(ComplaintRow.ticket_no == no)
    if lock:
        query = query.with_for_update(of=ComplaintRow).execution_options(populate_existing=True)
    row = await session.scalar(query)
    if row is None:
        raise _not_found(no)
    if not visible_to(row.ticket, user):
        engineer = engineer_of(user)
        if engineer is None or not await engineer_sees(session, row, engineer):
            raise _not_found(no)
    return row


async def signatures(
    session: AsyncSession, no: str, user: Principal
) -> list[ComplaintSignatureRow]:
    """The finger-signed 投诉处理确认书 of a complaint the caller may see, oldest first."""
    row = await get_complaint(session, no, user)
    found = await session.scalars(
        select(ComplaintSignatureRow)
        .where(ComplaintSignatureRow.ticket_id == row.ticket_id)
        .order_by(ComplaintSignatureRow.proposal_id)
    )
    return list(found.all())


async def list_complaints(
    session: AsyncSession, user: Principal, f: ComplaintFilters, limit: int, offset: int
) -> tuple[list[ComplaintRow], int]:
    query = select(ComplaintRow).join(TicketRow, TicketRow.id == ComplaintRow.ticket_id)
    if not user.has(*STAFF_ROLES):
        conds = []
        scope = dealer_scope(user)
        if scope:
            conds.append(TicketRow.dealer_id == scope)
        engineer = engineer_of(user)
        if engineer is not None:
            conds.append(worked_on(engineer))
        if not conds:
            raise Forbidden("无权查看投诉 (this role cannot list complaints)")
        query = query.where(or_(*conds))
    query = _filtered(query, f)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(ComplaintRow.opened_at.desc(), ComplaintRow.ticket_no.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.unique().all()), total


def _filtered(query: Select, f: ComplaintFilters) -> Select:
    c = ComplaintRow
    for column, value in ((c.level, f.level), (c.stage, f.stage), (c.owner_id, f.owner_id)):
        if value:
            query = query.where(column == value)
    if f.open_only:
        query = query.where(c.stage != ComplaintStage.CLOSED.value)
    if f.overdue is not None:
        late = exists().where(
            and_(
                ComplaintClockRow.ticket_id == c.ticket_id,
                ComplaintClockRow.round == c.round,
                ComplaintClockRow.overdue_at.is_not(None),
                ComplaintClockRow.met_at.is_(None),
            )
        )
        query = query.where(late if f.overdue else ~late)
    return query


def overdue_stages(row: ComplaintRow) -> list[str]:
    """The steps of the current round past their deadline and still not done."""
    return [
        c.stage
        for c in row.clocks
        if c.round == row.round and c.overdue_at is not None and c.met_at is None
    ]


async def history(session: AsyncSession, row: ComplaintRow) -> list[QualityAuditRow]:
    """The complaint's audit entries, oldest first."""
    rows, _ = await quality_audit.list_audit(session, ENTITY, row.ticket_no, 500, 0)
    return list(reversed(rows))
