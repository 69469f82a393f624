"""The customer's answer to a proposed resolution and what follows: accepted, the complaint is
completed with its ticket (and open again when the ticket is reopened); rejected, it escalates one
level and a new round starts. Staff record an answer here (record_answer); an answer given on the
confirmation page (link) is applied here too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.db import CLOCK_SKEW
from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import (
    ComplaintEscalatedV1,
    ComplaintLevel,
    Envelope,
)
from aftersales_shared.outbox import enqueue

from ...calendar_cache import calendar_for
from ...domain import (
    LEVEL_ZH,
    RESTARTED_STAGES,
    STAGE_ZH,
    ComplaintStage,
    check_complaint_step,
    escalated,
)
from ...models import (
    ComplaintProposalRow,
    ComplaintRow,
    TicketRow,
)
from .. import quality_audit
from ..progress import log_entry
from .clock import arm
from .opening import classified
from .reading import ENTITY, get_complaint


@dataclass(frozen=True)
class CustomerAnswer:
    """The customer's answer to a proposed resolution (投诉处理确认书), as staff record it."""

    outcome: str  # accepted | rejected
    confirmed_by: str
    confirmed_at: datetime
    method: str  # phone | signature | onsite
    reason: str | None = None
    remarks: str | None = None


def _open_proposal(row: ComplaintRow) -> ComplaintProposalRow:
    proposal = next(
        (p for p in reversed(row.proposals) if p.round == row.round and p.outcome is None), None
    )
    if proposal is None or ComplaintStage(row.stage) is not ComplaintStage.CONFIRMATION:
        raise Conflict(
            f"投诉{row.ticket_no}当前为“{STAGE_ZH[ComplaintStage(row.stage)]}”，没有待客户确认的"
            f"处理方案 (no proposed resolution waits for the customer's answer)",
            code="complaint_stage",
            stage=row.stage,
        )
    return proposal


async def record_answer(
    session: AsyncSession, no: str, cmd: CustomerAnswer, user: Principal, now: datetime
) -> ComplaintRow:
    """Staff record the customer's answer (on the phone, a signed paper, on site): the link of the
    proposal then no longer works."""
    if cmd.confirmed_at > now + CLOCK_SKEW:
        raise DomainError("确认时间不能晚于当前时间 (confirmed_at cannot be in the future)")
    row = await get_complaint(session, no, user, lock=True)
    proposal = _open_proposal(row)
    if cmd.confirmed_at < proposal.proposed_at - CLOCK_SKEW:
        raise DomainError(
            "确认时间早于处理方案提出时间 (confirmed_at is before the resolution was proposed)"
        )
    await apply_answer(
        session,
        row,
        proposal,
        accepted=cmd.outcome == "accepted",
        confirmed_by=cmd.confirmed_by,
        method=cmd.method,
        reason=cmd.reason,
        remarks=cmd.remarks,
        recorded_by=user.subject,
        answered_at=cmd.confirmed_at,
        now=now,
    )
    return row


async def apply_answer(
    session: AsyncSession,
    row: ComplaintRow,
    proposal: ComplaintProposalRow,
    *,
    accepted: bool,
    confirmed_by: str,
    method: str,
    reason: str | None,
    remarks: str | None,
    recorded_by: str,
    answered_at: datetime,
    now: datetime,
) -> None:
    if not accepted and not (reason or "").strip():
        raise DomainError(
            "客户不接受处理方案时须写明原因 (a rejection needs the customer's reason)",
            code="reason_required",
        )
    proposal.outcome = "accepted" if accepted else "rejected"
    proposal.answered_at, proposal.method, proposal.confirmed_by = answered_at, method, confirmed_by
    proposal.reason, proposal.remarks, proposal.recorded_by = reason, remarks, recorded_by
    quality_audit.record(
        session,
        ENTITY,
        row.ticket_no,
        proposal.outcome,
        recorded_by,
        now,
        round=proposal.round,
        confirmed_by=confirmed_by,
        method=method,
        reason=reason,
    )
    if accepted:
        row.stage = check_complaint_step("accept", ComplaintStage(row.stage), row.ticket_no).value
        row.accepted_at = now
        said = f"客户{confirmed_by}确认接受处理方案（{method}）(the customer accepted)"
        session.add(log_entry(row.ticket, recorded_by, "complaint", said, now, "customer"))
    else:
        await _escalate(session, row, reason or "", method, recorded_by, now)
    await session.flush()


async def _escalate(
    session: AsyncSession,
    row: ComplaintRow,
    reason: str,
    method: str,
    actor: str,
    now: datetime,
) -> None:
    """Rejected: one level up (a serious complaint goes to management), a new round whose time
    limit, investigation and proposal run again from now on the new level's clocks."""
    previous = ComplaintLevel(row.level)
    level, management = escalated(previous)
    row.stage = check_complaint_step("reject", ComplaintStage(row.stage), row.ticket_no).value
    row.level, row.management = level.value, row.management or management
    row.escalations += 1
    row.round += 1
    row.round_started_at = now
    row.promised_date = row.limit_told_at = row.limit_told_by = row.limit_told_via = None
    row.investigated_at = row.investigated_by = None
    calendar = await calendar_for(session, row.ticket.calendar_id)
    await arm(session, row, RESTARTED_STAGES, calendar)
    ticket = row.ticket
    await enqueue(
        session,
        Envelope(
            subject=row.ticket_no,
            data=ComplaintEscalatedV1(
                ticket_id=row.ticket_id,
                ticket_no=row.ticket_no,
                previous_level=previous,
                level=level,
                management=row.management,
                round=row.round,
                reason=reason,
                rejected_via=method,
                escalated_at=now,
                owner_id=row.owner_id,
                customer_id=ticket.customer_id,
                customer_name=ticket.customer_name,
                dealer_id=ticket.dealer_id,
            ),
        ),
    )
    quality_audit.record(
        session,
        ENTITY,
        row.ticket_no,
        "escalated",
        actor,
        now,
        previous_level=previous,
        level=level,
        management=row.management,
        round=row.round,
    )
    await classified(session, row, "escalated", actor, now, ticket.dealer_id)
    said = (
        f"客户不接受处理方案（原因：{reason}），投诉升级为{LEVEL_ZH[level]}"
        + ("并上报管理层" if row.management else "")
        + " (rejected: escalated)"
    )
    session.add(log_entry(ticket, actor, "complaint", said, now, "customer"))


async def close_with_ticket(
    session: AsyncSession, ticket: TicketRow, actor: str, now: datetime
) -> None:
    """A complaint ticket is completed only after the customer accepted a resolution."""
    row = await session.get(ComplaintRow, ticket.id, with_for_update=True, populate_existing=True)
    if row is None:
        return
    stage = ComplaintStage(row.stage)
    if stage is ComplaintStage.CLOSED:
        return
    if stage is not ComplaintStage.ACCEPTED:
        raise Conflict(
            f"投诉{ticket.ticket_no}的处理方案尚未经客户确认接受（当前：{STAGE_ZH[stage]}），"
            "不能完成 (a complaint is completed only after the customer accepted a proposed "
            f"resolution; it waits for {stage.value})",
            code="complaint_not_accepted",
            stage=stage.value,
        )
    row.stage, row.closed_at = ComplaintStage.CLOSED.value, now
    quality_audit.record(session, ENTITY, ticket.ticket_no, "closed", actor, now)


async def reopen_with_ticket(session: AsyncSession, ticket: TicketRow, now: datetime) -> None:
    """A reopened complaint ticket is open again: its accepted resolution is being redone."""
    row = await session.get(ComplaintRow, ticket.id, with_for_update=True)
    if row is not None and ComplaintStage(row.stage) is ComplaintStage.CLOSED:
        row.stage, row.closed_at = ComplaintStage.ACCEPTED.value, None
