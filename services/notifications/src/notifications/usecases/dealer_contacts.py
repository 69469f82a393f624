"""A dealer's contacts, kept from the dealers service's DealerContactsChanged: the people the
`dealer` selector names (its units' tickets, cards, repairs, settlements). Recipients made this way
have ids `dealer-<dealer id>-<phone or email>`; people registered by hand for a dealer are left as
they are."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.events import Contact, DealerContactsChangedV1

from ..domain import AddressError, Channel, normalize_email, normalize_phone
from ..models import RecipientChangeRow, RecipientRow
from ..settings import NotificationsSettings

BY = "dealers-service"
_NOT_IN_ID = re.compile(r"[^A-Za-z0-9_.:@-]")


def contact_id(dealer_id: str, contact: Contact) -> str:
    """Stable while the person's phone (else email, else name) stays the same."""
    key = contact.phone or contact.email or contact.name
    readable = _NOT_IN_ID.sub("", key)[:40] or "x"
    digest = hashlib.sha256(f"{dealer_id}|{key}".encode()).hexdigest()[:8]
    return f"{_prefix(dealer_id)}{readable}-{digest}"


def _prefix(dealer_id: str) -> str:
    """What every id of a dealer's kept contacts starts with."""
    return f"dealer-{_NOT_IN_ID.sub('', dealer_id)[:40]}-"


def _address(check, raw: str | None) -> str | None:  # type: ignore[no-untyped-def]
    if not raw:
        return None
    try:
        return check(raw)
    except AddressError:
        return None  # kept without it: GET /unreachable-recipients will show who lacks one


async def sync_dealer_contacts(
    session: AsyncSession,
    data: DealerContactsChangedV1,
    settings: NotificationsSettings,
    now: datetime,
) -> None:
    prefix = _prefix(data.dealer_id)
    existing = {
        r.id: r
        for r in await session.scalars(
            select(RecipientRow).where(
                RecipientRow.dealer_id == data.dealer_id, RecipientRow.id.startswith(prefix)
            )
        )
    }
    if any(r.updated_at > data.changed_at for r in existing.values()):
        return  # a newer change of this dealer arrived first
    seen: set[str] = set()
    for contact in data.contacts:
        rid = contact_id(data.dealer_id, contact)
        if rid in seen:
            continue
        seen.add(rid)
        values = {
            "name": contact.name[:100],
            "phone": _address(normalize_phone, contact.phone),
            "email": _address(normalize_email, contact.email),
            "active": True,
        }
        row = existing.get(rid)
        if row is None:
            session.add(
                RecipientRow(
                    id=rid,
                    **values,
                    language="zh-CN",
                    channels=[Channel.SMS.value, Channel.EMAIL.value],
                    groups=["dealer"],
                    dealer_id=data.dealer_id,
                    quiet_hours=settings.default_quiet_hours,
                    timezone=settings.business_timezone,
                    rate_limit_per_hour=settings.default_rate_limit_per_hour,
                    created_at=now,
                    created_by=BY,
                    updated_at=data.changed_at,
                    updated_by=BY,
                )
            )
            _log(session, rid, "registered", values, now)
            continue
        changes = {k: v for k, v in values.items() if getattr(row, k) != v}
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at, row.updated_by = data.changed_at, BY
        if changes:
            _log(session, rid, "updated", changes, now)
    for rid, row in existing.items():
        if rid not in seen and row.active:
            row.active, row.updated_at, row.updated_by = False, data.changed_at, BY
            _log(session, rid, "deactivated", {"reason": "no longer a contact of the dealer"}, now)
    await session.flush()


def _log(session: AsyncSession, rid: str, action: str, changes: dict, now: datetime) -> None:
    session.add(
        RecipientChangeRow(
            recipient_id=rid, action=action, changes=changes, changed_at=now, changed_by=BY
        )
    )
