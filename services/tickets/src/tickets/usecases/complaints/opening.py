"""Opening a complaint and who answers for it: the record, owner and clocks written with the
complaint ticket, the owner (a supervisor, never nobody) and the level a supervisor changes, and
ComplaintClassified each time the level or the type is set."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role
from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import (
    ComplaintClassifiedV1,
    ComplaintLevel,
    ComplaintType,
    Envelope,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import schedule

from ...calendar_cache import calendar_for
from ...domain import (
    CLOCKED_STAGES,
    COMPLAINT_CLOCKS,
    LEVEL_ZH,
    STAGE_ZH,
    ComplaintStage,
    RequestType,
)
from ...models import (
    ComplaintRow,
)
from ...settings import TicketsSettings
from .. import quality_audit
from ..progress import log_entry
from .clock import STEP_DUE, arm, job_key
from .reading import ENTITY, get_complaint


def check_owner(owner_id: str, user: Principal, settings: TicketsSettings) -> str:
    """A complaint is owned by a supervisor: one the settings name, or the calling supervisor who
    takes it herself."""
    owner_id = owner_id.strip()
    if owner_id in settings.complaint_owners():
        return owner_id
    if owner_id == user.subject and Role.SERVICE_SUPERVISOR in user.roles:
        return owner_id
    known = "、".join(sorted(settings.complaint_owners()))
    raise DomainError(
        f"{owner_id}不是可负责投诉的客服主管（可选：{known}，或主管本人接手）({owner_id} is not a "
        f"supervisor who may own complaints: choose one of {known} "
        "(TICKETS_COMPLAINT_SUPERVISORS), or a supervisor takes it over herself)",
        code="not_a_supervisor",
        known=sorted(settings.complaint_owners()),
    )


def intake_owner(
    request_type: RequestType,
    level: ComplaintLevel | None,
    owner_id: str | None,
    user: Principal,
    settings: TicketsSettings,
    complaint_type: ComplaintType | None = None,
) -> str | None:
    """Who owns a complaint registered over HTTP: the supervisor named, else the supervisor who
    registers it, else (an agent, a dealer, a partner system) the default owner at opening."""
    if request_type is not RequestType.COMPLAINT:
        if level is not None or owner_id or complaint_type is not None:
            raise DomainError(
                "投诉等级、类型和负责人只适用于投诉工单 (complaint_level, complaint_type and "
                "complaint_owner_id apply to request_type complaint only)",
                code="not_a_complaint",
            )
        return None
    if owner_id:
        return check_owner(owner_id, user, settings)
    if Role.SERVICE_SUPERVISOR in user.roles:
        return user.subject
    return None


@dataclass(frozen=True)
class NewComplaint:
    """A complaint ticket just written by intake, with what its request said of the complaint."""

    ticket: Any  # OpenedTicket: the values intake wrote
    level: ComplaintLevel | None
    owner_id: str | None
    complaint_type: ComplaintType | None
    actor: str
    now: datetime


async def open_complaints(
    session: AsyncSession,
    complaints: Iterable[NewComplaint],
    settings: TicketsSettings,
    version: int | None = None,
) -> None:
    """The complaint record of each new complaint ticket, its owner and its clocks (in the intake's
    transaction: a complaint ticket never exists without them)."""
    for c in complaints:
        t = c.ticket
        level = c.level or ComplaintLevel.GENERAL
        row = ComplaintRow(
            ticket_id=t.id,
            ticket_no=t.ticket_no,
            level=level.value,
            stage=ComplaintStage.ACKNOWLEDGEMENT.value,
            round=1,
            owner_id=c.owner_id or settings.complaint_owner,
            complaint_type=c.complaint_type.value if c.complaint_type else None,
            management=False,
            escalations=0,
            opened_at=t.opened_at,
            round_started_at=t.opened_at,
            clocks=[],
            proposals=[],
        )
        session.add(row)
        calendar = await calendar_for(session, t.calendar_id, version)
        await arm(session, row, CLOCKED_STAGES, calendar)
        quality_audit.record(
            session,
            ENTITY,
            row.ticket_no,
            "opened",
            c.actor,
            c.now,
            level=row.level,
            owner_id=row.owner_id,
            due={k.stage: k.due_at for k in row.clocks},
        )
        session.add(
            log_entry(
                t,
                c.actor,
                "complaint",
                f"投诉登记：{LEVEL_ZH[level]}，负责人{row.owner_id} (complaint registered: "
                f"{level.value}, owner {row.owner_id})",
                c.now,
            )
        )
        await classified(session, row, "opened", c.actor, c.now, t.dealer_id)


async def classified(
    session: AsyncSession,
    row: ComplaintRow,
    change: str,
    actor: str,
    now: datetime,
    dealer_id: str | None,
) -> None:
    """ComplaintClassified: the complaint's level and type as they stand now (the monthly
    analysis counts complaints by them)."""
    await enqueue(
        session,
        Envelope(
            subject=row.ticket_no,
            data=ComplaintClassifiedV1(
                ticket_id=row.ticket_id,
                ticket_no=row.ticket_no,
                level=ComplaintLevel(row.level),
                complaint_type=ComplaintType(row.complaint_type) if row.complaint_type else None,
                change=change,  # type: ignore[arg-type]
                classified_at=now,
                classified_by=actor,
                dealer_id=dealer_id,
            ),
        ),
    )


async def change_level(
    session: AsyncSession,
    no: str,
    level: ComplaintLevel,
    reason: str,
    user: Principal,
    now: datetime,
) -> ComplaintRow:
    """A supervisor re-grades a complaint: the round's steps not done yet are due by the new
    level's clocks (a step already announced overdue is not announced again)."""
    row = await get_complaint(session, no, user, lock=True)
    if ComplaintStage(row.stage) in (ComplaintStage.ACCEPTED, ComplaintStage.CLOSED):
        raise Conflict(
            f"投诉{no}已{STAGE_ZH[ComplaintStage(row.stage)]}，不能再改等级 (the complaint is "
            f"{row.stage}: its level no longer changes)",
            code="complaint_stage",
        )
    previous = ComplaintLevel(row.level)
    if previous is level:
        raise Conflict(f"投诉{no}已是{LEVEL_ZH[level]}等级 (already {level.value})")
    row.level = level.value
    calendar = await calendar_for(session, row.ticket.calendar_id)
    clocks = COMPLAINT_CLOCKS[level]
    for clock in row.clocks:
        if clock.round != row.round or clock.met_at is not None or clock.overdue_at is not None:
            continue
        stage = ComplaintStage(clock.stage)
        clock.due_at = clocks.span(stage).due(calendar, row.round_started_at)
        if stage is ComplaintStage.RESOLUTION and row.promised_date is not None:
            promised = calendar.working_intervals(row.promised_date)
            if promised:
                clock.due_at = min(clock.due_at, promised[-1][1])
        await schedule(session, STEP_DUE, job_key(row.ticket_id, row.round, stage), clock.due_at)
    quality_audit.record(
        session,
        ENTITY,
        no,
        "level_changed",
        user.subject,
        now,
        previous_level=previous,
        level=level,
        reason=reason,
    )
    said = f"投诉等级由{LEVEL_ZH[previous]}改为{LEVEL_ZH[level]}（原因：{reason}）"
    session.add(log_entry(row.ticket, user.subject, "complaint", said, now))
    await classified(session, row, "level_changed", user.subject, now, row.ticket.dealer_id)
    await session.flush()
    return row


async def reassign(
    session: AsyncSession,
    no: str,
    owner_id: str,
    reason: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> ComplaintRow:
    """Another supervisor owns the complaint from now on (never nobody)."""
    row = await get_complaint(session, no, user, lock=True)
    owner = check_owner(owner_id, user, settings)
    if owner == row.owner_id:
        raise Conflict(f"投诉{no}已由{owner}负责 (already owned by {owner})")
    previous, row.owner_id = row.owner_id, owner
    quality_audit.record(
        session,
        ENTITY,
        no,
        "owner_changed",
        user.subject,
        now,
        previous_owner=previous,
        owner_id=owner,
        reason=reason,
    )
    said = f"投诉负责人由{previous}改为{owner}（原因：{reason}）"
    session.add(log_entry(row.ticket, user.subject, "complaint", said, now))
    await session.flush()
    return row
