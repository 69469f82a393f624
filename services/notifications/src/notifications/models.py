"""Tables of the notifications database: recipients, their change log, and every delivery."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aftersales_shared.db import NAMING, UTCDateTime
from aftersales_shared.events.base import MAX_EVENT_ID


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime}


class RecipientRow(Base):
    """A registered person (engineer, supervisor, dealer staff, manager, customer contact) and
    preferences."""

    __tablename__ = "recipients"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    wechat_openid: Mapped[str | None] = mapped_column(
        String(64), comment="openid at the company's WeChat official account (template messages)"
    )
    language: Mapped[str] = mapped_column(String(10))
    channels: Mapped[list[str]] = mapped_column(JSON)
    groups: Mapped[list[str]] = mapped_column(JSON)
    dealer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    quiet_hours: Mapped[str | None] = mapped_column(String(11))
    timezone: Mapped[str] = mapped_column(String(64))
    rate_limit_per_hour: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))


class RecipientChangeRow(Base):
    """Append-only audit trail: who registered or changed a recipient, and what changed."""

    __tablename__ = "recipient_changes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    recipient_id: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(20))
    changes: Mapped[dict] = mapped_column(JSON)
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(100))


class DeliveryRow(Base):
    """One message to one recipient on one channel because of one event (its whole history)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint(
            "source_event_id",
            "recipient_key",
            "channel",
            name="uq_deliveries_event_recipient_channel",
        ),
        Index("ix_deliveries_recipient_due", "recipient_key", "due_at"),
        Index("ix_deliveries_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_event_id: Mapped[str] = mapped_column(String(MAX_EVENT_ID))
    source_event_type: Mapped[str] = mapped_column(String(255), index=True)
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    event_time: Mapped[datetime]
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(60))
    template: Mapped[str] = mapped_column(String(60), index=True)
    recipient_key: Mapped[str] = mapped_column(String(300))
    recipient_name: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(10))
    urgent: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    sms_params: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(
        Text, comment="a sealed survey link and its masked form (never shown)"
    )
    status: Mapped[str] = mapped_column(String(20))
    hold_reason: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(40))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    merged_into: Mapped[str | None] = mapped_column(
        String(36), comment="the digest delivery that carried this alert (status merged)"
    )
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]


class DutyShiftRow(Base):
    """Who is on duty for a group outside working time (the rota): a shift from `starts_at` to
    `ends_at`. During working time (the duty calendar) the whole group hears a `duty:` alert."""

    __tablename__ = "duty_shifts"
    __table_args__ = (Index("ix_duty_shifts_group_window", "group_name", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_name: Mapped[str] = mapped_column(String(40))
    recipient_id: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class WeChatTokenRow(Base):
    """The WeChat official account's access token, one row per AppID shared by every replica: the
    one that finds it near expiry refreshes it under the row's lock (FOR UPDATE), the others wait
    and use the new one (the platform allows only a few token fetches a day and each fetch ends the
    previous token's life after a short overlap)."""

    __tablename__ = "wechat_tokens"

    app_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime]
    refreshed_at: Mapped[datetime | None]
    refreshes: Mapped[int] = mapped_column(Integer, default=0)


class RuleSetVersionRow(Base):
    """One saved version of the notification rules (append-only): the whole validated document,
    who saved it, when and why. The current rules are the highest version; a restore is a new
    version equal to an old one."""

    __tablename__ = "rule_set_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict] = mapped_column(JSON, comment="the rules document as validated")
    action: Mapped[str] = mapped_column(
        String(20), comment="seed, save, rule_saved, rule_removed, switched, restore, defaults"
    )
    note: Mapped[str | None] = mapped_column(String(500))
    restored_from: Mapped[int | None] = mapped_column(Integer)
    rules_added: Mapped[int] = mapped_column(Integer, default=0)
    rules_changed: Mapped[int] = mapped_column(Integer, default=0)
    rules_removed: Mapped[int] = mapped_column(Integer, default=0)
    saved_by: Mapped[str] = mapped_column(String(100))
    saved_at: Mapped[datetime]
