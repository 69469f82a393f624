"""Event handlers of the notifications service: every consumed event goes through the rules; a due
delivery (scheduler job) is claimed for the worker."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import utcnow
from aftersales_shared.events import DealerContactsChangedV1, Envelope, EventData
from aftersales_shared.events.compat import field_paths, schema_of
from aftersales_shared.inbox import Inbox
from aftersales_shared.scheduler import Job, Scheduler

from .rules import CONSUMED
from .usecases import dealer_contacts, delivery, planning, rulebook
from .usecases.planning import Notifier


def every_field(classes: list[type[EventData]]) -> dict[type[EventData], set[str]]:
    """What planning reads of each event: all of it. Templates render the whole event
    (`data.model_dump()`) and rules may test any field, and both change without a release (the
    rules the admin edits, NOTIFICATIONS_TEMPLATES_PATH)."""
    return {cls: field_paths(schema_of(cls)) for cls in classes}


async def handle_events(
    session: AsyncSession, envs: list[Envelope[Any]], notifier: Notifier, now: datetime
) -> None:
    """A batch of events under the rules saved last (one indexed look-up of the version number)."""
    await rulebook.keep_current(session, notifier)
    for env in envs:  # a dealer's contacts are its recipients before its events are planned
        if isinstance(env.data, DealerContactsChangedV1):
            await dealer_contacts.sync_dealer_contacts(session, env.data, notifier.settings, now)
    await planning.plan_batch(session, envs, notifier, now)


def register(inbox: Inbox, schedulers: list[Scheduler], notifier: Notifier) -> None:
    consumed = [cls for versions in CONSUMED.values() for cls in versions]

    @inbox.handles_batch(
        *consumed,
        concurrency=notifier.settings.planning_concurrency,
        reads=every_field(consumed),
    )
    async def on_events(session: AsyncSession, envs: list[Envelope[Any]]) -> None:
        await handle_events(session, envs, notifier, utcnow())

    async def on_due(session: AsyncSession, job: Job) -> None:
        await delivery.claim(
            session, job.payload["delivery_id"], utcnow(), notifier.settings.sms_max_chars
        )

    for scheduler in schedulers:
        scheduler.handles(delivery.JOB_KIND)(on_due)
