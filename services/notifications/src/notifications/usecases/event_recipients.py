"""The people a rule's selector names for an event: its contacts, the assignee, the sales rep, the
owner, a dealer's staff or a group — registered recipients where known, else ad-hoc with the default
preferences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import one_of, utcnow
from aftersales_shared.events import Contact, Envelope, EventData

from ..domain import (
    AddressError,
    Channel,
    QuietHours,
    Recipient,
    contact_key,
    normalize_email,
    normalize_phone,
)
from ..models import RecipientRow
from ..settings import NotificationsSettings
from . import rota


@dataclass
class Missing:
    """Someone a rule names who cannot be reached: becomes a failed delivery with this reason."""

    key: str
    reason: str


_USER_FIELDS = ("assignee_id", "sales_rep", "owner_id")


class Resolver:
    """Finds the people a selector names; what a batch of events needs is read with a few
    queries."""

    def __init__(
        self, session: AsyncSession, settings: NotificationsSettings, now: datetime | None = None
    ) -> None:
        self._session = session
        self._s = settings
        self._now = now or utcnow()
        self._on_duty: dict[str, list[RecipientRow]] = {}
        self._by_phone: dict[str, RecipientRow] = {}
        self._by_email: dict[str, RecipientRow] = {}
        self._users: dict[str, RecipientRow | None] = {}
        self._dealers: dict[str, list[RecipientRow]] = {}
        self._active: list[RecipientRow] | None = None

    async def prefetch(self, envs: list[Envelope[Any]]) -> None:
        """Registered recipients matching the events' contacts and user ids: one query each."""
        phones: set[str] = set()
        emails: set[str] = set()
        users: set[str] = set()
        for env in envs:
            for contact in _contacts_of(env.data):
                phone, email = (
                    self._address(Channel.SMS, contact.phone),
                    self._address(Channel.EMAIL, contact.email),
                )
                if isinstance(phone, str):
                    phones.add(phone)
                if isinstance(email, str):
                    emails.add(email)
            users.update(
                v
                for v in (getattr(env.data, f, None) for f in _USER_FIELDS)
                if isinstance(v, str) and v
            )
        if phones or emails:
            conds = []
            if phones:
                conds.append(one_of(self._session, RecipientRow.phone, sorted(phones)))
            if emails:
                conds.append(one_of(self._session, RecipientRow.email, sorted(emails)))
            rows = (
                await self._session.scalars(
                    select(RecipientRow)
                    .where(or_(*conds), RecipientRow.active.is_(True))
                    .order_by(RecipientRow.id)
                )
            ).all()
            for row in rows:
                if row.phone:
                    self._by_phone.setdefault(row.phone, row)
                if row.email:
                    self._by_email.setdefault(row.email, row)
        missing = sorted(users - self._users.keys())
        if missing:
            rows = (
                await self._session.scalars(
                    select(RecipientRow).where(one_of(self._session, RecipientRow.id, missing))
                )
            ).all()
            self._users.update({u: None for u in missing})
            self._users.update({r.id: r for r in rows})

    @staticmethod
    def _address(channel: Channel, raw: str | None) -> str | AddressError | None:
        """The normalised address, or why it is not one (the normalisers cache their answers)."""
        if not raw:
            return None
        try:
            return (normalize_phone if channel is Channel.SMS else normalize_email)(raw)
        except AddressError as exc:
            return exc

    async def _user(self, user_id: str) -> RecipientRow | None:
        if user_id not in self._users:
            self._users[user_id] = await self._session.get(RecipientRow, user_id)
        return self._users[user_id]

    async def resolve(self, selector: str, data: EventData) -> list[Recipient | Missing]:
        if selector == "contact":
            contact = getattr(data, "contact", None)
            if contact is None:
                return [
                    Missing("missing:contact", "事件没有联系人 (the event names no contact person)")
                ]
            return [self._from_contact(contact)]
        if selector == "contacts":
            contacts = _contacts_of(data, only_list=True)
            if not contacts:
                return [
                    Missing(
                        "missing:contacts",
                        "事件没有客户联系人 (the event lists no customer contacts)",
                    )
                ]
            return [self._from_contact(c) for c in contacts]
        if selector == "assignee":
            return await self._assignee(data)
        if selector == "owner":
            return await self._owner(data)
        if selector == "sales_rep":
            rep = getattr(data, "sales_rep", None)
            if not rep:
                return [
                    Missing("missing:sales_rep", "事件没有负责销售 (the event names no sales rep)")
                ]
            row = await self._user(rep)
            if row is None or not row.active:
                return [
                    Missing(
                        f"user:{rep}",
                        f"销售代表{rep}未登记为收件人 (sales rep {rep} is not a registered "
                        "recipient)",
                    )
                ]
            return [_registered(row)]
        if selector == "dealer":
            dealer_id = getattr(data, "dealer_id", None)
            if not dealer_id:
                return []  # not a dealer-served unit
            if dealer_id not in self._dealers:
                self._dealers[dealer_id] = list(
                    (
                        await self._session.scalars(
                            select(RecipientRow).where(
                                RecipientRow.dealer_id == dealer_id, RecipientRow.active.is_(True)
                            )
                        )
                    ).all()
                )
            rows = self._dealers[dealer_id]
            if not rows:
                return [
                    Missing(
                        f"dealer:{dealer_id}",
                        f"经销商{dealer_id}没有登记的联系人 (dealer has no registered recipient)",
                    )
                ]
            return [_registered(r) for r in rows]
        if selector.startswith("duty:"):
            return await self._duty(selector.removeprefix("duty:"))
        return await self._group(selector.removeprefix("group:"))

    async def _duty(self, group: str) -> list[Recipient | Missing]:
        """Who hears a duty:<group> alert now: the rule is the rota's (usecases/rota.on_duty); an
        empty group is a Missing, as for group:<name>."""
        if group not in self._on_duty:
            _, self._on_duty[group] = await rota.on_duty(self._session, self._s, group, self._now)
        rows = self._on_duty[group]
        return [_registered(r) for r in rows] if rows else await self._group(group)

    async def _group(self, group: str) -> list[Recipient | Missing]:
        if self._active is None:
            self._active = list(
                (
                    await self._session.scalars(
                        select(RecipientRow).where(RecipientRow.active.is_(True))
                    )
                ).all()
            )
        members = [_registered(r) for r in self._active if group in (r.groups or [])]
        if not members:
            return [
                Missing(
                    f"group:{group}",
                    f"分组{group}没有登记的收件人 (nobody is registered in group {group})",
                )
            ]
        return members

    async def _owner(self, data: EventData) -> list[Recipient | Missing]:
        """The person the event names as its owner (a complaint's supervisor): a registered
        recipient by user id."""
        owner = getattr(data, "owner_id", None)
        if not owner:
            return [Missing("missing:owner", "事件没有负责人 (the event names no owner)")]
        row = await self._user(owner)
        if row is None or not row.active:
            return [
                Missing(
                    f"user:{owner}",
                    f"负责人{owner}未登记为收件人 (owner {owner} is not a registered recipient)",
                )
            ]
        return [_registered(row)]

    async def _assignee(self, data: EventData) -> list[Recipient | Missing]:
        assignee = getattr(data, "assignee_id", None)
        if not assignee:
            return [Missing("missing:assignee", "工单尚未派单 (the ticket has no assignee)")]
        row = await self._user(assignee)
        if row is not None and row.active:
            return [_registered(row)]
        phone, email = getattr(data, "assignee_phone", None), getattr(data, "assignee_email", None)
        if not (phone or email):
            return [
                Missing(
                    f"user:{assignee}",
                    f"处理人{assignee}未登记联系方式 (assignee has no registered phone or email)",
                )
            ]
        name = getattr(data, "assignee_name", None) or assignee
        return [_adhoc(f"user:{assignee}", Contact(name=name, phone=phone, email=email), self._s)]

    def _from_contact(self, contact: Contact) -> Recipient | Missing:
        errors: dict[str, str] = {}
        found: dict[Channel, str | None] = {}
        for channel, raw in ((Channel.SMS, contact.phone), (Channel.EMAIL, contact.email)):
            value = self._address(channel, raw)
            if isinstance(value, AddressError):
                errors[channel.value], value = f"{contact.name}: {value}", None
            found[channel] = value
        phone, email = found[Channel.SMS], found[Channel.EMAIL]
        if not (phone or email) and errors:
            return Missing(contact_key(contact.phone, contact.email), "; ".join(errors.values()))
        row = (self._by_phone.get(phone) if phone else None) or (
            self._by_email.get(email) if email else None
        )
        if row is not None:
            return _registered(row)
        return _adhoc(
            contact_key(phone, email),
            Contact(
                name=contact.name, phone=phone, email=email, wechat_openid=contact.wechat_openid
            ),
            self._s,
            errors,
        )


def _contacts_of(data: EventData, only_list: bool = False) -> list[Contact]:
    listed = list(
        getattr(data, "contacts", None)
        or getattr(getattr(data, "customer", None), "contacts", None)
        or []
    )
    if only_list:
        return listed
    one = getattr(data, "contact", None)
    return listed + ([one] if one is not None else [])


def _adhoc(
    key: str, contact: Contact, s: NotificationsSettings, errors: dict[str, str] | None = None
) -> Recipient:
    return Recipient(
        address_errors=errors or {},
        key=key,
        name=contact.name,
        phone=contact.phone,
        email=contact.email,
        language=s.default_language,
        quiet_hours=QuietHours.parse(s.default_quiet_hours),
        timezone=s.business_timezone,
        rate_limit_per_hour=s.default_rate_limit_per_hour,
        wechat_openid=contact.wechat_openid,
    )


def _registered(row: RecipientRow) -> Recipient:
    return Recipient(
        key=row.id,
        name=row.name,
        phone=row.phone,
        email=row.email,
        language=row.language,
        channels=frozenset(Channel(c) for c in row.channels),
        quiet_hours=QuietHours.parse(row.quiet_hours),
        timezone=row.timezone,
        rate_limit_per_hour=row.rate_limit_per_hour,
        registered=True,
        wechat_openid=row.wechat_openid,
    )
