"""Ticket rules: statuses, SLA clocks on working time, policies. Pure Python: no web, broker or
ORM."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from aftersales_shared.errors import Conflict, DomainError
from aftersales_shared.events import (
    CauseCategory,
    ComplaintLevel,
    ComplaintType,
    Contact,
    SlaClock,
    Urgency,
)
from aftersales_shared.products import product_line  # noqa: F401 (the one rule, re-exported)
from aftersales_shared.workcalendar import WorkCalendar

# a mainland mobile number: 11 digits from 13x to 19x, +86 / 86 in front allowed, spaces and
# dashes ignored (the web form's contact, the WeChat text, an engineer's phone)
CN_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9][0-9]{9})$")


def mobile(value: str) -> str | None:
    """The 11 digits of a mainland mobile number as typed, or None."""
    match = CN_MOBILE.match(re.sub(r"[\s\-]", "", value))
    return match.group(1) if match else None


class Channel(StrEnum):
    PHONE = "phone"
    ONLINE_CHAT = "online_chat"
    EMAIL = "email"
    WECHAT = "wechat"
    WEB_FORM = "web_form"
    DEALER = "dealer"
    PARTNER = "partner"


class RequestType(StrEnum):
    QUALITY_ISSUE = "quality_issue"  # 质量问题
    USAGE_QUESTION = "usage_question"  # 使用咨询
    RETURN_EXCHANGE = "return_exchange"  # 退换货
    COMPLAINT = "complaint"  # 投诉
    SUGGESTION = "suggestion"  # 建议
    INSTALLATION = "installation"
    MAINTENANCE = "maintenance"


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_PARTS = "waiting_parts"
    RESOLVED = "resolved"
    COMPLETED = "completed"


OPEN_STATUSES = frozenset(Status) - {Status.COMPLETED}
PAUSED_STATUSES = frozenset({Status.WAITING_CUSTOMER, Status.WAITING_PARTS})
ACKNOWLEDGE_MINUTES = 10
SUGGESTION_ANSWER_WORKING_DAYS = 3


@dataclass(frozen=True)
class Policy:
    """What one urgency of an entitlement promises, in minutes of its calendar."""

    urgency: Urgency
    response_minutes: int
    resolution_minutes: int
    onsite_minutes: int | None = None
    loaner_after_minutes: int | None = None
    calendar: str = "default"
    source: str = "default"  # default | contract <no>


DEFAULT_POLICIES: dict[Urgency, Policy] = {
    Urgency.NORMAL: Policy(Urgency.NORMAL, 24 * 60, 48 * 60),
    Urgency.URGENT: Policy(Urgency.URGENT, 2 * 60, 24 * 60, onsite_minutes=4 * 60),
    Urgency.CRITICAL: Policy(Urgency.CRITICAL, 30, 24 * 60, onsite_minutes=4 * 60),
}


def policy_from_levels(
    levels: list[dict], urgency: Urgency, calendar: str, contract_no: str
) -> Policy:
    """The service level an entitlement grants for one urgency (default when the contract is
    silent)."""
    for level in levels:
        if level.get("urgency") == urgency:
            return Policy(
                urgency,
                level["response_minutes"],
                level["resolution_minutes"],
                level.get("onsite_minutes"),
                level.get("loaner_after_minutes"),
                calendar,
                f"contract {contract_no}",
            )
    base = DEFAULT_POLICIES[urgency]
    return Policy(
        urgency,
        base.response_minutes,
        base.resolution_minutes,
        base.onsite_minutes,
        base.loaner_after_minutes,
        calendar,
        f"contract {contract_no} (default level)",
    )


def clock_targets(
    policy: Policy, request_type: RequestType, calendar: WorkCalendar, opened_at: datetime
) -> dict[SlaClock, timedelta]:
    """Working time each clock may use; suggestions are answered within 3 working days."""
    targets = {
        SlaClock.ACKNOWLEDGE: timedelta(minutes=ACKNOWLEDGE_MINUTES),
        SlaClock.RESPONSE: timedelta(minutes=policy.response_minutes),
        SlaClock.RESOLUTION: timedelta(minutes=policy.resolution_minutes),
    }
    if request_type is RequestType.SUGGESTION:
        due = calendar.add_working_days(opened_at, SUGGESTION_ANSWER_WORKING_DAYS)
        targets[SlaClock.RESPONSE] = calendar.working_time_between(opened_at, due)
        targets[SlaClock.RESOLUTION] = max(targets[SlaClock.RESOLUTION], targets[SlaClock.RESPONSE])
    if policy.onsite_minutes:
        targets[SlaClock.ONSITE] = timedelta(minutes=policy.onsite_minutes)
    return targets


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"


@dataclass
class Clock:
    """One SLA clock: working time consumed so far plus the segment running since
    `running_since`."""

    kind: SlaClock
    target: timedelta
    started_at: datetime
    state: ClockState = ClockState.RUNNING
    elapsed: timedelta = timedelta(0)  # working time used before `running_since`
    running_since: datetime | None = None
    deadline: datetime | None = None
    provisional: bool = False
    met_at: datetime | None = None
    breached_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.state is ClockState.RUNNING and self.running_since is None:
            self.running_since = self.started_at

    def recompute(self, calendar: WorkCalendar) -> datetime | None:
        """Deadline of a running clock: what is left of the target, counted from the running
        segment."""
        if self.state is not ClockState.RUNNING or self.running_since is None:
            self.deadline = None
            return None
        left = max(self.target - self.elapsed, timedelta(0))
        self.deadline = calendar.add_working_time(self.running_since, left)
        self.provisional = calendar.is_provisional(self.running_since, self.deadline)
        return self.deadline

    def used(self, calendar: WorkCalendar, now: datetime) -> timedelta:
        if self.state is ClockState.RUNNING and self.running_since is not None:
            return self.elapsed + calendar.working_time_between(self.running_since, now)
        return self.elapsed

    def pause(self, calendar: WorkCalendar, now: datetime) -> None:
        if self.state is not ClockState.RUNNING:
            return
        self.elapsed = self.used(calendar, now)
        self.running_since = None
        self.state = ClockState.PAUSED
        self.deadline = None

    def resume(self, calendar: WorkCalendar, now: datetime) -> None:
        if self.state is not ClockState.PAUSED:
            return
        self.state = ClockState.RUNNING
        self.running_since = now
        self.recompute(calendar)

    def meet(self, calendar: WorkCalendar, now: datetime) -> None:
        if self.state is ClockState.MET:
            return
        self.elapsed = self.used(calendar, now)
        self.running_since = None
        self.state = ClockState.MET
        self.met_at = now
        self.deadline = None

    def warn_at(self, calendar: WorkCalendar, fraction: float) -> datetime | None:
        """When `fraction` of the target is used (None if already past or not running)."""
        if self.state is not ClockState.RUNNING or self.running_since is None:
            return None
        mark = self.target * fraction
        if self.elapsed >= mark:
            return None
        return calendar.add_working_time(self.running_since, mark - self.elapsed)


# ------------------------------------------------------------------ status transitions
TRANSITIONS: dict[str, tuple[frozenset[Status], Status | None]] = {
    "acknowledge": (frozenset({Status.NEW}), Status.ACKNOWLEDGED),
    "assign": (frozenset(OPEN_STATUSES - {Status.RESOLVED}), None),
    "respond": (frozenset(OPEN_STATUSES - {Status.RESOLVED}), None),
    "onsite": (frozenset({Status.ASSIGNED, Status.IN_PROGRESS}), Status.IN_PROGRESS),
    "pause": (frozenset({Status.ACKNOWLEDGED, Status.ASSIGNED, Status.IN_PROGRESS}), None),
    "resume": (PAUSED_STATUSES, None),
    "resolve": (frozenset({Status.ASSIGNED, Status.IN_PROGRESS}), Status.RESOLVED),
    "complete": (
        frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED}),
        Status.COMPLETED,
    ),
    "log": (OPEN_STATUSES, None),
    "urgency": (frozenset(OPEN_STATUSES - {Status.RESOLVED}), None),
}

STATUS_ZH = {
    Status.NEW: "新建",
    Status.ACKNOWLEDGED: "已受理",
    Status.ASSIGNED: "已派单",
    Status.IN_PROGRESS: "处理中",
    Status.WAITING_CUSTOMER: "等待客户",
    Status.WAITING_PARTS: "等待配件",
    Status.RESOLVED: "已解决",
    Status.COMPLETED: "已完成",
}


def check_transition(action: str, status: Status, ticket_no: str) -> Status | None:
    """The status after `action`, or Conflict naming why it is not allowed now."""
    allowed, target = TRANSITIONS[action]
    if status not in allowed:
        raise Conflict(
            f"工单{ticket_no}当前状态为“{STATUS_ZH[status]}”，不能执行此操作 "
            f"(cannot {action} a ticket that is {status.value})",
            status=status.value,
        )
    return target


def in_reopen_window(completed_at: datetime | None, now: datetime, window: timedelta) -> bool:
    """A completed ticket may still be reopened (later, a persisting problem is a new ticket)."""
    return completed_at is not None and now - completed_at <= window


def can_reopen(
    completed_at: datetime | None, now: datetime, window: timedelta, ticket_no: str
) -> None:
    if completed_at is None:
        raise Conflict(
            f"工单{ticket_no}尚未完成，无需重开 (only a completed ticket can be reopened)"
        )
    if not in_reopen_window(completed_at, now, window):
        days = window.total_seconds() / 86400
        raise Conflict(
            f"工单{ticket_no}已超过{days:g}天重开期限 (reopen window of {days:g} days has passed)"
        )


def contact_of(ticket: Any) -> Contact:
    """The contact person a ticket (row or freshly opened values) names, as events carry it."""
    return Contact(
        name=ticket.contact_name,
        phone=ticket.contact_phone,
        email=ticket.contact_email,
        wechat_openid=getattr(ticket, "contact_wechat_openid", None),
    )


def warranty_valid(warranty_end: date | None, today: date) -> bool | None:
    return None if warranty_end is None else today <= warranty_end


def require(condition: bool, message: str) -> None:
    if not condition:
        raise DomainError(message)


# ------------------------------------------------------------------ fault causes (问题归因)
CAUSE_LABELS: dict[CauseCategory, tuple[str, str]] = {
    CauseCategory.DESIGN: ("设计", "design"),
    CauseCategory.MATERIAL_SUPPLIER: ("材料/供应商", "material / supplier"),
    CauseCategory.MANUFACTURING_BATCH: ("制造/批次", "manufacturing / batch"),
    CauseCategory.TRANSPORT: ("运输", "transport"),
    CauseCategory.INSTALLATION: ("安装", "installation"),
    CauseCategory.MISUSE: ("使用不当", "misuse"),
    CauseCategory.WEAR: ("正常磨损", "normal wear"),
    CauseCategory.UNKNOWN: ("未知", "unknown"),
}


class CatalogueKind(StrEnum):
    """What the fault catalogue lists per product line (the cause categories are fixed)."""

    SYMPTOM = "symptom"  # 故障现象
    PART = "part"  # 故障部件


KIND_ZH = {CatalogueKind.SYMPTOM: "故障现象", CatalogueKind.PART: "故障部件"}
# a catalogue entry of every product line (the shipped defaults are all generic)
ALL_LINES = "*"
# repairs (质量问题) and complaints (投诉) are closed with their fault classified
CLASSIFIED_TYPES = frozenset({RequestType.QUALITY_ISSUE, RequestType.COMPLAINT})
# "cause needs analysis": the technical department fills it in within this many working days on
# the ticket's calendar (seed 003 篇四: 技术部负责提交产品故障原因分析和总结)
ANALYSIS_WORKING_DAYS = 3


def applies_to(entry_line: str, line: str | None) -> bool:
    return entry_line == ALL_LINES or entry_line == line


@dataclass(frozen=True)
class FaultReport:
    """What the engineer says about the fault when the customer confirms the work."""

    symptom: str | None = None
    cause_category: CauseCategory | None = None
    failed_part: str | None = None
    cause_detail: str | None = None
    needs_analysis: bool = False


def check_fault_report(request_type: str, report: FaultReport | None, ticket_no: str) -> None:
    """A repair or complaint is closed with its symptom and cause category, or with the cause
    left to analysis (待分析); a report given for another request type obeys the same rule."""
    if report is None:
        if request_type in CLASSIFIED_TYPES:
            raise DomainError(
                f"工单{ticket_no}是维修/投诉工单，完成时须填写故障分类：故障现象 symptom、原因类别 "
                "cause_category，或标记原因待分析 needs_analysis (a repair or complaint is "
                "completed with its fault: give fault.symptom and fault.cause_category, or "
                "fault.needs_analysis = true)",
                code="fault_required",
                missing=["symptom", "cause_category"],
            )
        return
    if report.needs_analysis:
        if report.cause_category is not None:
            raise DomainError(
                "已标记原因待分析，不能同时填写原因类别 (a cause needing analysis has no "
                "cause_category yet: give one or the other)",
                code="fault_conflict",
            )
        return
    missing = [
        name
        for name, value in (("symptom", report.symptom), ("cause_category", report.cause_category))
        if not value
    ]
    if missing:
        zh = "、".join({"symptom": "故障现象", "cause_category": "原因类别"}[m] for m in missing)
        raise DomainError(
            f"缺少{zh}；原因不明时可标记待分析 needs_analysis (missing: fault."
            f"{', fault.'.join(missing)}; mark needs_analysis if the cause is not known yet)",
            code="fault_incomplete",
            missing=missing,
        )


# ---------------------------------------------------------- corrective actions (纠正/预防措施)
class Department(StrEnum):
    TECHNICAL = "technical"  # 技术部
    DELIVERY = "delivery"  # 交付部门（生产/物流）
    PURCHASING = "purchasing"  # 采购部（供应商管理）
    SERVICE = "service"  # 客服部
    SALES = "sales"  # 销售部


DEPARTMENT_ZH = {
    Department.TECHNICAL: "技术部",
    Department.DELIVERY: "交付部门",
    Department.PURCHASING: "采购部",
    Department.SERVICE: "客服部",
    Department.SALES: "销售部",
}


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    VERIFIED = "verified"


ACTION_ZH = {
    ActionStatus.OPEN: "待处理",
    ActionStatus.IN_PROGRESS: "进行中",
    ActionStatus.DONE: "已完成待验证",
    ActionStatus.VERIFIED: "已验证",
}
# open → in_progress → done → verified; a rejected verification sends it back to in_progress
ACTION_TRANSITIONS: dict[str, tuple[frozenset[ActionStatus], ActionStatus]] = {
    "start": (frozenset({ActionStatus.OPEN}), ActionStatus.IN_PROGRESS),
    "done": (frozenset({ActionStatus.IN_PROGRESS}), ActionStatus.DONE),
    "verify": (frozenset({ActionStatus.DONE}), ActionStatus.VERIFIED),
    "reject": (frozenset({ActionStatus.DONE}), ActionStatus.IN_PROGRESS),
}
UNFINISHED = frozenset({ActionStatus.OPEN, ActionStatus.IN_PROGRESS})
ACTION_HORIZON_DAYS = 2 * 366


def check_action_transition(action: str, status: ActionStatus, action_no: str) -> ActionStatus:
    allowed, target = ACTION_TRANSITIONS[action]
    if status not in allowed:
        raise Conflict(
            f"措施{action_no}当前状态为“{ACTION_ZH[status]}”，不能执行此操作 "
            f"(cannot {action} an action that is {status.value})",
            status=status.value,
        )
    return target


def check_verifier(done_by: str | None, verifier: str, action_no: str) -> None:
    """Verification is by someone other than the one who did the work."""
    if done_by == verifier:
        raise Conflict(
            f"措施{action_no}须由完成人以外的人验证 (an action is verified by someone other "
            "than the one who did it)",
            code="same_person",
        )


def action_due(calendar: WorkCalendar, due_date: date, today: date) -> datetime:
    """Close of business of the due date on the calendar; the date must be a working day, not
    past."""
    if due_date < today:
        raise DomainError(f"截止日期{due_date}已过 (due date {due_date} is in the past)")
    if due_date > today + timedelta(days=ACTION_HORIZON_DAYS):
        raise DomainError(
            f"截止日期{due_date}超过两年 (due date {due_date} is more than two years ahead)"
        )
    intervals = calendar.working_intervals(due_date)
    if not intervals:
        following = due_date + timedelta(days=1)
        while not calendar.is_working_day(following):
            following += timedelta(days=1)
        raise DomainError(
            f"截止日期{due_date}不是工作日，下一个工作日是{following} "
            f"({due_date} is not a working day; the next one is {following})",
            code="not_a_working_day",
            next_working_day=following.isoformat(),
        )
    return intervals[-1][1]


# ------------------------------------------------------------------ complaints (投诉处理)
# seed 002 第九条: 投诉接收（记录并告知客户处理时限）→ 问题分析 → 问题解决（方案，与客户
# 沟通）→ 问题反馈；seed 000: 投诉类由客户确认处理方案可接受，签署《投诉处理确认书》
LEVEL_ZH = {
    ComplaintLevel.GENERAL: "一般",
    ComplaintLevel.MAJOR: "重大",
    ComplaintLevel.SERIOUS: "严重",
}
LEVEL_ORDER = (ComplaintLevel.GENERAL, ComplaintLevel.MAJOR, ComplaintLevel.SERIOUS)


class ComplaintStage(StrEnum):
    """What the complaint waits for: the four clocked steps, then the customer's answer."""

    ACKNOWLEDGEMENT = "acknowledgement"  # 待受理确认
    LIMIT = "limit"  # 待告知客户处理时限
    INVESTIGATION = "investigation"  # 调查中（待记录调查结论）
    RESOLUTION = "resolution"  # 待提出处理方案
    CONFIRMATION = "confirmation"  # 待客户确认处理方案
    ACCEPTED = "accepted"  # 客户已接受：工单可以完成
    CLOSED = "closed"  # 工单已完成


STAGE_ZH = {
    ComplaintStage.ACKNOWLEDGEMENT: "待受理确认",
    ComplaintStage.LIMIT: "待告知处理时限",
    ComplaintStage.INVESTIGATION: "调查中",
    ComplaintStage.RESOLUTION: "待提出处理方案",
    ComplaintStage.CONFIRMATION: "待客户确认",
    ComplaintStage.ACCEPTED: "客户已接受",
    ComplaintStage.CLOSED: "已结案",
}
# the steps that have a clock, in their order; a rejected proposal restarts the last three
CLOCKED_STAGES = (
    ComplaintStage.ACKNOWLEDGEMENT,
    ComplaintStage.LIMIT,
    ComplaintStage.INVESTIGATION,
    ComplaintStage.RESOLUTION,
)
RESTARTED_STAGES = CLOCKED_STAGES[1:]
# step → (the stage it is taken in, the stage after it)
COMPLAINT_STEPS: dict[str, tuple[ComplaintStage, ComplaintStage]] = {
    "acknowledge": (ComplaintStage.ACKNOWLEDGEMENT, ComplaintStage.LIMIT),
    "limit": (ComplaintStage.LIMIT, ComplaintStage.INVESTIGATION),
    "findings": (ComplaintStage.INVESTIGATION, ComplaintStage.RESOLUTION),
    "resolution": (ComplaintStage.RESOLUTION, ComplaintStage.CONFIRMATION),
    "accept": (ComplaintStage.CONFIRMATION, ComplaintStage.ACCEPTED),
    "reject": (ComplaintStage.CONFIRMATION, ComplaintStage.LIMIT),
    "close": (ComplaintStage.ACCEPTED, ComplaintStage.CLOSED),
}
STEP_ZH = {
    "acknowledge": "受理确认",
    "limit": "告知处理时限",
    "findings": "记录调查结论",
    "resolution": "提出处理方案",
    "accept": "确认处理方案",
    "reject": "拒绝处理方案",
    "close": "完成工单",
}


@dataclass(frozen=True)
class Span:
    """A step's time: working hours on the calendar, or close of business of the n-th working day
    after the day it starts."""

    hours: int | None = None
    days: int | None = None

    def due(self, calendar: WorkCalendar, start: datetime) -> datetime:
        if self.days is not None:
            return calendar.add_working_days(start, self.days)
        return calendar.add_working_time(start, timedelta(hours=self.hours or 0))

    def __str__(self) -> str:
        return f"{self.days}个工作日" if self.days is not None else f"{self.hours}个工作小时"


@dataclass(frozen=True)
class ComplaintClocks:
    """Each step's time from the start of the round (the complaint's arrival, or the rejection
    that escalated it), and the longest time limit that may be promised to the customer."""

    acknowledgement: Span
    limit: Span
    investigation: Span
    resolution: Span
    max_promise_days: int

    def span(self, stage: ComplaintStage) -> Span:
        return getattr(self, stage.value)


# The clocks per level (working time on the ticket's calendar; a working day is close of business
# of that working day after the day the round started). The graver the complaint, the sooner each
# step and the shorter the longest promise. A supervisor may change a level (with a reason); the
# unmet steps of the round are then due by the new level's clocks.
COMPLAINT_CLOCKS: dict[ComplaintLevel, ComplaintClocks] = {
    # 一般: acknowledged in 4 working hours, the limit told in 8 (a working day), findings in 3 and
    # a proposal in 5 working days; the customer may be promised at most 10 working days
    ComplaintLevel.GENERAL: ComplaintClocks(
        Span(hours=4), Span(hours=8), Span(days=3), Span(days=5), 10
    ),
    # 重大: 2 h, 4 h, 2 and 3 working days; at most 5 working days promised
    ComplaintLevel.MAJOR: ComplaintClocks(
        Span(hours=2), Span(hours=4), Span(days=2), Span(days=3), 5
    ),
    # 严重: 1 h, 2 h, 1 and 2 working days; at most 3 working days promised
    ComplaintLevel.SERIOUS: ComplaintClocks(
        Span(hours=1), Span(hours=2), Span(days=1), Span(days=2), 3
    ),
}


def follow_up_level(efficiency: int, attitude: int, professionalism: int) -> ComplaintLevel:
    """A low survey score is a complaint: any dimension at 1 (非常不满意) is major (重大), else
    general (一般). Serious (严重) is a person's judgement, never a score's."""
    if min(efficiency, attitude, professionalism) <= 1:
        return ComplaintLevel.MAJOR
    return ComplaintLevel.GENERAL


def follow_up_type(efficiency: int, attitude: int, professionalism: int) -> ComplaintType:
    """What a low survey score complains about: its lowest dimension (a tie goes to attitude,
    then timeliness): 服务态度, 时效 or 维修质量."""
    lowest = min(
        (attitude, 0, ComplaintType.SERVICE_ATTITUDE),
        (efficiency, 1, ComplaintType.TIMELINESS),
        (professionalism, 2, ComplaintType.REPAIR_QUALITY),
    )
    return lowest[2]


def escalated(level: ComplaintLevel) -> tuple[ComplaintLevel, bool]:
    """A rejected proposal raises the level by one; a serious complaint stays serious and goes to
    management (the second value)."""
    i = LEVEL_ORDER.index(level)
    if i + 1 < len(LEVEL_ORDER):
        return LEVEL_ORDER[i + 1], False
    return level, True


def check_complaint_step(step: str, stage: ComplaintStage, ticket_no: str) -> ComplaintStage:
    """The stage after `step`, or Conflict naming what the complaint waits for now."""
    expected, target = COMPLAINT_STEPS[step]
    if stage is not expected:
        raise Conflict(
            f"投诉{ticket_no}当前为“{STAGE_ZH[stage]}”，不能{STEP_ZH[step]} (cannot {step}: the "
            f"complaint waits for {stage.value})",
            code="complaint_stage",
            stage=stage.value,
        )
    return target


def promise_due(
    calendar: WorkCalendar,
    promised: date,
    today: date,
    latest: date,
    level: ComplaintLevel,
    max_days: int,
) -> datetime:
    """The time limit told to the customer: a working day, not past, within the level's longest
    promise; resolved by close of business of that day."""
    if promised < today:
        raise DomainError(
            f"承诺处理期限{promised}已过 (the promised date {promised} is in the past)",
            code="promise_past",
        )
    if promised > latest:
        raise DomainError(
            f"{LEVEL_ZH[level]}投诉最长可承诺{max_days}个工作日，即{latest}之前 (a {level.value} "
            f"complaint may be promised at most {max_days} working days: {latest} or earlier)",
            code="promise_too_late",
            latest=latest.isoformat(),
        )
    intervals = calendar.working_intervals(promised)
    if not intervals:
        following = promised + timedelta(days=1)
        while not calendar.is_working_day(following):
            following += timedelta(days=1)
        raise DomainError(
            f"承诺期限{promised}不是工作日，下一个工作日是{following} ({promised} is not a "
            f"working day; the next one is {following})",
            code="not_a_working_day",
            next_working_day=following.isoformat(),
        )
    return intervals[-1][1]
