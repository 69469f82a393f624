"""Wiring of the surveys service."""

from litestar import Litestar

from aftersales_shared.calendars import keep_calendar_copies
from aftersales_shared.events import SurveyAnsweredV1, SurveyRequestedV2
from aftersales_shared.service import build_runtime, create_service_app

from . import messaging
from .http import CONTROLLERS, PUBLIC_PREFIX
from .ratelimit import GuessLimiter
from .settings import SurveysSettings

DESCRIPTION = (
    "售后满意度调查 — satisfaction surveys after every completed service, public survey page at "
    "/s/<token>"
)


def create_app(settings: SurveysSettings) -> Litestar:
    rt = build_runtime(settings, publishes=[SurveyRequestedV2, SurveyAnsweredV1])
    policy = settings.policy()
    keep_calendar_copies(rt.inbox)
    messaging.register(rt.inbox, policy)
    messaging.register_jobs(rt.scheduler, policy)
    limiter = GuessLimiter(settings.guess_limit, settings.guess_window_seconds)
    app = create_service_app(
        rt,
        route_handlers=CONTROLLERS,
        description=DESCRIPTION,
        public_prefixes=(PUBLIC_PREFIX,),
        dependencies={
            "policy": policy,
            "limiter": limiter,
            "trusted_proxies": settings.trusted_proxies,
        },
    )
    app.state["guess_limiter"] = limiter
    return app
