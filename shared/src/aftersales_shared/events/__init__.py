"""Event contracts: importing this package registers every known version."""

from . import (
    contracts,
    dealers,
    knowledge,
    notifications,
    partners,
    parts,
    reports,
    surveys,
    tickets,
)
from .base import (
    CORRELATION_HEADER,
    MSG_ID_HEADER,
    Envelope,
    EventData,
    EventRegistry,
    MalformedEvent,
    event,
    registry,
)
from .common import Contact, CustomerRef, ProductUnit, ServiceLevel, Urgency
from .contracts import (
    ContractArchivedV1,
    ContractArchiveOverdueV1,
    ContractReviewedV1,
    ContractSignedV1,
    ContractSubmittedV1,
    DeliveryNoticeV1,
    EntitlementTerms,
    InstallationBookingOverdueV1,
    ObjectionAnswerOverdueV1,
    TrainingFollowUpOverdueV1,
    TrainingFollowUpRecordedV1,
)
from .dealers import (
    CardDueSoonV1,
    CardOverdueV1,
    DealerContactsChangedV1,
    DeductionIssuedV1,
    PartsReturnOverdueV1,
    StockingPlanMissedV1,
    WarrantyCardRegisteredV1,
    WarrantyServiceOverdueV1,
)
from .knowledge import KnowledgeArticleChangedV1
from .notifications import NotificationFailedV1, NotificationSentV1
from .partners import TicketRequestedV1
from .parts import (
    ExpenseClaimApprovedV1,
    ExpenseClaimFacts,
    ExpenseClaimOverdueV1,
    ExpenseClaimRejectedV1,
    ExpenseClaimSettledV1,
    ExpenseClaimSubmittedV1,
    InvoiceCancelledV1,
    InvoiceIssuedV1,
    InvoiceRequestedV1,
    PartIssuedV1,
    PartReturnedV1,
    PartsArrivedForTicketV1,
    QuoteAcceptedV1,
    QuoteDeclinedV1,
    QuoteIssuedV1,
    QuoteLine,
    QuoteWithdrawnV1,
    StockBelowReorderPointV1,
)
from .reports import ReportHeadline, ReportLinks, ReportPublishedV1
from .surveys import (
    ReturnVisitOverdueV1,
    ReturnVisitRecordedV1,
    SurveyAnsweredV1,
    SurveyRequestedV1,
    SurveyRequestedV2,
)
from .tickets import (
    CalendarChangedV1,
    CalendarDay,
    CalendarYearMissingV1,
    CauseAnalysisOverdueV1,
    CauseCategory,
    ComplaintClassifiedV1,
    ComplaintEscalatedV1,
    ComplaintLevel,
    ComplaintLimitToldV1,
    ComplaintOverdueV1,
    ComplaintResolutionProposedV1,
    ComplaintStep,
    ComplaintType,
    CorrectiveActionChangedV1,
    CorrectiveActionOverdueV1,
    FaultClassifiedV1,
    FollowUpOpenedV1,
    ServiceCompletedV1,
    ServiceSheetSignedV1,
    SlaBreachedV1,
    SlaClock,
    SlaDeadlineChangedV1,
    SlaEscalatedV1,
    SlaWarningV1,
    TicketAcknowledgedV1,
    TicketAssignedV1,
    TicketOpenedV1,
    TicketReopenedV1,
)

__all__ = [name for name in dir() if not name.startswith("_")]
