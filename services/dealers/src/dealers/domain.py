"""三包 rules: card deadlines, warranty eligibility, part returns, inspection, reconciliation,
grades. No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from aftersales_shared.errors import Conflict, DomainError

CENT = Decimal("0.01")
CARD_DUE_DAYS = 20  # 三包回执卡: within 20 calendar days of the sale
ARRANGE_WITHIN = timedelta(hours=2)  # the dealer arranges warranty service within 2 working hours
STOCK_PLAN_LEAD_DAYS = 30  # a parts stocking plan is due 30 days before the selling season
GRADES = ("A", "B", "C", "D")


# ------------------------------------------------------------------ money
def money(value: Decimal | int | str, what: str = "金额") -> Decimal:
    """A non-negative CNY amount with at most two decimal places (never rounded silently)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise DomainError(f"{what}不是有效金额 ({what}: not a valid amount)") from exc
    if not amount.is_finite() or amount < 0:
        raise DomainError(f"{what}不能为负数 ({what} must not be negative)")
    if amount != amount.quantize(CENT):
        raise DomainError(f"{what}最多两位小数 ({what} has more than two decimal places: {amount})")
    return amount.quantize(CENT)


def line_cost(quantity: int, unit_cost: Decimal) -> Decimal:
    if quantity < 1:
        raise DomainError("数量至少为1 (quantity must be at least 1)")
    return (Decimal(quantity) * money(unit_cost, "单价")).quantize(CENT, rounding=ROUND_HALF_UP)


def total(amounts: Iterable[Decimal]) -> Decimal:
    return sum((Decimal(a) for a in amounts), Decimal("0.00")).quantize(CENT)


# ------------------------------------------------------------------ time helpers
def local_date(at: datetime, tz: tzinfo) -> date:
    return at.astimezone(tz).date()


def start_of_local_day(d: date, tz: tzinfo) -> datetime:
    return datetime.combine(d, time(), tzinfo=tz)


def end_of_local_day(d: date, tz: tzinfo) -> datetime:
    """The first instant after the local day `d` (a deadline 'by d' has passed then)."""
    return start_of_local_day(d + timedelta(days=1), tz)


# ------------------------------------------------------------------ warranty cards
def card_due_date(sale_date: date) -> date:
    """Last calendar day on which the card counts as returned in time (day 20 after the sale)."""
    return sale_date + timedelta(days=CARD_DUE_DAYS)


def check_sale_dates(sale_date: date, warranty_end: date | None, today: date) -> None:
    """A sale is not dated ahead of today, and its warranty does not end before it."""
    if sale_date > today:
        raise DomainError("销售日期不能晚于今天 (sale date cannot be in the future)")
    if warranty_end is not None and warranty_end < sale_date:
        raise DomainError("保修截止日不能早于销售日期 (warranty end before the sale)")


def card_reminder_at(sale_date: date, days_before: int, tz: tzinfo) -> datetime:
    """09:00 local, `days_before` days before the due day (never before the sale day)."""
    day = max(sale_date, card_due_date(sale_date) - timedelta(days=days_before))
    return datetime.combine(day, time(9), tzinfo=tz)


def card_overdue_at(sale_date: date, tz: tzinfo) -> datetime:
    return end_of_local_day(card_due_date(sale_date), tz)


@dataclass(frozen=True)
class CardOutcome:
    day: int  # days since the sale (sale day = 0)
    on_time: bool
    warranty_recognised: bool
    reason: str | None


def card_outcome(sale_date: date, registered_on: date) -> CardOutcome:
    """A card in time is recognised; a late one is kept but the unit's warranty is not
    recognised."""
    if registered_on < sale_date:
        raise DomainError(
            f"登记日期{registered_on}早于销售日期{sale_date} (card cannot be registered before "
            "the sale)"
        )
    day = (registered_on - sale_date).days
    if day <= CARD_DUE_DAYS:
        return CardOutcome(day, True, True, None)
    reason = (
        f"三包回执卡于销售后第{day}天登记，超过{CARD_DUE_DAYS}天期限（应于{card_due_date(sale_date)}前），"
        f"三包服务不予认可 (card returned on day {day}, after the {CARD_DUE_DAYS}-day limit: "
        "warranty not recognised)"
    )
    return CardOutcome(day, False, False, reason)


# ------------------------------------------------------------------ warranty eligibility
class RepairKind(StrEnum):
    WARRANTY = "warranty"  # 三包维修
    PAID = "paid"  # 有偿服务 (out of warranty)


@dataclass(frozen=True)
class UnitWarranty:
    serial_no: str
    warranty_end: date | None
    card_registered: bool
    warranty_recognised: bool
    not_recognised_reason: str | None = None


def check_warranty_repair(unit: UnitWarranty, requested_on: date) -> None:
    """A repair claimed as warranty needs a recognised card and a unit still under warranty."""
    if not unit.card_registered:
        raise DomainError(
            f"设备{unit.serial_no}尚未登记三包回执卡，不能按三包维修登记 "
            "(no warranty card registered for this unit: register the card or record paid service)"
        )
    if not unit.warranty_recognised:
        raise DomainError(
            f"设备{unit.serial_no}的三包不予认可：{unit.not_recognised_reason or '回执卡逾期'}；"
            "请按有偿服务登记 "
            "(warranty not recognised for this unit: record it as paid service)"
        )
    if unit.warranty_end is not None and requested_on > unit.warranty_end:
        raise DomainError(
            f"设备{unit.serial_no}已于{unit.warranty_end}过保，"
            "请按有偿服务登记（仅收上门费和工时费） "
            "(unit is out of warranty: record it as paid service, travel and labour only)"
        )


def arrange_breached(arrange_due: datetime, arranged_at: datetime | None, now: datetime) -> bool:
    return (arranged_at or now) > arrange_due


@dataclass(frozen=True)
class Charges:
    """What a repair costs: a warranty claim to the company, or a paid service bill to the user."""

    parts_cost: Decimal
    labour_fee: Decimal
    travel_fee: Decimal
    claim_amount: Decimal  # reimbursable to the dealer (warranty only)
    customer_charge: Decimal  # billed to the end user (paid service: travel + labour only)


def repair_charges(
    kind: RepairKind, parts: Sequence[tuple[int, Decimal]], labour: Decimal, travel: Decimal
) -> Charges:
    parts_cost = total(line_cost(q, c) for q, c in parts)
    labour, travel = money(labour, "工时费"), money(travel, "上门费")
    if kind is RepairKind.WARRANTY:
        return Charges(
            parts_cost, labour, travel, total([parts_cost, labour, travel]), Decimal("0.00")
        )
    return Charges(parts_cost, labour, travel, Decimal("0.00"), total([labour, travel]))


# ------------------------------------------------------------------ old-part returns
def parse_return_dates(values: Sequence[str]) -> list[tuple[int, int]]:
    """'06-30', '12-31' → [(6, 30), (12, 31)]; at least one fixed date a year."""
    out = []
    for v in values:
        try:
            month, day = (int(x) for x in v.split("-"))
            date(2024, month, day)  # leap year: 02-29 allowed (falls back to 02-28)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"return date {v!r} must be MM-DD") from exc
        out.append((month, day))
    if not out:
        raise ValueError("at least one fixed return date is needed")
    return sorted(set(out))


def _on(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, day - 1)


def return_due_date(
    completed_on: date, fixed: Sequence[tuple[int, int]], truck_dates: Sequence[date] = ()
) -> date:
    """Old parts are due by the next fixed return date after the repair, or the next delivery truck
    if earlier."""
    candidates = [
        _on(y, m, d) for y in (completed_on.year, completed_on.year + 1) for m, d in fixed
    ]
    due = min(c for c in candidates if c > completed_on)
    trucks = [t for t in truck_dates if t > completed_on]
    return min([due, *trucks])


class PartStatus(StrEnum):
    OWED = "owed"  # replaced under warranty, still at the dealer
    OVERDUE = "overdue"  # return deadline passed, still at the dealer
    SHIPPED = "shipped"
    RECEIVED = "received"
    INSPECTED = "inspected"
    NOT_OWED = "not_owed"  # paid service: stays with the user/dealer


RETURNABLE = (PartStatus.OWED, PartStatus.OVERDUE)


class Verdict(StrEnum):
    REUSABLE = "reusable"  # 可再利用 → reusable store
    SCRAP = "scrap"  # 报废 → scrap store
    NOT_WARRANTY_FAULT = "not_warranty_fault"  # 非三包故障 → claim rejected


STORE_OF = {Verdict.REUSABLE: "reusable", Verdict.SCRAP: "scrap"}


class ClaimStatus(StrEnum):
    NONE = "none"  # paid service or not completed
    AWAITING_RETURN = "awaiting_return"  # parts not yet returned and inspected: not reimbursable
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"  # confirmed on a deduction notice


def check_verdict(verdict: Verdict, reason: str | None) -> None:
    if verdict is Verdict.NOT_WARRANTY_FAULT and not (reason or "").strip():
        raise DomainError(
            "判定为非三包故障时必须填写原因 (a reason is required when the fault is not a "
            "warranty fault)"
        )


def claim_after_inspection(
    parts: Sequence[tuple[str, Verdict | None, str | None]],
) -> tuple[ClaimStatus, str | None]:
    """(part name, verdict, reason) of every warranty part → the claim's status and rejection
    reason."""
    rejected = [(n, r) for n, v, r in parts if v is Verdict.NOT_WARRANTY_FAULT]
    if rejected:
        why = "；".join(f"{n}: {r}" for n, r in rejected)
        return ClaimStatus.REJECTED, f"技术部判定非三包故障 (not a warranty fault) — {why}"
    if all(v is not None for _, v, _ in parts):
        return ClaimStatus.APPROVED, None
    return ClaimStatus.AWAITING_RETURN, None


# ------------------------------------------------------------------ reconciliation
class NoticeStatus(StrEnum):
    ISSUED = "issued"  # waiting for the dealer's answers
    CONFIRMED = "confirmed"  # DeductionIssued published
    DISPUTED = "disputed"  # every line disputed: nothing deducted, claims back to finance


class LineDecision(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


def check_open(status: NoticeStatus, notice_no: str) -> None:
    if status is not NoticeStatus.ISSUED:
        raise Conflict(
            f"核销通知{notice_no}已{'确认' if status is NoticeStatus.CONFIRMED else '关闭'}，"
            "不能再次处理 "
            f"(deduction notice is already {status})"
        )


def check_dispute_reason(decision: LineDecision, reason: str | None) -> None:
    if decision is LineDecision.DISPUTED and not (reason or "").strip():
        raise DomainError("对明细提出异议时必须说明原因 (a disputed line needs a reason)")
    if decision is LineDecision.PENDING:
        raise DomainError("请选择确认或异议 (answer each line with confirmed or disputed)")


@dataclass(frozen=True)
class Settlement:
    status: NoticeStatus
    amount: Decimal
    confirmed_lines: int
    disputed_lines: int


def settle(
    notice_no: str, status: NoticeStatus, lines: Sequence[tuple[LineDecision, Decimal]]
) -> Settlement:
    """The dealer's confirmation: every line answered; the confirmed lines add up to the
    deduction."""
    check_open(status, notice_no)
    pending = sum(1 for d, _ in lines if d is LineDecision.PENDING)
    if pending:
        raise DomainError(
            f"还有{pending}条明细未确认或提出异议 ({pending} line(s) still unanswered)"
        )
    confirmed = [a for d, a in lines if d is LineDecision.CONFIRMED]
    disputed = len(lines) - len(confirmed)
    new_status = NoticeStatus.CONFIRMED if confirmed else NoticeStatus.DISPUTED
    return Settlement(new_status, total(confirmed), len(confirmed), disputed)


def check_period(start: date, end: date) -> None:
    if end < start:
        raise DomainError(f"期间结束日{end}早于开始日{start} (period ends before it starts)")
    if (end - start).days > 366:
        raise DomainError("核销期间不能超过一年 (a reconciliation period may not exceed one year)")


# ------------------------------------------------------------------ stocking plans
def stock_plan_due(season_starts: date) -> date:
    return season_starts - timedelta(days=STOCK_PLAN_LEAD_DAYS)


# ------------------------------------------------------------------ grades and demotion
def check_grade(grade: str) -> str:
    if grade not in GRADES:
        raise DomainError(
            f"等级应为{'/'.join(GRADES)}之一 (grade must be one of {', '.join(GRADES)})"
        )
    return grade


def demoted(grade: str) -> str:
    idx = GRADES.index(check_grade(grade))
    return GRADES[min(idx + 1, len(GRADES) - 1)]


@dataclass(frozen=True)
class Measures:
    """A dealer's measured service over a window (counts and the mean survey score)."""

    late_cards: int = 0
    late_returns: int = 0
    late_arrangements: int = 0
    sla_breaches: int = 0
    missing_stock_plans: int = 0
    tickets: int = 0
    completions: int = 0
    surveys: int = 0
    mean_score: Decimal | None = None


@dataclass(frozen=True)
class DemotionRules:
    max_late_cards: int = 2
    max_late_returns: int = 1
    max_late_arrangements: int = 3
    max_sla_breaches: int = 5
    max_missing_stock_plans: int = 0
    min_mean_score: Decimal = Decimal("3.50")
    min_surveys_for_score: int = 5


def demotion_reasons(m: Measures, rules: DemotionRules) -> list[str]:
    """Every rule the measured service breaks; an empty list means no demotion is proposed."""
    out = []
    checks = [
        (m.late_cards, rules.max_late_cards, "三包回执卡逾期", "late warranty cards"),
        (m.late_returns, rules.max_late_returns, "旧件逾期未返还", "late old-part returns"),
        (
            m.late_arrangements,
            rules.max_late_arrangements,
            "2小时内未安排三包服务",
            "warranty service not arranged in 2 h",
        ),
        (m.sla_breaches, rules.max_sla_breaches, "工单SLA超时", "SLA breaches on its tickets"),
        (
            m.missing_stock_plans,
            rules.max_missing_stock_plans,
            "未按期提交备件计划",
            "missing stocking plans",
        ),
    ]
    for value, limit, zh, en in checks:
        if value > limit:
            out.append(f"{zh}{value}次，超过上限{limit}次 ({en}: {value} > {limit})")
    if (
        m.mean_score is not None
        and m.surveys >= rules.min_surveys_for_score
        and m.mean_score < rules.min_mean_score
    ):
        out.append(
            f"满意度均分{m.mean_score}低于{rules.min_mean_score} (mean survey score "
            f"{m.mean_score} < {rules.min_mean_score})"
        )
    return out


def survey_score(efficiency: int, attitude: int, professionalism: int) -> Decimal:
    return (Decimal(efficiency + attitude + professionalism) / 3).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
