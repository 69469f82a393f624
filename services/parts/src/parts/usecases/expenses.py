"""Expense claims (费用报销): an engineer's trip with its lines and receipts, the submission
deadline on the working calendar (armed on the shared scheduler, fired once: ExpenseClaimOverdue),
approval by a supervisor, settlement by finance; every change audited and announced through the
outbox. Every function runs in the caller's transaction and takes `now`."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role
from aftersales_shared.calendars import load_calendar
from aftersales_shared.db import one_of, paged, upsert_insert
from aftersales_shared.errors import Conflict, DomainError, Forbidden, NotFound
from aftersales_shared.events import (
    Envelope,
    ExpenseClaimApprovedV1,
    ExpenseClaimOverdueV1,
    ExpenseClaimRejectedV1,
    ExpenseClaimSettledV1,
    ExpenseClaimSubmittedV1,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule
from aftersales_shared.storage import FileStorage, StoredTooLarge
from aftersales_shared.workcalendar import WorkCalendar

from .. import expenses as x
from ..models import (
    CostLineRow,
    ExpenseClaimEventRow,
    ExpenseClaimRow,
    ExpenseLineRow,
    ExpenseLineTicketRow,
    ExpenseReceiptRow,
    TicketEngineerRow,
)

SUBMIT_DUE_JOB = "parts.expense_claim_submit_due"
APPROVAL_DUE_JOB = "parts.expense_claim_approval_due"
SCHEDULER_ACTOR = "system:scheduler"
MAX_RECEIPTS = 50
# receipts: photos of paper tickets and invoices, or the PDF of an 电子发票
RECEIPT_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}


@dataclass(frozen=True)
class ExpenseConfig:
    working_days: int
    calendar_id: str
    timezone: str
    approval_working_days: int = 3


@dataclass(frozen=True)
class Trip:
    trip_start: date
    trip_end: date
    destination: str
    lines: list[x.Line]
    purpose: str | None = None
    engineer_name: str | None = None


# ---------------------------------------------------------------- reading
def view(row: ExpenseClaimRow) -> x.ClaimView:
    return x.ClaimView(
        claim_no=row.claim_no,
        engineer_id=row.engineer_id,
        state=x.ClaimState(row.state),
        overdue=row.overdue,
        submit_due_at=row.submit_due_at,
        late_exception=row.late_exception_reason is not None,
    )


def not_found(claim_id: int) -> NotFound:
    return NotFound(f"报销单{claim_id}不存在 (no expense claim {claim_id})")


async def get_claim(
    session: AsyncSession, claim_id: int, user: Principal, *, lock: bool = False
) -> ExpenseClaimRow:
    """The claim if the user may see it; another engineer's claim answers as a missing one."""
    stmt = select(ExpenseClaimRow).where(ExpenseClaimRow.claim_id == claim_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or not x.may_see(view(row), user):
        raise not_found(claim_id)
    return row


async def lines_of(session: AsyncSession, claim_id: int) -> list[ExpenseLineRow]:
    rows = await session.scalars(
        select(ExpenseLineRow)
        .where(ExpenseLineRow.claim_id == claim_id)
        .order_by(ExpenseLineRow.line_no)
    )
    return list(rows)


async def receipts_of(session: AsyncSession, claim_id: int) -> list[ExpenseReceiptRow]:
    rows = await session.scalars(
        select(ExpenseReceiptRow)
        .where(ExpenseReceiptRow.claim_id == claim_id)
        .order_by(ExpenseReceiptRow.receipt_id)
    )
    return list(rows)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


async def claim_out(session: AsyncSession, row: ExpenseClaimRow) -> dict[str, Any]:
    """The claim with its lines, receipts and totals per category (CNY strings)."""
    lines = await lines_of(session, row.claim_id)
    receipts = await receipts_of(session, row.claim_id)
    total, per = x.totals((line.category, line.amount) for line in lines)
    return {
        **{c.key: getattr(row, c.key) for c in ExpenseClaimRow.__table__.columns},
        "state_zh": x.STATE_ZH[x.ClaimState(row.state)],
        "total": _money(total),
        "category_totals": [
            {"category": c.value, "label": x.CATEGORY_ZH[c], "total": _money(per[c.value])}
            for c in x.Category
        ],
        "lines": [
            {
                "line_no": line.line_no,
                "spent_on": line.spent_on,
                "category": line.category,
                "category_zh": x.CATEGORY_ZH[x.Category(line.category)],
                "amount": _money(line.amount),
                "note": line.note,
                "ticket_nos": list(line.ticket_nos),
                "receipts": [r.receipt_id for r in receipts if r.line_no == line.line_no],
            }
            for line in lines
        ],
        "receipts": [receipt_out(r) for r in receipts],
    }


def receipt_out(r: ExpenseReceiptRow) -> dict[str, Any]:
    return {
        c.key: getattr(r, c.key)
        for c in ExpenseReceiptRow.__table__.columns
        if c.key != "storage_key"
    }


async def list_claims(
    session: AsyncSession,
    user: Principal,
    *,
    state: x.ClaimState | None,
    engineer: str | None,
    month: str | None,
    overdue: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[ExpenseClaimRow], int]:
    """Claims, newest trip first; an engineer's own only (another engineer's filter finds none)."""
    query = select(ExpenseClaimRow)
    if not user.has(*x.ALL_CLAIMS_READERS):
        query = query.where(ExpenseClaimRow.engineer_id == user.subject)
    if engineer:
        query = query.where(ExpenseClaimRow.engineer_id == engineer)
    if state is not None:
        query = query.where(ExpenseClaimRow.state == state.value)
    if month:
        first, nxt = x.month_bounds(month)
        query = query.where(ExpenseClaimRow.trip_end >= first, ExpenseClaimRow.trip_end < nxt)
    if overdue is not None:
        query = query.where(ExpenseClaimRow.overdue.is_(overdue))
    order = (ExpenseClaimRow.trip_end.desc(), ExpenseClaimRow.claim_id.desc())
    return await paged(session, query, order, limit, offset)


async def history(
    session: AsyncSession, claim_id: int, user: Principal
) -> list[ExpenseClaimEventRow]:
    await get_claim(session, claim_id, user)
    rows = await session.scalars(
        select(ExpenseClaimEventRow)
        .where(ExpenseClaimEventRow.claim_id == claim_id)
        .order_by(ExpenseClaimEventRow.event_id)
    )
    return list(rows)


# ---------------------------------------------------------------- writing a claim
async def _calendar(session: AsyncSession, cfg: ExpenseConfig) -> WorkCalendar:
    return await load_calendar(session, cfg.calendar_id, cfg.timezone)


async def check_tickets(session: AsyncSession, engineer_id: str, lines: list[x.Line]) -> None:
    """Each ticket a line names must be the engineer's as parts knows it: assigned to them
    (TicketAssigned) or with their own labour or travel recorded on it."""
    wanted = sorted({t for line in lines for t in line.ticket_nos})
    if not wanted:
        return
    assigned = set(
        await session.scalars(
            select(TicketEngineerRow.ticket_no).where(
                TicketEngineerRow.engineer_id == engineer_id,
                one_of(session, TicketEngineerRow.ticket_no, wanted),
            )
        )
    )
    worked = set(
        await session.scalars(
            select(CostLineRow.ticket_no).where(
                CostLineRow.person == engineer_id, one_of(session, CostLineRow.ticket_no, wanted)
            )
        )
    )
    foreign = [t for t in wanted if t not in assigned | worked]
    if foreign:
        nos = "、".join(foreign)
        raise DomainError(
            f"工单{nos}未指派给您，也没有您的工时或差旅记录，不能报销到该工单 (ticket(s) {nos} "
            "were never assigned to you and carry none of your labour or travel)",
            code="ticket_not_yours",
        )


async def _audit(
    session: AsyncSession,
    row: ExpenseClaimRow,
    action: str,
    from_state: str | None,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    session.add(
        ExpenseClaimEventRow(
            claim_id=row.claim_id,
            action=action,
            from_state=from_state,
            to_state=row.state,
            actor=actor,
            at=now,
            reason=reason,
        )
    )


async def _write_lines(session: AsyncSession, claim_id: int, lines: list[x.Line]) -> Decimal:
    """Replace the claim's lines (a draft or a rejected claim). A line's receipts follow it to
    the new line of the same date and category (its amount or tickets corrected), or stay with the
    claim as a whole where there is no such line or more than one — removing a middle line must not
    slide later receipts onto other expenses."""
    before = await lines_of(session, claim_id)
    old = [line.line_id for line in before]
    if old:
        await session.execute(
            delete(ExpenseLineTicketRow).where(one_of(session, ExpenseLineTicketRow.line_id, old))
        )
        await session.execute(delete(ExpenseLineRow).where(ExpenseLineRow.claim_id == claim_id))
    places: dict[tuple[Any, str], list[int]] = {}
    for n, line in enumerate(lines, start=1):
        places.setdefault((line.spent_on, line.category.value), []).append(n)
    moves = {}
    for line in before:
        found = places.get((line.spent_on, line.category), [])
        moves[line.line_no] = found[0] if len(found) == 1 else None
    receipts = [r for r in await receipts_of(session, claim_id) if r.line_no is not None]
    for receipt in receipts:
        receipt.line_no = moves.get(receipt.line_no)
    for n, line in enumerate(lines, start=1):
        row = ExpenseLineRow(
            claim_id=claim_id,
            line_no=n,
            spent_on=line.spent_on,
            category=line.category.value,
            amount=line.amount,
            note=line.note,
            ticket_nos=list(line.ticket_nos),
        )
        session.add(row)
        await session.flush()
        session.add_all(
            ExpenseLineTicketRow(line_id=row.line_id, ticket_no=t) for t in line.ticket_nos
        )
    await session.flush()
    return sum((line.amount for line in lines), Decimal("0.00"))


async def _arm(
    session: AsyncSession, row: ExpenseClaimRow, cfg: ExpenseConfig, calendar: WorkCalendar
) -> None:
    """The submission deadline: counted on the working calendar, armed once per claim (moved when
    the trip's end moves)."""
    due = x.submit_due(calendar, row.trip_end, cfg.working_days)
    end = datetime.combine(row.trip_end, x.TRIP_END_TIME, tzinfo=calendar.tz)
    row.submit_due_at, row.due_provisional = due, calendar.is_provisional(end, due)
    await schedule(session, SUBMIT_DUE_JOB, str(row.claim_id), due, {"claim_id": row.claim_id})


async def create_claim(
    session: AsyncSession, trip: Trip, cfg: ExpenseConfig, user: Principal, now: datetime
) -> ExpenseClaimRow:
    """An engineer's draft claim for a trip they made; its deadline is armed at once."""
    if Role.ENGINEER not in user.roles:
        raise Forbidden("只有工程师可以填写费用报销单 (engineers claim their own trips)")
    calendar = await _calendar(session, cfg)
    lines = _checked(trip, x.local_day(now, calendar))
    await check_tickets(session, user.subject, lines)
    row = ExpenseClaimRow(
        claim_no=f"tmp-{uuid.uuid4().hex}",
        engineer_id=user.subject,
        engineer_name=(trip.engineer_name or user.name or None),
        trip_start=trip.trip_start,
        trip_end=trip.trip_end,
        destination=trip.destination.strip(),
        purpose=(trip.purpose or "").strip() or None,
        state=x.ClaimState.DRAFT.value,
        total=Decimal("0.00"),
        submit_due_at=now,
        due_provisional=False,
        overdue=False,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    row.claim_no = f"BX-{x.local_day(now, calendar):%Y%m%d}-{row.claim_id:04d}"
    row.total = await _write_lines(session, row.claim_id, lines)
    await _arm(session, row, cfg, calendar)
    await _audit(session, row, "created", None, user.subject, now)
    await session.flush()
    return row


def _checked(trip: Trip, today: date) -> list[x.Line]:
    if not trip.destination.strip():
        raise DomainError("请填写出差目的地 (the destination is required)")
    x.check_trip(trip.trip_start, trip.trip_end, today)
    return x.check_lines(trip.lines, trip.trip_start, trip.trip_end)


async def update_claim(
    session: AsyncSession,
    claim_id: int,
    trip: Trip,
    cfg: ExpenseConfig,
    user: Principal,
    now: datetime,
) -> ExpenseClaimRow:
    """The engineer corrects their draft or rejected claim (trip and lines as a whole)."""
    row = await get_claim(session, claim_id, user, lock=True)
    x.check_owner_edits(view(row), user)
    x.check_trip_change(view(row), row.trip_end, trip.trip_end)
    calendar = await _calendar(session, cfg)
    lines = _checked(trip, x.local_day(now, calendar))
    await check_tickets(session, user.subject, lines)
    moved = row.trip_end != trip.trip_end
    row.trip_start, row.trip_end = trip.trip_start, trip.trip_end
    row.destination = trip.destination.strip()
    row.purpose = (trip.purpose or "").strip() or None
    if trip.engineer_name:
        row.engineer_name = trip.engineer_name
    row.total = await _write_lines(session, row.claim_id, lines)
    row.updated_at = now
    if moved and row.state == x.ClaimState.DRAFT.value:
        await _arm(session, row, cfg, calendar)
    await _audit(session, row, "updated", row.state, user.subject, now)
    await session.flush()
    return row


# ---------------------------------------------------------------- receipts
def receipt_too_large(max_bytes: int) -> StoredTooLarge:
    return StoredTooLarge(
        f"凭证文件过大：最大{max_bytes // 1024} KB，请压缩或拍摄清晰的局部后再上传 "
        f"(receipt larger than {max_bytes} bytes)"
    )


def check_receipt(content_type: str | None, data: bytes, max_bytes: int) -> str:
    """JPEG, PNG or PDF only, within the limit, and the bytes must be what the type says."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in RECEIPT_TYPES:
        raise DomainError(
            f"凭证只接受 JPEG、PNG 或 PDF 文件，不接受{kind or '未知类型'} "
            "(receipts: JPEG, PNG or PDF only)",
            code="receipt_type",
        )
    if not data:
        raise DomainError("凭证文件为空 (the file is empty)", code="receipt_empty")
    if len(data) > max_bytes:
        raise receipt_too_large(max_bytes)
    if not data.startswith(RECEIPT_TYPES[kind]):
        raise DomainError(
            f"文件内容不是{kind}，请上传原始的照片或PDF (the content is not a {kind})",
            code="receipt_content",
        )
    return kind


async def add_receipt(
    session: AsyncSession,
    storage: FileStorage,
    claim_id: int,
    line_no: int | None,
    filename: str,
    content_type: str | None,
    data: bytes,
    user: Principal,
    now: datetime,
) -> ExpenseReceiptRow:
    """Keep a receipt for one line or the whole claim (the claimant, while it can be edited)."""
    row = await get_claim(session, claim_id, user, lock=True)
    x.check_owner_edits(view(row), user)
    kind = check_receipt(content_type, data, storage.max_bytes)
    if line_no is not None and line_no not in {
        ln.line_no for ln in await lines_of(session, claim_id)
    }:
        raise DomainError(f"报销单没有第{line_no}行 (no line {line_no} on this claim)")
    if len(await receipts_of(session, claim_id)) >= MAX_RECEIPTS:
        raise Conflict(f"一张报销单最多{MAX_RECEIPTS}个凭证 (at most {MAX_RECEIPTS} receipts)")
    name = (filename or "").strip()[:200] or "receipt"
    # the original name stays in the row; the key only needs to be safe and say the type
    key = f"expense-claims/{claim_id}/{uuid.uuid4().hex}/receipt{EXTENSIONS[kind]}"
    await storage.put(key, data, kind)
    receipt = ExpenseReceiptRow(
        claim_id=claim_id,
        line_no=line_no,
        filename=name,
        content_type=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        uploaded_at=now,
        uploaded_by=user.subject,
    )
    session.add(receipt)
    try:
        await session.flush()
    except Exception:
        await storage.delete(key)
        raise
    return receipt


async def get_receipt(
    session: AsyncSession, claim_id: int, receipt_id: int, user: Principal
) -> ExpenseReceiptRow:
    await get_claim(session, claim_id, user)
    receipt = await session.get(ExpenseReceiptRow, receipt_id)
    if receipt is None or receipt.claim_id != claim_id:
        raise NotFound(f"报销单{claim_id}没有凭证{receipt_id} (no such receipt)")
    return receipt


async def delete_receipt(
    session: AsyncSession, claim_id: int, receipt_id: int, user: Principal
) -> str:
    """The claimant removes a receipt while the claim can be edited; the stored file's key is
    returned for deletion after the commit."""
    row = await get_claim(session, claim_id, user, lock=True)
    x.check_owner_edits(view(row), user)
    receipt = await get_receipt(session, claim_id, receipt_id, user)
    await session.delete(receipt)
    await session.flush()
    return receipt.storage_key


# ---------------------------------------------------------------- the claim's life
async def _facts(session: AsyncSession, row: ExpenseClaimRow) -> dict[str, Any]:
    lines = await lines_of(session, row.claim_id)
    return {
        "claim_id": row.claim_id,
        "claim_no": row.claim_no,
        "assignee_id": row.engineer_id,
        "engineer_name": row.engineer_name,
        "trip_start": row.trip_start,
        "trip_end": row.trip_end,
        "destination": row.destination,
        "total": row.total,
        "ticket_nos": sorted({t for line in lines for t in line.ticket_nos}),
    }


async def _announce(session: AsyncSession, row: ExpenseClaimRow, data: Any, now: datetime) -> None:
    await enqueue(session, Envelope(data=data, subject=row.claim_no, time=now))


async def _submissions(session: AsyncSession, claim_id: int) -> int:
    """How many times the claim was submitted (each submission has its own approval deadline)."""
    return (
        await session.scalar(
            select(func.count())
            .select_from(ExpenseClaimEventRow)
            .where(
                ExpenseClaimEventRow.claim_id == claim_id,
                one_of(session, ExpenseClaimEventRow.action, ["submitted", "resubmitted"]),
            )
        )
        or 0
    )


def _approval_key(claim_id: int, submission: int) -> str:
    return f"{claim_id}/{submission}"


async def submit(
    session: AsyncSession,
    claim_id: int,
    cfg: ExpenseConfig,
    user: Principal,
    now: datetime,
) -> ExpenseClaimRow:
    """The engineer submits (or resubmits after a rejection): every receipt-bound line has its
    receipt; a first submission after the deadline needs a manager's exception. Disarms the
    submission deadline and arms the supervisor's (working days from now)."""
    row = await get_claim(session, claim_id, user, lock=True)
    lines = await lines_of(session, claim_id)
    with_receipt = {r.line_no for r in await receipts_of(session, claim_id)}
    missing = [
        ln.line_no
        for ln in lines
        if x.Category(ln.category) in x.NEEDS_RECEIPT and ln.line_no not in with_receipt
    ]
    x.check_submit(view(row), user, now, missing, len(lines))
    before = row.state
    resubmitted = before == x.ClaimState.REJECTED.value
    row.state, row.submitted_at, row.updated_at = x.ClaimState.SUBMITTED.value, now, now
    row.decided_at = row.decided_by = row.reject_reason = None
    await cancel(session, SUBMIT_DUE_JOB, str(claim_id))
    await _audit(
        session, row, "resubmitted" if resubmitted else "submitted", before, user.subject, now
    )
    await session.flush()
    submission = await _submissions(session, claim_id)
    calendar = await _calendar(session, cfg)
    await schedule(
        session,
        APPROVAL_DUE_JOB,
        _approval_key(claim_id, submission),
        calendar.add_working_days(now, cfg.approval_working_days),
        {
            "claim_id": claim_id,
            "submission": submission,
            "working_days": cfg.approval_working_days,
        },
    )
    await _announce(
        session,
        row,
        ExpenseClaimSubmittedV1(
            **await _facts(session, row),
            submit_due_at=row.submit_due_at,
            resubmitted=resubmitted,
            late_exception=row.late_exception_reason is not None,
            submitted_at=now,
        ),
        now,
    )
    await session.flush()
    return row


async def approve(
    session: AsyncSession, claim_id: int, user: Principal, now: datetime
) -> ExpenseClaimRow:
    row = await get_claim(session, claim_id, user, lock=True)
    x.check_decide(view(row), user)
    await _disarm_approval(session, claim_id)
    row.state, row.decided_at, row.decided_by, row.updated_at = (
        x.ClaimState.APPROVED.value,
        now,
        user.subject,
        now,
    )
    await _audit(session, row, "approved", x.ClaimState.SUBMITTED.value, user.subject, now)
    await _announce(
        session,
        row,
        ExpenseClaimApprovedV1(
            **await _facts(session, row), approved_by=user.subject, approved_at=now
        ),
        now,
    )
    await session.flush()
    return row


async def reject(
    session: AsyncSession, claim_id: int, reason: str, user: Principal, now: datetime
) -> ExpenseClaimRow:
    row = await get_claim(session, claim_id, user, lock=True)
    x.check_decide(view(row), user)
    why = x.reason(reason, "退回原因")
    await _disarm_approval(session, claim_id)
    row.state, row.decided_at, row.decided_by, row.updated_at = (
        x.ClaimState.REJECTED.value,
        now,
        user.subject,
        now,
    )
    row.reject_reason = why
    await _audit(session, row, "rejected", x.ClaimState.SUBMITTED.value, user.subject, now, why)
    await _announce(
        session,
        row,
        ExpenseClaimRejectedV1(
            **await _facts(session, row), rejected_by=user.subject, reason=why, rejected_at=now
        ),
        now,
    )
    await session.flush()
    return row


async def settle(
    session: AsyncSession, claim_id: int, payment_reference: str, user: Principal, now: datetime
) -> ExpenseClaimRow:
    row = await get_claim(session, claim_id, user, lock=True)
    x.check_settle(view(row), user)
    ref = payment_reference.strip()
    if not ref:
        raise DomainError("请填写付款凭证号 (the payment reference is required)")
    row.state, row.settled_at, row.settled_by = x.ClaimState.SETTLED.value, now, user.subject
    row.payment_reference, row.updated_at = ref, now
    await _audit(session, row, "settled", x.ClaimState.APPROVED.value, user.subject, now, ref)
    await _announce(
        session,
        row,
        ExpenseClaimSettledV1(
            **await _facts(session, row),
            payment_reference=ref,
            settled_by=user.subject,
            settled_at=now,
        ),
        now,
    )
    await session.flush()
    return row


async def grant_exception(
    session: AsyncSession, claim_id: int, reason: str, user: Principal, now: datetime
) -> ExpenseClaimRow:
    """A manager lets an overdue draft be submitted after all, with a reason (audited)."""
    row = await get_claim(session, claim_id, user, lock=True)
    x.check_exception(view(row), user, now)
    why = x.reason(reason, "例外原因")
    row.late_exception_reason, row.late_exception_by, row.updated_at = why, user.subject, now
    await _audit(session, row, "late_exception", row.state, user.subject, now, why)
    await session.flush()
    return row


async def submit_overdue(
    session: AsyncSession, claim_id: int, working_days: int, now: datetime
) -> bool:
    """The deadline fired: a claim still a draft is marked overdue and ExpenseClaimOverdue goes
    out, once. A claim submitted meanwhile is left alone."""
    row = await session.get(ExpenseClaimRow, claim_id, with_for_update=True)
    if row is None or row.state != x.ClaimState.DRAFT.value or row.overdue:
        return False
    row.overdue, row.overdue_at, row.updated_at = True, now, now
    await _audit(
        session, row, "overdue", row.state, SCHEDULER_ACTOR, now, "超过提交期限 (past the deadline)"
    )
    await _announce(
        session,
        row,
        ExpenseClaimOverdueV1(
            **await _facts(session, row),
            stage="submission",
            submit_due_at=row.submit_due_at,
            working_days=working_days,
            overdue_at=now,
        ),
        now,
    )
    await session.flush()
    return True


async def _disarm_approval(session: AsyncSession, claim_id: int) -> None:
    submission = await _submissions(session, claim_id)
    await cancel(session, APPROVAL_DUE_JOB, _approval_key(claim_id, submission))


async def approval_overdue(
    session: AsyncSession,
    claim_id: int,
    submission: int,
    working_days: int,
    due_at: datetime,
    now: datetime,
) -> bool:
    """The supervisor's deadline fired: a claim still waiting from that same submission is
    announced once (stage approval) and the miss is kept in its trail; the claim stays as it is."""
    row = await session.get(ExpenseClaimRow, claim_id, with_for_update=True)
    if row is None or row.state != x.ClaimState.SUBMITTED.value:
        return False
    if await _submissions(session, claim_id) != submission:
        return False
    await _audit(session, row, "approval_overdue", row.state, SCHEDULER_ACTOR, now, "超过审核期限")
    await _announce(
        session,
        row,
        ExpenseClaimOverdueV1(
            **await _facts(session, row),
            stage="approval",
            submit_due_at=row.submit_due_at,
            approval_due_at=due_at,
            working_days=working_days,
            overdue_at=now,
        ),
        now,
    )
    await session.flush()
    return True


# ---------------------------------------------------------------- tickets and costs
async def record_assignment(
    session: AsyncSession, ticket_no: str, engineer_id: str, assigned_at: datetime
) -> None:
    """Remember that the ticket was given to this engineer (its expense lines may name it). One
    statement that skips a pair already known: two deliveries of assignments of the same pair at
    once (TicketAssigned of a dispatch and of a re-dispatch) do not fail on the key."""
    await session.execute(
        upsert_insert(session, TicketEngineerRow.__table__)
        .values(ticket_no=ticket_no, engineer_id=engineer_id, assigned_at=assigned_at)
        .on_conflict_do_nothing()
    )


async def approved_lines_for_ticket(
    session: AsyncSession, ticket_no: str, user: Principal
) -> list[dict[str, Any]]:
    """The approved or settled expense lines that name the ticket (an engineer sees their own
    only): the company's travel cost of the ticket, not the customer's bill."""
    query = (
        select(ExpenseLineRow, ExpenseClaimRow)
        .join(ExpenseLineTicketRow, ExpenseLineTicketRow.line_id == ExpenseLineRow.line_id)
        .join(ExpenseClaimRow, ExpenseClaimRow.claim_id == ExpenseLineRow.claim_id)
        .where(
            ExpenseLineTicketRow.ticket_no == ticket_no,
            one_of(
                session,
                ExpenseClaimRow.state,
                [x.ClaimState.APPROVED.value, x.ClaimState.SETTLED.value],
            ),
        )
        .order_by(ExpenseLineRow.spent_on, ExpenseLineRow.line_id)
    )
    if not user.has(*x.ALL_CLAIMS_READERS):
        query = query.where(ExpenseClaimRow.engineer_id == user.subject)
    return [
        {
            "claim_no": claim.claim_no,
            "engineer_id": claim.engineer_id,
            "state": claim.state,
            "line_no": line.line_no,
            "spent_on": line.spent_on,
            "category": line.category,
            "category_zh": x.CATEGORY_ZH[x.Category(line.category)],
            "amount": _money(line.amount),
            "shared_with": len(line.ticket_nos) - 1,
        }
        for line, claim in (await session.execute(query)).all()
    ]
