"""Complaints as a process (投诉处理, seeds 002 第九条 and 000 投诉处理确认书): every complaint
ticket has a complaint record from the moment it is opened — its level, its owner (a supervisor,
never nobody) and the clocks of its steps: acknowledgement → the time limit told to the customer →
investigation (findings) → a proposed resolution, which the customer accepts or rejects through a
single-use link (or staff record the answer: who, when, how). A rejection escalates: one level up
(a serious complaint goes to management) and the clocks restart for a new proposal. Each missed
step is announced once (ComplaintOverdue); a complaint ticket is completed only after an accepted
resolution."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role, dealer_scope
from aftersales_shared.db import CLOCK_SKEW
from aftersales_shared.errors import Conflict, DomainError, Forbidden, NotFound
from aftersales_shared.events import (
    ComplaintClassifiedV1,
    ComplaintEscalatedV1,
    ComplaintLevel,
    ComplaintLimitToldV1,
    ComplaintOverdueV1,
    ComplaintResolutionProposedV1,
    ComplaintStep,
    ComplaintType,
    Envelope,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.publiclinks import hash_token, new_token, well_formed_token
from aftersales_shared.scheduler import cancel, schedule
from aftersales_shared.sealing import mask_link, seal
from aftersales_shared.workcalendar import WorkCalendar

from ..calendar_cache import calendar_for
from ..domain import (
    CLOCKED_STAGES,
    COMPLAINT_CLOCKS,
    LEVEL_ZH,
    RESTARTED_STAGES,
    STAGE_ZH,
    ComplaintStage,
    RequestType,
    check_complaint_step,
    contact_of,
    escalated,
    promise_due,
)
from ..models import (
    ComplaintClockRow,
    ComplaintProposalRow,
    ComplaintRow,
    ComplaintSignatureRow,
    QualityAuditRow,
    TicketRow,
)
from ..settings import TicketsSettings
from . import quality_audit, service_sheet
from .access import STAFF_ROLES, visible_to
from .complaint_scope import engineer_of, engineer_sees, worked_on
from .progress import log_entry

STEP_DUE = "complaint_step_due"
ENTITY = "complaint"
LINK_ACTOR = "customer:link"  # who recorded an answer given on the confirmation page


# ------------------------------------------------------------------ commands and filters
@dataclass(frozen=True)
class LimitTold:
    """The time limit told to the customer (处理时限): resolved by close of business that day."""

    promised_date: date
    via: str  # phone | sms | email | onsite | wechat
    note: str | None = None


@dataclass(frozen=True)
class CustomerAnswer:
    """The customer's answer to a proposed resolution (投诉处理确认书), as staff record it."""

    outcome: str  # accepted | rejected
    confirmed_by: str
    confirmed_at: datetime
    method: str  # phone | signature | onsite
    reason: str | None = None
    remarks: str | None = None


@dataclass(frozen=True)
class ComplaintFilters:
    level: str | None = None
    stage: str | None = None
    owner_id: str | None = None
    overdue: bool | None = None
    open_only: bool = False


# ------------------------------------------------------------------ owners
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


# ------------------------------------------------------------------ opening
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
        await _arm(session, row, CLOCKED_STAGES, calendar)
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
        await _classified(session, row, "opened", c.actor, c.now, t.dealer_id)


async def _classified(
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


def job_key(ticket_id: str, round_: int, stage: ComplaintStage | str) -> str:
    return f"{ticket_id}:{round_}:{ComplaintStage(stage).value}"


async def _arm(
    session: AsyncSession,
    row: ComplaintRow,
    stages: Iterable[ComplaintStage],
    calendar: WorkCalendar,
) -> None:
    """The round's clocks of these steps, counted from the start of the round."""
    clocks = COMPLAINT_CLOCKS[ComplaintLevel(row.level)]
    for stage in stages:
        due = clocks.span(stage).due(calendar, row.round_started_at)
        row.clocks.append(
            ComplaintClockRow(
                ticket_id=row.ticket_id, round=row.round, stage=stage.value, due_at=due
            )
        )
        await schedule(session, STEP_DUE, job_key(row.ticket_id, row.round, stage), due)


def _clock(row: ComplaintRow, stage: ComplaintStage) -> ComplaintClockRow | None:
    return next((c for c in row.clocks if c.round == row.round and c.stage == stage.value), None)


async def _meet(session: AsyncSession, row: ComplaintRow, stage: ComplaintStage, now: datetime):
    clock = _clock(row, stage)
    if clock is not None and clock.met_at is None:
        clock.met_at = now
        await cancel(session, STEP_DUE, job_key(row.ticket_id, row.round, stage))


# ------------------------------------------------------------------ reading
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


# ------------------------------------------------------------------ steps
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
    await _meet(session, row, ComplaintStage.ACKNOWLEDGEMENT, now)
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
    await _meet(session, row, ComplaintStage.LIMIT, now)
    row.stage, row.promised_date = target.value, cmd.promised_date
    row.limit_told_at, row.limit_told_by, row.limit_told_via = now, user.subject, cmd.via
    resolution = _clock(row, ComplaintStage.RESOLUTION)
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
    await _meet(session, row, ComplaintStage.INVESTIGATION, now)
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
        await _classified(session, row, "typed", user.subject, now, row.ticket.dealer_id)
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
    await _meet(session, row, ComplaintStage.RESOLUTION, now)
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
    await _answer(
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


# ------------------------------------------------------------------ the confirmation page
class LinkUnknown(NotFound):
    code = "complaint_link_unknown"


class LinkUsed(Conflict):
    code = "complaint_link_used"


class LinkExpired(DomainError):
    status = 410
    code = "complaint_link_expired"


class LinkSuperseded(Conflict):
    code = "complaint_link_superseded"


async def by_token(session: AsyncSession, token: str) -> ComplaintProposalRow:
    """The proposal a link names (a malformed token is as unknown as a wrong one)."""
    if not well_formed_token(token):
        raise LinkUnknown("确认链接无效 (unknown confirmation link)")
    query = select(ComplaintProposalRow).where(ComplaintProposalRow.token_hash == hash_token(token))
    proposal = await session.scalar(query)
    if proposal is None:
        raise LinkUnknown("确认链接无效 (unknown confirmation link)")
    return proposal


def check_link_open(row: ComplaintRow, proposal: ComplaintProposalRow, now: datetime) -> None:
    """Raise unless the customer may still answer this proposal on the page."""
    if proposal.outcome is not None:
        raise LinkUsed("该处理方案已确认过，链接只能使用一次 (this link was already used)")
    if proposal.round != row.round or ComplaintStage(row.stage) is not ComplaintStage.CONFIRMATION:
        raise LinkSuperseded("该处理方案已不再有效 (this proposal is no longer open)")
    if proposal.expires_at is not None and now >= proposal.expires_at:
        raise LinkExpired("确认链接已过期 (this confirmation link has expired)")


async def open_link(
    session: AsyncSession, token: str, now: datetime
) -> tuple[ComplaintRow, ComplaintProposalRow]:
    """The proposal behind a link, if the customer may still answer it."""
    proposal = await by_token(session, token)
    row = await session.get(ComplaintRow, proposal.ticket_id)
    assert row is not None
    check_link_open(row, proposal, now)
    return row, proposal


@dataclass(frozen=True)
class PageAnswer:
    """What the customer sent from the confirmation page."""

    decision: str  # accept | reject
    signer: str
    reason: str | None = None


SIGNER_MAX, REASON_MAX = 100, 2000


class PageAnswerInvalid(DomainError):
    """Fields of the page's form are wrong; `errors` maps each to a message (zh-CN)."""

    code = "complaint_answer_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(
            "确认书填写有误 (answer invalid): " + "; ".join(errors.values()), errors=errors
        )
        self.errors = errors


def validate_page_answer(raw: dict[str, str | None]) -> PageAnswer:
    errors: dict[str, str] = {}
    decision = (raw.get("decision") or "").strip()
    signer = (raw.get("signer") or "").strip()
    reason = (raw.get("reason") or "").replace("\r\n", "\n").strip()
    if decision not in ("accept", "reject"):
        errors["decision"] = "请选择接受或不接受处理方案 (choose accept or reject)"
    if not signer:
        errors["signer"] = "请填写确认人姓名 (your name, as your signature)"
    elif len(signer) > SIGNER_MAX or any(ord(c) < 32 for c in signer):
        errors["signer"] = f"姓名最多{SIGNER_MAX}个字 (at most {SIGNER_MAX} characters)"
    if decision == "reject" and not reason:
        errors["reason"] = "不接受时请写明原因 (tell us why you do not accept)"
    elif len(reason) > REASON_MAX or any(ord(c) < 32 and c not in "\n\t" for c in reason):
        errors["reason"] = f"原因最多{REASON_MAX}个字 (at most {REASON_MAX} characters)"
    if errors:
        raise PageAnswerInvalid(errors)
    return PageAnswer(decision, signer, reason or None)


async def answer_by_link(
    session: AsyncSession, token: str, raw: dict[str, str | None], now: datetime
) -> ComplaintProposalRow:
    """The customer answers on the page: signs with a name, accepts, or rejects with a reason.

    The complaint row is locked first, as every step that writes a proposal does (staff recording
    the answer at the same moment wait for each other, never deadlock); the proposal is read again
    under that lock."""
    found = await by_token(session, token)
    row = await session.get(
        ComplaintRow, found.ticket_id, with_for_update=True, populate_existing=True
    )
    assert row is not None
    proposal = await session.get(ComplaintProposalRow, found.id, populate_existing=True)
    assert proposal is not None
    check_link_open(row, proposal, now)
    answer = validate_page_answer(raw)
    image = _page_signature(raw.get("signature"))
    await _answer(
        session,
        row,
        proposal,
        accepted=answer.decision == "accept",
        confirmed_by=answer.signer,
        method="link" if image is None else "signature",
        reason=answer.reason,
        remarks=None,
        recorded_by=LINK_ACTOR,
        answered_at=now,
        now=now,
    )
    if image is not None:
        session.add(_signature_row(row, proposal, answer, image, now))
    return proposal


def _page_signature(data_url: str | None) -> bytes | None:
    """The finger signature the page may send with the answer (optional: the page works without
    JavaScript, and then the typed name is the signature)."""
    if not data_url:
        return None
    try:
        return service_sheet.decode_signature(data_url)
    except service_sheet.SignatureInvalid as exc:
        raise PageAnswerInvalid(exc.errors) from None


def confirmation_content(
    row: ComplaintRow, proposal: ComplaintProposalRow, answer: PageAnswer
) -> dict[str, Any]:
    """What the customer signs on the 投诉处理确认书: the complaint, the proposal, the answer."""
    return {
        "document": "complaint_confirmation",
        "ticket_no": row.ticket_no,
        "customer": row.ticket.customer_name,
        "complaint": row.ticket.description,
        "findings": row.findings,
        "promised_date": row.promised_date.isoformat() if row.promised_date else None,
        "proposal": {
            "round": proposal.round,
            "resolution": proposal.resolution,
            "proposed_at": proposal.proposed_at.isoformat(),
        },
        "decision": answer.decision,
        "reason": answer.reason,
        "signer": answer.signer,
    }


def _signature_row(
    row: ComplaintRow,
    proposal: ComplaintProposalRow,
    answer: PageAnswer,
    image: bytes,
    now: datetime,
) -> ComplaintSignatureRow:
    text = service_sheet.canonical(confirmation_content(row, proposal, answer))
    return ComplaintSignatureRow(
        proposal_id=proposal.id,
        ticket_id=row.ticket_id,
        signer_name=answer.signer,
        signed_at=now,
        content=text,
        content_sha256=service_sheet.sha256_hex(text),
        image=image,
        image_sha256=service_sheet.sha256_hex(image),
    )


async def _answer(
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
    await _arm(session, row, RESTARTED_STAGES, calendar)
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
    await _classified(session, row, "escalated", actor, now, ticket.dealer_id)
    said = (
        f"客户不接受处理方案（原因：{reason}），投诉升级为{LEVEL_ZH[level]}"
        + ("并上报管理层" if row.management else "")
        + " (rejected: escalated)"
    )
    session.add(log_entry(ticket, actor, "complaint", said, now, "customer"))


# ------------------------------------------------------------------ level and owner
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
    await _classified(session, row, "level_changed", user.subject, now, row.ticket.dealer_id)
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


# ------------------------------------------------------------------ the ticket's completion
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


# ------------------------------------------------------------------ deadlines
async def step_overdue(session: AsyncSession, key: str, now: datetime) -> None:
    """A step not done by its deadline: ComplaintOverdue, once per step and round."""
    ticket_id, round_, stage = key.rsplit(":", 2)
    clock = await session.scalar(
        select(ComplaintClockRow)
        .where(
            ComplaintClockRow.ticket_id == ticket_id,
            ComplaintClockRow.round == int(round_),
            ComplaintClockRow.stage == stage,
        )
        .with_for_update()
    )
    if clock is None or clock.met_at is not None or clock.overdue_at is not None:
        return
    if clock.due_at > now:
        return
    row = await session.get(ComplaintRow, ticket_id)
    if row is None or row.round != clock.round:
        return
    clock.overdue_at = now
    ticket = row.ticket
    await enqueue(
        session,
        Envelope(
            subject=row.ticket_no,
            data=ComplaintOverdueV1(
                ticket_id=row.ticket_id,
                ticket_no=row.ticket_no,
                stage=ComplaintStep(stage),
                level=ComplaintLevel(row.level),
                round=row.round,
                owner_id=row.owner_id,
                due_at=clock.due_at,
                overdue_at=now,
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
        "overdue",
        "system",
        now,
        stage=stage,
        round=row.round,
        due_at=clock.due_at,
    )
