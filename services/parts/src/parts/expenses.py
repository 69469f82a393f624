"""Expense claims (费用报销), the rules alone: a trip's lines and their amounts, who may see and act
on a claim, its life (draft → submitted → approved | rejected → settled), and the submission
deadline counted in working days after the trip on the company's working calendar. No web, broker
or ORM code."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from aftersales_shared.auth import Principal, Role
from aftersales_shared.errors import Conflict, DomainError, Forbidden
from aftersales_shared.workcalendar import WorkCalendar

CENT = Decimal("0.01")
LINE_CAP = Decimal("50000.00")  # one line (a ticket, a hotel stay) above this is a typo or a fraud
MAX_LINES = 100
MAX_TRIP_DAYS = 90
MAX_TICKETS_PER_LINE = 10
REASON_MIN, REASON_MAX = 4, 500
DEFAULT_SUBMIT_WORKING_DAYS = 10
# the trip ends at noon on its last day: the working days are counted from the day after
TRIP_END_TIME = time(12, 0)
# a ticket number as tickets writes them (SV-20261130-0001, the partners' and the demo's too)
TICKET_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")


class Category(StrEnum):
    TRANSPORT = "transport"  # 交通
    LODGING = "lodging"  # 住宿
    MEAL_ALLOWANCE = "meal_allowance"  # 餐补
    OTHER = "other"  # 其他


CATEGORY_ZH = {
    Category.TRANSPORT: "交通",
    Category.LODGING: "住宿",
    Category.MEAL_ALLOWANCE: "餐补",
    Category.OTHER: "其他",
}
# a per-diem allowance has no receipt; every other line needs its own (附上相关凭证)
NEEDS_RECEIPT = frozenset({Category.TRANSPORT, Category.LODGING, Category.OTHER})


class ClaimState(StrEnum):
    DRAFT = "draft"  # 草稿
    SUBMITTED = "submitted"  # 已提交，待审核
    APPROVED = "approved"  # 已审核通过
    REJECTED = "rejected"  # 已退回：可修改后重新提交
    SETTLED = "settled"  # 财务已结算


STATE_ZH = {
    ClaimState.DRAFT: "草稿",
    ClaimState.SUBMITTED: "待审核",
    ClaimState.APPROVED: "已审核",
    ClaimState.REJECTED: "已退回",
    ClaimState.SETTLED: "已结算",
}

# engineers claim their own trips
CLAIMANTS = (Role.ENGINEER,)
# the service department's supervisors approve (费用报销单需经相关部门审核); managers too
APPROVERS = (Role.SERVICE_SUPERVISOR, Role.MANAGER)
# 财务部 负责售后服务的费用报销与结算: the finance role settles
SETTLERS = (Role.FINANCE,)
# a manager alone may let a late claim be submitted after all (逾期将不予报销 unless excepted)
EXCEPTION_GRANTERS = (Role.MANAGER,)
# who sees every claim: the approvers and finance (an engineer sees their own; dealers none)
ALL_CLAIMS_READERS = (*APPROVERS, *SETTLERS)
READERS = (*CLAIMANTS, *ALL_CLAIMS_READERS)


def amount(value: Decimal, line_no: int) -> Decimal:
    """A line's amount: CNY, more than 0, two places, at most the cap."""
    where = f"第{line_no}行"
    if value != value.quantize(CENT):
        raise DomainError(f"{where}金额最多两位小数 (line {line_no}: at most two decimal places)")
    if value <= 0:
        raise DomainError(f"{where}金额须大于0 (line {line_no}: the amount must be above 0)")
    if value > LINE_CAP:
        raise DomainError(
            f"{where}金额超过单笔上限{LINE_CAP}元，请拆分或核对 (line {line_no}: above the "
            f"cap of CNY {LINE_CAP})"
        )
    return value.quantize(CENT)


def reason(value: str | None, what: str = "原因") -> str:
    text = (value or "").strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise DomainError(
            f"请填写{what}（{REASON_MIN}–{REASON_MAX}字） (a reason of {REASON_MIN}–{REASON_MAX} "
            "characters is required)"
        )
    return text


def ticket_no(value: str, line_no: int) -> str:
    no = value.strip()
    if not TICKET_NO.match(no):
        raise DomainError(
            f"第{line_no}行的工单号{value!r}格式不对 (line {line_no}: not a ticket number)"
        )
    return no


@dataclass(frozen=True)
class Line:
    spent_on: date
    category: Category
    amount: Decimal
    ticket_nos: tuple[str, ...]
    note: str | None = None


def check_trip(start: date, end: date, today: date) -> None:
    """A claim is for a trip made: it ended by today, started before it ended, lasted at most
    MAX_TRIP_DAYS."""
    if end < start:
        raise DomainError("出差结束日期早于开始日期 (the trip ends before it starts)")
    if (end - start).days + 1 > MAX_TRIP_DAYS:
        raise DomainError(
            f"一次出差最长{MAX_TRIP_DAYS}天，请分开报销 (a trip lasts at most {MAX_TRIP_DAYS} days)"
        )
    if end > today:
        raise DomainError(
            f"出差尚未结束（结束日期{end}晚于今天{today}），结束后再报销 (the trip has not ended)"
        )


def check_lines(lines: Sequence[Line], start: date, end: date) -> list[Line]:
    """Every line inside the trip, with a sane amount and 1–10 well-formed ticket numbers."""
    if len(lines) > MAX_LINES:
        raise DomainError(f"一张报销单最多{MAX_LINES}行 (at most {MAX_LINES} lines)")
    out = []
    for n, line in enumerate(lines, start=1):
        if not start <= line.spent_on <= end:
            raise DomainError(
                f"第{n}行的日期{line.spent_on}不在出差期间{start}至{end}内 (line {n}: the date "
                "is outside the trip)"
            )
        if not 1 <= len(line.ticket_nos) <= MAX_TICKETS_PER_LINE:
            raise DomainError(
                f"第{n}行须关联1–{MAX_TICKETS_PER_LINE}个工单 (line {n}: name the ticket(s) it "
                "was for)"
            )
        nos = tuple(dict.fromkeys(ticket_no(t, n) for t in line.ticket_nos))
        out.append(
            Line(line.spent_on, line.category, amount(line.amount, n), nos, line.note or None)
        )
    return out


def totals(lines: Iterable[tuple[str, Decimal]]) -> tuple[Decimal, dict[str, Decimal]]:
    """The claim's total and its total per category (every category, zero when unused)."""
    per = {c.value: Decimal("0.00") for c in Category}
    for category, value in lines:
        per[category] += value
    return sum(per.values(), Decimal("0.00")), per


def submit_due(calendar: WorkCalendar, trip_end: date, working_days: int) -> datetime:
    """Close of business (UTC) of the N-th working day after the trip's last day, on the working
    calendar (public holidays off, 调休 Saturdays on)."""
    end = datetime.combine(trip_end, TRIP_END_TIME, tzinfo=calendar.tz)
    return calendar.add_working_days(end, working_days)


# ---------------------------------------------------------------- who may do what
@dataclass(frozen=True)
class ClaimView:
    """What the rules need of a claim."""

    claim_no: str
    engineer_id: str
    state: ClaimState
    overdue: bool = False
    submit_due_at: datetime | None = None
    late_exception: bool = False


def may_see(claim: ClaimView, user: Principal) -> bool:
    """Approvers and finance see every claim; an engineer only their own; nobody else any."""
    return user.has(*ALL_CLAIMS_READERS) or (
        Role.ENGINEER in user.roles and claim.engineer_id == user.subject
    )


def check_owner_edits(claim: ClaimView, user: Principal) -> None:
    """Only the engineer who claims edits the claim, and only as a draft or after a rejection."""
    if claim.engineer_id != user.subject:
        raise Forbidden("只能修改本人的报销单 (you may edit your own claims only)")
    if claim.state not in (ClaimState.DRAFT, ClaimState.REJECTED):
        raise Conflict(
            f"报销单{claim.claim_no}{STATE_ZH[claim.state]}，不能再修改 (only a draft or a "
            "rejected claim can be changed)"
        )


def check_submit(
    claim: ClaimView, user: Principal, now: datetime, missing_receipts: Sequence[int], lines: int
) -> None:
    """The engineer submits their own draft (or a corrected rejected claim) with its lines and
    receipts; a first submission after the deadline is refused unless a manager excepted it."""
    check_owner_edits(claim, user)
    if lines == 0:
        raise DomainError("报销单没有费用明细，不能提交 (a claim needs at least one line)")
    if missing_receipts:
        nos = "、".join(str(n) for n in missing_receipts)
        raise DomainError(
            f"第{nos}行缺少凭证，请上传票据后再提交 (lines {nos} need a receipt)",
            code="receipt_missing",
        )
    if claim.state is ClaimState.DRAFT and is_late(claim, now) and not claim.late_exception:
        raise Conflict(
            f"报销单{claim.claim_no}已超过提交期限，逾期将不予报销；如有特殊情况请经理批准例外 "
            "(past the submission deadline: refused unless a manager grants an exception)",
            code="claim_overdue",
        )


def is_late(claim: ClaimView, now: datetime) -> bool:
    return claim.overdue or (claim.submit_due_at is not None and now > claim.submit_due_at)


def check_decide(claim: ClaimView, user: Principal) -> None:
    """A supervisor or manager approves or rejects a submitted claim, never their own."""
    if not user.has(*APPROVERS):
        raise Forbidden("只有服务主管或经理可以审核报销单 (supervisors and managers approve)")
    if claim.engineer_id == user.subject:
        raise Forbidden("不能审核本人的报销单 (you cannot approve your own claim)")
    if claim.state is not ClaimState.SUBMITTED:
        raise Conflict(
            f"报销单{claim.claim_no}{STATE_ZH[claim.state]}，不是待审核状态 (only a submitted "
            "claim can be approved or rejected)"
        )


def check_settle(claim: ClaimView, user: Principal) -> None:
    if not user.has(*SETTLERS):
        raise Forbidden("只有财务可以结算报销单 (finance settles claims)")
    if claim.engineer_id == user.subject:
        raise Forbidden("不能结算本人的报销单 (you cannot settle your own claim)")
    if claim.state is not ClaimState.APPROVED:
        raise Conflict(
            f"报销单{claim.claim_no}{STATE_ZH[claim.state]}，只有已审核的报销单可以结算 (only an "
            "approved claim can be settled)"
        )


def check_exception(claim: ClaimView, user: Principal, now: datetime) -> None:
    if not user.has(*EXCEPTION_GRANTERS):
        raise Forbidden("只有经理可以批准逾期报销例外 (a manager grants the exception)")
    if claim.engineer_id == user.subject:
        raise Forbidden("不能为本人的报销单批准例外 (not for your own claim)")
    if claim.state is not ClaimState.DRAFT or not is_late(claim, now):
        raise Conflict(
            f"报销单{claim.claim_no}未逾期或已提交，无需例外 (only an overdue draft needs an "
            "exception)"
        )
    if claim.late_exception:
        raise Conflict(f"报销单{claim.claim_no}已批准过例外 (the exception was granted already)")


def check_trip_change(claim: ClaimView, old_end: date, new_end: date) -> None:
    """An overdue claim's trip cannot be moved later: that would dodge the deadline."""
    if claim.overdue and new_end != old_end:
        raise Conflict(
            f"报销单{claim.claim_no}已逾期，不能更改出差结束日期 (an overdue claim's trip end "
            "cannot change)"
        )


def local_day(now: datetime, calendar: WorkCalendar) -> date:
    return now.astimezone(calendar.tz).date()


def month_bounds(month: str) -> tuple[date, date]:
    """'2026-11' → (1 Nov, 1 Dec): the trips that ended in that month."""
    year, mon = (int(p) for p in month.split("-"))
    first = date(year, mon, 1)
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, nxt
