"""The notification rules as data: every save is a new version of the whole set (validated exactly
as the file was, by `parse_rules`), the current rules are the highest version, and every replica
plans the next event with the version committed last.

A replica keeps the version it loaded in memory (`Notifier.rules`, swapped whole, never half
loaded) and looks up the highest version number once per batch of events in the batch's own
transaction (the primary key's index: one cheap query); a newer one is loaded and validated before
it replaces the old. Two saves from the same version: the second finds its `expected_version`
stale (409), and two that race past that check cannot both write the next number (primary key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.db import paged, upsert_insert
from aftersales_shared.errors import Conflict, DomainError, NotFound

from ..domain import RulesError
from ..models import RuleSetVersionRow
from ..rules import RuleSet, parse_rules
from .planning import Notifier

log = structlog.get_logger(__name__)

SEEDED_BY = "system"


class InvalidRules(DomainError):
    """The rules asked for do not validate: what is wrong, rule by rule and field by field."""

    status = 400
    code = "invalid_rules"


def document(rules: RuleSet) -> dict[str, Any]:
    """The stored and served form of a rule set (defaults left out, as the file writes them)."""
    return rules.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def validate(raw: Any, notifier: Notifier) -> RuleSet:
    """`parse_rules` against this release's event catalog and templates; a refusal is a 400."""
    try:
        return parse_rules(raw, notifier.templates.names)
    except RulesError as exc:
        raise InvalidRules(str(exc)[:4000], errors=exc.problems[:50]) from exc


async def latest(session: AsyncSession) -> int:
    """The current version's number (0: nothing stored yet)."""
    return int(await session.scalar(select(func.max(RuleSetVersionRow.version))) or 0)


async def seed(session: AsyncSession, rules: RuleSet, now: datetime) -> bool:
    """Version 1 from the rules file, when nothing is stored; two replicas starting together both
    try and one writes it (ON CONFLICT DO NOTHING on the version)."""
    table = RuleSetVersionRow.__table__
    done = await session.execute(
        upsert_insert(session, table)
        .values(
            version=1,
            document=document(rules),
            action="seed",
            note="首次启动时由规则文件导入 (seeded from the rules file at the first start)",
            rules_added=len(rules.rules),
            rules_changed=0,
            rules_removed=0,
            saved_by=SEEDED_BY,
            saved_at=now,
        )
        .on_conflict_do_nothing()
    )
    return bool(done.rowcount)


async def version(session: AsyncSession, number: int) -> RuleSetVersionRow:
    row = await session.get(RuleSetVersionRow, number)
    if row is None:
        raise NotFound(f"通知规则没有第 {number} 版 (no such version of the rules)")
    return row


async def current(session: AsyncSession) -> RuleSetVersionRow:
    number = await latest(session)
    if not number:
        raise NotFound("通知规则尚未载入 (no rules stored yet: the service has not started)")
    return await version(session, number)


async def history(
    session: AsyncSession, limit: int, offset: int
) -> tuple[list[RuleSetVersionRow], int]:
    return await paged(
        session, select(RuleSetVersionRow), [RuleSetVersionRow.version.desc()], limit, offset
    )


def _counts(before: dict[str, Any], after: dict[str, Any]) -> tuple[int, int, int]:
    old = {r["id"]: r for r in before.get("rules", [])}
    new = {r["id"]: r for r in after.get("rules", [])}
    added = len(new.keys() - old.keys())
    removed = len(old.keys() - new.keys())
    changed = sum(1 for k in new.keys() & old.keys() if new[k] != old[k])
    return added, changed, removed


async def save(
    session: AsyncSession,
    notifier: Notifier,
    raw: Any,
    expected_version: int,
    who: Principal,
    now: datetime,
    note: str | None = None,
    action: str = "save",
    restored_from: int | None = None,
) -> RuleSetVersionRow:
    """The whole rule set as a new version, if nobody saved since `expected_version`."""
    rules = validate(raw, notifier)
    number = await latest(session)
    if number != expected_version:
        raise Conflict(
            f"通知规则已被他人修改：当前为第 {number} 版，您修改的是第 {expected_version} 版，"
            "请刷新后重做 (someone saved the rules in between: reload and make the change again)",
            current_version=number,
        )
    before = (await version(session, number)).document if number else {"rules": []}
    after = document(rules)
    added, changed, removed = _counts(before, after)
    row = RuleSetVersionRow(
        version=number + 1,
        document=after,
        action=action,
        note=(note or "").strip()[:500] or None,
        restored_from=restored_from,
        rules_added=added,
        rules_changed=changed,
        rules_removed=removed,
        saved_by=who.subject,
        saved_at=now,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # another save took the same number after our look
        raise Conflict(
            "通知规则已被他人修改，请刷新后重做 (someone saved the rules at the same moment)",
            current_version=number + 1,
        ) from exc
    log.info("rules.saved", version=row.version, action=action, by=who.subject)
    return row


def _items(row: RuleSetVersionRow) -> list[dict[str, Any]]:
    return [dict(r) for r in row.document.get("rules", [])]


def _find(items: list[dict[str, Any]], rule_id: str) -> int:
    for i, item in enumerate(items):
        if item.get("id") == rule_id:
            return i
    raise NotFound(f"没有编号为 {rule_id} 的通知规则 (no such rule)")


async def put_rule(
    session: AsyncSession,
    notifier: Notifier,
    rule_id: str,
    rule: dict[str, Any],
    expected_version: int,
    who: Principal,
    now: datetime,
    note: str | None = None,
) -> RuleSetVersionRow:
    """One rule added (a new id) or replaced (its id), the others as they were."""
    row = await current(session)
    items = _items(row)
    rule = {**rule, "id": rule_id}
    try:
        items[_find(items, rule_id)] = rule
    except NotFound:
        items.append(rule)
    raw = {**row.document, "rules": items}
    return await save(session, notifier, raw, expected_version, who, now, note, "rule_saved")


async def remove_rule(
    session: AsyncSession,
    notifier: Notifier,
    rule_id: str,
    expected_version: int,
    who: Principal,
    now: datetime,
    note: str | None = None,
) -> RuleSetVersionRow:
    row = await current(session)
    items = _items(row)
    del items[_find(items, rule_id)]
    if not items:
        raise DomainError(
            "不能删除最后一条规则：没有规则就没有人收到通知；可以停用它 "
            "(the last rule cannot be removed: switch it off instead)"
        )
    raw = {**row.document, "rules": items}
    return await save(session, notifier, raw, expected_version, who, now, note, "rule_removed")


async def switch_rule(
    session: AsyncSession,
    notifier: Notifier,
    rule_id: str,
    enabled: bool,
    expected_version: int,
    who: Principal,
    now: datetime,
    note: str | None = None,
) -> RuleSetVersionRow:
    """A rule switched on or off: kept in the set either way."""
    row = await current(session)
    items = _items(row)
    at = _find(items, rule_id)
    items[at] = {k: v for k, v in items[at].items() if k != "enabled"}
    if not enabled:
        items[at]["enabled"] = False
    raw = {**row.document, "rules": items}
    return await save(session, notifier, raw, expected_version, who, now, note, "switched")


async def restore(
    session: AsyncSession,
    notifier: Notifier,
    number: int,
    expected_version: int,
    who: Principal,
    now: datetime,
    note: str | None = None,
) -> RuleSetVersionRow:
    """A new version equal to an old one (validated again: this release's catalog decides)."""
    old = await version(session, number)
    return await save(
        session, notifier, old.document, expected_version, who, now, note, "restore", number
    )


async def restore_defaults(
    session: AsyncSession,
    notifier: Notifier,
    defaults: RuleSet,
    expected_version: int,
    who: Principal,
    now: datetime,
    note: str | None = None,
) -> RuleSetVersionRow:
    """A new version equal to the rules file the service seeds from."""
    raw = document(defaults)
    return await save(session, notifier, raw, expected_version, who, now, note, "defaults")


async def keep_current(session: AsyncSession, notifier: Notifier) -> None:
    """Before planning: the version committed last, if it is not the one in memory. A version this
    release cannot validate (saved by a newer release) is logged and the loaded one kept."""
    number = await latest(session)
    if number <= notifier.rules_version or number == notifier.unusable_version:
        return
    row = await version(session, number)
    try:
        rules = parse_rules(row.document, notifier.templates.names)
    except RulesError as exc:
        notifier.unusable_version = number
        log.error("rules.unusable", version=number, error=str(exc)[:1000])
        return
    notifier.use(rules, number)
