"""HTTP API of the tickets service: decode, call one use case, encode. One module per area; the
public pages need no login: the complaint confirmation (/c/<token>), the web form (/r/new) and
the customer's tracking page (/t/<token>), the WeChat push endpoint (/wechat) and the
维修服务单 to sign (/sheet/<token>)."""

from .attachments import AttachmentController
from .calendars import CalendarController
from .complaint_page import PUBLIC_PREFIX, ComplaintPageController
from .complaints import ComplaintController
from .corrective import CorrectiveActionController
from .engineers import EngineerController
from .entitlements import EntitlementController
from .faults import CatalogueController, FaultController, QualityAuditController
from .knowledge import KnowledgeController, SuggestionController
from .queue import QueueController
from .service_sheet import (
    SHEET_PREFIX,
    ComplaintSignatureController,
    ServiceSheetController,
    ServiceSheetPageController,
)
from .tickets import TicketController
from .webform_page import (
    FORM_PREFIX,
    TRACKING_PREFIX,
    RequestFormController,
    TrackingPageController,
)
from .wechat import WECHAT_PREFIX, WeChatController

CONTROLLERS = [
    EntitlementController,
    TicketController,
    AttachmentController,
    SuggestionController,
    QueueController,
    EngineerController,
    CalendarController,
    CatalogueController,
    FaultController,
    CorrectiveActionController,
    QualityAuditController,
    KnowledgeController,
    ComplaintController,
    ComplaintPageController,
    RequestFormController,
    TrackingPageController,
    WeChatController,
    ServiceSheetController,
    ServiceSheetPageController,
    ComplaintSignatureController,
]
PUBLIC_PREFIXES = (PUBLIC_PREFIX, FORM_PREFIX, TRACKING_PREFIX, WECHAT_PREFIX, SHEET_PREFIX)

__all__ = ["CONTROLLERS", "PUBLIC_PREFIX", "PUBLIC_PREFIXES"]
