"""HTTP request and response types of the tickets API (bases, pages and contacts from
aftersales_shared.schemas)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, Field

from aftersales_shared.events import CauseCategory, ComplaintLevel, ComplaintType, Urgency
from aftersales_shared.patch import NoNullsUnlessClearable
from aftersales_shared.schemas import EMAIL_PATTERN, ContactIn, In, Out, Page, Phone

from .domain import Channel, ComplaintStage, Department, RequestType
from .knowledge import SCORE_NOTE, PartUsed

# a catalogue code (upper-cased when stored) and a product line ('*': every line)
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
LINE_PATTERN = r"^(\*|[^\s*]{1,40})$"
Code = Annotated[str, Field(pattern=CODE_PATTERN, description="catalogue code, e.g. NOISE")]


class UnitOut(Out):
    serial_no: str
    model: str
    warranty_end: date


class EntitlementOut(Out):
    contract_no: str
    customer_id: str
    customer_name: str
    contacts: list[dict]
    service_levels: list[dict]
    calendar: str
    dealer_id: str | None
    signed_at: datetime
    recorded_at: datetime
    units: list[UnitOut]


EntitlementPage = Page[EntitlementOut]


# ------------------------------------------------------------------ tickets
class TicketIn(In):
    channel: Channel
    request_type: RequestType
    urgency: Urgency = Urgency.NORMAL
    description: str = Field(
        min_length=1, max_length=4000, description="symptom and when it started"
    )
    customer_id: str | None = Field(default=None, max_length=64)
    customer_name: str | None = Field(default=None, max_length=200)
    contact: ContactIn
    contract_no: str | None = Field(default=None, max_length=64)
    product_model: str | None = Field(default=None, max_length=100)
    serial_no: str | None = Field(default=None, max_length=100)
    batch_no: str | None = Field(default=None, max_length=100)
    dealer_id: str | None = Field(default=None, max_length=64)
    use_default_policy: bool = Field(
        default=False, description="accept an unknown contract/serial under the default SLA"
    )
    complaint_level: ComplaintLevel | None = Field(
        default=None,
        description="a complaint's level (投诉等级): general (default), major, serious",
    )
    complaint_owner_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="the supervisor who owns a complaint (default: the supervisor registering it, "
        "else the configured owner)",
    )
    complaint_type: ComplaintType | None = Field(
        default=None,
        description="what a complaint is about (投诉类型): product_quality, repair_quality, "
        "timeliness, service_attitude, charges, parts_supply, delivery_installation, other; may "
        "be given later with the investigation's findings",
    )


class AssignIn(In):
    assignee_id: str = Field(min_length=1, max_length=100)
    assignee_kind: Literal["engineer", "dealer", "sales"] = "engineer"
    assignee_name: str | None = Field(default=None, max_length=100)
    assignee_phone: Phone | None = None
    assignee_email: str | None = Field(default=None, pattern=EMAIL_PATTERN)
    reason: str | None = Field(default=None, max_length=500)


class NoteIn(In):
    note: str = Field(default="", max_length=2000)


class PauseIn(In):
    reason: Literal["waiting_customer", "waiting_parts"]
    note: str = Field(default="", max_length=2000)


class UrgencyIn(In):
    urgency: Urgency
    reason: str = Field(min_length=1, max_length=500)


class PartIn(In):
    name: str = Field(min_length=1, max_length=100)
    quantity: int = Field(gt=0, le=10000)


class FeeIn(In):
    kind: Literal["repair", "travel", "labour", "parts"]
    amount: Decimal = Field(ge=0, le=Decimal("10000000"), decimal_places=2, description="CNY")


class ProgressIn(In):
    kind: Literal["action", "milestone", "note", "parts", "fee"]
    text: str = Field(min_length=1, max_length=4000)
    visibility: Literal["internal", "customer"] = "internal"
    parts: list[PartIn] = Field(default_factory=list, max_length=50)
    fee: FeeIn | None = None


class FaultIn(In):
    """The fault as the engineer found it (故障分类): symptom and cause category from the catalogue,
    or needs_analysis when the technical department is to find the cause."""

    symptom: Code | None = Field(
        default=None, description="故障现象: GET /fault-catalogue/symptoms"
    )
    cause_category: CauseCategory | None = Field(
        default=None, description="原因类别: GET /fault-catalogue/cause-categories"
    )
    failed_part: Code | None = Field(
        default=None, description="故障部件: GET /fault-catalogue/parts"
    )
    cause_detail: str | None = Field(default=None, max_length=2000, description="原因说明")
    needs_analysis: bool = Field(
        default=False, description="原因待分析: the technical department fills in the cause"
    )


class CompleteIn(In):
    document: Literal["repair_sheet", "complaint_confirmation", "answer_confirmation"]
    confirmed_by: str = Field(min_length=1, max_length=100)
    confirmed_at: AwareDatetime
    method: Literal["signature", "phone", "sms", "online"]
    remarks: str | None = Field(default=None, max_length=2000)
    fault: FaultIn | None = Field(
        default=None,
        description="required to complete a quality_issue (repair) or complaint ticket",
    )


class ReasonIn(In):
    reason: str = Field(min_length=1, max_length=1000)


class LoanerIn(In):
    serial_no: str = Field(min_length=1, max_length=100)
    model: str = Field(min_length=1, max_length=100)
    reason: str | None = Field(default=None, max_length=500)


class ClockOut(Out):
    kind: str
    state: str
    target_minutes: float
    deadline: datetime | None
    provisional: bool
    met_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    escalation_level: int
    # working time used before the running segment (all of it while paused): a paused clock's
    # remaining time is target - elapsed (the console's countdown)
    elapsed_minutes: float = 0.0
    running_since: datetime | None = None


class TicketOut(Out):
    ticket_no: str
    id: str
    status: str
    channel: str
    request_type: str
    urgency: str
    description: str
    customer_id: str | None
    customer_name: str
    contact_name: str
    contact_phone: str | None
    contact_email: str | None
    contract_no: str | None
    product_model: str | None
    serial_no: str | None
    batch_no: str | None
    dealer_id: str | None
    calendar_id: str
    policy: dict
    in_warranty: bool | None
    assignee_id: str | None
    assignee_kind: str | None
    assignee_name: str | None
    parent_ticket_id: str | None
    external_ref: str | None = (
        None  # a partner's own reference (with `channel`: once per partner request)
    )
    sla_state: str
    opened_at: datetime
    acknowledged_at: datetime | None
    assigned_at: datetime | None
    first_response_at: datetime | None
    onsite_at: datetime | None
    resolved_at: datetime | None
    completed_at: datetime | None
    reopen_count: int
    deadlines_provisional: bool
    clocks: list[ClockOut]


TicketPage = Page[TicketOut]


class AttachmentOut(Out):
    """A file kept with a ticket (an e-mail's attachment); its bytes at `…/attachments/{id}`."""

    id: int
    progress_id: int | None = Field(description="the progress entry it came with, if any")
    filename: str
    content_type: str
    size: int
    source: str
    created_at: datetime


class ProgressOut(Out):
    id: int
    at: datetime
    author: str
    kind: str
    text: str
    visibility: str
    parts: list[dict]
    fee_kind: str | None
    fee_amount: Decimal | None
    attachments: list[AttachmentOut] = Field(
        default_factory=list,
        description="files that came with this entry (an e-mail's attachments)",
    )


class CompletionOut(Out):
    document: str
    confirmed_by: str
    confirmed_at: datetime
    method: str
    remarks: str | None


class LoanerOut(Out):
    serial_no: str
    model: str
    provided_at: datetime
    reason: str


# ------------------------------------------------------------------ calendars
class IntervalIn(In):
    weekday: int = Field(ge=0, le=6)
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    end: str = Field(pattern=r"^\d{2}:\d{2}$")


class CalendarIn(In):
    name: str = Field(min_length=1, max_length=100)
    timezone: str = "Asia/Shanghai"
    always_open: bool = False
    hours: list[IntervalIn] = Field(default_factory=list, max_length=50)
    workday_hours: list[IntervalIn] = Field(default_factory=list, max_length=10)


class CalendarOut(Out):
    id: str
    name: str
    timezone: str
    always_open: bool
    hours: list[dict]
    workday_hours: list[dict]


class YearImportOut(Out):
    scope: str
    year: int
    entries: int
    clocks_recomputed: int
    deadlines_changed: int


# ------------------------------------------------------------------ fault causes
class CauseCategoryOut(Out):
    code: CauseCategory
    label_zh: str
    label_en: str


class CatalogueEntryIn(In):
    code: Code
    product_line: str = Field(
        pattern=LINE_PATTERN,
        description="the model family (XK-200 → XK), or * for every product line",
    )
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)


class CatalogueEntryPatch(NoNullsUnlessClearable, In):
    """Rename, describe, deactivate (active: false) or reactivate an entry; entries are never
    deleted."""

    clearable = frozenset({"description"})

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    active: bool | None = None


class CatalogueEntryOut(Out):
    code: str
    kind: str
    product_line: str
    name: str
    description: str | None
    active: bool
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


CatalogueEntryPage = Page[CatalogueEntryOut]


class FaultAnalysisIn(In):
    """The technical department's finding: fills in a cause left to analysis, or corrects one."""

    cause_category: CauseCategory
    symptom: Code | None = Field(default=None, description="required if none was recorded")
    failed_part: Code | None = None
    cause_detail: str | None = Field(default=None, max_length=2000)


class FaultOut(Out):
    ticket_no: str
    request_type: str
    product_model: str | None
    product_line: str | None
    completed_at: datetime | None
    symptom_code: str | None
    symptom: str | None
    cause_category: str | None
    cause_label: str | None = Field(description="原因类别 in Chinese")
    failed_part_code: str | None
    failed_part: str | None
    cause_detail: str | None
    needs_analysis: bool
    analysis_due_at: datetime | None
    analysis_overdue_at: datetime | None
    calendar_id: str = Field(
        description="the ticket's working calendar: its analysis deadline counts working days on it"
    )
    recorded_by: str
    recorded_at: datetime
    classified_by: str | None
    classified_at: datetime | None
    classified_via: str | None = Field(description="completion | analysis | reclassification")


FaultPage = Page[FaultOut]


# ------------------------------------------------------------------ corrective actions
class CorrectiveActionIn(In):
    kind: Literal["corrective", "preventive"] = "corrective"
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    owner_department: Department
    owner_id: str | None = Field(default=None, min_length=1, max_length=100)
    ticket_nos: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=50, description="the tickets it answers"
    )
    cause_category: CauseCategory | None = Field(default=None, description="the cause it removes")
    product_line: str | None = Field(default=None, pattern=LINE_PATTERN)
    symptom: Code | None = None
    failed_part: Code | None = None
    due_date: date | None = Field(
        default=None, description="a working day: due at its close of business"
    )
    due_working_days: int | None = Field(
        default=None, ge=1, le=250, description="or: due this many working days from now"
    )


class ActionNoteIn(In):
    note: str = Field(default="", max_length=2000)


class ActionResultIn(In):
    result: str = Field(min_length=1, max_length=4000, description="what was done")


class AuditEntryOut(Out):
    id: int
    entity: str
    entity_id: str
    action: str
    actor: str
    at: datetime
    detail: dict


AuditPage = Page[AuditEntryOut]


class CorrectiveActionOut(Out):
    action_no: str
    id: str
    kind: str
    title: str
    description: str | None
    owner_department: str
    owner_id: str | None
    cause_category: str | None
    product_line: str | None
    symptom_code: str | None
    failed_part_code: str | None
    ticket_nos: list[str]
    calendar_id: str
    due_date: date
    due_at: datetime
    status: str
    created_at: datetime
    created_by: str
    started_at: datetime | None
    done_at: datetime | None
    done_by: str | None
    result: str | None
    verified_at: datetime | None
    verified_by: str | None
    rejections: int
    overdue_at: datetime | None
    history: list[AuditEntryOut] | None = Field(
        default=None, description="who did what, oldest first (one action's answer only)"
    )


CorrectiveActionPage = Page[CorrectiveActionOut]
# ------------------------------------------------------------------ knowledge base
Step = Annotated[str, Field(min_length=1, max_length=2000)]


class PartUsedIn(In):
    name: str = Field(min_length=1, max_length=100)
    quantity: int = Field(gt=0, le=10000)


class _ArticleFields(In):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    symptom: str | None = Field(
        default=None, min_length=1, max_length=4000, description="故障现象 (what was seen)"
    )
    cause_category: str | None = Field(
        default=None,
        max_length=60,
        description="故障原因类别, e.g. design, material, manufacturing, transport, installation, "
        "misuse, wear, unknown (a plain string, joinable with a fault-cause catalogue)",
    )
    cause: str | None = Field(default=None, max_length=4000, description="故障原因")
    steps: list[Step] | None = Field(default=None, max_length=50, description="处理步骤, in order")
    parts: list[PartUsedIn] | None = Field(default=None, max_length=50)
    product_model: str | None = Field(default=None, max_length=100)
    product_line: str | None = Field(default=None, max_length=100)

    def changes(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The fields sent (PATCH) or given (create), parts as PartUsed."""
        data = self.model_dump(exclude_unset=True, exclude=set(exclude))
        if data.get("parts") is not None:
            data["parts"] = [PartUsed(p["name"], p["quantity"]) for p in data["parts"]]
        return data


class ArticleIn(_ArticleFields):
    """A draft from a completed ticket; a field left out is taken from the ticket."""

    ticket_no: str = Field(min_length=1, max_length=32)


class ArticlePatch(NoNullsUnlessClearable, _ArticleFields):
    """A new revision: a field left out keeps its value."""

    clearable: ClassVar[frozenset[str]] = frozenset(
        {"cause_category", "cause", "product_model", "product_line"}
    )


class ReviewIn(In):
    comment: str | None = Field(default=None, max_length=2000)


class CommentIn(In):
    comment: str = Field(min_length=1, max_length=2000, description="why (the author reads it)")


class PartUsedOut(Out):
    name: str
    quantity: int


class _ArticleContentOut(Out):
    source_ticket_no: str
    title: str
    symptom: str
    cause_category: str | None
    cause: str | None
    steps: list[str]
    parts: list[PartUsedOut]
    product_model: str | None
    product_line: str | None


class ArticleOut(_ArticleContentOut):
    """The working copy and where it stands in review."""

    id: int
    status: str
    revision: int
    published_revision: int | None
    author: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_comment: str | None


ArticlePage = Page[ArticleOut]


class ArticleStepOut(Out):
    """One step of an article's history (append-only)."""

    id: int
    revision: int
    action: str
    actor: str
    actor_roles: list[str]
    at: datetime
    comment: str | None
    content: dict


ArticleStepPage = Page[ArticleStepOut]


class PublishedArticleOut(_ArticleContentOut):
    """The approved revision of an article: what readers see."""

    article_id: int
    revision: int
    approved_by: str
    approved_at: datetime


class KnowledgeHitOut(PublishedArticleOut):
    score: float | None = Field(description=SCORE_NOTE + "; null when no words were searched")


KnowledgeHitPage = Page[KnowledgeHitOut]


# ------------------------------------------------------------------ complaints
class ComplaintNoteIn(In):
    note: str | None = Field(default=None, max_length=2000)


class ComplaintLimitIn(In):
    promised_date: date = Field(
        description="resolved by close of business of this working day; within the level's "
        "longest promise (general 10, major 5, serious 3 working days)"
    )
    via: Literal["phone", "sms", "email", "wechat", "onsite"] = Field(
        description="how the customer was told (the written notice goes out too)"
    )
    note: str | None = Field(default=None, max_length=2000)


class ComplaintFindingsIn(In):
    findings: str = Field(min_length=1, max_length=4000, description="调查结论: what was found")
    complaint_type: ComplaintType | None = Field(
        default=None, description="投诉类型, when the investigation shows what it is about"
    )


class ComplaintResolutionIn(In):
    resolution: str = Field(
        min_length=1, max_length=4000, description="处理方案: what is proposed to the customer"
    )


class ComplaintAnswerIn(In):
    """The customer's answer to the proposed resolution as staff record it (投诉处理确认书)."""

    outcome: Literal["accepted", "rejected"]
    confirmed_by: str = Field(min_length=1, max_length=100, description="the customer's person")
    confirmed_at: AwareDatetime
    method: Literal["phone", "signature", "onsite"]
    reason: str | None = Field(default=None, max_length=2000, description="required when rejected")
    remarks: str | None = Field(default=None, max_length=2000)


class ComplaintLevelIn(In):
    level: ComplaintLevel
    reason: str = Field(min_length=1, max_length=1000)


class ComplaintOwnerIn(In):
    owner_id: str = Field(min_length=1, max_length=100, description="a supervisor's user id")
    reason: str = Field(min_length=1, max_length=1000)


class ComplaintClockOut(Out):
    round: int
    stage: str
    due_at: datetime
    met_at: datetime | None
    overdue_at: datetime | None


class ComplaintProposalOut(Out):
    round: int
    level: str
    resolution: str
    proposed_at: datetime
    proposed_by: str
    link_masked: str | None
    expires_at: datetime | None
    outcome: str | None = Field(description="accepted | rejected | null while waiting")
    answered_at: datetime | None
    method: str | None = Field(description="link | phone | signature | onsite")
    confirmed_by: str | None
    reason: str | None
    remarks: str | None
    recorded_by: str | None


class ComplaintOut(Out):
    ticket_no: str
    ticket_id: str
    ticket_status: str
    customer_name: str
    dealer_id: str | None
    calendar_id: str | None = Field(
        default=None,
        description="the ticket's working-time calendar (the clocks count on it), for readers "
        "who may not open the ticket itself: an engineer whose earlier work a complaint is about",
    )
    assignee_id: str | None = Field(
        default=None, description="who the complaint ticket is assigned to now (engineer, dealer)"
    )
    level: ComplaintLevel
    complaint_type: ComplaintType | None = Field(description="投诉类型; None until someone says")
    stage: ComplaintStage
    round: int
    owner_id: str
    management: bool = Field(description="a serious complaint rejected again: management has it")
    escalations: int
    overdue: list[str] = Field(description="steps of this round past their deadline, not done")
    opened_at: datetime
    round_started_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    promised_date: date | None
    limit_told_at: datetime | None
    limit_told_by: str | None
    limit_told_via: str | None
    findings: str | None
    investigated_at: datetime | None
    investigated_by: str | None
    accepted_at: datetime | None
    closed_at: datetime | None
    clocks: list[ComplaintClockOut] = Field(description="each step's deadline, every round")
    proposals: list[ComplaintProposalOut] = Field(
        description="the proposed resolutions and the customer's answers (投诉处理确认书)"
    )
    history: list[AuditEntryOut] | None = Field(
        default=None, description="who did what, oldest first (one complaint's answer only)"
    )


ComplaintPage = Page[ComplaintOut]


class ServiceSheetSignatureOut(Out):
    signer_name: str
    score: int | None
    signed_at: datetime
    content_sha256: str
    image_sha256: str
    image_url: str


class ServiceSheetOut(Out):
    """A frozen 维修服务单: `content` is exactly the canonical JSON whose SHA-256 is
    `content_sha256` (hash the string, not a re-encoding of it)."""

    sheet_id: int
    ticket_no: str
    document: str
    content: str
    content_sha256: str
    frozen_by: str
    frozen_at: datetime
    expires_at: datetime
    link: str | None = Field(
        default=None, description="the one-time signing link; shown once, when frozen"
    )
    signature: ServiceSheetSignatureOut | None = None


class ComplaintSignatureOut(Out):
    """A 投诉处理确认书 the customer signed with a finger on the page (`content` exactly as
    hashed)."""

    proposal_id: int
    signer_name: str
    signed_at: datetime
    content: str
    content_sha256: str
    image_sha256: str
    image_url: str


class EngineerOut(Out):
    id: str = Field(description="the IdP subject (sub) the engineer's token carries")
    name: str
    region: str
    phone: str
    open_tickets: int = Field(description="tickets assigned to this engineer and not completed")
    skills: list[str] = Field(default_factory=list, description="skills or product lines")
    active: bool = True
    on_leave: bool = Field(default=False, description="on leave now (not offered by the picker)")
    leave_until: date | None = Field(
        default=None, description="the last day of leave (business time zone); null: open-ended"
    )
    available: bool = Field(default=True, description="active and not on leave: dispatchable")
    updated_at: datetime | None = None
    updated_by: str | None = None


class EngineerIn(In):
    """A new engineer on the roster (checked with zh-CN messages by the use case)."""

    id: str = Field(max_length=100, description="the IdP subject (sub)")
    name: str = Field(max_length=100)
    region: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=30, description="mainland mobile, 11 digits")
    skills: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)


class EngineerPatch(NoNullsUnlessClearable, In):
    """Change what is sent; `active: false` deactivates (never deleted: tickets name them)."""

    name: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=30)
    skills: list[Annotated[str, Field(max_length=100)]] | None = Field(default=None, max_length=50)
    active: bool | None = None


class LeaveIn(In):
    """On leave until a day (inclusive, business time zone; null: until further notice), or back
    (`on_leave: false`)."""

    on_leave: bool
    until: date | None = None


class EngineerImportOut(Out):
    created: int
    updated: int
    unchanged: int
