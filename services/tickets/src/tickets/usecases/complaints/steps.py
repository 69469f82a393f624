"""The staff's steps of a round: acknowledgement (受理确认), the time limit told to the customer
(告知处理时限), the investigation's findings (问题分析) and the proposed resolution (问题解决),
sent to the customer with a single-use link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.events import (
    ComplaintLevel,
    ComplaintLimitToldV1,
    ComplaintResolutionProposedV1,
    ComplaintType,
    Envelope,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.publiclinks import new_token
from aftersales_shared.scheduler import schedule
from aftersales_shared.sealing import mask_link, seal

from ...calendar_cache import calendar_for
from ...domain import (
    COMPLAINT_CLOCKS,
    ComplaintStage,
    check_complaint_step,
    contact_of,
    promise_due,
)
from ...models import (
    ComplaintProposalRow,
    ComplaintRow,
)
from ...settings import TicketsSettings
from .. import quality_audit
from ..progress import log_entry
from .clock import STEP_DUE, current_clock, job_key, meet
from .opening import classified
from .reading import ENTITY, get_complaint


@dataclass(frozen=True)
class LimitTold:
    """The time limit told to the customer (处理时限): resolved by close of business that day."""

    promised_date: date
    via: str  # phone | sms | email | onsite | wechat
    note: str | None = None


async def _step(
    session: AsyncSession, no: str, step: str, user: Principal
) -> tuple[ComplaintRow, ComplaintStage]:
    row = await get_complaint(session, no, user, lock=True)
    target = check_complaint_step(step, ComplaintStage(row.stage), row.ticket_no)
    return row, target


async def acknowledge(
    session: AsyncSession, no: str, note: str | None, user: Principal, now: datetime
) -> ComplaintRow:
    """受理确认: the complaint is taken in; the customer is to be told its time limit next."""
    row, target = await _step(session, no, "acknowledge", user)
    await meet(session, row, ComplaintStage.ACKNOWLEDGEMENT, now)
    row.stage, row.acknowledged_at, row.acknowledged_by = target.value, now, user.subject
    quality_audit.record(session, ENTITY, no, "acknowledged", user.subject, now, note=note)
    session.add(
        log_entry(
            row.ticket, user.subject, "complaint", "投诉已受理 (acknowledged)", now, "customer"
        )
    )
    await session.flush()
    return row


async def tell_limit(
    session: AsyncSession, no: str, cmd: LimitTold, user: Principal, now: datetime
) -> ComplaintRow:
    """告知处理时限: the promised date is within the level's longest promise; the customer gets it
    in writing (ComplaintLimitTold), and the proposal is due by then at the latest."""
    row = await get_complaint(session, no, user, lock=True)
    target = check_complaint_step("limit", ComplaintStage(row.stage), row.ticket_no)
    calendar = await calendar_for(session, row.ticket.calendar_id)
    level = ComplaintLevel(row.level)
    max_days = COMPLAINT_CLOCKS[level].max_promise_days
    latest = calendar.add_working_days(row.round_started_at, max_days).astimezone(calendar.tz)
    today = now.astimezone(calendar.tz).date()
    by = promise_due(calendar, cmd.promised_date, today, latest.date(), level, max_days)
    await meet(session, row, ComplaintStage.LIMIT, now)
    row.stage, row.promised_date = target.value, cmd.promised_date
    row.limit_told_at, row.limit_told_by, row.limit_told_via = now, user.subject, cmd.via
    resolution = current_clock(row, ComplaintStage.RESOLUTION)
    if resolution is not None and resolution.met_at is None and by < resolution.due_at:
        resolution.due_at = by  # the promise is the proposal's deadline
        if resolution.overdue_at is None:
            await schedule(
                session, STEP_DUE, job_key(row.ticket_id, row.round, ComplaintStage.RESOLUTION), by
            )
    ticket = row.ticket
    await enqueue(
        session,
        Envelope(
            subject=row.ticket_no,
            data=ComplaintLimitToldV1(
                ticket_id=row.ticket_id,
                ticket_no=row.ticket_no,
                level=level,
                promised_date=cmd.promised_date,
                told_at=now,
                told_by=user.subject,
                owner_id=row.owner_id,
                customer_id=ticket.customer_id,
                customer_name=ticket.customer_name,
                contact=contact_of(ticket),
                note=cmd.note,
                dealer_id=ticket.dealer_id,
            ),
        ),
    )
    quality_audit.record(
        session,
        ENTITY,
        no,
        "limit_told",
        user.subject,
        now,
        promised_date=cmd.promised_date,
        via=cmd.via,
        note=cmd.note,
    )
    session.add(
        log_entry(
            ticket,
            user.subject,
            "complaint",
            f"已告知客户处理时限：{cmd.promised_date}前 (customer told: resolved by "
            f"{cmd.promised_date})",
            now,
            "customer",
        )
    )
    await session.flush()
    return row


async def record_findings(
    session: AsyncSession,
    no: str,
    findings: str,
    user: Principal,
    now: datetime,
    complaint_type: ComplaintType | None = None,
) -> ComplaintRow:
    """问题分析: what the investigation found (the cause), and what the complaint is about when
    that was not known or was wrong; a proposal comes next."""
    row, target = await _step(session, no, "findings", user)
    await meet(session, row, ComplaintStage.INVESTIGATION, now)
    row.stage, row.findings = target.value, findings
    row.investigated_at, row.investigated_by = now, user.subject
    typed = complaint_type is not None and complaint_type.value != row.complaint_type
    if typed:
        row.complaint_type = complaint_type.value  # type: ignore[union-attr]
    quality_audit.record(
        session,
        ENTITY,
        no,
        "findings",
        user.subject,
        now,
        findings=findings,
        complaint_type=row.complaint_type,
    )
    session.add(log_entry(row.ticket, user.subject, "complaint", f"调查结论：{findings}", now))
    if typed:
        await classified(session, row, "typed", user.subject, now, row.ticket.dealer_id)
    await session.flush()
    return row


async def propose(
    session: AsyncSession,
    no: str,
    resolution: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> tuple[ComplaintRow, str]:
    """问题解决: a resolution goes to the customer with a single-use link to accept or reject it
    (the link leaves sealed to notifications; only its hash stays here). Returns the link."""
    row, target = await _step(session, no, "resolution", user)
    await meet(session, row, ComplaintStage.RESOLUTION, now)
    token, token_hash = new_token()
    link = f"{settings.public_base_url}/c/{token}"
    expires = now + timedelta(days=settings.complaint_link_ttl_days)
    proposal = ComplaintProposalRow(
        ticket_id=row.ticket_id,
        round=row.round,
        level=row.level,
        resolution=resolution,
        proposed_at=now,
        proposed_by=user.subject,
        token_hash=token_hash,
        link_masked=mask_link(link),
        expires_at=expires,
    )
    row.proposals.append(proposal)
    row.stage = target.value
    ticket = row.ticket
    await enqueue(
        session,
        Envelope(
            subject=row.ticket_no,
            data=ComplaintResolutionProposedV1(
                ticket_id=row.ticket_id,
                ticket_no=row.ticket_no,
                level=ComplaintLevel(row.level),
                round=row.round,
                resolution=resolution,
                proposed_at=now,
                proposed_by=user.subject,
                owner_id=row.owner_id,
                promised_date=row.promised_date,
                customer_id=ticket.customer_id,
                customer_name=ticket.customer_name,
                contact=contact_of(ticket),
                link_masked=proposal.link_masked,
                link_sealed=seal(settings.notifications_public_key, link),
                expires_at=expires,
                dealer_id=ticket.dealer_id,
            ),
        ),
    )
    quality_audit.record(
        session, ENTITY, no, "proposed", user.subject, now, round=row.round, resolution=resolution
    )
    session.add(
        log_entry(
            ticket,
            user.subject,
            "complaint",
            f"处理方案已提交客户确认：{resolution}",
            now,
            "customer",
        )
    )
    await session.flush()
    return row, link
