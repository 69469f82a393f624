"""The demo's past: what happened over the last weeks and months, written by the services' own use
cases at the moments it happened (time is an input to every use case), into the running services'
databases. The deadlines those moments armed are already due, so the services' schedulers fire
them at once and every kind of overdue event reaches a person within seconds of `./dev up`:

contracts  DEMO-HT-2026-004, signed 20 days ago and never archived (ContractArchiveOverdue); its
           order shipped and was received 14 days ago with an objection nobody answered
           (ObjectionAnswerOverdue) and no installation booked (InstallationBookingOverdue);
           DEMO-HT-2026-005, installed and its customer trained 10 days ago, nobody called after
           (TrainingFollowUpOverdue).
tickets    a 特急 repair completed 11 days ago with its cause left to analysis
           (CauseAnalysisOverdue), a corrective action on it past due (CorrectiveActionOverdue);
           surveys plans its return visit, already past due (ReturnVisitOverdue).
dealers    a unit sold 220 days ago with its card in time; a warranty repair 205 days ago whose
           replaced part was never sent back (PartsReturnOverdue); a warranty request 14 days ago
           nobody arranged (WarrantyServiceOverdue); a selling season whose stocking plans were
           due 10 days ago (StockingPlanMissed).

Each history is one transaction (the services' schedulers see it whole) and is skipped when its
records exist. The services are imported here only, lazily: the launcher itself needs none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aftersales_shared.auth import Principal, Role
from aftersales_shared.db import create_engine, session_factory

from .demo import DEMO_DEALER, _with_check

if TYPE_CHECKING:
    from .launcher import Launcher

CONTRACT_NO = "DEMO-HT-2026-004"
TRAINED_NO = "DEMO-HT-2026-005"
ARCHIVE_ITEMS = ("original", "customer_credentials", "requirement_form", "review_form")
RETURN_SERIAL = "DEMO-SN-PART-LATE"
SEASON = "DEMO-STOCK-NEXT"


def _moments(tz: ZoneInfo, today: date) -> Callable[[int, int, int], datetime]:
    def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), time(hour, minute), tz)

    return at


def _who(subject: str, role: Role, **kw: str) -> Principal:
    return Principal(subject=subject, roles=frozenset({role}), **kw)


async def _signed_order(
    s: Any, settings: Any, today: date, no: str, customer: dict[str, Any], signed_days_ago: int
) -> Any:
    """A contract drafted, reviewed and signed `signed_days_ago` days ago (at 15:00) and its order
    entered and shipped the days after (the delivery notice sent); returns the order."""
    from contracts.domain import ReviewPart, Signature
    from contracts.http.contracts import new_draft
    from contracts.schemas.contracts import ContractDraftIn
    from contracts.usecases import drafting, orders, review, shipping, signing

    tz = ZoneInfo(settings.business_timezone)
    at, office, d = _moments(tz, today), settings.office_calendar, signed_days_ago
    sales, delivery = _who("demo-sales", Role.SALES), _who("demo-delivery", Role.DELIVERY)
    draft = ContractDraftIn.model_validate(
        {
            "contract_no": no,
            "customer": customer,
            "products": [
                {
                    "model": "XK-200 数控机床",
                    "serial_no": f"{no}-SN1",
                    "warranty_end": str(today + timedelta(days=730)),
                },
            ],
        }
    )
    await drafting.create_draft(s, new_draft(draft), sales, at(d + 1, 9, 30), tz=tz)
    await review.submit_for_review(s, no, sales, at(d + 1, 9, 40))
    row = None
    parts = (ReviewPart.LEGAL, ReviewPart.FINANCE, ReviewPart.DELIVERY)
    for minute, part in zip((0, 10, 20), parts):
        who = _who(f"demo-{part.value}", Role(part.value))
        decision = review.ReviewDecision(approved=True, comments="演示：同意")
        row = await review.sign_off(s, no, part, decision, who, at(d + 1, 10, minute))
    assert row is not None
    signed = at(d, 15)
    signer = customer["contacts"][0]["name"]
    signatures = [
        Signature(party="company", signer="销售经理 李明", signed_at=signed, method="seal"),
        Signature(party="customer", signer=signer, signed_at=signed, method="e_signature"),
    ]
    await signing.sign_contract(
        s,
        no,
        signing.Signing(document_sha256=row.document_sha256, signatures=signatures),
        sales,
        signed,
        tz=tz,
        office_calendar=office,
    )
    place = orders.NewOrder(contract_no=no, delivery_place=f"{customer['name']} 厂区二号门")
    order = await orders.create_order(s, place, delivery, at(d - 1, 10), office_calendar=office)
    shipment = shipping.Shipping(ships_at=at(d - 4, 9))
    await shipping.schedule_shipping(s, order.order_no, shipment, delivery, at(d - 1, 10, 30))
    await shipping.send_delivery_notice(s, order.order_no, at(d - 3, 9))
    return order


def _customer(cid: str, name: str, code17: str, contact: str, phone: str) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "name": name,
        "credit_code": _with_check(code17),
        "contacts": [{"name": contact, "phone": phone}],
    }


async def contract_history(url: str, settings: Any, today: date) -> bool:
    """DEMO-HT-2026-004: signed 20 days ago and never archived, received 14 days ago with an
    objection nobody answered and no installation booked. DEMO-HT-2026-005: signed 30 days ago,
    installed, trained 10 days ago and nobody called the customer after. False when they exist."""
    from sqlalchemy import select

    from contracts.domain import ArchiveItem
    from contracts.models import ContractRow
    from contracts.usecases import archiving, installation, receipt, training

    tz = ZoneInfo(settings.business_timezone)
    at, office = _moments(tz, today), settings.office_calendar
    sales, delivery = _who("demo-sales", Role.SALES), _who("demo-delivery", Role.DELIVERY)
    engineer = _who("eng-zhang", Role.ENGINEER)
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as s:
            exists = await s.scalar(
                select(ContractRow.id).where(ContractRow.contract_no == CONTRACT_NO).limit(1)
            )
            if exists:
                return False
            customer = _customer(
                "C-004", "绍兴精诚纺织机械有限公司", "91330600000000004", "沈立", "13500135004"
            )
            order = await _signed_order(s, settings, today, CONTRACT_NO, customer, 20)
            received = at(14, 15)
            goods = receipt.Receipt(
                received_at=received,
                signed_by="沈立",
                quantity_ok=True,
                model_ok=True,
                appearance_ok=False,
                objections=["机床防护罩有两处划痕，要求更换"],
            )
            await receipt.record_receipt(
                s, order.order_no, goods, delivery, received, office_calendar=office
            )

            customer = _customer(
                "C-005", "嘉兴华达纺织有限公司", "91330400000000005", "陆敏", "13500135005"
            )
            order = await _signed_order(s, settings, today, TRAINED_NO, customer, 30)
            items = [ArchiveItem(i) for i in ARCHIVE_ITEMS]
            filing = archiving.Filing(items=items, location="档案室A-12")
            await archiving.archive_contract(s, TRAINED_NO, filing, sales, at(29, 11))
            received = at(26, 15)
            goods = receipt.Receipt(
                received_at=received,
                signed_by="陆敏",
                quantity_ok=True,
                model_ok=True,
                appearance_ok=True,
            )
            await receipt.record_receipt(
                s, order.order_no, goods, delivery, received, office_calendar=office
            )
            booking = installation.Booking(scheduled_for=at(21, 9), engineer="张工")
            await installation.book_installation(s, order.order_no, booking, engineer, at(25, 10))
            accepted = installation.Acceptance(
                accepted_on=at(21, 17).date(),
                equipment_state="运行正常",
                customer_remarks="满意",
                accepted_by="陆敏",
            )
            await installation.accept_installation(
                s, order.order_no, accepted, engineer, at(21, 17), tz=tz
            )
            session_ = training.Training(
                held_at=at(10, 14),
                trainer="张工",
                topics=["日常操作", "换刀程序", "保养"],
                attendees=[{"name": "小陆", "role": "操作工"}, {"name": "小华", "role": "设备员"}],
            )
            await training.record_training(
                s, order.order_no, session_, engineer, at(10, 17), office_calendar=office
            )
        return True
    finally:
        await engine.dispose()


async def dealer_history(url: str, settings: Any, today: date, dealer_id: str) -> bool:
    """A late part return, an unarranged warranty request and a missed stocking plan of the demo
    dealer; False when they exist."""
    from dealers.models import SoldUnitRow
    from dealers.usecases import cards, repairs, stocking, units
    from dealers.usecases.common import Ctx

    tz = ZoneInfo(settings.business_timezone)
    at = _moments(tz, today)
    seller = _who("demo-dealer", Role.DEALER, dealer_id=dealer_id)
    staff = _who("demo-manager", Role.MANAGER)

    def ctx(moment: datetime, actor: Principal = seller) -> Ctx:
        return Ctx(actor=actor, now=moment, cfg=settings)

    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as s:
            if await s.get(SoldUnitRow, RETURN_SERIAL) is not None:
                return False
            sold = at(220, 10)
            sale = units.Sale(
                source=units.SaleSource.DEALER,
                dealer_id=dealer_id,
                sale_date=sold.date(),
                customer_name="温州东方阀门有限公司",
                items=(
                    units.SoldItem(
                        RETURN_SERIAL, "XK-200 数控机床", today + timedelta(days=365 * 2)
                    ),
                ),
            )
            await units.register_sale(s, sale, sold, settings, seller)
            card = cards.NewCard(
                serial_no=RETURN_SERIAL,
                customer_name="温州东方阀门有限公司",
                customer_phone="13600136005",
            )
            await cards.register_card(s, card, ctx(at(215, 11)))
            # a warranty repair 205 days ago: its replaced pump went back to nobody
            asked = at(205, 9)
            record = await repairs.open_repair(
                s,
                repairs.RepairRequest(
                    serial_no=RETURN_SERIAL,
                    kind=repairs.d.RepairKind.WARRANTY,
                    fault_description="主轴润滑泵不出油",
                ),
                ctx(asked),
            )
            arranged = asked + timedelta(minutes=40)
            plan = repairs.Arrangement(
                engineer="刘工",
                appointment_at=asked + timedelta(hours=5),
                user_informed=True,
                reported_to_technical=True,
            )
            await repairs.arrange_repair(s, record.id, plan, ctx(arranged))
            done = asked + timedelta(hours=7)
            pump = repairs.UsedPart("P-LUB-01", "润滑泵", 1, Decimal("380.00"))
            completion = repairs.Completion(
                repair_description="更换润滑泵，试机正常",
                parts=(pump,),
                labour_fee=Decimal("200.00"),
                travel_fee=Decimal("80.00"),
                confirmation=repairs.UserConfirmation("温州东方 设备科 周工", done, "signature"),
            )
            await repairs.complete_repair(s, record.id, completion, ctx(done))
            # a warranty request 14 days ago: nobody arranged the service
            request = repairs.RepairRequest(
                serial_no=RETURN_SERIAL,
                kind=repairs.d.RepairKind.WARRANTY,
                fault_description="液压站压力不稳，加工尺寸超差",
            )
            await repairs.open_repair(s, request, ctx(at(14, 10)))
            # the next selling season: its stocking plans were due 10 days ago, none came
            season = stocking.NewSeason(
                code=SEASON, name="演示：下一销售季", starts_on=today + timedelta(days=20)
            )
            await stocking.create_season(s, season, ctx(at(40, 9), staff))
        return True
    finally:
        await engine.dispose()


TICKET_TEXT = "演示：主轴箱异响，停机检查"


async def ticket_history(url: str, settings: Any, today: date) -> bool:
    """A 特急 repair opened 12 days ago, completed 11 days ago with its cause left to the technical
    department (nobody analysed it: CauseAnalysisOverdue), a corrective action on it due 5 working
    days ago and not done (CorrectiveActionOverdue); its completion (ServiceCompleted) makes
    surveys plan a return visit already past due (ReturnVisitOverdue). False when it exists."""
    from sqlalchemy import select

    from aftersales_shared.events import Contact, Urgency
    from tickets.domain import Department, FaultReport, RequestType
    from tickets.models import TicketRow
    from tickets.usecases import completion, corrective, dispatch, engineers
    from tickets.usecases.intake import TicketRequest, open_ticket

    at = _moments(ZoneInfo(settings.business_timezone), today)
    boss = _who("sup-zhang", Role.SERVICE_SUPERVISOR)
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as s:
            if await s.scalar(select(TicketRow.id).where(TicketRow.description == TICKET_TEXT)):
                return False
            req = TicketRequest(
                channel="phone",
                request_type=RequestType.QUALITY_ISSUE,
                urgency=Urgency.CRITICAL,
                description=TICKET_TEXT,
                customer_name="温州东方阀门有限公司",
                contact=Contact(name="周工", phone="13600136005"),
                customer_id="C-WZ-01",
                product_model="XK-200 数控机床",
                use_default_policy=True,
            )
            ticket = await open_ticket(s, req, "demo-agent", at(12, 9), settings)
            await engineers.seed(s, settings.engineers, at(12, 9))  # before the service starts
            crew = dispatch.Assignment(assignee_id="eng-zhang", assignee_name="张工")
            await dispatch.assign(s, ticket.ticket_no, crew, boss, at(12, 9, 10), settings)
            done = at(11, 16)
            confirmation = completion.Confirmation(
                document="repair_sheet",
                confirmed_by="周工",
                confirmed_at=done,
                method="signature",
                fault=FaultReport(symptom="NOISE", needs_analysis=True),
            )
            await completion.complete(s, ticket.ticket_no, confirmation, boss, done, settings)
            action = corrective.NewAction(
                kind="corrective",
                title="主轴箱装配工艺复查",
                owner_department=Department.TECHNICAL,
                description="同批次主轴箱装配扭矩复核，更新作业指导书",
                ticket_nos=(ticket.ticket_no,),
                due_working_days=3,
            )
            await corrective.create_action(s, action, boss, at(11, 17))
        return True
    finally:
        await engine.dispose()


async def load_history(launcher: Launcher, today: date) -> list[str]:
    """Write each service's history once; say which were written."""
    from .catalog import SERVICES

    written = []
    for index, info in enumerate(SERVICES):
        if info.name not in ("contracts", "dealers", "tickets"):
            continue
        url = launcher.service_env(info, index)[f"{info.env_prefix}DATABASE_URL"]
        settings = info.settings_class()()
        if info.name == "contracts" and await contract_history(url, settings, today):
            written.append(f"contract {CONTRACT_NO} signed 20 days ago, received 14 days ago")
            written.append(f"contract {TRAINED_NO} installed, its customer trained 10 days ago")
        if info.name == "tickets" and await ticket_history(url, settings, today):
            written.append("a 特急 repair completed 11 days ago, its cause left to analysis")
        if info.name == "dealers" and await dealer_history(
            url, settings, today, DEMO_DEALER["dealer_id"]
        ):
            written.append(f"dealer {DEMO_DEALER['dealer_id']}'s repairs and a stocking season")
    return written
