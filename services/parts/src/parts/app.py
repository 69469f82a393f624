"""Wiring of the parts service."""

from litestar import Litestar

from aftersales_shared.calendars import keep_calendar_copies
from aftersales_shared.events import (
    ExpenseClaimApprovedV1,
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
    QuoteWithdrawnV1,
    StockBelowReorderPointV1,
)
from aftersales_shared.publiclinks import GuessLimiter
from aftersales_shared.service import build_runtime, create_service_app

from . import messaging
from .http import CONTROLLERS, PUBLIC_PREFIX
from .settings import PartsSettings

DESCRIPTION = (
    "备件与服务费用 — spare parts and the money on a ticket: the part master, stock per location, "
    "the append-only movement ledger, reservations for tickets waiting for parts, each ticket's "
    "cost (parts, labour, travel), warranty or chargeable, the price list, quotes the customer "
    "accepts at /q/<token>, VAT invoice requests for finance, and engineers' travel expense claims "
    "(报销) approved by a supervisor, settled by finance, due within working days of the trip"
)
PUBLISHES = [
    PartIssuedV1,
    PartReturnedV1,
    StockBelowReorderPointV1,
    PartsArrivedForTicketV1,
    QuoteIssuedV1,
    QuoteAcceptedV1,
    QuoteDeclinedV1,
    QuoteWithdrawnV1,
    InvoiceRequestedV1,
    InvoiceIssuedV1,
    InvoiceCancelledV1,
    ExpenseClaimSubmittedV1,
    ExpenseClaimApprovedV1,
    ExpenseClaimRejectedV1,
    ExpenseClaimSettledV1,
    ExpenseClaimOverdueV1,
]


def create_app(settings: PartsSettings) -> Litestar:
    rt = build_runtime(settings, publishes=PUBLISHES)
    messaging.register(rt.inbox)
    keep_calendar_copies(rt.inbox)  # the working calendar the claim deadline counts on
    messaging.register_jobs(rt.scheduler, settings)
    limiter = GuessLimiter(settings.guess_limit, settings.guess_window_seconds)
    app = create_service_app(
        rt,
        route_handlers=CONTROLLERS,
        description=DESCRIPTION,
        public_prefixes=(PUBLIC_PREFIX,),
        dependencies={"limiter": limiter, "storage": settings.file_storage()},
    )
    app.state["guess_limiter"] = limiter
    return app
