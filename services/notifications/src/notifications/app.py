"""Wiring of the notifications service."""

from litestar import Litestar

from aftersales_shared.service import build_runtime, create_service_app

from .settings import NotificationsSettings

DESCRIPTION = "短信与邮件通知 — SMS and email notifications"


def create_app(settings: NotificationsSettings) -> Litestar:
    rt = build_runtime(settings)
    return create_service_app(rt, route_handlers=[], description=DESCRIPTION)
