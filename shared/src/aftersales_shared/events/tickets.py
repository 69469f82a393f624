"""Events owned by the tickets service."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .base import EventData, event
from .common import Contact, Urgency


class SlaClock(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESPONSE = "response"
    ONSITE = "onsite"
    RESOLUTION = "resolution"


class ComplaintLevel(StrEnum):
    """How grave a complaint is (投诉等级); each level has its own clocks."""

    GENERAL = "general"  # 一般
    MAJOR = "major"  # 重大
    SERIOUS = "serious"  # 严重


class ComplaintType(StrEnum):
    """What a complaint is about (投诉类型): the monthly analysis counts the common ones."""

    PRODUCT_QUALITY = "product_quality"  # 产品质量
    REPAIR_QUALITY = "repair_quality"  # 维修质量
    TIMELINESS = "timeliness"  # 响应与处理时效
    SERVICE_ATTITUDE = "service_attitude"  # 服务态度
    CHARGES = "charges"  # 收费
    PARTS_SUPPLY = "parts_supply"  # 配件供应
    DELIVERY_INSTALLATION = "delivery_installation"  # 交付与安装
    OTHER = "other"  # 其他


# the words people read for them (the console's pages, the monthly report, notifications)
COMPLAINT_LEVEL_ZH: dict[str, str] = {
    ComplaintLevel.GENERAL.value: "一般",
    ComplaintLevel.MAJOR.value: "重大",
    ComplaintLevel.SERIOUS.value: "严重",
}
COMPLAINT_TYPE_ZH: dict[str, str] = {
    ComplaintType.PRODUCT_QUALITY.value: "产品质量",
    ComplaintType.REPAIR_QUALITY.value: "维修质量",
    ComplaintType.TIMELINESS.value: "响应与处理时效",
    ComplaintType.SERVICE_ATTITUDE.value: "服务态度",
    ComplaintType.CHARGES.value: "收费",
    ComplaintType.PARTS_SUPPLY.value: "配件供应",
    ComplaintType.DELIVERY_INSTALLATION.value: "交付与安装",
    ComplaintType.OTHER.value: "其他",
}


class ComplaintStep(StrEnum):
    """A complaint step that has a clock."""

    ACKNOWLEDGEMENT = "acknowledgement"  # 受理确认
    LIMIT = "limit"  # 告知客户处理时限
    INVESTIGATION = "investigation"  # 调查结论
    RESOLUTION = "resolution"  # 提出处理方案


class CauseCategory(StrEnum):
    """Why a unit failed (问题归因): the fixed categories the monthly analysis counts by."""

    DESIGN = "design"  # 设计
    MATERIAL_SUPPLIER = "material_supplier"  # 材料/供应商
    MANUFACTURING_BATCH = "manufacturing_batch"  # 制造/批次
    TRANSPORT = "transport"  # 运输
    INSTALLATION = "installation"  # 安装
    MISUSE = "misuse"  # 使用不当
    WEAR = "wear"  # 正常磨损
    UNKNOWN = "unknown"  # 未知


@event
class TicketOpenedV1(EventData):
    """A service request was registered (售后服务工单)."""

    NAME = "TicketOpened"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    opened_at: datetime
    channel: str
    request_type: str
    urgency: Urgency
    description: str
    customer_id: str | None = None
    customer_name: str
    contact: Contact
    contract_no: str | None = None
    product_model: str | None = None
    serial_no: str | None = None
    dealer_id: str | None = None
    acknowledge_due: datetime | None = None
    response_due: datetime | None = None
    resolution_due: datetime | None = None
    deadlines_provisional: bool = False
    in_warranty: bool | None = Field(
        default=None,
        description="the unit's 三包 warranty was valid when the ticket opened (from the "
        "entitlement's warranty end); null when the unit is not known",
    )


@event
class SlaBreachedV1(EventData):
    """A ticket's SLA clock passed its deadline (fired once per clock)."""

    NAME = "SlaBreached"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    clock: SlaClock
    deadline: datetime
    breached_at: datetime
    overdue_seconds: int = Field(ge=0)
    urgency: Urgency
    escalation_level: int = Field(default=1, ge=1)
    customer_id: str | None = None
    assignee_id: str | None = None
    dealer_id: str | None = None
    deadline_provisional: bool = False


@event
class ServiceCompletedV1(EventData):
    """The customer confirmed the service (维修服务单 / 投诉处理确认书)."""

    NAME = "ServiceCompleted"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    completed_at: datetime
    request_type: str
    channel: str
    customer_id: str | None = None
    customer_name: str
    contact: Contact
    confirmed_by: str
    confirmation_method: str = Field(description="signature, phone, sms, online")
    engineer_id: str | None = None
    dealer_id: str | None = None
    contract_no: str | None = None
    product_model: str | None = None
    serial_no: str | None = None
    within_sla: bool | None = None
    urgency: Urgency | None = Field(
        default=None, description="the ticket's urgency (a critical one gets a return visit)"
    )
    # the fault classification (issue 19): given by the engineer at completion, or
    # needs_analysis = true when the technical department is to find the cause (FaultClassified
    # follows once it has); absent for request types that need none (usage questions…)
    batch_no: str | None = None
    product_line: str | None = Field(
        default=None, description="the model family: the model's leading letters (XK-200 → XK)"
    )
    symptom_code: str | None = None
    symptom: str | None = Field(default=None, description="故障现象, as named in the catalogue")
    cause_category: CauseCategory | None = None
    failed_part_code: str | None = None
    failed_part: str | None = Field(default=None, description="故障部件, as in the catalogue")
    cause_detail: str | None = None
    needs_analysis: bool | None = Field(
        default=None, description="cause left to the technical department (待分析)"
    )


@event
class TicketAssignedV1(EventData):
    """A ticket was dispatched (派单) or reassigned to an engineer or a dealer."""

    NAME = "TicketAssigned"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    assigned_at: datetime
    assignee_id: str
    assignee_kind: str = Field(description="engineer | dealer | sales")
    assignee_name: str | None = None
    assignee_phone: str | None = None
    assignee_email: str | None = None
    assigned_by: str
    reason: str | None = None
    previous_assignee_id: str | None = None
    urgency: Urgency
    customer_id: str | None = None
    customer_name: str
    contact: Contact
    dealer_id: str | None = None
    resolution_due: datetime | None = None


@event
class TicketAcknowledgedV1(EventData):
    """A ticket was acknowledged (受理) for the first time: the first response to the customer,
    whose clock (acknowledge_due, 10 minutes by default) each channel is measured by."""

    NAME = "TicketAcknowledged"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    channel: str
    opened_at: datetime
    acknowledged_at: datetime
    acknowledge_due: datetime | None = Field(
        default=None, description="the acknowledgement clock's deadline when it was met or missed"
    )
    acknowledged_by: str
    urgency: Urgency
    dealer_id: str | None = None


@event
class SlaWarningV1(EventData):
    """A ticket's SLA clock used the warning fraction (default 75 %) of its time."""

    NAME = "SlaWarning"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    clock: SlaClock
    deadline: datetime
    warned_at: datetime
    fraction: float = Field(gt=0, lt=1)
    urgency: Urgency
    customer_id: str | None = None
    assignee_id: str | None = None
    dealer_id: str | None = None
    deadline_provisional: bool = False


@event
class SlaDeadlineChangedV1(EventData):
    """A clock's deadline moved (urgency changed, calendar table imported or edited)."""

    NAME = "SlaDeadlineChanged"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    clock: SlaClock
    old_deadline: datetime | None = None
    new_deadline: datetime
    reason: str
    deadline_provisional: bool = False


class CalendarDay(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    date: date
    kind: str = Field(pattern="^(holiday|workday)$")
    name: str = ""


class BusinessInterval(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    start: time
    end: time


@event
class CalendarChangedV1(EventData):
    """A working-time calendar changed: other services keep their local copy up to date."""

    NAME = "CalendarChanged"
    VERSION = 1
    PRODUCER = "tickets"

    calendar_id: str
    timezone: str = "Asia/Shanghai"
    always_open: bool = False
    hours: list[BusinessInterval] = Field(default_factory=list)
    workday_hours: list[BusinessInterval] = Field(
        default_factory=list, description="hours of a 调休 make-up day"
    )
    years: dict[int, list[CalendarDay]] = Field(
        default_factory=dict, description="full table per year carried"
    )
    closures: list[CalendarDay] = Field(default_factory=list)
    changed_by: str
    changed_at: datetime


@event
class CalendarYearMissingV1(EventData):
    """From 1 November: next year's holiday table has not been imported yet."""

    NAME = "CalendarYearMissing"
    VERSION = 1
    PRODUCER = "tickets"

    calendar_id: str
    year: int
    noticed_at: datetime


@event
class TicketReopenedV1(EventData):
    """A completed ticket was reopened within the reopen window."""

    NAME = "TicketReopened"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    reopened_at: datetime
    reason: str
    reopened_by: str


@event
class ServiceSheetSignedV1(EventData):
    """The customer signed the 维修服务单 with a finger on the phone page (issue 22 item 4): the
    signature, the name and the hash of the frozen content are kept with the ticket; the ticket is
    completed by the engineer afterwards (ServiceCompleted, method `signature`)."""

    NAME = "ServiceSheetSigned"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    sheet_id: int
    document: str
    signer_name: str
    signed_at: datetime
    content_sha256: str
    score: int | None = Field(default=None, ge=1, le=5)
    engineer_id: str | None = None


@event
class FollowUpOpenedV1(EventData):
    """A low survey score opened a follow-up ticket linked to the original one."""

    NAME = "FollowUpOpened"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    original_ticket_id: str
    survey_id: str
    opened_at: datetime


@event
class SlaEscalatedV1(EventData):
    """A breached clock is still not met N hours later: escalation goes up to management."""

    NAME = "SlaEscalated"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    clock: SlaClock
    deadline: datetime
    escalated_at: datetime
    overdue_seconds: int = Field(ge=0)
    escalation_level: int = Field(ge=2)
    urgency: Urgency
    customer_id: str | None = None
    assignee_id: str | None = None
    dealer_id: str | None = None


@event
class FaultClassifiedV1(EventData):
    """The technical department filled in (or corrected) a completed ticket's fault cause: the
    analysis asked for at completion (after_analysis) or a reclassification."""

    NAME = "FaultClassified"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    classified_at: datetime
    classified_by: str
    request_type: str
    completed_at: datetime | None = None
    product_model: str | None = None
    product_line: str | None = None
    serial_no: str | None = None
    batch_no: str | None = None
    dealer_id: str | None = None
    symptom_code: str
    symptom: str
    cause_category: CauseCategory
    failed_part_code: str | None = None
    failed_part: str | None = None
    cause_detail: str | None = None
    after_analysis: bool = Field(description="fills in a cause left to analysis at completion")
    analysis_overdue: bool = Field(
        default=False, description="filled in after its deadline (CauseAnalysisOverdue was sent)"
    )
    previous_cause_category: CauseCategory | None = Field(
        default=None, description="the category it replaces (a reclassification)"
    )


@event
class CauseAnalysisOverdueV1(EventData):
    """A completed ticket's cause left to analysis (待分析) was not filled in by its deadline
    (working days on the ticket's calendar; sent once)."""

    NAME = "CauseAnalysisOverdue"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    request_type: str
    completed_at: datetime | None = None
    due_at: datetime
    overdue_at: datetime
    product_model: str | None = None
    product_line: str | None = None
    serial_no: str | None = None
    dealer_id: str | None = None
    engineer_id: str | None = None
    symptom_code: str | None = None
    symptom: str | None = None


@event
class CorrectiveActionOverdueV1(EventData):
    """A corrective or preventive action (纠正/预防措施) was not done by its due date (close of
    business on the calendar; sent once)."""

    NAME = "CorrectiveActionOverdue"
    VERSION = 1
    PRODUCER = "tickets"

    action_id: str
    action_no: str
    kind: str = Field(description="corrective | preventive")
    title: str
    owner_department: str = Field(description="technical | delivery | purchasing | service | sales")
    owner_id: str | None = None
    status: str = Field(description="open | in_progress (not done yet)")
    due_date: date
    due_at: datetime
    overdue_at: datetime
    cause_category: CauseCategory | None = None
    product_line: str | None = None
    ticket_nos: list[str] = Field(default_factory=list)


@event
class CorrectiveActionChangedV1(EventData):
    """A corrective or preventive action (纠正/预防措施) was opened or moved a step: started, done,
    verified effective, or rejected at verification (back to in_progress). Counted by the reports;
    an opened one tells its owner department."""

    NAME = "CorrectiveActionChanged"
    VERSION = 1
    PRODUCER = "tickets"

    action_id: str
    action_no: str
    change: str = Field(description="created | started | done | verified | rejected")
    changed_at: datetime
    changed_by: str
    kind: str = Field(description="corrective | preventive")
    title: str
    owner_department: str = Field(description="technical | delivery | purchasing | service | sales")
    owner_id: str | None = None
    status: str = Field(description="open | in_progress | done | verified (after the change)")
    due_date: date
    due_at: datetime
    note: str | None = Field(default=None, description="the step's note, result or reason")
    cause_category: CauseCategory | None = None
    product_line: str | None = None
    ticket_nos: list[str] = Field(default_factory=list)


@event
class ComplaintLimitToldV1(EventData):
    """The customer of a complaint is told the time limit (处理时限) by which it will be resolved;
    the message to the customer's contact is the written record of the promise."""

    NAME = "ComplaintLimitTold"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    level: ComplaintLevel
    promised_date: date = Field(description="resolved by close of business of this day")
    told_at: datetime
    told_by: str
    owner_id: str
    customer_id: str | None = None
    customer_name: str
    contact: Contact
    note: str | None = None
    dealer_id: str | None = None


@event
class ComplaintResolutionProposedV1(EventData):
    """A resolution is proposed to the customer of a complaint, who accepts or rejects it through a
    single-use link (投诉处理确认书). The link is sealed for the notifications service alone
    (aftersales_shared.sealing); `link_masked` is what staff may see."""

    NAME = "ComplaintResolutionProposed"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    level: ComplaintLevel
    round: int = Field(ge=1, description="1, and one more after each rejected proposal")
    resolution: str
    proposed_at: datetime
    proposed_by: str
    owner_id: str
    promised_date: date | None = None
    customer_id: str | None = None
    customer_name: str
    contact: Contact
    link_masked: str = Field(description="the confirmation page URL with the token cut short")
    link_sealed: str = Field(
        description="the full link in a libsodium sealed box to notifications' public key"
    )
    expires_at: datetime
    language: str = "zh-CN"
    dealer_id: str | None = None


@event
class ComplaintOverdueV1(EventData):
    """A complaint step was not done by its deadline (the level's clock on the ticket's working-time
    calendar, counted from the start of the round; sent once per step and round)."""

    NAME = "ComplaintOverdue"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    stage: ComplaintStep
    level: ComplaintLevel
    round: int = Field(ge=1)
    owner_id: str
    due_at: datetime
    overdue_at: datetime
    customer_id: str | None = None
    customer_name: str
    dealer_id: str | None = None


@event
class ComplaintEscalatedV1(EventData):
    """The customer rejected a proposed resolution: the complaint goes up a level (a serious one
    stays serious and goes to management) and its clocks restart for a new proposal."""

    NAME = "ComplaintEscalated"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    previous_level: ComplaintLevel
    level: ComplaintLevel
    management: bool = Field(description="a serious complaint rejected again: management takes it")
    round: int = Field(ge=2, description="the round that starts now")
    reason: str
    rejected_via: str = Field(description="link | phone | signature | onsite")
    escalated_at: datetime
    owner_id: str
    customer_id: str | None = None
    customer_name: str
    dealer_id: str | None = None


@event
class ComplaintClassifiedV1(EventData):
    """A complaint's level and type as they stand now: sent when the complaint is registered and
    each time its level or type changes (re-graded, escalated, typed at the investigation). The
    latest `classified_at` wins."""

    NAME = "ComplaintClassified"
    VERSION = 1
    PRODUCER = "tickets"

    ticket_id: str
    ticket_no: str
    level: ComplaintLevel
    complaint_type: ComplaintType | None = Field(
        default=None, description="None while nobody has said what the complaint is about"
    )
    change: Literal["opened", "level_changed", "escalated", "typed"]
    classified_at: datetime
    classified_by: str
    dealer_id: str | None = None
