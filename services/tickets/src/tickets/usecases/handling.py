"""What people do with an open ticket: acknowledge, dispatch, respond, pause, complete, reopen…"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role, customer_scope, dealer_scope
from aftersales_shared.errors import Conflict, DomainError, Forbidden, NotFound
from aftersales_shared.events import (
    Contact,
    Envelope,
    ServiceCompletedV1,
    SlaClock,
    TicketAssignedV1,
    TicketReopenedV1,
    Urgency,
)
from aftersales_shared.outbox import enqueue

from . import sla
from .calendars import calendar_for
from .domain import (
    DEFAULT_POLICIES,
    OPEN_STATUSES,
    ClockState,
    Policy,
    RequestType,
    Status,
    can_reopen,
    check_transition,
    clock_targets,
    policy_from_levels,
)
from .models import (
    AssignmentRow,
    ClockRow,
    CompletionRow,
    EntitlementRow,
    LoanerRow,
    ProgressRow,
    TicketRow,
)
from .settings import TicketsSettings

STAFF_ROLES = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.MANAGER, Role.TECHNICAL)


def _not_found(no: str) -> NotFound:
    return NotFound(f"工单{no}不存在 (ticket not found)")


def visible_to(ticket: TicketRow, user: Principal) -> bool:
    """Engineers see their own assignments; dealers their dealer's tickets; staff everything."""
    if user.has(*STAFF_ROLES):
        return True
    if (
        Role.DEALER in user.roles
        and ticket.dealer_id is not None
        and ticket.dealer_id == dealer_scope(user)
    ):
        return True
    customer = customer_scope(user)
    if customer is not None:
        return ticket.customer_id == customer
    return Role.ENGINEER in user.roles and ticket.assignee_id == user.subject


async def load(session: AsyncSession, no: str, user: Principal, lock: bool = False) -> TicketRow:
    query = select(TicketRow).where(TicketRow.ticket_no == no)
    ticket = await session.scalar(query.with_for_update() if lock else query)
    if ticket is None or not visible_to(ticket, user):
        raise _not_found(no)  # 404 also for tickets the caller may not see: existence is not leaked
    return ticket


def _clock(ticket: TicketRow, kind: SlaClock) -> ClockRow | None:
    return next((c for c in ticket.clocks if c.kind == kind.value), None)


async def _meet(
    session: AsyncSession,
    ticket: TicketRow,
    kinds: list[SlaClock],
    now: datetime,
    settings: TicketsSettings,
) -> None:
    calendar = await calendar_for(session, ticket.calendar_id)
    for kind in kinds:
        row = _clock(ticket, kind)
        if row is not None and row.state != ClockState.MET.value:
            await sla.change_clock(session, ticket, row, calendar, settings, "meet", now)


def log_entry(
    ticket: TicketRow,
    author: str,
    kind: str,
    text: str,
    now: datetime,
    visibility: str = "internal",
    **extra: Any,
) -> ProgressRow:
    return ProgressRow(
        ticket_id=ticket.id,
        at=now,
        author=author,
        kind=kind,
        text=text,
        visibility=visibility,
        parts=extra.get("parts", []),
        fee_kind=extra.get("fee_kind"),
        fee_amount=extra.get("fee_amount"),
    )


async def acknowledge(
    session: AsyncSession,
    ticket: TicketRow,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> None:
    ticket.status = check_transition("acknowledge", Status(ticket.status), ticket.ticket_no).value
    ticket.acknowledged_at = now
    await _meet(session, ticket, [SlaClock.ACKNOWLEDGE], now, settings)
    session.add(
        log_entry(ticket, user.subject, "milestone", "已受理 (acknowledged)", now, "customer")
    )


async def assign(
    session: AsyncSession,
    ticket: TicketRow,
    data: dict[str, Any],
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> None:
    check_transition("assign", Status(ticket.status), ticket.ticket_no)
    previous = ticket.assignee_id
    if previous and not (data.get("reason") or "").strip():
        raise DomainError("改派需要填写原因 (a reassignment needs a reason)")
    if previous == data["assignee_id"]:
        raise Conflict(f"工单已派给{previous} (already assigned to this assignee)")
    if data["assignee_kind"] == "dealer":
        ticket.dealer_id = data["assignee_id"]
    ticket.assignee_id, ticket.assignee_kind, ticket.assignee_name = (
        data["assignee_id"],
        data["assignee_kind"],
        data.get("assignee_name"),
    )
    ticket.assigned_at = now
    if Status(ticket.status) in (Status.NEW, Status.ACKNOWLEDGED):
        ticket.status = Status.ASSIGNED.value
        ticket.acknowledged_at = ticket.acknowledged_at or now
        await _meet(session, ticket, [SlaClock.ACKNOWLEDGE], now, settings)
    session.add(
        AssignmentRow(
            ticket_id=ticket.id,
            assignee_id=data["assignee_id"],
            assignee_kind=data["assignee_kind"],
            assigned_by=user.subject,
            assigned_at=now,
            reason=data.get("reason"),
        )
    )
    session.add(
        log_entry(
            ticket,
            user.subject,
            "dispatch",
            f"派单给{data.get('assignee_name') or data['assignee_id']}"
            + (f"（原因：{data['reason']}）" if previous else ""),
            now,
        )
    )
    await enqueue(
        session,
        Envelope(
            subject=ticket.ticket_no,
            data=TicketAssignedV1(
                ticket_id=ticket.id,
                ticket_no=ticket.ticket_no,
                assigned_at=now,
                assignee_id=data["assignee_id"],
                assignee_kind=data["assignee_kind"],
                assignee_name=data.get("assignee_name"),
                assignee_phone=data.get("assignee_phone"),
                assignee_email=data.get("assignee_email"),
                assigned_by=user.subject,
                reason=data.get("reason"),
                previous_assignee_id=previous,
                urgency=Urgency(ticket.urgency),
                customer_id=ticket.customer_id,
                customer_name=ticket.customer_name,
                contact=_contact(ticket),
                dealer_id=ticket.dealer_id,
                resolution_due=next(
                    (c.deadline for c in ticket.clocks if c.kind == "resolution"), None
                ),
            ),
        ),
    )


def _contact(ticket: TicketRow) -> Contact:
    return Contact(name=ticket.contact_name, phone=ticket.contact_phone, email=ticket.contact_email)


def _require_handler(ticket: TicketRow, user: Principal) -> None:
    """Engineers act only on their own tickets; dealers on their dealer's; service staff on all."""
    if user.has(Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR):
        return
    if ticket.assignee_id == user.subject or (
        Role.DEALER in user.roles and ticket.dealer_id == dealer_scope(user)
    ):
        return
    raise Forbidden(
        "只有被派单的工程师或客服可以操作此工单 (only the assignee or service staff may do this)"
    )


async def respond(
    session: AsyncSession,
    ticket: TicketRow,
    note: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> None:
    check_transition("respond", Status(ticket.status), ticket.ticket_no)
    _require_handler(ticket, user)
    ticket.first_response_at = ticket.first_response_at or now
    ticket.acknowledged_at = ticket.acknowledged_at or now
    if ticket.status == Status.NEW.value:
        ticket.status = Status.ACKNOWLEDGED.value
    await _meet(session, ticket, [SlaClock.ACKNOWLEDGE, SlaClock.RESPONSE], now, settings)
    session.add(log_entry(ticket, user.subject, "response", note, now, "customer"))


async def onsite(
    session: AsyncSession,
    ticket: TicketRow,
    note: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> None:
    ticket.status = check_transition("onsite", Status(ticket.status), ticket.ticket_no).value
    _require_handler(ticket, user)
    ticket.onsite_at = ticket.onsite_at or now
    ticket.first_response_at = ticket.first_response_at or now
    await _meet(
        session, ticket, [SlaClock.ACKNOWLEDGE, SlaClock.RESPONSE, SlaClock.ONSITE], now, settings
    )
    session.add(
        log_entry(
            ticket,
            user.subject,
            "milestone",
            note or "工程师到达现场 (engineer on site)",
            now,
            "customer",
        )
    )


async def pause(
    session: AsyncSession,
    ticket: TicketRow,
    reason: str,
    note: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> None:
    check_transition("pause", Status(ticket.status), ticket.ticket_no)
    _require_handler(ticket, user)
    calendar = await calendar_for(session, ticket.calendar_id)
    for row in ticket.clocks:
        await sla.change_clock(session, ticket, row, calendar, settings, "pause", now)
    ticket.status = reason
    session.add(log_entry(ticket, user.subject, "pause", note or reason, now))


async def resume(
    session: AsyncSession,
    ticket: TicketRow,
    note: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> None:
    check_transition("resume", Status(ticket.status), ticket.ticket_no)
    _require_handler(ticket, user)
    calendar = await calendar_for(session, ticket.calendar_id)
    for row in ticket.clocks:
        await sla.change_clock(
            session, ticket, row, calendar, settings, "resume", now, reason="resumed"
        )
    ticket.status = (
        Status.IN_PROGRESS
        if ticket.onsite_at
        else Status.ASSIGNED
        if ticket.assignee_id
        else Status.ACKNOWLEDGED
    ).value
    session.add(log_entry(ticket, user.subject, "resume", note or "恢复处理 (resumed)", now))


async def change_urgency(
    session: AsyncSession,
    ticket: TicketRow,
    urgency: Urgency,
    reason: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> None:
    """New targets from the entitlement for the new urgency; time used so far (and paused time) is kept."""
    check_transition("urgency", Status(ticket.status), ticket.ticket_no)
    if urgency.value == ticket.urgency:
        raise Conflict(f"紧急程度已是{urgency.value} (urgency unchanged)")
    policy = await _policy(session, ticket, urgency)
    calendar = await calendar_for(session, policy.calendar)
    targets = clock_targets(policy, RequestType(ticket.request_type), calendar, ticket.opened_at)
    for kind, target in targets.items():
        row = _clock(ticket, kind)
        if row is None:  # e.g. the new urgency promises an on-site visit
            row = ClockRow(
                kind=kind.value,
                target_seconds=int(target.total_seconds()),
                state=ClockState.RUNNING.value,
                started_at=ticket.opened_at,
                elapsed_seconds=0.0,
                running_since=ticket.opened_at,
                escalation_level=0,
            )
            ticket.clocks.append(row)
            await session.flush()
        await sla.change_clock(
            session,
            ticket,
            row,
            calendar,
            settings,
            "recompute",
            now,
            reason=f"urgency {ticket.urgency} → {urgency.value}",
            target=target,
        )
    session.add(
        log_entry(
            ticket,
            user.subject,
            "urgency",
            f"紧急程度 {ticket.urgency} → {urgency.value}：{reason}",
            now,
        )
    )
    ticket.urgency, ticket.policy = urgency.value, policy.__dict__ | {"urgency": urgency.value}


async def _policy(session: AsyncSession, ticket: TicketRow, urgency: Urgency) -> Policy:
    ent = await session.get(EntitlementRow, ticket.contract_no) if ticket.contract_no else None
    if ent is None:
        return DEFAULT_POLICIES[urgency]
    return policy_from_levels(ent.service_levels, urgency, ent.calendar, ent.contract_no)


async def add_progress(
    session: AsyncSession, ticket: TicketRow, data: dict[str, Any], user: Principal, now: datetime
) -> ProgressRow:
    check_transition("log", Status(ticket.status), ticket.ticket_no)
    _require_handler(ticket, user)
    fee = data.get("fee")
    row = log_entry(
        ticket,
        user.subject,
        data["kind"],
        data["text"],
        now,
        data["visibility"],
        parts=[{"name": p["name"], "quantity": p["quantity"]} for p in data.get("parts") or []],
        fee_kind=fee["kind"] if fee else None,
        fee_amount=Decimal(fee["amount"]) if fee else None,
    )
    session.add(row)
    await session.flush()
    return row


async def resolve(
    session: AsyncSession,
    ticket: TicketRow,
    note: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> None:
    ticket.status = check_transition("resolve", Status(ticket.status), ticket.ticket_no).value
    _require_handler(ticket, user)
    ticket.resolved_at = now
    await _meet(session, ticket, list(SlaClock), now, settings)
    session.add(
        log_entry(ticket, user.subject, "milestone", note or "已修复 (repaired)", now, "customer")
    )


async def complete(
    session: AsyncSession,
    ticket: TicketRow,
    data: dict[str, Any],
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> CompletionRow:
    if ticket.assignee_id is None and Status(ticket.status) in OPEN_STATUSES:
        raise Conflict(
            f"工单{ticket.ticket_no}尚未派单，不能完成 (cannot complete an unassigned ticket)"
        )
    ticket.status = check_transition("complete", Status(ticket.status), ticket.ticket_no).value
    _require_handler(ticket, user)
    if data["confirmed_at"] > now + timedelta(minutes=5):
        raise DomainError("确认时间不能晚于当前时间 (confirmation cannot be in the future)")
    ticket.completed_at = now
    ticket.resolved_at = ticket.resolved_at or now
    await _meet(session, ticket, list(SlaClock), now, settings)
    completion = CompletionRow(
        ticket_id=ticket.id,
        document=data["document"],
        confirmed_by=data["confirmed_by"],
        confirmed_at=data["confirmed_at"],
        method=data["method"],
        remarks=data.get("remarks"),
        recorded_by=user.subject,
        recorded_at=now,
    )
    session.add(completion)
    session.add(
        log_entry(
            ticket,
            user.subject,
            "milestone",
            f"客户{data['confirmed_by']}确认完成 (customer confirmed)",
            now,
            "customer",
        )
    )
    await enqueue(
        session,
        Envelope(
            subject=ticket.ticket_no,
            data=ServiceCompletedV1(
                ticket_id=ticket.id,
                ticket_no=ticket.ticket_no,
                completed_at=now,
                request_type=ticket.request_type,
                channel=ticket.channel,
                customer_id=ticket.customer_id,
                customer_name=ticket.customer_name,
                contact=_contact(ticket),
                confirmed_by=data["confirmed_by"],
                confirmation_method=data["method"],
                engineer_id=ticket.assignee_id if ticket.assignee_kind == "engineer" else None,
                dealer_id=ticket.dealer_id,
                contract_no=ticket.contract_no,
                product_model=ticket.product_model,
                serial_no=ticket.serial_no,
                within_sla=not any(c.breached_at for c in ticket.clocks),
            ),
        ),
    )
    return completion


async def reopen(
    session: AsyncSession,
    ticket: TicketRow,
    reason: str,
    user: Principal,
    now: datetime,
    settings: TicketsSettings,
) -> None:
    can_reopen(
        ticket.completed_at, now, timedelta(days=settings.reopen_window_days), ticket.ticket_no
    )
    calendar = await calendar_for(session, ticket.calendar_id)
    row = _clock(ticket, SlaClock.RESOLUTION)
    if row is not None:  # the resolution clock runs on from where it stopped
        row.state, row.met_at, row.running_since = ClockState.PAUSED.value, None, None
        await sla.change_clock(
            session, ticket, row, calendar, settings, "resume", now, reason="reopened"
        )
    ticket.status, ticket.completed_at, ticket.resolved_at = Status.IN_PROGRESS.value, None, None
    ticket.reopen_count += 1
    session.add(log_entry(ticket, user.subject, "reopen", reason, now, "customer"))
    await enqueue(
        session,
        Envelope(
            subject=ticket.ticket_no,
            data=TicketReopenedV1(
                ticket_id=ticket.id,
                ticket_no=ticket.ticket_no,
                reopened_at=now,
                reason=reason,
                reopened_by=user.subject,
            ),
        ),
    )


async def provide_loaner(
    session: AsyncSession, ticket: TicketRow, data: dict[str, Any], user: Principal, now: datetime
) -> LoanerRow:
    if Status(ticket.status) not in OPEN_STATUSES:
        raise Conflict(f"工单{ticket.ticket_no}已完成 (ticket is completed)")
    promise = ticket.policy.get("loaner_after_minutes")
    if promise is None and not (data.get("reason") or "").strip():
        raise DomainError(
            "合同未承诺备用机，需填写原因 (the contract promises no loaner: give a reason)"
        )
    row = LoanerRow(
        ticket_id=ticket.id,
        serial_no=data["serial_no"],
        model=data["model"],
        provided_at=now,
        provided_by=user.subject,
        reason=data.get("reason") or f"{promise}分钟内未修复，按合同提供备用机",
    )
    session.add(row)
    session.add(
        log_entry(
            ticket,
            user.subject,
            "loaner",
            f"提供备用机 {data['model']} {data['serial_no']}",
            now,
            "customer",
        )
    )
    await session.flush()
    return row


async def list_tickets(
    session: AsyncSession, user: Principal, f: dict[str, Any], limit: int, offset: int
) -> tuple[list[TicketRow], int]:
    query = select(TicketRow)
    if not user.has(*STAFF_ROLES):
        scope = dealer_scope(user)
        conds = []
        if Role.ENGINEER in user.roles:
            conds.append(TicketRow.assignee_id == user.subject)
        if scope:
            conds.append(TicketRow.dealer_id == scope)
        if Role.PARTNER in user.roles:  # a partner system's token names its channel as subject
            conds.append(TicketRow.channel == user.subject)
        if customer_scope(user) is not None:  # a customer: its own tickets only
            conds.append(TicketRow.customer_id == customer_scope(user))
        if not conds:
            raise Forbidden("无权查看工单 (this role cannot list tickets)")
        query = query.where(or_(*conds))
    for column in (
        "status",
        "urgency",
        "sla_state",
        "assignee_id",
        "customer_id",
        "product_model",
        "serial_no",
        "dealer_id",
        "channel",
        "external_ref",
    ):
        if f.get(column):
            query = query.where(getattr(TicketRow, column) == f[column])
    if f.get("open_only"):
        query = query.where(TicketRow.status != Status.COMPLETED.value)
    if f.get("opened_from"):
        query = query.where(TicketRow.opened_at >= f["opened_from"])
    if f.get("opened_to"):
        query = query.where(TicketRow.opened_at < f["opened_to"])
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (
        await session.scalars(
            query.order_by(TicketRow.opened_at.desc(), TicketRow.ticket_no.desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return list(rows), total


async def supervisor_queue(
    session: AsyncSession, limit: int, offset: int
) -> tuple[list[TicketRow], int]:
    """Unassigned open tickets and open ones at risk (warned or breached), most urgent first."""
    query = select(TicketRow).where(
        TicketRow.status != Status.COMPLETED.value,
        or_(TicketRow.assignee_id.is_(None), TicketRow.sla_state.in_(["warning", "breached"])),
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    next_deadline = (
        select(func.min(ClockRow.deadline))
        .where(and_(ClockRow.ticket_id == TicketRow.id, ClockRow.state == "running"))
        .correlate(TicketRow)
        .scalar_subquery()
    )
    rows = (
        await session.scalars(
            query.order_by(next_deadline.asc().nulls_last(), TicketRow.opened_at)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return list(rows), total


async def progress_of(
    session: AsyncSession, ticket: TicketRow, customer_view: bool
) -> list[ProgressRow]:
    query = select(ProgressRow).where(ProgressRow.ticket_id == ticket.id)
    if customer_view:
        query = query.where(ProgressRow.visibility == "customer")
    return list((await session.scalars(query.order_by(ProgressRow.id))).all())


def new_id() -> str:
    return str(uuid.uuid4())


async def recompute_clocks(
    session: AsyncSession,
    calendar_ids: list[str] | None,
    since: datetime,
    reason: str,
    now: datetime,
    settings: TicketsSettings,
) -> tuple[int, int]:
    """After a calendar change: recompute running clocks whose deadline falls on/after `since`."""
    query = (
        select(ClockRow)
        .join(TicketRow, TicketRow.id == ClockRow.ticket_id)
        .where(ClockRow.state == ClockState.RUNNING.value, ClockRow.deadline >= since)
        .order_by(ClockRow.id)
        .with_for_update(of=ClockRow)
    )
    if calendar_ids is not None:
        query = query.where(TicketRow.calendar_id.in_(calendar_ids))
    rows = (await session.scalars(query)).all()
    calendars: dict[str, Any] = {}
    changed = 0
    for row in rows:
        ticket = await session.get(TicketRow, row.ticket_id)
        if ticket.calendar_id not in calendars:
            calendars[ticket.calendar_id] = await calendar_for(session, ticket.calendar_id)
        before = row.deadline
        await sla.change_clock(
            session,
            ticket,
            row,
            calendars[ticket.calendar_id],
            settings,
            "recompute",
            now,
            reason=reason,
        )
        changed += row.deadline != before
    return len(rows), changed
