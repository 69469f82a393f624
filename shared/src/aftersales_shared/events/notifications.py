"""Events owned by the notifications service."""

from __future__ import annotations

from datetime import datetime

from .base import EventData, event


@event
class NotificationSentV1(EventData):
    """A message was handed to the provider (SMTP server or SMS gateway) and accepted."""

    NAME = "NotificationSent"
    VERSION = 1
    PRODUCER = "notifications"

    delivery_id: str
    source_event_id: str
    source_event_type: str
    channel: str
    recipient: str
    template: str
    sent_at: datetime
    provider: str
    provider_message_id: str | None = None


@event
class NotificationFailedV1(EventData):
    """A message could not be delivered (permanent failure, or retries exhausted)."""

    NAME = "NotificationFailed"
    VERSION = 1
    PRODUCER = "notifications"

    delivery_id: str
    source_event_id: str
    source_event_type: str
    channel: str
    recipient: str | None = None
    template: str
    failed_at: datetime
    reason: str
    attempts: int
