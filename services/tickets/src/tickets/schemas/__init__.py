"""HTTP request and response types of the tickets API (not the event contracts, not the tables),
one module per area; every name is also importable from `tickets.schemas`.

- tickets: entitlements, intake, assignment, pause, urgency, loaners, the ticket and its clocks;
  progress: progress entries, attachments, completion; faults: the fault as found, the fault
  catalogue, analysis; complaints; service_sheet: the signed 维修服务单 and 投诉处理确认书;
  corrective: corrective and preventive actions; knowledge: the knowledge base; calendars;
  engineers: the roster; audit: the audit trail; fields: codes and product lines.

The bases (`In`, `Out`, `Page[T]`, `ContactIn`, `Phone`) are every service's, from
`aftersales_shared.schemas`.
"""

from .audit import (
    AuditEntryOut,
    AuditPage,
)
from .calendars import (
    CalendarIn,
    CalendarOut,
    IntervalIn,
    YearImportOut,
)
from .complaints import (
    ComplaintAnswerIn,
    ComplaintClockOut,
    ComplaintFindingsIn,
    ComplaintLevelIn,
    ComplaintLimitIn,
    ComplaintNoteIn,
    ComplaintOut,
    ComplaintOwnerIn,
    ComplaintPage,
    ComplaintProposalOut,
    ComplaintResolutionIn,
)
from .corrective import (
    ActionNoteIn,
    ActionResultIn,
    CorrectiveActionIn,
    CorrectiveActionOut,
    CorrectiveActionPage,
)
from .engineers import (
    EngineerImportOut,
    EngineerIn,
    EngineerOut,
    EngineerPatch,
    LeaveIn,
)
from .faults import (
    CatalogueEntryIn,
    CatalogueEntryOut,
    CatalogueEntryPage,
    CatalogueEntryPatch,
    CauseCategoryOut,
    FaultAnalysisIn,
    FaultIn,
    FaultOut,
    FaultPage,
)
from .fields import (
    CODE_PATTERN,
    LINE_PATTERN,
    Code,
)
from .knowledge import (
    ArticleIn,
    ArticleOut,
    ArticlePage,
    ArticlePatch,
    ArticleStepOut,
    ArticleStepPage,
    CommentIn,
    KnowledgeHitOut,
    KnowledgeHitPage,
    PartUsedIn,
    PartUsedOut,
    PublishedArticleOut,
    ReviewIn,
    Step,
)
from .progress import (
    AttachmentOut,
    CompleteIn,
    CompletionOut,
    FeeIn,
    PartIn,
    ProgressIn,
    ProgressOut,
)
from .service_sheet import (
    ComplaintSignatureOut,
    ServiceSheetOut,
    ServiceSheetSignatureOut,
)
from .tickets import (
    AssignIn,
    ClockOut,
    EntitlementOut,
    EntitlementPage,
    LoanerIn,
    LoanerOut,
    NoteIn,
    PauseIn,
    ReasonIn,
    TicketIn,
    TicketOut,
    TicketPage,
    UnitOut,
    UrgencyIn,
)
