"""Wiring of the notifications service."""

from __future__ import annotations

from litestar import Litestar

from aftersales_shared.calendars import keep_calendar_copies
from aftersales_shared.db import is_sqlite, utcnow
from aftersales_shared.events import NotificationFailedV1, NotificationSentV1
from aftersales_shared.scheduler import Scheduler
from aftersales_shared.service import Runtime, build_runtime, create_service_app

from . import messaging
from .domain import RulesError
from .http import CONTROLLERS
from .providers import email_provider, sms_provider, wechat_provider
from .providers.base import EmailProvider, SmsProvider, WeChatProvider
from .rules import parse_rules
from .settings import NotificationsSettings
from .templates import Templates, load_yaml, yaml_with_lines
from .usecases import rulebook
from .usecases.planning import Notifier
from .worker import DeliveryWorker

DESCRIPTION = (
    "短信与邮件通知 — SMS and email notifications: rules, templates, recipients, delivery log"
)


def load_notifier(settings: NotificationsSettings) -> Notifier:
    """Rules and templates, validated: a broken file stops the start with a message saying where."""
    templates = Templates(
        load_yaml(settings.templates_path, "templates.yaml"), settings.business_timezone
    )
    raw, lines = yaml_with_lines(settings.rules_path, "rules.yaml")
    rules = parse_rules(raw, templates.names, lines)
    return Notifier(settings, rules, templates)


def rules_loader(notifier: Notifier):  # type: ignore[no-untyped-def]
    """At start, before any event is consumed: the rules file is version 1 when nothing is stored
    (once, whichever replica comes first), then the current version is loaded. A stored version
    this release cannot validate stops the start, as a broken rules file does."""
    seed = notifier.rules

    async def load(rt: Runtime) -> None:
        async with rt.sessions.begin() as session:
            await rulebook.seed(session, seed, utcnow())
        async with rt.sessions() as session:
            await rulebook.keep_current(session, notifier)
        if notifier.unusable_version:
            raise RulesError(
                f"第 {notifier.unusable_version} 版通知规则在本版本中无效 (the stored rules do not "
                "validate in this release: restore an older version or the defaults)"
            )

    return load


def create_app(
    settings: NotificationsSettings,
    email: EmailProvider | None = None,
    sms: SmsProvider | None = None,
    wechat: WeChatProvider | None = None,
) -> Litestar:
    notifier = load_notifier(settings)
    defaults = notifier.rules  # the rules file: the seed, and what "restore the defaults" restores
    rt = build_runtime(settings, publishes=[NotificationSentV1, NotificationFailedV1])
    rt.startup_hooks.append(rules_loader(notifier))
    worker = DeliveryWorker(
        rt.sessions,
        settings,
        email or email_provider(settings),
        sms or sms_provider(settings),
        wechat or wechat_provider(settings, rt.sessions),
    )
    # on PostgreSQL, more claimers in this process split due deliveries with SKIP LOCKED (SQLite:
    # one writer)
    extra = (
        []
        if is_sqlite(settings.database_url)
        else [
            Scheduler(rt.sessions, max_sleep_seconds=settings.scheduler_max_sleep_seconds)
            for _ in range(settings.scheduler_claimers - 1)
        ]
    )
    for claimer in extra:  # they sleep until the next due delivery, woken as deliveries are armed
        claimer.watch(rt.sessions)
    worker.also_wake(extra)
    keep_calendar_copies(rt.inbox)  # the duty calendar: when `duty:` alerts go to the rota
    messaging.register(rt.inbox, [rt.scheduler, *extra], notifier)
    app = create_service_app(
        rt,
        route_handlers=CONTROLLERS,
        description=DESCRIPTION,
        dependencies={"notifier": notifier, "rule_defaults": defaults},
    )
    app.on_startup.append(worker.start)
    app.on_shutdown.append(worker.stop)
    app.state["delivery_worker"] = worker
    app.state["notifier"] = notifier
    return app
