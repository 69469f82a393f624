"""A month's report computed once per read-model version.

Every transaction that changes the read model bumps `read_model_version` (a row, in the same
transaction: the version a reader sees never runs ahead of the facts it reads). A report asked for
again — its other formats, a second reader — is served from this process's cache while the version
is unchanged and the entry is younger than `max_age` (figures such as backlog ageing depend on the
moment too). Concurrent requests for the same report wait for one computation."""

from __future__ import annotations

import asyncio
import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aftersales_shared.db import utcnow

from ..domain import Month, Policy
from ..models import ReadModelVersion
from .monthly import Filters, monthly_report

VERSION = ReadModelVersion.__table__
CHANGED = "reports_read_model_changed"


def track_changes(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Bump the version in every transaction of this factory that wrote anything."""
    cls = sessions.kw["sync_session_class"]

    @event.listens_for(cls, "do_orm_execute")
    def _statement(state: Any) -> None:
        writes = state.is_insert or state.is_update or state.is_delete
        if writes and getattr(state.statement, "table", None) is not VERSION:
            state.session.info[CHANGED] = True

    @event.listens_for(cls, "after_flush")
    def _flushed(session: Any, _context: Any) -> None:
        session.info[CHANGED] = True

    @event.listens_for(cls, "before_commit")
    def _bump(session: Any) -> None:
        if session.in_nested_transaction() or not session.info.pop(CHANGED, False):
            return
        session.execute(
            update(VERSION)
            .where(VERSION.c.id == 1)
            .values(version=VERSION.c.version + 1, changed_at=utcnow())
        )

    @event.listens_for(cls, "after_rollback")
    def _forget(session: Any) -> None:
        session.info.pop(CHANGED, None)


async def read_model_version(session: AsyncSession) -> int:
    return await session.scalar(select(VERSION.c.version).where(VERSION.c.id == 1)) or 0


@dataclass
class _Entry:
    version: int
    at: datetime
    data: dict[str, Any]


@dataclass
class ReportCache:
    max_age: timedelta = timedelta(minutes=5)
    size: int = 32
    computed: int = 0  # how many reports this cache had to compute (tests, logs)
    _entries: OrderedDict[tuple[str, Filters], _Entry] = field(default_factory=OrderedDict)
    _locks: dict[tuple[str, Filters], asyncio.Lock] = field(default_factory=dict)

    async def monthly(
        self, session: AsyncSession, month: Month, filters: Filters, policy: Policy, now: datetime
    ) -> dict[str, Any]:
        key = (str(month), filters)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            version = await read_model_version(session)
            entry = self._entries.get(key)
            if entry and entry.version == version and timedelta(0) <= now - entry.at < self.max_age:
                self._entries.move_to_end(key)
                return copy.deepcopy(entry.data)
            data = await monthly_report(session, month, filters, policy, now)
            self.computed += 1
            self._entries[key] = _Entry(version, now, copy.deepcopy(data))
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                old, _ = self._entries.popitem(last=False)
                self._locks.pop(old, None)
            return data
