"""Planning: the deliveries an event asks for under the rules, written in the consumer's
transaction."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import insert_rows, is_postgresql, one_of
from aftersales_shared.events import Envelope, EventData
from aftersales_shared.outbox import enqueue_many
from aftersales_shared.scheduler import schedule

from ..domain import (
    DIGEST,
    Channel,
    MessageKind,
    Planned,
    Recipient,
    Status,
    delivery_timing,
    language_of,
)
from ..models import DeliveryRow
from ..rules import Rule, RuleSet
from ..settings import NotificationsSettings
from ..templates import TemplateDataError, Templates, params_json
from .delivery import CLAIMED_KEY, JOB_KIND, PLANNED_KEY, Claimed, failed_event
from .event_recipients import Missing, Resolver


@dataclass
class Notifier:
    """What planning needs besides the database: settings, validated rules, compiled templates.

    `rules` is the version `rules_version` of the stored rules (0: the rules file, before the
    database was read); `use` swaps both at once (usecases/rulebook.py keeps them current)."""

    settings: NotificationsSettings
    rules: RuleSet
    templates: Templates
    rules_version: int = 0
    unusable_version: int = 0  # a stored version this release could not validate (logged once)

    def use(self, rules: RuleSet, version: int) -> None:
        """A validated rule set replaces the loaded one whole, never an older over a newer."""
        if version > self.rules_version:
            self.rules, self.rules_version = rules, version


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
    worker after the commit; held ones (quiet hours, rate limit) become scheduler jobs; ones that
    cannot be sent are written `failed` with NotificationFailed. A crash between commit and send is
    recovered by the lease sweep, as for any claim."""
    rules = nf.rules  # one rule set for the whole batch, even if a newer one is loaded meanwhile
    resolver = Resolver(session, nf.settings, now)
    await resolver.prefetch(envs)
    planned: list[tuple[Envelope[Any], Planned]] = []
    for env in envs:
        seen: set[tuple[str, Channel]] = set()
        for rule in rules.for_event(env.data):
            for selector in rule.recipients:
                for who in await resolver.resolve(selector, env.data):
                    for channel in rule.channels:
                        p = _prepare(rule, who, channel, env.data, env, nf)
                        if p is None or (p.recipient.key, channel) in seen:
                            # opted out, or an earlier rule already tells this person on this
                            # channel
                            continue
                        seen.add((p.recipient.key, channel))
                        planned.append((env, p))
    if not planned:
        return []
    transactional = {r.id for r in rules.rules if r.kind is MessageKind.TRANSACTIONAL}
    recent = await _recent_due(
        session,
        {(p.recipient.key, p.channel) for _, p in planned if p.error is None},
        now,
        transactional,
    )
    digest = timedelta(seconds=nf.settings.alert_digest_seconds)
    rows: list[dict[str, Any]] = []
    for env, p in planned:
        window = recent.setdefault((p.recipient.key, p.channel), [])
        rows.append(_row(p, env, now, window, _digest_until(p, env, window, now, digest)))
        if p.error is None:
            row = rows[-1]
            window.append(
                Recent(
                    row["due_at"],
                    env.subject,
                    now,
                    row["hold_reason"] == DIGEST,
                    p.kind is MessageKind.ALERT,
                )
            )
    claimed: list[Claimed] = []
    for row in rows:
        if row["status"] == Status.PENDING and row["due_at"] <= now:
            row.update(status=Status.SENDING.value, claimed_at=now)
            claimed.append(Claimed(**{name: row[name] for name in Claimed.__dataclass_fields__}))
    await insert_rows(session, DeliveryRow.__table__, rows)
    failed = [
        failed_event(row, row["last_error"], now) for row in rows if row["status"] == Status.FAILED
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
    who: Recipient | Missing,
    channel: Channel,
    data: EventData,
    env: Envelope[Any],
    nf: Notifier,
) -> Planned | None:
    s = nf.settings
    if isinstance(who, Missing):
        placeholder = Recipient(key=who.key, name="")
        return Planned(
            rule.id,
            rule.template,
            placeholder,
            channel,
            rule.is_urgent(data),
            error=who.reason,
            skipped=True,
            kind=rule.kind,
        )
    if who.registered and channel not in who.channels:
        return None  # the person opted out of this channel
    if channel is Channel.WECHAT and not _wechat_reachable(who, rule.template, s):
        return None  # wechat goes only to people who follow the account, with a template id
    planned = Planned(
        rule.id,
        rule.template,
        who,
        channel,
        rule.is_urgent(data),
        address=who.address(channel),
        kind=rule.kind,
    )
    if planned.address is None:
        what = "手机号 (phone number)" if channel is Channel.SMS else "邮箱 (email address)"
        planned.error = (
            who.address_errors.get(channel.value) or f"收件人{who.name or who.key}没有{what}"
        )
        planned.skipped = True
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
    elif channel is Channel.WECHAT:
        short = r.sms.removeprefix(f"【{s.sms_signature}】")
        data = {"first": r.subject, **r.sms_params, "remark": short}
        planned.content = {"title": r.subject, "body_text": short, "sms_params": params_json(data)}
    else:
        planned.content = {"title": r.subject, "body_text": r.text, "body_html": r.html}
    return planned


def _wechat_reachable(who: Recipient, template: str, s: NotificationsSettings) -> bool:
    """WeChat is an extra channel: planned for a person with an openid, when the account is
    configured and the template has a WeChat template id — else not at all (no skipped row for
    everyone who never followed the account)."""
    return bool(who.wechat_openid and s.wechat_enabled and s.wechat_template_ids.get(template))


@dataclass(frozen=True)
class Recent:
    """One of a person's messages on a channel in the last hour (rate limit and digest windows)."""

    due_at: datetime
    subject: str | None
    created_at: datetime
    digest: bool  # waiting to go out in a digest (not the lead of its burst)
    alert: bool


def _digest_until(
    p: Planned, env: Envelope[Any], window: list[Recent], now: datetime, span: timedelta
) -> datetime | None:
    """An alert about a subject that an earlier alert to this person (the lead of the burst) told
    less than `span` ago waits for the end of the lead's window, to go out with the others as one
    digest. The lead itself went out at once."""
    if p.error is not None or p.kind is not MessageKind.ALERT or not env.subject or not span:
        return None
    leads = [
        r.created_at
        for r in window
        if r.alert and not r.digest and r.subject == env.subject and r.created_at > now - span
    ]
    return max(leads) + span if leads else None


def _row(
    p: Planned,
    env: Envelope[Any],
    now: datetime,
    recent: list[Recent],
    digest_until: datetime | None = None,
) -> dict[str, Any]:
    if p.error is None and digest_until is not None:
        status, due, hold, failed_at = Status.HELD, digest_until, DIGEST, None
    elif p.error is None:
        limited = p.kind is MessageKind.ALERT
        due_times = [r.due_at for r in recent if r.alert]
        timing = delivery_timing(p.recipient, p.urgent, now, due_times, rate_limited=limited)
        status = Status.HELD if timing.held else Status.PENDING
        due, hold, failed_at = timing.due_at, timing.reason if timing.held else None, None
    elif p.skipped:
        status, due, hold, failed_at = Status.SKIPPED, now, None, None
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
    session: AsyncSession,
    wanted: set[tuple[str, Channel]],
    now: datetime,
    transactional: set[str] = frozenset(),  # type: ignore[assignment]
) -> dict[tuple[str, Channel], list[Recent]]:
    """Due times of these people's messages per channel from an hour ago on (the rate limit's
    window).

    On PostgreSQL, events for the same person are planned one after the other (transaction-scoped
    advisory locks, taken in one global order so two batches cannot deadlock), so concurrent
    consumers cannot both see room under the limit; SQLite has one writer.
    """
    found: dict[tuple[str, Channel], list[Recent]] = {k: [] for k in wanted}
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
            select(
                DeliveryRow.recipient_key,
                DeliveryRow.channel,
                DeliveryRow.due_at,
                DeliveryRow.subject,
                DeliveryRow.created_at,
                DeliveryRow.hold_reason,
                DeliveryRow.rule_id,
            ).where(
                one_of(session, DeliveryRow.recipient_key, keys[start : start + 500]),
                DeliveryRow.due_at > now - timedelta(hours=1),
                DeliveryRow.status.not_in(
                    (Status.FAILED.value, Status.SKIPPED.value, Status.MERGED.value)
                ),
            )
        )
        for key, channel, due, subject, created, hold, rule_id in rows:
            window = found.get((key, Channel(channel)))
            if window is not None:
                window.append(
                    Recent(due, subject, created, hold == DIGEST, rule_id not in transactional)
                )
    return found
