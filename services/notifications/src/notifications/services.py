"""Use cases of the notifications service: plan deliveries for an event, claim, record outcomes, recipients."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.db import insert_rows, is_postgresql, one_of
from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.events import (
    Contact,
    Envelope,
    EventData,
    NotificationFailedV1,
    NotificationSentV1,
)
from aftersales_shared.outbox import enqueue, enqueue_many
from aftersales_shared.scheduler import Job, schedule

from .domain import (
    AddressError,
    Channel,
    Planned,
    QuietHours,
    Recipient,
    Rule,
    RuleSet,
    Status,
    contact_key,
    delivery_timing,
    language_of,
    normalize_email,
    normalize_phone,
    retry_delay,
)
from .models import DeliveryRow, RecipientChangeRow, RecipientRow
from .providers import SendError
from .schemas import DeliveryFilter, RecipientIn, RecipientPatch
from .settings import NotificationsSettings
from .templates import TemplateDataError, Templates, params_json

JOB_KIND = "notifications.deliver"
CLAIMED_KEY = "notifications_claimed"
PLANNED_KEY = "notifications_planned"


@dataclass
class Notifier:
    """What planning needs besides the database: settings, validated rules, compiled templates."""

    settings: NotificationsSettings
    rules: RuleSet
    templates: Templates


# ---------------------------------------------------------------- planning
@dataclass
class _Missing:
    key: str
    reason: str


async def plan_notifications(
    session: AsyncSession, env: Envelope[Any], nf: Notifier, now: datetime
) -> list[str]:
    """Write one delivery per (event, recipient, channel) the rules ask for (see `plan_batch`)."""
    return await plan_batch(session, [env], nf, now)


async def plan_batch(
    session: AsyncSession, envs: list[Envelope[Any]], nf: Notifier, now: datetime
) -> list[str]:
    """Plan the deliveries of several events in the caller's transaction, one statement per table.

    Deliveries due now are written as `sending` (claimed by this process) and handed to the delivery
    worker after the commit; held ones (quiet hours, rate limit) become scheduler jobs; ones that cannot
    be sent are written `failed` with NotificationFailed. A crash between commit and send is recovered
    by the lease sweep, as for any claim."""
    resolver = _Resolver(session, nf.settings)
    await resolver.prefetch(envs)
    planned: list[tuple[Envelope[Any], Planned]] = []
    for env in envs:
        seen: set[tuple[str, Channel]] = set()
        for rule in nf.rules.for_event(env.data):
            for selector in rule.recipients:
                for who in await resolver.resolve(selector, env.data):
                    for channel in rule.channels:
                        p = _prepare(rule, who, channel, env.data, env, nf)
                        if p is None or (p.recipient.key, channel) in seen:
                            continue  # opted out, or an earlier rule already tells this person on this channel
                        seen.add((p.recipient.key, channel))
                        planned.append((env, p))
    if not planned:
        return []
    recent = await _recent_due(
        session, {(p.recipient.key, p.channel) for _, p in planned if p.error is None}, now
    )
    rows: list[dict[str, Any]] = []
    for env, p in planned:
        window = recent.setdefault((p.recipient.key, p.channel), [])
        rows.append(_row(p, env, now, window))
        if p.error is None:
            window.append(rows[-1]["due_at"])
    claimed: list[Claimed] = []
    for row in rows:
        if row["status"] == Status.PENDING and row["due_at"] <= now:
            row.update(status=Status.SENDING.value, claimed_at=now)
            claimed.append(Claimed(**{name: row[name] for name in Claimed.__dataclass_fields__}))
    await insert_rows(session, DeliveryRow.__table__, rows)
    failed = [
        _failed_event(row, row["last_error"], now) for row in rows if row["status"] == Status.FAILED
    ]
    if failed:
        await enqueue_many(session, failed)
    for row in rows:
        if row["status"] in (Status.PENDING, Status.HELD):
            await schedule(
                session, JOB_KIND, f"{row['id']}:0", row["due_at"], {"delivery_id": row["id"]}
            )
            session.info[PLANNED_KEY] = True
    if claimed:
        session.info.setdefault(CLAIMED_KEY, []).extend(claimed)
    return [r["id"] for r in rows]


def _prepare(
    rule: Rule,
    who: Recipient | _Missing,
    channel: Channel,
    data: EventData,
    env: Envelope[Any],
    nf: Notifier,
) -> Planned | None:
    s = nf.settings
    if isinstance(who, _Missing):
        placeholder = Recipient(key=who.key, name="")
        return Planned(
            rule.id, rule.template, placeholder, channel, rule.is_urgent(data), error=who.reason
        )
    if who.registered and channel not in who.channels:
        return None  # the person opted out of this channel
    planned = Planned(
        rule.id, rule.template, who, channel, rule.is_urgent(data), address=who.address(channel)
    )
    if planned.address is None:
        what = "手机号 (phone number)" if channel is Channel.SMS else "邮箱 (email address)"
        planned.error = (
            who.address_errors.get(channel.value) or f"收件人{who.name or who.key}没有{what}"
        )
        return planned
    lang = language_of(
        getattr(data, "language", None) if not who.registered else who.language, who.language
    )
    context = data.model_dump(mode="python") | {"recipient_name": who.name, "event_id": env.id}
    sealed_link = getattr(data, "link_sealed", None)
    if sealed_link:  # SurveyRequested v2: what is written and shown holds the masked link only
        context["link"] = data.link_masked
        planned.secret = json.dumps({"masked": data.link_masked, "sealed": sealed_link})
    try:
        r = nf.templates.render(
            rule.template, lang, context, s.sms_signature, s.sms_max_chars, channel.value
        )
    except TemplateDataError as exc:
        planned.error = str(exc)
        return planned
    planned.recipient = Recipient(**{**who.__dict__, "language": lang})
    if channel is Channel.SMS:
        planned.content = {"body_text": r.sms, "sms_params": params_json(r.sms_params)}
    else:
        planned.content = {"title": r.subject, "body_text": r.text, "body_html": r.html}
    return planned


def _row(p: Planned, env: Envelope[Any], now: datetime, recent: list[datetime]) -> dict[str, Any]:
    if p.error is None:
        timing = delivery_timing(p.recipient, p.urgent, now, recent)
        status = Status.HELD if timing.held else Status.PENDING
        due, hold, failed_at = timing.due_at, timing.reason if timing.held else None, None
    else:
        status, due, hold, failed_at = Status.FAILED, now, None, now
    return dict(
        id=str(uuid.uuid4()),
        source_event_id=env.id,
        source_event_type=env.type,
        subject=env.subject,
        event_time=env.time,
        correlation_id=env.correlation_id,
        rule_id=p.rule_id,
        template=p.template,
        recipient_key=p.recipient.key,
        recipient_name=p.recipient.name or None,
        channel=p.channel.value,
        address=p.address,
        language=p.recipient.language,
        urgent=p.urgent,
        title=p.content.get("title"),
        body_text=p.content.get("body_text"),
        body_html=p.content.get("body_html"),
        sms_params=p.content.get("sms_params"),
        secret=p.secret,
        status=status.value,
        hold_reason=hold,
        attempts=0,
        due_at=due,
        claimed_at=None,
        last_error=p.error,
        provider=None,
        provider_message_id=None,
        created_at=now,
        sent_at=None,
        failed_at=failed_at,
    )


async def _recent_due(
    session: AsyncSession, wanted: set[tuple[str, Channel]], now: datetime
) -> dict[tuple[str, Channel], list[datetime]]:
    """Due times of these people's messages per channel from an hour ago on (the rate limit's window).

    On PostgreSQL, events for the same person are planned one after the other (transaction-scoped
    advisory locks, taken in one global order so two batches cannot deadlock), so concurrent consumers
    cannot both see room under the limit; SQLite has one writer.
    """
    found: dict[tuple[str, Channel], list[datetime]] = {k: [] for k in wanted}
    if not wanted:
        return found
    if is_postgresql(session):
        await session.execute(
            text(
                "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtext(k) AS h "
                "FROM unnest(CAST(:keys AS text[])) AS k) AS d ORDER BY h"
            ),  # volatile: evaluated after the sort
            {"keys": sorted(f"notify:{key}:{channel.value}" for key, channel in wanted)},
        )
    keys = sorted({key for key, _ in wanted})
    for start in range(0, len(keys), 500):
        rows = await session.execute(
            select(DeliveryRow.recipient_key, DeliveryRow.channel, DeliveryRow.due_at).where(
                one_of(session, DeliveryRow.recipient_key, keys[start : start + 500]),
                DeliveryRow.due_at > now - timedelta(hours=1),
                DeliveryRow.status != Status.FAILED.value,
            )
        )
        for key, channel, due in rows:
            window = found.get((key, Channel(channel)))
            if window is not None:
                window.append(due)
    return found


# ---------------------------------------------------------------- recipients of an event
_USER_FIELDS = ("assignee_id", "sales_rep")


class _Resolver:
    """Finds the people a selector names; what a batch of events needs is read with a few queries."""

    def __init__(self, session: AsyncSession, settings: NotificationsSettings) -> None:
        self._session = session
        self._s = settings
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

    async def resolve(self, selector: str, data: EventData) -> list[Recipient | _Missing]:
        if selector == "contact":
            contact = getattr(data, "contact", None)
            if contact is None:
                return [
                    _Missing(
                        "missing:contact", "事件没有联系人 (the event names no contact person)"
                    )
                ]
            return [self._from_contact(contact)]
        if selector == "contacts":
            contacts = _contacts_of(data, only_list=True)
            if not contacts:
                return [
                    _Missing(
                        "missing:contacts",
                        "事件没有客户联系人 (the event lists no customer contacts)",
                    )
                ]
            return [self._from_contact(c) for c in contacts]
        if selector == "assignee":
            return await self._assignee(data)
        if selector == "sales_rep":
            rep = getattr(data, "sales_rep", None)
            if not rep:
                return [
                    _Missing("missing:sales_rep", "事件没有负责销售 (the event names no sales rep)")
                ]
            row = await self._user(rep)
            if row is None or not row.active:
                return [
                    _Missing(
                        f"user:{rep}",
                        f"销售代表{rep}未登记为收件人 (sales rep {rep} is not a registered recipient)",
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
                    _Missing(
                        f"dealer:{dealer_id}",
                        f"经销商{dealer_id}没有登记的联系人 (dealer has no registered recipient)",
                    )
                ]
            return [_registered(r) for r in rows]
        group = selector.removeprefix("group:")
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
                _Missing(
                    f"group:{group}",
                    f"分组{group}没有登记的收件人 (nobody is registered in group {group})",
                )
            ]
        return members

    async def _assignee(self, data: EventData) -> list[Recipient | _Missing]:
        assignee = getattr(data, "assignee_id", None)
        if not assignee:
            return [_Missing("missing:assignee", "工单尚未派单 (the ticket has no assignee)")]
        row = await self._user(assignee)
        if row is not None and row.active:
            return [_registered(row)]
        phone, email = getattr(data, "assignee_phone", None), getattr(data, "assignee_email", None)
        if not (phone or email):
            return [
                _Missing(
                    f"user:{assignee}",
                    f"处理人{assignee}未登记联系方式 (assignee has no registered phone or email)",
                )
            ]
        name = getattr(data, "assignee_name", None) or assignee
        return [_adhoc(f"user:{assignee}", Contact(name=name, phone=phone, email=email), self._s)]

    def _from_contact(self, contact: Contact) -> Recipient | _Missing:
        errors: dict[str, str] = {}
        found: dict[Channel, str | None] = {}
        for channel, raw in ((Channel.SMS, contact.phone), (Channel.EMAIL, contact.email)):
            value = self._address(channel, raw)
            if isinstance(value, AddressError):
                errors[channel.value], value = f"{contact.name}: {value}", None
            found[channel] = value
        phone, email = found[Channel.SMS], found[Channel.EMAIL]
        if not (phone or email) and errors:
            return _Missing(contact_key(contact.phone, contact.email), "; ".join(errors.values()))
        row = (self._by_phone.get(phone) if phone else None) or (
            self._by_email.get(email) if email else None
        )
        if row is not None:
            return _registered(row)
        return _adhoc(
            contact_key(phone, email),
            Contact(name=contact.name, phone=phone, email=email),
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
    )


# ---------------------------------------------------------------- delivery lifecycle
@dataclass(frozen=True)
class Claimed:
    """What the worker needs of a claimed delivery (read by the claim itself: no second query)."""

    id: str
    source_event_id: str
    source_event_type: str
    correlation_id: str | None
    template: str
    recipient_key: str
    recipient_name: str | None
    channel: str
    address: str | None
    language: str
    title: str | None
    body_text: str | None
    body_html: str | None
    sms_params: str | None
    attempts: int
    secret: str | None = None


_CLAIMED_COLUMNS = [DeliveryRow.__table__.c[name] for name in Claimed.__dataclass_fields__]


async def claim(session: AsyncSession, job: Job, now: datetime) -> Claimed | None:
    """The scheduler says a delivery is due: mark it sending; the worker sends it after this commits."""
    table = DeliveryRow.__table__
    result = await session.execute(
        update(table)
        .where(
            table.c.id == job.payload["delivery_id"],
            table.c.status.in_([Status.PENDING.value, Status.HELD.value, Status.RETRYING.value]),
        )
        .values(status=Status.SENDING.value, claimed_at=now, hold_reason=None)
        .returning(*_CLAIMED_COLUMNS)
    )
    row = result.mappings().first()
    if row is None:
        return None
    claimed = Claimed(**row)
    session.info.setdefault(CLAIMED_KEY, []).append(claimed)
    return claimed


@dataclass(frozen=True)
class Sent:
    delivery: Claimed
    provider: str
    message_id: str | None
    at: datetime


_MARK_SENT_PG = text(
    "UPDATE deliveries AS d SET status = 'sent', attempts = d.attempts + 1, sent_at = v.at, provider = v.provider, "
    "provider_message_id = v.msg, last_error = NULL "
    "FROM unnest(CAST(:ids AS varchar[]), CAST(:ats AS timestamptz[]), CAST(:providers AS varchar[]), "
    "CAST(:msgs AS varchar[])) AS v(id, at, provider, msg) "
    "WHERE d.id = v.id AND d.status = 'sending' RETURNING d.id"
)


async def record_sent(session: AsyncSession, sent: list[Sent]) -> int:
    """Mark a batch of handed-over deliveries sent and publish NotificationSent for each (one transaction)."""
    if not sent:
        return 0
    table = DeliveryRow.__table__
    if is_postgresql(session):
        # one statement: mark the batch sent and learn which were still 'sending' (a lease that expired
        # meanwhile handed the delivery to a retry, which records it)
        still = set(
            (
                await session.execute(
                    _MARK_SENT_PG,
                    dict(
                        ids=[x.delivery.id for x in sent],
                        ats=[x.at for x in sent],
                        providers=[x.provider for x in sent],
                        msgs=[(x.message_id or "")[:200] or None for x in sent],
                    ),
                )
            )
            .scalars()
            .all()
        )
        sent = [x for x in sent if x.delivery.id in still]
    else:
        still = set(
            (
                await session.scalars(
                    select(table.c.id).where(
                        table.c.id.in_([x.delivery.id for x in sent]),
                        table.c.status == Status.SENDING.value,
                    )
                )
            ).all()
        )
        sent = [x for x in sent if x.delivery.id in still]
        if sent:
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(
                    status=Status.SENT.value,
                    attempts=bindparam("b_attempts"),
                    sent_at=bindparam("b_at"),
                    provider=bindparam("b_provider"),
                    provider_message_id=bindparam("b_msg"),
                    last_error=None,
                ),
                [
                    dict(
                        b_id=x.delivery.id,
                        b_attempts=x.delivery.attempts + 1,
                        b_at=x.at,
                        b_provider=x.provider,
                        b_msg=(x.message_id or "")[:200] or None,
                    )
                    for x in sent
                ],
            )
    if not sent:
        return 0
    await enqueue_many(
        session,
        [
            Envelope(
                data=NotificationSentV1(
                    delivery_id=x.delivery.id,
                    source_event_id=x.delivery.source_event_id,
                    source_event_type=x.delivery.source_event_type,
                    channel=x.delivery.channel,
                    recipient=x.delivery.recipient_key,
                    template=x.delivery.template,
                    sent_at=x.at,
                    provider=x.provider,
                    provider_message_id=x.message_id,
                ),
                subject=x.delivery.id,
                correlation_id=x.delivery.correlation_id,
            )
            for x in sent
        ],
    )
    return len(sent)


async def record_failure(
    session: AsyncSession,
    row: Claimed,
    error: SendError,
    provider: str,
    now: datetime,
    s: NotificationsSettings,
) -> str:
    """A temporary failure is retried with exponential back-off until attempts run out; else it fails."""
    attempts = row.attempts + 1
    if error.temporary and attempts < s.delivery_max_attempts:
        due = now + retry_delay(attempts, s.retry_base_seconds, s.retry_max_seconds)
        values: dict[str, Any] = dict(status=Status.RETRYING.value, due_at=due)
        outcome = "retrying"
    else:
        values = dict(status=Status.FAILED.value, failed_at=now)
        reason = (
            error.reason
            if not error.temporary
            else f"gave up after {attempts} attempts: {error.reason}"
        )
        error = type(error)(reason)
        outcome = "failed"
    result = await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == row.id, DeliveryRow.status == Status.SENDING.value)
        .values(attempts=attempts, last_error=error.reason, provider=provider, **values)
    )
    if result.rowcount != 1:
        return "skipped"
    if outcome == "retrying":
        await schedule(
            session, JOB_KIND, f"{row.id}:{attempts}", values["due_at"], {"delivery_id": row.id}
        )
    else:
        await enqueue(
            session,
            _failed_event(
                {
                    "id": row.id,
                    "source_event_id": row.source_event_id,
                    "source_event_type": row.source_event_type,
                    "channel": row.channel,
                    "recipient_key": row.recipient_key,
                    "template": row.template,
                    "correlation_id": row.correlation_id,
                    "attempts": attempts,
                },
                error.reason,
                now,
            ),
        )
    return outcome


def _failed_event(
    row: dict[str, Any], reason: str, now: datetime
) -> Envelope[NotificationFailedV1]:
    return Envelope(
        data=NotificationFailedV1(
            delivery_id=row["id"],
            source_event_id=row["source_event_id"],
            source_event_type=row["source_event_type"],
            channel=row["channel"],
            recipient=row["recipient_key"],
            template=row["template"],
            failed_at=now,
            reason=reason,
            attempts=row.get("attempts", 0),
        ),
        subject=row["id"],
        correlation_id=row.get("correlation_id"),
    )


async def stale_claims(session: AsyncSession, now: datetime, lease: float) -> list[str]:
    """Deliveries claimed long ago and never finished (the process died mid-send): due again."""
    cutoff = now - timedelta(seconds=lease)
    rows = (
        await session.execute(
            select(DeliveryRow.id, DeliveryRow.attempts)
            .where(DeliveryRow.status == Status.SENDING.value, DeliveryRow.claimed_at < cutoff)
            .limit(500)
        )
    ).all()
    for delivery_id, _attempts in rows:
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id, DeliveryRow.status == Status.SENDING.value)
            .values(
                status=Status.RETRYING.value, due_at=now, last_error="lease expired while sending"
            )
        )
        await schedule(
            session,
            JOB_KIND,
            f"{delivery_id}:lease:{now.timestamp():.0f}",
            now,
            {"delivery_id": delivery_id},
        )
    return [r[0] for r in rows]


# ---------------------------------------------------------------- recipients API
def _validated(data: RecipientIn | RecipientPatch) -> dict[str, Any]:
    values = data.model_dump(exclude_unset=isinstance(data, RecipientPatch))
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


async def register_recipient(
    session: AsyncSession, data: RecipientIn, who: Principal, now: datetime
) -> RecipientRow:
    if await session.get(RecipientRow, data.id) is not None:
        raise Conflict(f"收件人{data.id}已存在 (recipient already registered)")
    values = _validated(data)
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
    session: AsyncSession, recipient_id: str, data: RecipientPatch, who: Principal, now: datetime
) -> RecipientRow:
    row = await get_recipient(session, recipient_id)
    values = _validated(data)
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


# ---------------------------------------------------------------- delivery log API
async def list_deliveries(
    session: AsyncSession, f: DeliveryFilter, limit: int, offset: int
) -> tuple[list[DeliveryRow], int]:
    query = select(DeliveryRow)
    for column, value in (
        (DeliveryRow.status, f.status),
        (DeliveryRow.channel, f.channel),
        (DeliveryRow.recipient_key, f.recipient),
        (DeliveryRow.source_event_id, f.event_id),
        (DeliveryRow.template, f.template),
        (DeliveryRow.subject, f.subject),
    ):
        if value:
            query = query.where(column == value)
    if f.event_type:
        query = query.where(DeliveryRow.source_event_type.like(f"%{f.event_type}%"))
    if f.since:
        query = query.where(DeliveryRow.created_at >= f.since)
    if f.until:
        query = query.where(DeliveryRow.created_at < f.until)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(DeliveryRow.created_at.desc(), DeliveryRow.id).limit(limit).offset(offset)
    )
    return list(rows), total


async def get_delivery(session: AsyncSession, delivery_id: str) -> DeliveryRow:
    row = await session.get(DeliveryRow, delivery_id)
    if row is None:
        raise NotFound(f"投递记录{delivery_id}不存在 (no such delivery)")
    return row
