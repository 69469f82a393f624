"""Use cases of the dealers service: one function per thing a user, an event or a deadline does.

Isolation: every function that reads or changes a dealer's records takes `scope` (the dealer a dealer
user is confined to, None for company staff). Another dealer's record answers exactly like a missing one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, dealer_scope
from aftersales_shared.calendars import load_calendar
from aftersales_shared.db import upsert_insert
from aftersales_shared.errors import Conflict, DomainError, NotFound
from aftersales_shared.events import (
    CardOverdueV1,
    ContractSignedV1,
    DeductionIssuedV1,
    Envelope,
    PartsReturnOverdueV1,
    ServiceCompletedV1,
    SlaBreachedV1,
    SurveyAnsweredV1,
    TicketOpenedV1,
    WarrantyCardRegisteredV1,
)
from aftersales_shared.events.dealers import (
    CardDueSoonV1,
    StockingPlanMissedV1,
    WarrantyServiceOverdueV1,
)
from aftersales_shared.outbox import enqueue
from aftersales_shared.scheduler import cancel, schedule

from . import domain as d
from .models import (
    AuditRow,
    ClaimPaymentRow,
    DealerRow,
    DeductionLineRow,
    DeductionNoticeRow,
    GradeChangeRow,
    GradeReviewRow,
    MeasurementRow,
    RepairPartRow,
    RepairRecordRow,
    SeasonRow,
    ShipmentRow,
    SoldUnitRow,
    StockEntryRow,
    StockingPlanRow,
    TruckVisitRow,
    UnitConflictRow,
    WarrantyCardRow,
)
from .schemas import (
    ArrangeIn,
    CardIn,
    CompleteIn,
    DealerIn,
    DealerPatchIn,
    GradeDecisionIn,
    GradeSetIn,
    InspectionIn,
    LineAnswerIn,
    NoticeIn,
    OverrideIn,
    PlanIn,
    RepairIn,
    SeasonIn,
    ShipmentIn,
    UnitIn,
)
from .settings import DealersSettings

# scheduler job kinds
CARD_REMINDER = "dealers.card_reminder"
CARD_OVERDUE = "dealers.card_overdue"
ARRANGE_DUE = "dealers.repair_arrange_due"
RETURN_DUE = "dealers.parts_return_due"
PLAN_DUE = "dealers.stock_plan_due"

# measurement kinds
LATE_CARD, LATE_RETURN, LATE_ARRANGEMENT = "late_card", "late_return", "late_arrangement"
SLA_BREACH, MISSING_PLAN, TICKET, COMPLETION, SURVEY = (
    "sla_breach",
    "missing_stock_plan",
    "ticket_opened",
    "service_completed",
    "survey",
)

Row = TypeVar("Row")


@dataclass(frozen=True)
class Ctx:
    """Who acts, when, with which settings."""

    actor: Principal
    now: datetime
    cfg: DealersSettings

    @property
    def scope(self) -> str | None:
        return dealer_scope(self.actor)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.cfg.business_timezone)

    @property
    def today(self) -> date:
        return d.local_date(self.now, self.tz)

    @property
    def who(self) -> str:
        return self.actor.subject


# ------------------------------------------------------------------ helpers
def _not_found(what: str, key: object) -> NotFound:
    return NotFound(f"{what}{key}不存在 ({what} {key} not found)")


async def _owned(
    session: AsyncSession,
    model: type[Row],
    key: object,
    scope: str | None,
    what: str,
    lock: bool = False,
) -> Row:
    """The row, if it exists and the caller may see it; otherwise 404 (existence is not leaked)."""
    row = await session.get(model, key, with_for_update=lock or None)
    if row is None or (scope is not None and row.dealer_id != scope):
        raise _not_found(what, key)
    return row


def _scoped(query: Select[Any], model: Any, scope: str | None) -> Select[Any]:
    return query.where(model.dealer_id == scope) if scope is not None else query


async def _page(
    session: AsyncSession, query: Select[Any], order: Any, limit: int, offset: int
) -> tuple[list[Any], int]:
    total = (
        await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    rows = (await session.scalars(query.order_by(*order).limit(limit).offset(offset))).all()
    return list(rows), total


async def _dealer(session: AsyncSession, ctx: Ctx, requested: str | None) -> DealerRow:
    """The dealer a command acts for: a dealer user's own; staff must name one."""
    scope = ctx.scope
    if scope is not None:
        if requested not in (None, scope):
            raise _not_found("经销商", requested)
        requested = scope
    if not requested:
        raise DomainError("请指定经销商 dealer_id (dealer_id is required)")
    return await _owned(session, DealerRow, requested, scope, "经销商")


def _insert(session: AsyncSession) -> Any:
    return lambda table: upsert_insert(session, table)


async def _measure(
    session: AsyncSession,
    dealer_id: str,
    kind: str,
    ref: str,
    at: datetime,
    score: Decimal | None = None,
    detail: str | None = None,
) -> None:
    """Record a fact about a dealer's service once (redelivered events and re-fired jobs change nothing)."""
    stmt = (
        _insert(session)(MeasurementRow)
        .values(dealer_id=dealer_id, kind=kind, ref=ref, occurred_at=at, score=score, detail=detail)
        .on_conflict_do_nothing()
    )
    await session.execute(stmt)


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(detail, default=str, ensure_ascii=False))


async def _audit(
    session: AsyncSession,
    ctx: Ctx | None,
    dealer_id: str | None,
    entity: str,
    entity_id: str,
    action: str,
    /,
    actor: str | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditRow(
            dealer_id=dealer_id,
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            actor=actor or (ctx.who if ctx else "system"),
            at=at or (ctx.now if ctx else datetime.now(tz=ZoneInfo("UTC"))),
            detail=_jsonable(detail),
        )
    )


async def _flush(session: AsyncSession, conflict: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


def _not_future(at: datetime, ctx: Ctx, what: str) -> None:
    if at > ctx.now + timedelta(minutes=5):
        raise DomainError(f"{what}不能晚于当前时间 ({what} cannot be in the future)")


def _no(prefix: str, ctx: Ctx) -> str:
    return f"{prefix}-{ctx.today:%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"


# ------------------------------------------------------------------ dealers and grades
async def create_dealer(session: AsyncSession, cmd: DealerIn, ctx: Ctx) -> DealerRow:
    if await session.get(DealerRow, cmd.dealer_id):
        raise Conflict(f"经销商编号{cmd.dealer_id}已存在 (dealer id already exists)")
    row = DealerRow(
        **cmd.model_dump(exclude={"contacts"}),
        contacts=[c.model_dump() for c in cmd.contacts],
        created_at=ctx.now,
        created_by=ctx.who,
    )
    session.add(row)
    session.add(
        GradeChangeRow(
            dealer_id=row.dealer_id,
            from_grade=None,
            to_grade=row.grade,
            reason="签约初始等级 (initial grade)",
            changed_by=ctx.who,
            changed_at=ctx.now,
        )
    )
    await _flush(session, f"经销商编号{cmd.dealer_id}已存在 (dealer id already exists)")
    await _audit(
        session, ctx, row.dealer_id, "dealer", row.dealer_id, "created", **cmd.model_dump()
    )
    return row


async def update_dealer(
    session: AsyncSession, dealer_id: str, cmd: DealerPatchIn, ctx: Ctx
) -> DealerRow:
    row = await _owned(session, DealerRow, dealer_id, ctx.scope, "经销商")
    changes = cmd.model_dump(exclude_unset=True, exclude_none=True)
    if "agreement_end" in changes and changes["agreement_end"] <= row.agreement_start:
        raise DomainError("协议终止日须晚于起始日 (agreement_end must be after agreement_start)")
    if "contacts" in changes:
        changes["contacts"] = [c.model_dump() for c in cmd.contacts or []]
    before = {k: getattr(row, k) for k in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    await _audit(
        session,
        ctx,
        row.dealer_id,
        "dealer",
        row.dealer_id,
        "updated",
        before=before,
        after=changes,
    )
    return row


async def get_dealer(session: AsyncSession, dealer_id: str, scope: str | None) -> DealerRow:
    return await _owned(session, DealerRow, dealer_id, scope, "经销商")


async def list_dealers(
    session: AsyncSession,
    scope: str | None,
    *,
    region: str | None,
    grade: str | None,
    limit: int,
    offset: int,
) -> tuple[list[DealerRow], int]:
    q = _scoped(select(DealerRow), DealerRow, scope)
    if region:
        q = q.where(DealerRow.region == region)
    if grade:
        q = q.where(DealerRow.grade == grade)
    return await _page(session, q, [DealerRow.dealer_id], limit, offset)


async def grade_history(
    session: AsyncSession, dealer_id: str, scope: str | None
) -> list[GradeChangeRow]:
    await _owned(session, DealerRow, dealer_id, scope, "经销商")
    return list(
        (
            await session.scalars(
                select(GradeChangeRow)
                .where(GradeChangeRow.dealer_id == dealer_id)
                .order_by(GradeChangeRow.id)
            )
        ).all()
    )


async def set_grade(session: AsyncSession, dealer_id: str, cmd: GradeSetIn, ctx: Ctx) -> DealerRow:
    row = await _owned(session, DealerRow, dealer_id, ctx.scope, "经销商", lock=True)
    if row.grade == cmd.grade:
        raise Conflict(f"经销商已是{cmd.grade}级 (dealer already has grade {cmd.grade})")
    session.add(
        GradeChangeRow(
            dealer_id=dealer_id,
            from_grade=row.grade,
            to_grade=cmd.grade,
            reason=cmd.reason,
            changed_by=ctx.who,
            changed_at=ctx.now,
        )
    )
    await _audit(
        session,
        ctx,
        dealer_id,
        "dealer",
        dealer_id,
        "grade_set",
        from_grade=row.grade,
        to_grade=cmd.grade,
    )
    row.grade = cmd.grade
    return row


async def measures(
    session: AsyncSession, dealer_id: str, start: date, end: date, tz: ZoneInfo
) -> d.Measures:
    """Count a dealer's measured facts in [start, end] (local days)."""
    lo, hi = d.start_of_local_day(start, tz), d.end_of_local_day(end, tz)
    rows = (
        await session.execute(
            select(MeasurementRow.kind, func.count(), func.avg(MeasurementRow.score))
            .where(
                MeasurementRow.dealer_id == dealer_id,
                MeasurementRow.occurred_at >= lo,
                MeasurementRow.occurred_at < hi,
            )
            .group_by(MeasurementRow.kind)
        )
    ).all()
    counts = {k: n for k, n, _ in rows}
    mean = next((a for k, _, a in rows if k == SURVEY), None)
    return d.Measures(
        late_cards=counts.get(LATE_CARD, 0),
        late_returns=counts.get(LATE_RETURN, 0),
        late_arrangements=counts.get(LATE_ARRANGEMENT, 0),
        sla_breaches=counts.get(SLA_BREACH, 0),
        missing_stock_plans=counts.get(MISSING_PLAN, 0),
        tickets=counts.get(TICKET, 0),
        completions=counts.get(COMPLETION, 0),
        surveys=counts.get(SURVEY, 0),
        mean_score=None if mean is None else Decimal(str(mean)).quantize(d.CENT),
    )


def window(ctx: Ctx, days: int | None) -> tuple[date, date]:
    return ctx.today - timedelta(days=(days or ctx.cfg.measure_window_days) - 1), ctx.today


async def service_measures(
    session: AsyncSession, dealer_id: str, ctx: Ctx, days: int | None
) -> dict[str, Any]:
    await _owned(session, DealerRow, dealer_id, ctx.scope, "经销商")
    start, end = window(ctx, days)
    m = await measures(session, dealer_id, start, end, ctx.tz)
    return {
        "dealer_id": dealer_id,
        "window_start": start,
        "window_end": end,
        **asdict(m),
        "demotion_reasons": d.demotion_reasons(m, ctx.cfg.demotion_rules()),
    }


async def propose_demotion(
    session: AsyncSession, dealer_id: str, days: int | None, ctx: Ctx
) -> GradeReviewRow:
    dealer = await _owned(session, DealerRow, dealer_id, ctx.scope, "经销商", lock=True)
    open_review = await session.scalar(
        select(GradeReviewRow.id).where(
            GradeReviewRow.dealer_id == dealer_id, GradeReviewRow.status == "proposed"
        )
    )
    if open_review:
        raise Conflict(
            f"该经销商已有待确认的降级建议{open_review} (a demotion proposal is already waiting)"
        )
    start, end = window(ctx, days)
    m = await measures(session, dealer_id, start, end, ctx.tz)
    reasons = d.demotion_reasons(m, ctx.cfg.demotion_rules())
    if not reasons:
        raise DomainError(
            "服务指标未触发降级规则 (measured service breaks no demotion rule)",
            measures=_jsonable(asdict(m)),
        )
    if dealer.grade == d.GRADES[-1]:
        raise DomainError(f"经销商已是最低等级{dealer.grade} (dealer already has the lowest grade)")
    row = GradeReviewRow(
        id=str(uuid.uuid4()),
        dealer_id=dealer_id,
        window_start=start,
        window_end=end,
        measures=_jsonable(asdict(m)),
        reasons=reasons,
        current_grade=dealer.grade,
        proposed_grade=d.demoted(dealer.grade),
        status="proposed",
        proposed_by=ctx.who,
        proposed_at=ctx.now,
    )
    session.add(row)
    await _audit(session, ctx, dealer_id, "grade_review", row.id, "proposed", reasons=reasons)
    return row


async def decide_review(
    session: AsyncSession, review_id: str, cmd: GradeDecisionIn, ctx: Ctx
) -> GradeReviewRow:
    review = await _owned(session, GradeReviewRow, review_id, ctx.scope, "降级建议", lock=True)
    if review.status != "proposed":
        raise Conflict(f"降级建议已{review.status} (review already {review.status})")
    dealer = await _owned(session, DealerRow, review.dealer_id, None, "经销商", lock=True)
    review.status = "confirmed" if cmd.confirm else "rejected"
    review.decided_by, review.decided_at, review.decision_note = ctx.who, ctx.now, cmd.note
    if cmd.confirm:
        session.add(
            GradeChangeRow(
                dealer_id=dealer.dealer_id,
                from_grade=dealer.grade,
                to_grade=review.proposed_grade,
                reason="；".join(review.reasons) + f" — {cmd.note}",
                review_id=review.id,
                changed_by=ctx.who,
                changed_at=ctx.now,
            )
        )
        dealer.grade = review.proposed_grade
    await _audit(
        session, ctx, dealer.dealer_id, "grade_review", review.id, review.status, note=cmd.note
    )
    return review


async def list_reviews(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[GradeReviewRow], int]:
    q = _scoped(select(GradeReviewRow), GradeReviewRow, scope)
    if dealer_id:
        q = q.where(GradeReviewRow.dealer_id == dealer_id)
    if status:
        q = q.where(GradeReviewRow.status == status)
    return await _page(session, q, [GradeReviewRow.proposed_at.desc()], limit, offset)


async def add_truck_visit(
    session: AsyncSession, dealer_id: str, visit: date, ctx: Ctx
) -> TruckVisitRow:
    await _owned(session, DealerRow, dealer_id, ctx.scope, "经销商")
    if visit < ctx.today:
        raise DomainError("送货车日期不能早于今天 (a truck visit cannot be in the past)")
    row = TruckVisitRow(
        dealer_id=dealer_id, visit_date=visit, created_by=ctx.who, created_at=ctx.now
    )
    session.add(row)
    await _flush(session, f"{visit}已安排送货车 (a truck visit on that day exists already)")
    await _audit(session, ctx, dealer_id, "truck_visit", str(row.id), "created", visit_date=visit)
    return row


async def list_truck_visits(
    session: AsyncSession, dealer_id: str, scope: str | None
) -> list[TruckVisitRow]:
    await _owned(session, DealerRow, dealer_id, scope, "经销商")
    return list(
        (
            await session.scalars(
                select(TruckVisitRow)
                .where(TruckVisitRow.dealer_id == dealer_id)
                .order_by(TruckVisitRow.visit_date)
            )
        ).all()
    )


# ------------------------------------------------------------------ sold units and warranty cards
async def _arm_card_deadlines(
    session: AsyncSession, unit: SoldUnitRow, now: datetime, cfg: DealersSettings
) -> None:
    tz = ZoneInfo(cfg.business_timezone)
    overdue_at = d.card_overdue_at(unit.sale_date, tz)
    reminder_at = d.card_reminder_at(unit.sale_date, cfg.card_reminder_days_before, tz)
    if reminder_at < overdue_at and now < overdue_at:
        await schedule(session, CARD_REMINDER, unit.serial_no, reminder_at)
    await schedule(session, CARD_OVERDUE, unit.serial_no, overdue_at)


async def register_unit(session: AsyncSession, cmd: UnitIn, ctx: Ctx) -> SoldUnitRow:
    dealer = await _dealer(session, ctx, cmd.dealer_id)
    if cmd.sale_date > ctx.today:
        raise DomainError("销售日期不能晚于今天 (sale date cannot be in the future)")
    if cmd.warranty_end is not None and cmd.warranty_end < cmd.sale_date:
        raise DomainError("保修截止日不能早于销售日期 (warranty end before the sale)")
    held = await session.get(SoldUnitRow, cmd.serial_no, with_for_update=True)
    if held is not None:
        if (
            ctx.scope is None or held.dealer_id == dealer.dealer_id
        ):  # staff, or the dealer's own unit: the truth
            raise Conflict(
                f"序列号{cmd.serial_no}已登记销售 (serial number already registered as sold)"
            )
        return await _claim_of_another_dealers_unit(session, held, dealer.dealer_id, cmd, ctx)
    unit = SoldUnitRow(
        serial_no=cmd.serial_no,
        dealer_id=dealer.dealer_id,
        model=cmd.model,
        sale_date=cmd.sale_date,
        warranty_end=cmd.warranty_end,
        customer_name=cmd.customer_name,
        contract_no=cmd.contract_no,
        source="dealer",
        card_due=d.card_due_date(cmd.sale_date),
        card_status="pending",
        created_at=ctx.now,
        created_by=ctx.who,
    )
    session.add(unit)
    await _flush(
        session, f"序列号{cmd.serial_no}已登记销售 (serial number already registered as sold)"
    )
    await _arm_card_deadlines(session, unit, ctx.now, ctx.cfg)
    await _audit(session, ctx, dealer.dealer_id, "unit", unit.serial_no, "sold", **cmd.model_dump())
    return unit


async def _claim_of_another_dealers_unit(
    session: AsyncSession, held: SoldUnitRow, claimant: str, cmd: UnitIn, ctx: Ctx
) -> SoldUnitRow:
    """A dealer registers a serial another dealer holds. The answer must not tell it that the serial exists (it
    gets what a new registration gets); the unit stays where it is, and a manager sees an open ownership conflict
    (GET /unit-conflicts) naming both dealers. The registration is not kept: the claimant's own lists and cards
    do not show the unit unless the manager's decision moves it."""
    already = await session.scalar(
        select(UnitConflictRow.id).where(
            UnitConflictRow.serial_no == held.serial_no,
            UnitConflictRow.registered_by_dealer == claimant,
            UnitConflictRow.status == "open",
        )
    )
    if already is None:
        session.add(
            UnitConflictRow(
                id=str(uuid.uuid4()),
                serial_no=held.serial_no,
                registered_by_dealer=claimant,
                contract_dealer=held.dealer_id,
                contract_no=held.contract_no or "",
                status="open",
                created_at=ctx.now,
                note=f"经销商{claimant}自行登记了{held.dealer_id}已登记的序列号 (self-registration of a held serial)",
            )
        )
        # staff-only audit (no dealer id): neither dealer learns of the other through its audit trail
        await _audit(
            session,
            ctx,
            None,
            "unit",
            held.serial_no,
            "claimed_held_serial",
            claimant=claimant,
            holder=held.dealer_id,
        )
    return SoldUnitRow(  # the answer of a new registration, not stored
        serial_no=cmd.serial_no,
        dealer_id=claimant,
        model=cmd.model,
        sale_date=cmd.sale_date,
        warranty_end=cmd.warranty_end,
        customer_name=cmd.customer_name,
        contract_no=cmd.contract_no,
        source="dealer",
        card_due=d.card_due_date(cmd.sale_date),
        card_status="pending",
        created_at=ctx.now,
        created_by=ctx.who,
    )


async def units_from_contract(
    session: AsyncSession, env: Envelope[ContractSignedV1], now: datetime, cfg: DealersSettings
) -> int:
    """Units of a contract signed through a dealer become sold units owing a warranty card."""
    data = env.data
    if not data.dealer_id:
        return 0
    tz = ZoneInfo(cfg.business_timezone)
    sale_date = d.local_date(data.signed_at, tz)
    added = 0
    for p in data.products:
        known = await session.get(SoldUnitRow, p.serial_no, with_for_update=True)
        if known is not None:
            if known.source == "dealer" and known.dealer_id != data.dealer_id:
                await _contract_takes_the_unit(session, known, data, sale_date, now, env.id)
            continue  # otherwise already known (a re-signed contract, or this dealer registered it first)
        unit = SoldUnitRow(
            serial_no=p.serial_no,
            dealer_id=data.dealer_id,
            model=p.model,
            sale_date=sale_date,
            warranty_end=p.warranty_end,
            customer_name=data.customer.name,
            contract_no=data.contract_no,
            source="contract",
            card_due=d.card_due_date(sale_date),
            card_status="pending",
            created_at=now,
            created_by="contracts",
        )
        session.add(unit)
        await session.flush()
        await _arm_card_deadlines(session, unit, now, cfg)
        added += 1
    await _audit(
        session,
        None,
        data.dealer_id,
        "contract",
        data.contract_no,
        "units_learnt",
        actor="contracts",
        at=now,
        added=added,
        event_id=env.id,
    )
    return added


async def _contract_takes_the_unit(
    session: AsyncSession,
    unit: SoldUnitRow,
    data: ContractSignedV1,
    sale_date: date,
    now: datetime,
    event_id: str,
) -> None:
    """A signed contract sells a serial another dealer registered itself: the contract's dealer owns the unit
    (its card, repairs and returns), and the earlier registration becomes an open conflict for a manager."""
    squatter = unit.dealer_id
    session.add(
        UnitConflictRow(
            id=str(uuid.uuid4()),
            serial_no=unit.serial_no,
            registered_by_dealer=squatter,
            contract_dealer=data.dealer_id or "",
            contract_no=data.contract_no,
            status="open",
            created_at=now,
        )
    )
    unit.dealer_id, unit.source, unit.contract_no = data.dealer_id, "contract", data.contract_no
    unit.customer_name, unit.sale_date = data.customer.name, sale_date
    for dealer in (squatter, data.dealer_id):
        await _audit(
            session,
            None,
            dealer,
            "unit",
            unit.serial_no,
            "ownership_conflict",
            actor="contracts",
            at=now,
            registered_by_dealer=squatter,
            contract_dealer=data.dealer_id,
            contract_no=data.contract_no,
            event_id=event_id,
        )


async def list_conflicts(
    session: AsyncSession, status: str | None, limit: int, offset: int
) -> tuple[list[UnitConflictRow], int]:
    q = select(UnitConflictRow)
    if status:
        q = q.where(UnitConflictRow.status == status)
    return await _page(
        session, q, [UnitConflictRow.created_at.desc(), UnitConflictRow.id], limit, offset
    )


async def resolve_conflict(
    session: AsyncSession, conflict_id: str, resolution: str, note: str, ctx: Ctx
) -> UnitConflictRow:
    row = await session.get(UnitConflictRow, conflict_id, with_for_update=True)
    if row is None:
        raise _not_found("归属冲突", conflict_id)
    if row.status != "open":
        raise Conflict(f"归属冲突{conflict_id}已处理 (already resolved: {row.resolution})")
    row.status, row.resolution, row.note = "resolved", resolution, note
    row.decided_at, row.decided_by = ctx.now, ctx.who
    await _audit(
        session,
        ctx,
        row.registered_by_dealer,
        "unit",
        row.serial_no,
        "ownership_conflict_resolved",
        resolution=resolution,
        note=note,
        conflict_id=conflict_id,
    )
    return row


async def list_units(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    card_status: str | None,
    serial_no: str | None,
    limit: int,
    offset: int,
) -> tuple[list[SoldUnitRow], int]:
    q = _scoped(select(SoldUnitRow), SoldUnitRow, scope)
    if dealer_id:
        q = q.where(SoldUnitRow.dealer_id == dealer_id)
    if card_status:
        q = q.where(SoldUnitRow.card_status == card_status)
    if serial_no:
        q = q.where(SoldUnitRow.serial_no == serial_no)
    return await _page(
        session, q, [SoldUnitRow.sale_date.desc(), SoldUnitRow.serial_no], limit, offset
    )


async def get_unit(session: AsyncSession, serial_no: str, scope: str | None) -> SoldUnitRow:
    return await _owned(session, SoldUnitRow, serial_no, scope, "设备")


async def register_card(session: AsyncSession, cmd: CardIn, ctx: Ctx) -> WarrantyCardRow:
    """A card in time recognises the warranty; a late one is kept with the reason it is not recognised."""
    unit = await session.get(SoldUnitRow, cmd.serial_no, with_for_update=True)
    if unit is None or (ctx.scope is not None and unit.dealer_id != ctx.scope):
        raise DomainError(
            f"序列号{cmd.serial_no}不是已登记的经销商销售设备 (unknown serial: register the sale first)",
            code="unknown_serial",
        )
    if cmd.model and cmd.model != unit.model:
        raise DomainError(
            f"型号{cmd.model}与销售记录{unit.model}不符 (model does not match the sale)"
        )
    if await session.scalar(
        select(WarrantyCardRow.id).where(WarrantyCardRow.serial_no == cmd.serial_no)
    ):
        raise Conflict(
            f"序列号{cmd.serial_no}的三包回执卡已登记 (warranty card already registered)"
        )
    outcome = d.card_outcome(unit.sale_date, ctx.today)
    card = WarrantyCardRow(
        id=str(uuid.uuid4()),
        dealer_id=unit.dealer_id,
        serial_no=unit.serial_no,
        model=unit.model,
        sale_date=unit.sale_date,
        customer_name=cmd.customer_name,
        customer_phone=cmd.customer_phone,
        customer_address=cmd.customer_address,
        registered_at=ctx.now,
        registered_by=ctx.who,
        day=outcome.day,
        on_time=outcome.on_time,
        warranty_recognised=outcome.warranty_recognised,
        reason=outcome.reason,
    )
    session.add(card)
    await _flush(
        session, f"序列号{cmd.serial_no}的三包回执卡已登记 (warranty card already registered)"
    )
    unit.card_status = "registered"
    await cancel(session, CARD_REMINDER, unit.serial_no)
    await cancel(session, CARD_OVERDUE, unit.serial_no)
    if not outcome.on_time:
        await _measure(
            session, unit.dealer_id, LATE_CARD, unit.serial_no, ctx.now, detail=outcome.reason
        )
    await enqueue(session, Envelope(data=_card_event(card), subject=card.serial_no))
    await _audit(
        session,
        ctx,
        card.dealer_id,
        "card",
        card.id,
        "registered",
        day=outcome.day,
        warranty_recognised=outcome.warranty_recognised,
    )
    return card


def _card_event(card: WarrantyCardRow) -> WarrantyCardRegisteredV1:
    return WarrantyCardRegisteredV1(
        card_id=card.id,
        dealer_id=card.dealer_id,
        serial_no=card.serial_no,
        model=card.model,
        sale_date=card.sale_date,
        registered_at=card.registered_at,
        customer_name=card.customer_name,
        warranty_recognised=card.warranty_recognised,
        reason=card.reason,
        on_time=card.on_time,
        overridden_by=card.override_by,
        override_note=card.override_note,
    )


async def override_card(
    session: AsyncSession, card_id: str, cmd: OverrideIn, ctx: Ctx
) -> WarrantyCardRow:
    card = await _owned(session, WarrantyCardRow, card_id, ctx.scope, "三包回执卡", lock=True)
    if card.warranty_recognised:
        raise Conflict("该设备三包已认可，无需特批 (warranty is already recognised)")
    card.warranty_recognised = True
    card.override_by, card.override_note, card.override_at = ctx.who, cmd.note, ctx.now
    await enqueue(session, Envelope(data=_card_event(card), subject=card.serial_no))
    await _audit(session, ctx, card.dealer_id, "card", card.id, "override", note=cmd.note)
    return card


async def get_card(session: AsyncSession, card_id: str, scope: str | None) -> WarrantyCardRow:
    return await _owned(session, WarrantyCardRow, card_id, scope, "三包回执卡")


async def list_cards(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    recognised: bool | None,
    serial_no: str | None,
    limit: int,
    offset: int,
) -> tuple[list[WarrantyCardRow], int]:
    q = _scoped(select(WarrantyCardRow), WarrantyCardRow, scope)
    if dealer_id:
        q = q.where(WarrantyCardRow.dealer_id == dealer_id)
    if recognised is not None:
        q = q.where(WarrantyCardRow.warranty_recognised == recognised)
    if serial_no:
        q = q.where(WarrantyCardRow.serial_no == serial_no)
    return await _page(session, q, [WarrantyCardRow.registered_at.desc()], limit, offset)


async def fire_card_reminder(session: AsyncSession, serial_no: str) -> None:
    unit = await session.get(SoldUnitRow, serial_no)
    if unit is not None and unit.card_status == "pending":
        await enqueue(
            session,
            Envelope(
                data=CardDueSoonV1(
                    dealer_id=unit.dealer_id,
                    serial_no=unit.serial_no,
                    model=unit.model,
                    sale_date=unit.sale_date,
                    due_date=unit.card_due,
                    customer_name=unit.customer_name,
                ),
                subject=unit.serial_no,
            ),
        )


async def fire_card_overdue(session: AsyncSession, serial_no: str, now: datetime) -> None:
    unit = await session.get(SoldUnitRow, serial_no)
    if unit is None or unit.card_status != "pending":
        return
    unit.card_status = "overdue"
    await _measure(
        session, unit.dealer_id, LATE_CARD, unit.serial_no, now, detail="no card by day 20"
    )
    await enqueue(
        session,
        Envelope(
            data=CardOverdueV1(
                dealer_id=unit.dealer_id,
                serial_no=unit.serial_no,
                sale_date=unit.sale_date,
                due_date=unit.card_due,
            ),
            subject=unit.serial_no,
        ),
    )
    await _audit(session, None, unit.dealer_id, "unit", unit.serial_no, "card_overdue", at=now)


# ------------------------------------------------------------------ repair records
async def open_repair(session: AsyncSession, cmd: RepairIn, ctx: Ctx) -> RepairRecordRow:
    unit = await session.get(SoldUnitRow, cmd.serial_no)
    requested = cmd.dealer_id or (
        unit.dealer_id if unit is not None and ctx.scope is None else None
    )
    dealer = await _dealer(session, ctx, requested)
    requested_at = cmd.requested_at or ctx.now
    _not_future(requested_at, ctx, "报修时间")
    kind = d.RepairKind(cmd.kind)
    if kind is d.RepairKind.WARRANTY:
        if unit is None or unit.dealer_id != dealer.dealer_id:
            raise DomainError(
                f"设备{cmd.serial_no}不是本经销商售出的设备，不能按三包登记 "
                "(unit was not sold through this dealer: warranty cannot be claimed)",
                code="unknown_serial",
            )
        if d.local_date(requested_at, ctx.tz) < unit.sale_date:
            raise DomainError(
                f"报修时间早于销售日期{unit.sale_date} (request dated before the sale)"
            )
        card = await session.scalar(
            select(WarrantyCardRow).where(WarrantyCardRow.serial_no == unit.serial_no)
        )
        d.check_warranty_repair(
            d.UnitWarranty(
                unit.serial_no,
                unit.warranty_end,
                card is not None,
                bool(card and card.warranty_recognised),
                card.reason if card else None,
            ),
            d.local_date(requested_at, ctx.tz),
        )
    calendar = await load_calendar(session, dealer.calendar_id, ctx.cfg.business_timezone)
    due = calendar.add_working_time(requested_at, d.ARRANGE_WITHIN)
    row = RepairRecordRow(
        id=str(uuid.uuid4()),
        record_no=_no("WX", ctx),
        dealer_id=dealer.dealer_id,
        serial_no=cmd.serial_no,
        model=cmd.model or (unit.model if unit else None),
        kind=kind,
        ticket_no=cmd.ticket_no,
        fault_description=cmd.fault_description,
        status="requested",
        requested_at=requested_at,
        arrange_due=due,
        arrange_due_provisional=calendar.is_provisional(requested_at, due),
        claim_status=d.ClaimStatus.NONE,
        created_at=ctx.now,
        created_by=ctx.who,
        parts=[],
    )
    session.add(row)
    await session.flush()
    if kind is d.RepairKind.WARRANTY:
        await schedule(session, ARRANGE_DUE, row.id, due)
    await _audit(
        session, ctx, row.dealer_id, "repair", row.id, "requested", kind=kind, arrange_due=due
    )
    return row


async def arrange_repair(
    session: AsyncSession, record_id: str, cmd: ArrangeIn, ctx: Ctx
) -> RepairRecordRow:
    row = await _owned(session, RepairRecordRow, record_id, ctx.scope, "维修记录", lock=True)
    if row.status != "requested":
        raise Conflict(f"维修记录{row.record_no}已安排服务 (service already arranged)")
    if not cmd.user_informed:
        raise DomainError("安排三包服务时须告知用户 (the user must be told who comes and when)")
    arranged_at = cmd.arranged_at or ctx.now
    _not_future(arranged_at, ctx, "安排时间")
    if arranged_at < row.requested_at:
        raise DomainError("安排时间早于报修时间 (arranged before the request)")
    row.status, row.arranged_at, row.engineer = "arranged", arranged_at, cmd.engineer
    row.appointment_at, row.reported_to_technical = cmd.appointment_at, cmd.reported_to_technical
    row.arranged_late = d.arrange_breached(row.arrange_due, arranged_at, ctx.now)
    await cancel(session, ARRANGE_DUE, row.id)
    if row.arranged_late and row.kind == d.RepairKind.WARRANTY:
        await _measure(session, row.dealer_id, LATE_ARRANGEMENT, row.id, arranged_at)
    await _audit(
        session,
        ctx,
        row.dealer_id,
        "repair",
        row.id,
        "arranged",
        late=row.arranged_late,
        engineer=cmd.engineer,
    )
    return row


async def _truck_dates(session: AsyncSession, dealer: DealerRow, after: date) -> list[date]:
    if dealer.return_mode != "truck":
        return []
    return list(
        (
            await session.scalars(
                select(TruckVisitRow.visit_date).where(
                    TruckVisitRow.dealer_id == dealer.dealer_id, TruckVisitRow.visit_date > after
                )
            )
        ).all()
    )


async def complete_repair(
    session: AsyncSession, record_id: str, cmd: CompleteIn, ctx: Ctx
) -> RepairRecordRow:
    """The end user confirms; warranty parts become owed back, the claim waits for them (or is approved)."""
    row = await _owned(session, RepairRecordRow, record_id, ctx.scope, "维修记录", lock=True)
    if row.status == "requested":
        raise Conflict(f"维修记录{row.record_no}尚未安排服务 (arrange the service first)")
    if row.status == "completed":
        raise Conflict(
            f"维修记录{row.record_no}已完成，记录不可修改 (record already completed; it is evidence)"
        )
    conf = cmd.confirmation
    _not_future(conf.confirmed_at, ctx, "用户确认时间")
    if conf.confirmed_at < row.requested_at:
        raise DomainError("用户确认时间早于报修时间 (confirmation before the request)")
    kind = d.RepairKind(row.kind)
    charges = d.repair_charges(
        kind, [(p.quantity, p.unit_cost) for p in cmd.parts], cmd.labour_fee, cmd.travel_fee
    )
    done_on = d.local_date(conf.confirmed_at, ctx.tz)
    due: date | None = None
    if kind is d.RepairKind.WARRANTY and cmd.parts:
        dealer = await _owned(session, DealerRow, row.dealer_id, None, "经销商")
        due = d.return_due_date(
            done_on, ctx.cfg.return_dates(), await _truck_dates(session, dealer, done_on)
        )
    for p in cmd.parts:
        row.parts.append(
            RepairPartRow(
                dealer_id=row.dealer_id,
                part_no=p.part_no,
                name=p.name,
                quantity=p.quantity,
                unit_cost=d.money(p.unit_cost, "单价"),
                line_cost=d.line_cost(p.quantity, p.unit_cost),
                status=d.PartStatus.OWED if due else d.PartStatus.NOT_OWED,
                return_due=due,
            )
        )
    row.status, row.repair_description, row.completed_at = (
        "completed",
        cmd.repair_description,
        ctx.now,
    )
    row.confirmed_by, row.confirmed_at, row.confirmation_method = (
        conf.confirmed_by,
        conf.confirmed_at,
        conf.method,
    )
    row.parts_cost, row.labour_fee, row.travel_fee = (
        charges.parts_cost,
        charges.labour_fee,
        charges.travel_fee,
    )
    row.claim_amount, row.customer_charge = charges.claim_amount, charges.customer_charge
    if kind is d.RepairKind.WARRANTY:
        row.claim_status = d.ClaimStatus.AWAITING_RETURN if due else d.ClaimStatus.APPROVED
        row.claim_decided_at = None if due else ctx.now
    await session.flush()
    if due:
        await schedule(
            session,
            RETURN_DUE,
            f"{row.dealer_id}:{due.isoformat()}",
            d.end_of_local_day(due, ctx.tz),
            {"dealer_id": row.dealer_id, "due": due.isoformat()},
        )
    await _audit(
        session,
        ctx,
        row.dealer_id,
        "repair",
        row.id,
        "completed",
        confirmed_by=conf.confirmed_by,
        claim_amount=charges.claim_amount,
        customer_charge=charges.customer_charge,
        return_due=due,
    )
    return row


async def fire_arrange_due(session: AsyncSession, record_id: str, now: datetime) -> None:
    row = await session.get(RepairRecordRow, record_id)
    if row is None or row.status != "requested":
        return
    await _measure(
        session,
        row.dealer_id,
        LATE_ARRANGEMENT,
        row.id,
        now,
        detail="not arranged within 2 working hours",
    )
    await enqueue(
        session,
        Envelope(
            data=WarrantyServiceOverdueV1(
                record_id=row.id,
                record_no=row.record_no,
                dealer_id=row.dealer_id,
                serial_no=row.serial_no,
                requested_at=row.requested_at,
                arrange_due=row.arrange_due,
                ticket_no=row.ticket_no,
                due_provisional=row.arrange_due_provisional,
            ),
            subject=row.record_no,
        ),
    )


async def get_repair(session: AsyncSession, record_id: str, scope: str | None) -> RepairRecordRow:
    return await _owned(session, RepairRecordRow, record_id, scope, "维修记录")


async def list_repairs(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    kind: str | None,
    status: str | None,
    claim_status: str | None,
    serial_no: str | None,
    ticket_no: str | None,
    limit: int,
    offset: int,
) -> tuple[list[RepairRecordRow], int]:
    q = _scoped(select(RepairRecordRow), RepairRecordRow, scope)
    for col, value in (
        (RepairRecordRow.dealer_id, dealer_id),
        (RepairRecordRow.kind, kind),
        (RepairRecordRow.status, status),
        (RepairRecordRow.claim_status, claim_status),
        (RepairRecordRow.serial_no, serial_no),
        (RepairRecordRow.ticket_no, ticket_no),
    ):
        if value:
            q = q.where(col == value)
    return await _page(session, q, [RepairRecordRow.requested_at.desc()], limit, offset)


# ------------------------------------------------------------------ old-part returns and inspection
async def ship_parts(session: AsyncSession, cmd: ShipmentIn, ctx: Ctx) -> tuple[ShipmentRow, int]:
    dealer = await _dealer(session, ctx, cmd.dealer_id)
    ids = list(dict.fromkeys(cmd.record_ids))
    if len(ids) != len(cmd.record_ids):
        raise DomainError("同一维修记录重复列出 (a repair record is listed twice)")
    rows = {
        r.id: r
        for r in (
            await session.scalars(
                select(RepairRecordRow).where(RepairRecordRow.id.in_(ids)).with_for_update()
            )
        ).all()
    }
    foreign = [i for i in ids if i not in rows or rows[i].dealer_id != dealer.dealer_id]
    if foreign:
        raise DomainError(
            f"维修记录不存在或不属于经销商{dealer.dealer_id}: {', '.join(foreign)} "
            "(records unknown or belonging to another dealer)",
            code="foreign_records",
        )
    nothing = [
        rows[i].record_no for i in ids if not any(p.status in d.RETURNABLE for p in rows[i].parts)
    ]
    if nothing:
        raise DomainError(
            f"以下维修记录没有待返还的旧件: {', '.join(nothing)} (no old parts owed on these records)"
        )
    shipment = ShipmentRow(
        id=str(uuid.uuid4()),
        shipment_no=_no("FH", ctx),
        dealer_id=dealer.dealer_id,
        record_ids=ids,
        carrier=cmd.carrier,
        truck_ref=cmd.truck_ref,
        shipped_at=ctx.now,
        created_by=ctx.who,
    )
    session.add(shipment)
    count = 0
    for i in ids:
        for p in rows[i].parts:
            if p.status in d.RETURNABLE:
                p.status, p.shipment_id = d.PartStatus.SHIPPED, shipment.id
                count += 1
    await session.flush()
    await _audit(
        session, ctx, dealer.dealer_id, "shipment", shipment.id, "shipped", records=ids, parts=count
    )
    return shipment, count


async def receive_shipment(
    session: AsyncSession, shipment_id: str, ctx: Ctx
) -> tuple[ShipmentRow, int]:
    shipment = await _owned(session, ShipmentRow, shipment_id, ctx.scope, "旧件发运单", lock=True)
    if shipment.received_at is not None:
        raise Conflict(f"发运单{shipment.shipment_no}已签收 (shipment already received)")
    parts = (
        await session.scalars(select(RepairPartRow).where(RepairPartRow.shipment_id == shipment.id))
    ).all()
    for p in parts:
        p.status, p.received_at = d.PartStatus.RECEIVED, ctx.now
    shipment.received_at, shipment.received_by = ctx.now, ctx.who
    await _audit(
        session, ctx, shipment.dealer_id, "shipment", shipment.id, "received", parts=len(parts)
    )
    return shipment, len(parts)


async def shipment_parts(session: AsyncSession, shipment_id: str) -> int:
    return (
        await session.scalar(select(func.count()).where(RepairPartRow.shipment_id == shipment_id))
        or 0
    )


async def get_shipment(session: AsyncSession, shipment_id: str, scope: str | None) -> ShipmentRow:
    return await _owned(session, ShipmentRow, shipment_id, scope, "旧件发运单")


async def list_shipments(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    received: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[ShipmentRow], int]:
    q = _scoped(select(ShipmentRow), ShipmentRow, scope)
    if dealer_id:
        q = q.where(ShipmentRow.dealer_id == dealer_id)
    if received is not None:
        q = q.where(
            ShipmentRow.received_at.is_not(None) if received else ShipmentRow.received_at.is_(None)
        )
    return await _page(session, q, [ShipmentRow.shipped_at.desc()], limit, offset)


async def inspect_part(
    session: AsyncSession, part_id: int, cmd: InspectionIn, ctx: Ctx
) -> RepairRecordRow:
    """Technical verdict per part; stock records per store; the claim is decided once every part is judged."""
    part = await _owned(session, RepairPartRow, part_id, ctx.scope, "旧件", lock=True)
    if part.status == d.PartStatus.INSPECTED:
        raise Conflict(f"旧件{part_id}已检验 (part already inspected: the verdict is evidence)")
    if part.status != d.PartStatus.RECEIVED:
        raise DomainError(
            f"旧件{part_id}尚未返还签收，不能检验 (part not received yet: status {part.status})"
        )
    verdict = d.Verdict(cmd.verdict)
    d.check_verdict(verdict, cmd.reason)
    part.status, part.verdict, part.verdict_reason = d.PartStatus.INSPECTED, verdict, cmd.reason
    part.inspected_by, part.inspected_at = ctx.who, ctx.now
    record = await _owned(session, RepairRecordRow, part.record_id, None, "维修记录", lock=True)
    if verdict in d.STORE_OF:
        session.add(
            StockEntryRow(
                store=d.STORE_OF[verdict],
                part_id=part.id,
                dealer_id=part.dealer_id,
                part_no=part.part_no,
                name=part.name,
                quantity=part.quantity,
                record_no=record.record_no,
                entered_at=ctx.now,
                entered_by=ctx.who,
            )
        )
    await session.flush()
    status, reason = d.claim_after_inspection(
        [
            (p.name, d.Verdict(p.verdict) if p.verdict else None, p.verdict_reason)
            for p in record.parts
            if p.status != d.PartStatus.NOT_OWED
        ]
    )
    if status != record.claim_status and record.claim_status == d.ClaimStatus.AWAITING_RETURN:
        record.claim_status, record.claim_reason, record.claim_decided_at = (
            status,
            reason,
            (ctx.now if status != d.ClaimStatus.AWAITING_RETURN else None),
        )
    await _audit(
        session,
        ctx,
        part.dealer_id,
        "part",
        str(part.id),
        "inspected",
        verdict=verdict,
        reason=cmd.reason,
        claim_status=record.claim_status,
    )
    return record


async def list_stock(
    session: AsyncSession,
    scope: str | None,
    *,
    store: str | None,
    dealer_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[StockEntryRow], int]:
    q = _scoped(select(StockEntryRow), StockEntryRow, scope)
    if store:
        q = q.where(StockEntryRow.store == store)
    if dealer_id:
        q = q.where(StockEntryRow.dealer_id == dealer_id)
    return await _page(session, q, [StockEntryRow.id.desc()], limit, offset)


async def fire_return_due(session: AsyncSession, payload: dict[str, Any], now: datetime) -> None:
    """Parts still at the dealer after their return date: overdue, and the claims stay unpaid."""
    dealer_id, due = payload["dealer_id"], date.fromisoformat(payload["due"])
    parts = (
        await session.scalars(
            select(RepairPartRow).where(
                RepairPartRow.dealer_id == dealer_id,
                RepairPartRow.status == d.PartStatus.OWED,
                RepairPartRow.return_due == due,
            )
        )
    ).all()
    if not parts:
        return
    record_ids = sorted({p.record_id for p in parts})
    for p in parts:
        p.status = d.PartStatus.OVERDUE
    await _measure(
        session, dealer_id, LATE_RETURN, due.isoformat(), now, detail=f"{len(parts)} part line(s)"
    )
    await enqueue(
        session,
        Envelope(
            data=PartsReturnOverdueV1(
                dealer_id=dealer_id,
                due_date=due,
                repair_record_ids=record_ids,
                parts=sum(p.quantity for p in parts),
            ),
            subject=dealer_id,
        ),
    )
    await _audit(
        session,
        None,
        dealer_id,
        "parts_return",
        due.isoformat(),
        "overdue",
        at=now,
        records=record_ids,
    )


# ------------------------------------------------------------------ reconciliation
async def issue_notice(session: AsyncSession, cmd: NoticeIn, ctx: Ctx) -> DeductionNoticeRow:
    """Finance collects the dealer's approved, unpaid claims decided in the period into one notice."""
    d.check_period(cmd.period_start, cmd.period_end)
    dealer = await _owned(session, DealerRow, cmd.dealer_id, ctx.scope, "经销商")
    claims = (
        await session.scalars(
            select(RepairRecordRow)
            .where(
                RepairRecordRow.dealer_id == dealer.dealer_id,
                RepairRecordRow.claim_status == d.ClaimStatus.APPROVED,
                RepairRecordRow.open_notice_id.is_(None),
                RepairRecordRow.claim_decided_at >= d.start_of_local_day(cmd.period_start, ctx.tz),
                RepairRecordRow.claim_decided_at < d.end_of_local_day(cmd.period_end, ctx.tz),
            )
            .order_by(RepairRecordRow.claim_decided_at)
            .with_for_update()
        )
    ).all()
    if not claims:
        raise DomainError(
            f"经销商{dealer.dealer_id}在{cmd.period_start}至{cmd.period_end}没有待核销的已审核索赔 "
            "(no approved, unpaid claims in this period)"
        )
    seq = (
        await session.scalar(
            select(func.count()).where(DeductionNoticeRow.dealer_id == dealer.dealer_id)
        )
        or 0
    ) + 1
    notice = DeductionNoticeRow(
        id=str(uuid.uuid4()),
        notice_no=f"HX-{dealer.dealer_id}-{cmd.period_end:%Y%m}-{seq:03d}",
        dealer_id=dealer.dealer_id,
        period_start=cmd.period_start,
        period_end=cmd.period_end,
        status=d.NoticeStatus.ISSUED,
        total=d.total(c.claim_amount for c in claims),
        issued_at=ctx.now,
        issued_by=ctx.who,
        lines=[
            DeductionLineRow(
                record_id=c.id,
                record_no=c.record_no,
                serial_no=c.serial_no,
                amount=c.claim_amount,
                decision=d.LineDecision.PENDING,
            )
            for c in claims
        ],
    )
    session.add(notice)
    for c in claims:
        c.open_notice_id = notice.id
    await _flush(session, "核销通知编号冲突，请重试 (notice number taken concurrently: retry)")
    await _audit(
        session,
        ctx,
        dealer.dealer_id,
        "notice",
        notice.id,
        "issued",
        total=notice.total,
        lines=len(claims),
    )
    return notice


async def get_notice(
    session: AsyncSession, notice_id: str, scope: str | None, lock: bool = False
) -> DeductionNoticeRow:
    return await _owned(session, DeductionNoticeRow, notice_id, scope, "核销通知", lock=lock)


async def answer_line(
    session: AsyncSession, notice_id: str, line_id: int, cmd: LineAnswerIn, ctx: Ctx
) -> DeductionNoticeRow:
    notice = await get_notice(session, notice_id, ctx.scope, lock=True)
    d.check_open(d.NoticeStatus(notice.status), notice.notice_no)
    decision = d.LineDecision(cmd.decision)
    d.check_dispute_reason(decision, cmd.reason)
    line = next((ln for ln in notice.lines if ln.id == line_id), None)
    if line is None:
        raise _not_found("核销明细", line_id)
    line.decision, line.dispute_reason = (
        decision,
        cmd.reason if decision is d.LineDecision.DISPUTED else None,
    )
    line.answered_by, line.answered_at = ctx.who, ctx.now
    await _audit(
        session,
        ctx,
        notice.dealer_id,
        "notice",
        notice.id,
        "line_answered",
        line=line_id,
        decision=decision,
        reason=cmd.reason,
    )
    return notice


async def confirm_notice(session: AsyncSession, notice_id: str, ctx: Ctx) -> DeductionNoticeRow:
    """The dealer's confirmation: confirmed lines are paid exactly once and DeductionIssued leaves the outbox."""
    notice = await get_notice(session, notice_id, ctx.scope, lock=True)
    result = d.settle(
        notice.notice_no,
        d.NoticeStatus(notice.status),
        [(d.LineDecision(ln.decision), ln.amount) for ln in notice.lines],
    )
    records = {
        r.id: r
        for r in (
            await session.scalars(
                select(RepairRecordRow)
                .where(RepairRecordRow.id.in_([ln.record_id for ln in notice.lines]))
                .with_for_update()
            )
        ).all()
    }
    for ln in notice.lines:
        record = records[ln.record_id]
        record.open_notice_id = None
        if ln.decision == d.LineDecision.CONFIRMED:
            session.add(
                ClaimPaymentRow(
                    record_id=ln.record_id,
                    notice_id=notice.id,
                    dealer_id=notice.dealer_id,
                    amount=ln.amount,
                    paid_at=ctx.now,
                )
            )
            record.claim_status = d.ClaimStatus.PAID
    notice.status, notice.confirmed_amount = result.status, result.amount
    notice.confirmed_at, notice.confirmed_by = ctx.now, ctx.who
    await _flush(session, "索赔已在其他核销通知中支付 (a claim on this notice was paid already)")
    if result.status is d.NoticeStatus.CONFIRMED:
        await enqueue(
            session,
            Envelope(
                data=DeductionIssuedV1(
                    notice_id=notice.id,
                    notice_no=notice.notice_no,
                    dealer_id=notice.dealer_id,
                    period_start=notice.period_start,
                    period_end=notice.period_end,
                    amount=result.amount,
                    confirmed_at=ctx.now,
                    lines=result.confirmed_lines,
                ),
                subject=notice.notice_no,
            ),
        )
    await _audit(
        session,
        ctx,
        notice.dealer_id,
        "notice",
        notice.id,
        result.status,
        amount=result.amount,
        confirmed=result.confirmed_lines,
        disputed=result.disputed_lines,
    )
    return notice


async def list_notices(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[DeductionNoticeRow], int]:
    q = _scoped(select(DeductionNoticeRow), DeductionNoticeRow, scope)
    if dealer_id:
        q = q.where(DeductionNoticeRow.dealer_id == dealer_id)
    if status:
        q = q.where(DeductionNoticeRow.status == status)
    return await _page(session, q, [DeductionNoticeRow.issued_at.desc()], limit, offset)


# ------------------------------------------------------------------ stocking plans
async def create_season(session: AsyncSession, cmd: SeasonIn, ctx: Ctx) -> SeasonRow:
    if await session.get(SeasonRow, cmd.code):
        raise Conflict(f"销售季{cmd.code}已存在 (season already exists)")
    due = d.stock_plan_due(cmd.starts_on)
    if due < ctx.today:
        raise DomainError(
            f"备件计划截止日{due}已过，请设置更晚的销售季 (the plan deadline {due} is already past)"
        )
    row = SeasonRow(
        code=cmd.code,
        name=cmd.name,
        starts_on=cmd.starts_on,
        plan_due=due,
        created_by=ctx.who,
        created_at=ctx.now,
    )
    session.add(row)
    await _flush(session, f"销售季{cmd.code}已存在 (season already exists)")
    await schedule(
        session, PLAN_DUE, row.code, d.end_of_local_day(due, ctx.tz), {"season": row.code}
    )
    await _audit(
        session, ctx, None, "season", row.code, "created", starts_on=cmd.starts_on, plan_due=due
    )
    return row


async def list_seasons(
    session: AsyncSession, limit: int, offset: int
) -> tuple[list[SeasonRow], int]:
    return await _page(session, select(SeasonRow), [SeasonRow.starts_on.desc()], limit, offset)


async def submit_plan(session: AsyncSession, cmd: PlanIn, ctx: Ctx) -> StockingPlanRow:
    dealer = await _dealer(session, ctx, cmd.dealer_id)
    season = await session.get(SeasonRow, cmd.season_code)
    if season is None:
        raise _not_found("销售季", cmd.season_code)
    if await session.scalar(
        select(StockingPlanRow.id).where(
            StockingPlanRow.dealer_id == dealer.dealer_id,
            StockingPlanRow.season_code == season.code,
        )
    ):
        raise Conflict(
            f"经销商{dealer.dealer_id}已提交{season.code}备件计划 (plan already submitted for this season)"
        )
    on_time = ctx.today <= season.plan_due
    row = StockingPlanRow(
        id=str(uuid.uuid4()),
        dealer_id=dealer.dealer_id,
        season_code=season.code,
        lines=[ln.model_dump() for ln in cmd.lines],
        submitted_at=ctx.now,
        submitted_by=ctx.who,
        due=season.plan_due,
        on_time=on_time,
    )
    session.add(row)
    await _flush(
        session,
        f"经销商{dealer.dealer_id}已提交{season.code}备件计划 (plan already submitted for this season)",
    )
    if not on_time:
        await _measure(
            session, dealer.dealer_id, MISSING_PLAN, season.code, ctx.now, detail="submitted late"
        )
    await _audit(
        session, ctx, dealer.dealer_id, "stocking_plan", row.id, "submitted", on_time=on_time
    )
    return row


async def list_plans(
    session: AsyncSession,
    scope: str | None,
    *,
    dealer_id: str | None,
    season_code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[StockingPlanRow], int]:
    q = _scoped(select(StockingPlanRow), StockingPlanRow, scope)
    if dealer_id:
        q = q.where(StockingPlanRow.dealer_id == dealer_id)
    if season_code:
        q = q.where(StockingPlanRow.season_code == season_code)
    return await _page(session, q, [StockingPlanRow.submitted_at.desc()], limit, offset)


async def get_plan(session: AsyncSession, plan_id: str, scope: str | None) -> StockingPlanRow:
    return await _owned(session, StockingPlanRow, plan_id, scope, "备件计划")


async def fire_plan_due(session: AsyncSession, code: str, now: datetime) -> None:
    """Every dealer under agreement for the season without a plan gets the miss recorded against it."""
    season = await session.get(SeasonRow, code)
    if season is None:
        return
    submitted = select(StockingPlanRow.dealer_id).where(StockingPlanRow.season_code == code)
    missing = (
        await session.scalars(
            select(DealerRow).where(
                and_(
                    DealerRow.agreement_start <= season.starts_on,
                    DealerRow.agreement_end >= season.starts_on,
                ),
                DealerRow.dealer_id.not_in(submitted),
            )
        )
    ).all()
    for dealer in missing:
        await _measure(
            session, dealer.dealer_id, MISSING_PLAN, code, now, detail="no plan by the due date"
        )
        await enqueue(
            session,
            Envelope(
                data=StockingPlanMissedV1(
                    dealer_id=dealer.dealer_id,
                    season_code=code,
                    season_starts=season.starts_on,
                    due_date=season.plan_due,
                ),
                subject=dealer.dealer_id,
            ),
        )
        await _audit(session, None, dealer.dealer_id, "stocking_plan", code, "missed", at=now)


# ------------------------------------------------------------------ measured service from other services' events
async def record_ticket_opened(session: AsyncSession, data: TicketOpenedV1) -> None:
    if data.dealer_id:
        await _measure(
            session, data.dealer_id, TICKET, data.ticket_id, data.opened_at, detail=data.ticket_no
        )


async def record_sla_breach(session: AsyncSession, data: SlaBreachedV1) -> None:
    if data.dealer_id:
        await _measure(
            session,
            data.dealer_id,
            SLA_BREACH,
            f"{data.ticket_id}:{data.clock}:{data.escalation_level}",
            data.breached_at,
            detail=data.ticket_no,
        )


async def record_completion(session: AsyncSession, data: ServiceCompletedV1) -> None:
    if data.dealer_id:
        await _measure(
            session,
            data.dealer_id,
            COMPLETION,
            data.ticket_id,
            data.completed_at,
            detail=data.ticket_no,
        )


async def record_survey(session: AsyncSession, data: SurveyAnsweredV1) -> None:
    if data.dealer_id:
        await _measure(
            session,
            data.dealer_id,
            SURVEY,
            data.survey_id,
            data.answered_at,
            score=d.survey_score(data.efficiency, data.attitude, data.professionalism),
            detail=data.ticket_no,
        )


# ------------------------------------------------------------------ audit trail
async def list_audit(
    session: AsyncSession,
    scope: str | None,
    *,
    entity: str | None,
    entity_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditRow], int]:
    q = select(AuditRow)
    if scope is not None:
        q = q.where(AuditRow.dealer_id == scope)
    if entity:
        q = q.where(AuditRow.entity == entity)
    if entity_id:
        q = q.where(AuditRow.entity_id == entity_id)
    return await _page(session, q, [AuditRow.id.desc()], limit, offset)
