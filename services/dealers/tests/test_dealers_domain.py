"""三包 rules without database or broker."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aftersales_shared.errors import Conflict, DomainError
from dealers import domain as d
from dealers.usecases.units import Sale, SaleSource, SoldItem, check_sale

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("day", "recognised"), [(0, True), (19, True), (20, True), (21, False), (90, False)]
)
def test_card_is_recognised_up_to_day_20(day, recognised):
    sale = date(2026, 11, 1)
    out = d.card_outcome(sale, date.fromordinal(sale.toordinal() + day))
    assert (out.day, out.on_time, out.warranty_recognised) == (day, recognised, recognised)
    assert (out.reason is None) == recognised


def test_card_deadlines_in_local_time():
    sale = date(2026, 11, 1)
    assert d.card_due_date(sale) == date(2026, 11, 21)
    assert d.card_overdue_at(sale, TZ) == datetime(2026, 11, 22, tzinfo=TZ)
    assert d.card_reminder_at(sale, 3, TZ) == datetime(2026, 11, 18, 9, tzinfo=TZ)
    with pytest.raises(DomainError):
        d.card_outcome(sale, date(2026, 10, 31))


def test_warranty_repair_needs_a_recognised_card_within_warranty():
    ok = d.UnitWarranty("S1", date(2027, 1, 1), True, True)
    d.check_warranty_repair(ok, date(2027, 1, 1))
    with pytest.raises(DomainError, match="过保"):
        d.check_warranty_repair(ok, date(2027, 1, 2))
    with pytest.raises(DomainError, match="尚未登记"):
        d.check_warranty_repair(d.UnitWarranty("S1", None, False, False), date(2026, 1, 1))
    with pytest.raises(DomainError, match="不予认可"):
        d.check_warranty_repair(d.UnitWarranty("S1", None, True, False, "late"), date(2026, 1, 1))


def test_charges_are_exact_decimals():
    parts = [(3, Decimal("0.10")), (7, Decimal("33.33"))]
    w = d.repair_charges(d.RepairKind.WARRANTY, parts, Decimal("0.05"), Decimal("10"))
    assert (
        w.parts_cost == Decimal("233.61")
        and w.claim_amount == Decimal("243.66")
        and w.customer_charge == 0
    )
    p = d.repair_charges(d.RepairKind.PAID, parts, Decimal("100.00"), Decimal("20.50"))
    assert p.claim_amount == 0 and p.customer_charge == Decimal("120.50")
    with pytest.raises(DomainError):
        d.money(Decimal("1.005"))
    with pytest.raises(DomainError):
        d.money(Decimal("-1"))
    assert d.total([Decimal("0.10")] * 3) == Decimal("0.30")


def test_parts_return_by_next_fixed_date_or_earlier_truck():
    fixed = d.parse_return_dates(["12-31", "06-30"])
    assert d.return_due_date(date(2026, 3, 5), fixed) == date(2026, 6, 30)
    assert d.return_due_date(date(2026, 6, 30), fixed) == date(2026, 12, 31)
    assert d.return_due_date(date(2026, 12, 31), fixed) == date(2027, 6, 30)
    assert d.return_due_date(date(2026, 3, 5), fixed, [date(2026, 3, 1), date(2026, 4, 2)]) == date(
        2026, 4, 2
    )
    assert d.return_due_date(date(2027, 1, 5), d.parse_return_dates(["02-29"])) == date(2027, 2, 28)
    with pytest.raises(ValueError):
        d.parse_return_dates(["13-01"])


def test_claim_decided_by_inspection():
    assert (
        d.claim_after_inspection([("a", d.Verdict.REUSABLE, None), ("b", None, None)])[0]
        is d.ClaimStatus.AWAITING_RETURN
    )
    assert d.claim_after_inspection(
        [("a", d.Verdict.REUSABLE, None), ("b", d.Verdict.SCRAP, None)]
    ) == (d.ClaimStatus.APPROVED, None)
    status, reason = d.claim_after_inspection(
        [("a", d.Verdict.NOT_WARRANTY_FAULT, "进水"), ("b", None, None)]
    )
    assert status is d.ClaimStatus.REJECTED and "a: 进水" in reason
    with pytest.raises(DomainError):
        d.check_verdict(d.Verdict.NOT_WARRANTY_FAULT, " ")


def test_settlement_adds_confirmed_lines_and_refuses_a_second_confirmation():
    C, D, P = d.LineDecision.CONFIRMED, d.LineDecision.DISPUTED, d.LineDecision.PENDING
    s = d.settle(
        "N", d.NoticeStatus.ISSUED, [(C, Decimal("0.10")), (C, Decimal("0.20")), (D, Decimal("5"))]
    )
    assert (s.status, s.amount, s.confirmed_lines, s.disputed_lines) == (
        d.NoticeStatus.CONFIRMED,
        Decimal("0.30"),
        2,
        1,
    )
    assert (
        d.settle("N", d.NoticeStatus.ISSUED, [(D, Decimal("1"))]).status is d.NoticeStatus.DISPUTED
    )
    with pytest.raises(DomainError):
        d.settle("N", d.NoticeStatus.ISSUED, [(C, Decimal("1")), (P, Decimal("1"))])
    with pytest.raises(Conflict):
        d.settle("N", d.NoticeStatus.CONFIRMED, [(C, Decimal("1"))])


def test_demotion_rules():
    rules = d.DemotionRules()
    assert (
        d.demotion_reasons(d.Measures(late_cards=2, surveys=10, mean_score=Decimal("3.50")), rules)
        == []
    )
    reasons = d.demotion_reasons(
        d.Measures(late_cards=3, sla_breaches=6, surveys=5, mean_score=Decimal("3.2")), rules
    )
    assert len(reasons) == 3 and any("late warranty cards" in r for r in reasons)
    assert (
        d.demotion_reasons(d.Measures(surveys=4, mean_score=Decimal("1")), rules) == []
    )  # too few answers
    assert [d.demoted(g) for g in "ABCD"] == ["B", "C", "D", "D"]
    assert d.stock_plan_due(date(2027, 3, 1)) == date(2027, 1, 30)
    assert d.survey_score(5, 4, 4) == Decimal("4.33")


def test_a_dealers_registration_is_date_checked_a_contracts_is_taken_as_signed():
    """One use case for both transports (units.register_sale); the date rule differs by source."""
    today = date(2026, 11, 20)
    for sale_date, warranty_end, problem in (
        (date(2026, 11, 21), None, "sale date cannot be in the future"),
        (date(2026, 11, 1), date(2026, 10, 31), "warranty end before the sale"),
    ):
        with pytest.raises(DomainError, match=problem):
            d.check_sale_dates(sale_date, warranty_end, today)
        items = (SoldItem("S1", "XK-200", warranty_end),)
        with pytest.raises(DomainError, match=problem):
            check_sale(Sale(SaleSource.DEALER, "D1", sale_date, "某", items), today)
        check_sale(Sale(SaleSource.CONTRACT, "D1", sale_date, "某", items, "HT-1"), today)
    d.check_sale_dates(today, today, today)
