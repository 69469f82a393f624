"""Recipients: register a person and their preferences, change them (every change kept), read and
list them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.errors import Conflict, DomainError, NotFound

from ..domain import AddressError, Channel, normalize_email, normalize_phone
from ..models import RecipientChangeRow, RecipientRow


@dataclass(frozen=True)
class RegisterRecipient:
    """A person who receives notifications, with their preferences (phone and email not yet
    normalised)."""

    id: str
    name: str
    phone: str | None
    email: str | None
    language: str
    channels: list[str]
    groups: list[str]
    dealer_id: str | None
    quiet_hours: str | None
    timezone: str
    rate_limit_per_hour: int
    wechat_openid: str | None = None


@dataclass(frozen=True)
class ChangeRecipient:
    """Only the fields given change; None clears an optional one (the request type refuses other
    nulls)."""

    changes: Mapping[str, Any]


def _validated(cmd: RegisterRecipient | ChangeRecipient) -> dict[str, Any]:
    values = dict(cmd.changes) if isinstance(cmd, ChangeRecipient) else dataclasses.asdict(cmd)
    errors: dict[str, str] = {}
    for name, check in (("phone", normalize_phone), ("email", normalize_email)):
        if values.get(name):
            try:
                values[name] = check(values[name])
            except AddressError as exc:
                errors[name] = str(exc)
    if errors:
        raise DomainError("; ".join(errors.values()), errors=errors)
    if "channels" in values:
        values["channels"] = sorted(
            {c.value if hasattr(c, "value") else c for c in values["channels"]}
        )
    return values


def _check_reachable(row: RecipientRow) -> None:
    if Channel.SMS.value in row.channels and not row.phone:
        raise DomainError("选择短信渠道需要手机号 (the sms channel needs a phone number)")
    if Channel.EMAIL.value in row.channels and not row.email:
        raise DomainError("选择邮件渠道需要邮箱 (the email channel needs an email address)")
    if Channel.WECHAT.value in row.channels and not row.wechat_openid:
        raise DomainError(
            "选择微信渠道需要微信openid (the wechat channel needs the person's wechat_openid)"
        )


async def register_recipient(
    session: AsyncSession, cmd: RegisterRecipient, who: Principal, now: datetime
) -> RecipientRow:
    if await session.get(RecipientRow, cmd.id) is not None:
        raise Conflict(f"收件人{cmd.id}已存在 (recipient already registered)")
    values = _validated(cmd)
    row = RecipientRow(
        **values,
        active=True,
        created_at=now,
        created_by=who.subject,
        updated_at=now,
        updated_by=who.subject,
    )
    _check_reachable(row)
    session.add(row)
    session.add(
        RecipientChangeRow(
            recipient_id=row.id,
            action="registered",
            changes=_jsonable(values),
            changed_at=now,
            changed_by=who.subject,
        )
    )
    await session.flush()
    return row


async def update_recipient(
    session: AsyncSession, recipient_id: str, cmd: ChangeRecipient, who: Principal, now: datetime
) -> RecipientRow:
    row = await get_recipient(session, recipient_id)
    values = _validated(cmd)
    changes = {
        k: {"from": getattr(row, k), "to": v} for k, v in values.items() if getattr(row, k) != v
    }
    for k, v in values.items():
        setattr(row, k, v)
    _check_reachable(row)
    if changes:
        row.updated_at, row.updated_by = now, who.subject
        session.add(
            RecipientChangeRow(
                recipient_id=row.id,
                action="updated",
                changes=_jsonable(changes),
                changed_at=now,
                changed_by=who.subject,
            )
        )
    await session.flush()
    return row


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


async def get_recipient(session: AsyncSession, recipient_id: str) -> RecipientRow:
    row = await session.get(RecipientRow, recipient_id)
    if row is None:
        raise NotFound(f"收件人{recipient_id}不存在 (no such recipient)")
    return row


async def recipient_history(session: AsyncSession, recipient_id: str) -> list[RecipientChangeRow]:
    await get_recipient(session, recipient_id)
    rows = await session.scalars(
        select(RecipientChangeRow)
        .where(RecipientChangeRow.recipient_id == recipient_id)
        .order_by(RecipientChangeRow.id)
    )
    return list(rows)


async def list_recipients(
    session: AsyncSession,
    *,
    group: str | None,
    dealer_id: str | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[RecipientRow], int]:
    query = select(RecipientRow)
    if dealer_id:
        query = query.where(RecipientRow.dealer_id == dealer_id)
    if q:
        like = f"%{q}%"
        query = query.where(
            or_(
                RecipientRow.name.like(like),
                RecipientRow.id.like(like),
                RecipientRow.phone.like(like),
                RecipientRow.email.like(like),
            )
        )
    rows = list((await session.scalars(query.order_by(RecipientRow.id))).all())
    if group:
        rows = [r for r in rows if group in (r.groups or [])]
    return rows[offset : offset + limit], len(rows)
