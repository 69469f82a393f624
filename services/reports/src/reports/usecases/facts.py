"""The read model: each event becomes facts keyed by what they describe (ticket, unit, survey,
event), so writing the same event twice leaves the same rows. Every use case takes the event's data
and its id; none reads the wall clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.db import (
    dialect_of,
    insert_rows,
    is_postgresql,
    one_of,
    unnest_insert,
    upsert_insert,
)

from ..models import (
    CorrectiveActionFact,
    CorrectiveActionStepFact,
    DealerFact,
    FollowUpFact,
    SurveyFact,
    TicketEventFact,
    TicketFact,
    UnitFact,
    WarrantyFact,
)

Merge = Callable[[dict[str, Any]], dict[str, Any]]


def known(**values: Any) -> Merge:
    """A merge that sets the values the event knows (None: it does not know, keep what is
    there)."""
    return lambda _row: {k: v for k, v in values.items() if v is not None}


@dataclass
class Deferred:
    """The fact writes of a batch of events (messaging.in_groups), held until the batch's end and
    then made with a few statements: ticket merges as one insert of missing rows, one locking read
    and one write of the merged rows; puts as one upsert per table. The result is the one the
    events' writes one by one would leave: merges apply in the events' order to the locked rows,
    the last put of a key wins. Only `merge_ticket` and `put` defer; other statements run at once
    (no handler reads back what a deferred write wrote: units and facts are different tables).
    Signed units defer on PostgreSQL and are written first (the merges' unit reads see them)."""

    merges: list[tuple[str, str, str, Merge]] = field(default_factory=list)
    puts: dict[tuple[Any, tuple[str, ...], tuple[str, ...]], dict[tuple[Any, ...], Any]] = field(
        default_factory=dict
    )
    # unit column → serial → the first value learned (a later one finds the column filled)
    learned: dict[str, dict[str, str]] = field(default_factory=dict)
    serials: set[str] = field(default_factory=set)  # units the merges read (TicketOpened)
    units: dict[str, dict[str, Any]] = field(default_factory=dict)
    signed: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # serial → unit row (PostgreSQL)


def defer_writes(session: AsyncSession) -> None:
    session.info["deferred_facts"] = Deferred()


async def flush_writes(session: AsyncSession) -> None:
    deferred: Deferred | None = session.info.pop("deferred_facts", None)
    if deferred is None:
        return
    if deferred.signed:  # before the unit reads below, as when units were written at once
        await _sign_many(session, list(deferred.signed.values()))
    if deferred.serials:
        table = UnitFact.__table__
        rows = await session.execute(
            select(table).where(one_of(session, table.c.serial_no, sorted(deferred.serials)))
        )
        deferred.units.update({r["serial_no"]: dict(r) for r in rows.mappings()})
    if deferred.merges:
        await _merge_tickets(session, deferred.merges)
    for (model, key, _), rows in deferred.puts.items():
        await _put_many(session, model, key, list(rows.values()))
    for column, values in deferred.learned.items():
        await _learn_many(session, column, values)


async def _learn_many(session: AsyncSession, column: str, values: dict[str, str]) -> None:
    if not is_postgresql(session):
        for serial_no, value in values.items():
            await learn_unit(session, serial_no, **{column: value}, now=True)
        return
    await session.execute(
        text(
            f"UPDATE unit_facts AS u SET {column} = v.value FROM unnest(CAST(:serials AS text[]), "
            f"CAST(:values AS text[])) AS v(serial_no, value) WHERE u.serial_no = v.serial_no "
            f"AND u.{column} IS NULL"
        ).bindparams(serials=list(values), values=list(values.values())),
    )


async def _merge_tickets(session: AsyncSession, merges: list[tuple[str, str, str, Merge]]) -> None:
    table = TicketFact.__table__
    first: dict[str, tuple[str, str]] = {}
    for ticket_id, ticket_no, event_id, _ in merges:
        first.setdefault(ticket_id, (ticket_no, event_id))
    ids = sorted(first)  # rows locked in one order by every consumer's batch
    await insert_rows(
        session,
        table,
        [dict(ticket_id=t, ticket_no=first[t][0], last_event_id=first[t][1]) for t in ids],
        skip_conflicts=True,
    )
    rows = await _lock_tickets(session, ids)
    changed = {"ticket_no", "last_event_id"}
    for ticket_id, ticket_no, event_id, merge in merges:
        row = rows[ticket_id]
        merged = merge(dict(row))
        changed.update(k for k, v in merged.items() if row[k] != v)
        row.update(merged, ticket_no=ticket_no, last_event_id=event_id)
    if is_postgresql(session):  # every row exists and is locked: an UPDATE, no insert attempt
        # of the columns this batch's events changed only (a batch of completions sets a dozen of
        # the thirty): a third of the arrays to send, encode and unnest
        names = ("ticket_id", *sorted(changed))
        await _update_many(
            session, TicketFact, "ticket_id", [{n: rows[t][n] for n in names} for t in ids]
        )
    else:
        await _put_many(session, TicketFact, ("ticket_id",), [rows[t] for t in ids])


async def _update_many(
    session: AsyncSession, model: Any, key: str, rows: list[dict[str, Any]]
) -> None:
    """Existing rows of one table overwritten by key: one `UPDATE … FROM unnest(…)` of the
    columns the rows carry."""
    table = model.__table__
    names = tuple(rows[0])
    part = unnest_insert(table, names, "p", dialect_of(session))
    cache = (part, key, "update")
    if cache not in _UPSERTS:
        if len(_UPSERTS) >= 1024:  # one statement per set of columns a batch changed: bounded
            _UPSERTS.clear()
        sets = ", ".join(f'"{n}" = v."{n}"' for n in names if n != key)
        _UPSERTS[cache] = text(
            f'UPDATE "{table.name}" AS t SET {sets} FROM ({part.source}) AS v '
            f'WHERE t."{key}" = v."{key}"'
        )
    await session.execute(_UPSERTS[cache], part.params(rows))


LOCK_TICKETS = (
    "SELECT * FROM ticket_facts WHERE ticket_id = ANY($1::text[]) ORDER BY ticket_id FOR UPDATE"
)


async def _lock_tickets(session: AsyncSession, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The tickets' rows, locked in id order. On PostgreSQL read through the session's own asyncpg
    connection (same transaction): asyncpg's records become dicts in C, where SQLAlchemy's rows
    cost ~60 µs each (a result processor per timestamp) — most of a batch's CPU."""
    if is_postgresql(session):
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        records = await raw.driver_connection.fetch(LOCK_TICKETS, ids)
        return {r["ticket_id"]: dict(r) for r in records}
    table = TicketFact.__table__
    locked = await session.execute(
        select(table)
        .where(one_of(session, table.c.ticket_id, ids))
        .order_by(table.c.ticket_id)
        .with_for_update()
    )
    return {r["ticket_id"]: dict(r) for r in locked.mappings()}


_UPSERTS: dict[tuple[Any, ...], Any] = {}


async def _put_many(
    session: AsyncSession, model: Any, key: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """Rows of one table, all with the same columns, inserted or overwritten by key: one
    `INSERT … SELECT FROM unnest(…) ON CONFLICT (key) DO UPDATE` on PostgreSQL."""
    if not is_postgresql(session):
        for row in rows:
            await put(session, model, key, now=True, **row)
        return
    table = model.__table__
    names = tuple(rows[0])
    part = unnest_insert(table, names, "p", dialect_of(session))
    cache = (part, key)
    if cache not in _UPSERTS:
        rest = ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in names if n not in key)
        conflict = ", ".join(f'"{k}"' for k in key)
        _UPSERTS[cache] = text(f"{part.sql} ON CONFLICT ({conflict}) DO UPDATE SET {rest}")
    await session.execute(_UPSERTS[cache], part.params(rows))


async def merge_ticket(
    session: AsyncSession, ticket_id: str, ticket_no: str, event_id: str, merge: Merge
) -> None:
    """Events about one ticket arrive on different consumers in any order: make sure its row
    exists, lock it, merge what this event knows."""
    deferred: Deferred | None = session.info.get("deferred_facts")
    if deferred is not None:
        deferred.merges.append((ticket_id, ticket_no, event_id, merge))
        return
    table = TicketFact.__table__
    await session.execute(
        upsert_insert(session, table)
        .values(ticket_id=ticket_id, ticket_no=ticket_no, last_event_id=event_id)
        .on_conflict_do_nothing()
    )
    row = (
        (
            await session.execute(
                select(table).where(table.c.ticket_id == ticket_id).with_for_update()
            )
        )
        .mappings()
        .one()
    )
    changes = merge(dict(row))
    await session.execute(
        update(table)
        .where(table.c.ticket_id == ticket_id)
        .values(**changes, ticket_no=ticket_no, last_event_id=event_id)
    )


async def put(
    session: AsyncSession, model: Any, key: tuple[str, ...], now: bool = False, **values: Any
) -> None:
    """Insert a fact or overwrite the one with the same key (a replayed event writes the same)."""
    deferred: Deferred | None = session.info.get("deferred_facts")
    if deferred is not None and not now:
        rows = deferred.puts.setdefault((model, key, tuple(values)), {})
        rows[tuple(values[k] for k in key)] = values
        return
    table = model.__table__
    stmt = upsert_insert(session, table).values(**values)
    rest = {k: stmt.excluded[k] for k in values if k not in key}
    await session.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=rest))


# --- contracts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedUnit:
    serial_no: str
    model: str
    batch_no: str | None
    product_line: str | None


async def units_signed(
    session: AsyncSession,
    event_id: str,
    contract_no: str,
    signed_at: datetime,
    customer_id: str | None,
    dealer_id: str | None,
    units: list[SignedUnit],
) -> None:
    """Units enter service when their contract is signed; a batch or line already learned from a
    ticket is kept when the contract does not name one."""
    deferred: Deferred | None = session.info.get("deferred_facts")
    rows = [
        dict(
            serial_no=unit.serial_no,
            model=unit.model,
            batch_no=unit.batch_no,
            product_line=unit.product_line,
            contract_no=contract_no,
            customer_id=customer_id,
            dealer_id=dealer_id,
            in_service_from=signed_at,
            event_id=event_id,
        )
        for unit in units
    ]
    if deferred is not None and is_postgresql(session):
        for row in rows:  # a later signing of the same unit wins, keeping a batch/line it omits
            before = deferred.signed.get(row["serial_no"])
            if before is not None:
                for kept in UNIT_KEEPS:
                    row[kept] = row[kept] or before[kept]
            deferred.signed[row["serial_no"]] = row
        return
    table = UnitFact.__table__
    for values in rows:
        stmt = upsert_insert(session, table).values(**values)
        ex = stmt.excluded
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["serial_no"],
                set_={
                    name: func.coalesce(ex[name], table.c[name]) if name in UNIT_KEEPS else ex[name]
                    for name in values
                    if name != "serial_no"
                },
            )
        )


UNIT_KEEPS = ("batch_no", "product_line")  # a signing that does not name them keeps the known ones


async def _sign_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """The batch's signed units with one `INSERT … SELECT FROM unnest(…) ON CONFLICT` (rows in
    serial order: two batches lock the same units in the same order)."""
    rows = sorted(rows, key=lambda r: r["serial_no"])
    part = unnest_insert(UnitFact.__table__, tuple(rows[0]), "s", dialect_of(session))
    sets = ", ".join(
        f'"{n}" = COALESCE(EXCLUDED."{n}", unit_facts."{n}")'
        if n in UNIT_KEEPS
        else f'"{n}" = EXCLUDED."{n}"'
        for n in rows[0]
        if n != "serial_no"
    )
    await session.execute(
        text(f'{part.sql} ON CONFLICT ("serial_no") DO UPDATE SET {sets}'), part.params(rows)
    )


async def learn_unit(
    session: AsyncSession,
    serial_no: str | None,
    batch_no: str | None = None,
    product_line: str | None = None,
    now: bool = False,
) -> None:
    """A completed ticket names the unit's batch and product line: the unit keeps them where its
    contract did not."""
    if not serial_no:
        return
    deferred: Deferred | None = session.info.get("deferred_facts")
    table = UnitFact.__table__
    for column, value in (("batch_no", batch_no), ("product_line", product_line)):
        if value and deferred is not None and not now:
            deferred.learned.setdefault(column, {}).setdefault(serial_no, value)
        elif value:
            await session.execute(
                update(table)
                .where(table.c.serial_no == serial_no, table.c[column].is_(None))
                .values({column: value})
            )


async def unit_of(session: AsyncSession, serial_no: str | None) -> dict[str, Any] | None:
    if not serial_no:
        return None
    table = UnitFact.__table__
    row = (
        (await session.execute(select(table).where(table.c.serial_no == serial_no)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


# --- tickets -----------------------------------------------------------------------------------


async def ticket_opened(
    session: AsyncSession, event_id: str, ticket_id: str, ticket_no: str, **values: Any
) -> None:
    serial_no = values.get("serial_no")
    deferred: Deferred | None = session.info.get("deferred_facts")
    if deferred is not None and serial_no:  # the batch's units are read once, before its merges
        deferred.serials.add(serial_no)
        units = deferred.units
    else:
        unit = await unit_of(session, serial_no)
        units = {serial_no: unit} if unit else {}

    def merge(row: dict[str, Any]) -> dict[str, Any]:
        known = dict(values)
        unit = units.get(serial_no) if serial_no else None
        if unit:
            known.setdefault("batch_no", unit["batch_no"])
            known.setdefault("product_line", unit["product_line"])
            known["product_model"] = known.get("product_model") or unit["model"]
        # completion's classification wins over what intake guessed from the unit
        return {
            k: v
            for k, v in known.items()
            if v is not None and not (k in ("batch_no", "product_line") and row[k])
        }

    await merge_ticket(session, ticket_id, ticket_no, event_id, merge)


async def ticket_assigned(
    session: AsyncSession,
    event_id: str,
    ticket_id: str,
    ticket_no: str,
    assigned_at: datetime,
    assignee_id: str,
    assignee_kind: str,
    urgency: str,
    dealer_id: str | None,
) -> None:
    def merge(row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"urgency": row["urgency"] or urgency}
        if row["dealer_id"] is None and dealer_id:
            out["dealer_id"] = dealer_id
        first = row["first_assigned_at"]
        out["first_assigned_at"] = assigned_at if first is None else min(first, assigned_at)
        latest = row["last_assigned_at"]
        if latest is None or assigned_at >= latest:
            out["last_assigned_at"] = assigned_at
            if assignee_kind == "engineer" and row["completed_at"] is None:
                out["engineer_id"] = assignee_id
        return out

    await merge_ticket(session, ticket_id, ticket_no, event_id, merge)


async def ticket_acknowledged(
    session: AsyncSession,
    event_id: str,
    ticket_id: str,
    ticket_no: str,
    acknowledged_at: datetime,
    acknowledge_due: datetime | None,
    **known_values: Any,
) -> None:
    """The first acknowledgement (受理): the earliest one counts, its deadline as the event says."""

    def merge(row: dict[str, Any]) -> dict[str, Any]:
        # what TicketOpened also tells, kept as it told it (this fills only a row it hasn't reached)
        out = {k: v for k, v in known_values.items() if v is not None and row[k] is None}
        first = row["acknowledged_at"]
        if first is None or acknowledged_at < first:
            out["acknowledged_at"] = acknowledged_at
            if acknowledge_due is not None:
                out["acknowledge_due"] = acknowledge_due
        return out

    await merge_ticket(session, ticket_id, ticket_no, event_id, merge)


async def service_completed(
    session: AsyncSession, event_id: str, ticket_id: str, ticket_no: str, **values: Any
) -> None:
    await merge_ticket(session, ticket_id, ticket_no, event_id, known(**values))
    await learn_unit(
        session, values.get("serial_no"), values.get("batch_no"), values.get("product_line")
    )


async def fault_classified(
    session: AsyncSession, event_id: str, ticket_id: str, ticket_no: str, **values: Any
) -> None:
    """A cause filled in after analysis (or corrected) replaces the one given at completion."""
    await merge_ticket(session, ticket_id, ticket_no, event_id, known(**values))
    await learn_unit(
        session, values.get("serial_no"), values.get("batch_no"), values.get("product_line")
    )


async def follow_up_opened(
    session: AsyncSession,
    event_id: str,
    ticket_id: str,
    ticket_no: str,
    original_ticket_id: str,
    opened_at: datetime,
) -> None:
    await merge_ticket(
        session, ticket_id, ticket_no, event_id, known(follow_up_of=original_ticket_id)
    )


async def complaint_classified(
    session: AsyncSession,
    event_id: str,
    ticket_id: str,
    ticket_no: str,
    level: str,
    complaint_type: str | None,
    at: datetime,
) -> None:
    """A complaint's level and type as they stand: the latest classification wins, whatever order
    the events arrive in."""

    def merge(row: dict[str, Any]) -> dict[str, Any]:
        seen = row["complaint_classified_at"]
        if seen is not None and at < seen:
            return {}
        return {
            "complaint_level": level,
            "complaint_type": complaint_type,
            "complaint_classified_at": at,
        }

    await merge_ticket(session, ticket_id, ticket_no, event_id, merge)


async def ticket_event(
    session: AsyncSession,
    event_id: str,
    ticket_id: str,
    kind: str,
    at: datetime,
    clock: str | None = None,
    urgency: str | None = None,
    deadline: datetime | None = None,
    overdue_seconds: int | None = None,
) -> None:
    """SLA warnings, breaches, escalations and reopenings are counted one per event."""
    await put(
        session,
        TicketEventFact,
        ("event_id",),
        event_id=event_id,
        ticket_id=ticket_id,
        kind=kind,
        at=at,
        clock=clock,
        urgency=urgency,
        deadline=deadline,
        overdue_seconds=overdue_seconds,
    )


async def corrective_action_overdue(session: AsyncSession, event_id: str, **values: Any) -> None:
    await put(session, CorrectiveActionFact, ("action_id",), event_id=event_id, **values)


async def corrective_action_step(session: AsyncSession, event_id: str, **values: Any) -> None:
    await put(session, CorrectiveActionStepFact, ("event_id",), event_id=event_id, **values)


# --- surveys and follow-up calls ---------------------------------------------------------------


async def survey_answered(session: AsyncSession, event_id: str, **values: Any) -> None:
    await put(session, SurveyFact, ("survey_id",), event_id=event_id, **values)


async def follow_up_call(
    session: AsyncSession, event_id: str, kind: str, ref: str, at: datetime, **values: Any
) -> None:
    """A return visit recorded or overdue, a training follow-up recorded."""
    await put(
        session, FollowUpFact, ("event_id",), event_id=event_id, kind=kind, ref=ref, at=at, **values
    )


# --- dealers -----------------------------------------------------------------------------------


async def warranty_event(
    session: AsyncSession,
    event_id: str,
    kind: str,
    dealer_id: str,
    at: datetime,
    serial_no: str | None = None,
    on_time: bool | None = None,
    recognised: bool | None = None,
    parts: int | None = None,
    amount: Decimal | None = None,
) -> None:
    await put(
        session,
        WarrantyFact,
        ("event_id",),
        event_id=event_id,
        kind=kind,
        dealer_id=dealer_id,
        at=at,
        serial_no=serial_no,
        on_time=on_time,
        recognised=recognised,
        parts=parts,
        amount=amount,
    )


async def dealer_changed(
    session: AsyncSession, dealer_id: str, name: str, region: str | None, changed_at: datetime
) -> None:
    """The newest name and region win (an older change arriving late changes nothing)."""
    table = DealerFact.__table__
    stmt = upsert_insert(session, table).values(
        dealer_id=dealer_id, name=name, region=region, changed_at=changed_at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["dealer_id"],
            set_={k: stmt.excluded[k] for k in ("name", "region", "changed_at")},
            where=table.c.changed_at <= stmt.excluded.changed_at,
        )
    )


def midnight_of(day: date) -> datetime:
    """A date-only event fact (a due date) placed at its day's start, UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
