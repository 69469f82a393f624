"""Contract rules without a database or broker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aftersales_shared.errors import Conflict, DomainError, Forbidden
from aftersales_shared.workcalendar import WorkCalendar
from contracts.domain import (
    ARCHIVE_WORKING_DAYS,
    ArchiveItem,
    Contract,
    ContractStatus,
    Instalment,
    InvalidCreditCode,
    LeadGrade,
    Party,
    QuoteLine,
    QuoteStatus,
    ReviewPart,
    ServiceLevel,
    Signature,
    SignMethod,
    Urgency,
    check_installation_date,
    check_received_after_shipping,
    check_terms,
    decide_quote,
    delivery_notice_at,
    document_hash,
    ensure_contract_orderable,
    ensure_quote_usable,
    lead_follow_up_by,
    price_quote,
    service_levels_with_overrides,
    service_term,
    validate_credit_code,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_credit_code_check_character():
    assert (
        validate_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    )  # GB 32100-2015 example
    assert validate_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"
    with pytest.raises(InvalidCreditCode, match="校验位错误.*应为“3”"):
        validate_credit_code("91350100M000100Y44")
    with pytest.raises(InvalidCreditCode, match="第9位字符“O”"):
        validate_credit_code("91350100O000100Y43")
    with pytest.raises(InvalidCreditCode, match="18位"):
        validate_credit_code("9135010")


def test_service_levels_default_from_the_domain_and_are_overridable():
    levels = {s.urgency: s for s in service_levels_with_overrides([])}
    assert (levels[Urgency.NORMAL].response_minutes, levels[Urgency.NORMAL].resolution_minutes) == (
        1440,
        2880,
    )
    assert (levels[Urgency.URGENT].response_minutes, levels[Urgency.URGENT].onsite_minutes) == (
        120,
        240,
    )
    assert levels[Urgency.CRITICAL].response_minutes == 30
    custom = service_levels_with_overrides([ServiceLevel(Urgency.URGENT, 60, 720)])
    assert {s.urgency: s.response_minutes for s in custom}[Urgency.URGENT] == 60
    with pytest.raises(DomainError, match="exceeds resolution"):
        service_levels_with_overrides([ServiceLevel(Urgency.NORMAL, 600, 60)])
    with pytest.raises(DomainError, match="only one"):
        service_levels_with_overrides(
            [ServiceLevel(Urgency.NORMAL, 1, 2), ServiceLevel(Urgency.NORMAL, 1, 2)]
        )


def _sigs(at: datetime = NOW) -> list[Signature]:
    return [
        Signature(Party.COMPANY, "李", at, SignMethod.SEAL),
        Signature(Party.CUSTOMER, "王", at, SignMethod.E_SIGNATURE),
    ]


def _approved(at: datetime = NOW - timedelta(hours=1)) -> Contract:
    c = Contract("HT-1", ContractStatus.DRAFT, document_sha256="a" * 64)
    c.submit()
    for part in ReviewPart:
        c.sign_off(part, True, f"{part}-1", [part.value], "同意", at)
    return c


def test_signing_needs_both_parties_the_reviewed_hash_and_happens_once():
    c = _approved()
    with pytest.raises(DomainError, match="exactly one signature"):
        c.sign(_sigs()[:1] * 2, "a" * 64, NOW)
    with pytest.raises(DomainError, match="64 lowercase hex"):
        c.sign(_sigs(), "not-a-hash", NOW)
    with pytest.raises(Conflict, match="not the reviewed version"):
        c.sign(_sigs(), "b" * 64, NOW)
    with pytest.raises(DomainError, match="future"):
        c.sign(_sigs(NOW + timedelta(hours=1)), "a" * 64, NOW)
    with pytest.raises(DomainError, match="predate the review approval"):
        c.sign(_sigs(NOW - timedelta(hours=2)), "a" * 64, NOW)
    assert c.status is ContractStatus.APPROVED
    c.sign(_sigs(), "a" * 64, NOW)
    assert c.status is ContractStatus.SIGNED and c.signed_at == NOW
    with pytest.raises(Conflict, match="already signed"):
        c.sign(_sigs(), "a" * 64, NOW)


def test_signing_before_all_sign_offs_is_refused_naming_the_missing_parts():
    c = Contract("HT-2", ContractStatus.DRAFT, document_sha256="a" * 64)
    with pytest.raises(Conflict, match="missing: legal, finance, delivery"):
        c.sign(_sigs(), "a" * 64, NOW)
    c.submit()
    c.sign_off(ReviewPart.LEGAL, True, "l", ["legal"], "", NOW)
    c.sign_off(ReviewPart.FINANCE, True, "f", ["finance"], "", NOW)
    with pytest.raises(Conflict, match="missing: delivery") as exc:
        c.sign(_sigs(), "a" * 64, NOW)
    assert exc.value.extra["missing_sign_offs"] == ["delivery"]


def test_each_department_signs_only_its_own_part_once_per_round():
    c = Contract("HT-3", ContractStatus.DRAFT)
    with pytest.raises(Conflict, match="not in review"):
        c.sign_off(ReviewPart.LEGAL, True, "l", ["legal"], "", NOW)
    c.submit()
    with pytest.raises(Conflict, match="only a draft can be submitted"):
        c.submit()
    with pytest.raises(Forbidden, match="only the legal role"):
        c.sign_off(ReviewPart.LEGAL, True, "f", ["finance"], "", NOW)
    c.sign_off(ReviewPart.LEGAL, True, "l", ["legal"], "", NOW)
    with pytest.raises(Conflict, match="already signed off"):
        c.sign_off(ReviewPart.LEGAL, True, "l", ["legal"], "", NOW)
    c.sign_off(
        ReviewPart.FINANCE, True, "admin", ["admin"], "", NOW
    )  # admin may act for any department
    assert c.status is ContractStatus.IN_REVIEW and c.missing_parts == [ReviewPart.DELIVERY]


def test_rejection_needs_reasons_and_returns_the_draft_with_a_fresh_round():
    c = Contract("HT-4", ContractStatus.DRAFT)
    c.submit()
    c.sign_off(ReviewPart.LEGAL, True, "l", ["legal"], "", NOW)
    with pytest.raises(DomainError, match="must state its reasons"):
        c.sign_off(ReviewPart.FINANCE, False, "f", ["finance"], "  ", NOW)
    c.sign_off(
        ReviewPart.FINANCE, False, "f", ["finance"], "账期过长 (credit period too long)", NOW
    )
    assert c.status is ContractStatus.DRAFT and c.review_round == 1 and c.sign_offs == []
    assert c.missing_parts == list(ReviewPart)


def test_editing_a_reviewed_draft_voids_its_sign_offs_and_signed_is_immutable():
    c = _approved()
    assert c.edit() is True
    assert (
        c.status is ContractStatus.DRAFT
        and c.sign_offs == []
        and c.approved_at is None
        and c.review_round == 1
    )
    assert Contract("HT-5", ContractStatus.DRAFT).edit() is False
    signed = _approved()
    signed.sign(_sigs(), "a" * 64, NOW)
    with pytest.raises(Conflict, match="amendment"):
        signed.edit()


def test_archive_needs_every_item_happens_once_and_reports_on_time():
    c = _approved()
    with pytest.raises(Conflict, match="only a signed contract"):
        c.archive(list(ArchiveItem), NOW)
    c.sign(_sigs(), "a" * 64, NOW)
    c.archive_due_at = NOW + timedelta(days=3)
    with pytest.raises(DomainError, match="review_form"):
        c.archive(
            [ArchiveItem.ORIGINAL, ArchiveItem.CREDENTIALS, ArchiveItem.REQUIREMENT_FORM], NOW
        )
    assert c.archive(list(ArchiveItem), NOW + timedelta(days=3)) is True
    with pytest.raises(Conflict, match="already archived"):
        c.archive(list(ArchiveItem), NOW)
    late = _approved()
    late.sign(_sigs(), "a" * 64, NOW)
    late.archive_due_at = NOW
    assert late.archive(list(ArchiveItem), NOW + timedelta(seconds=1)) is False


def test_archive_due_is_three_working_days_on_the_chinese_calendar():
    cal = WorkCalendar(tz=ZoneInfo("Asia/Shanghai"))
    # signed Wednesday 2026-09-30 before the National Day week: Oct 1–7 off, Oct 10 (Sat) a 调休
    # workday
    signed = datetime(2026, 9, 30, 3, 0, tzinfo=UTC)
    due = cal.add_working_days(signed, ARCHIVE_WORKING_DAYS)
    assert due.astimezone(ZoneInfo("Asia/Shanghai")) == datetime(
        2026, 10, 10, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai")
    )


def test_lead_grades_have_their_horizon():
    assert lead_follow_up_by(LeadGrade.A, date(2026, 11, 25)) == date(2026, 12, 25)
    assert lead_follow_up_by(LeadGrade.B, date(2026, 11, 25)) == date(2027, 2, 23)
    assert lead_follow_up_by(LeadGrade.C, date(2026, 11, 25)) is None


def test_quote_prices_in_decimal_and_instalments_sum_to_exactly_100():
    lines = [
        QuoteLine("XK-200", 3, Decimal("33333.33"), Decimal("5")),
        QuoteLine("SPARE", 1, Decimal("0.10")),
    ]
    insts = [
        Instalment("预付款", Decimal("30"), "签约后7日内"),
        Instalment("到货款", Decimal("70"), "到货验收后"),
    ]
    priced = price_quote(lines, insts, Decimal("10"))
    assert priced.list_total == Decimal("100000.09")
    assert priced.net_total == Decimal(
        "95000.09"
    )  # 99999.99 × 0.95 = 94999.9905 → 94999.99, + 0.10
    assert sum(priced.instalment_amounts) == priced.net_total
    assert priced.instalment_amounts == [Decimal("28500.03"), Decimal("66500.06")]
    assert priced.needs_approval is False
    assert price_quote(
        [QuoteLine("X", 1, Decimal("10"), Decimal("10.01"))], insts, Decimal("10")
    ).needs_approval
    with pytest.raises(DomainError, match="sum to 99.9"):
        price_quote(
            lines,
            [Instalment("a", Decimal("30"), "x"), Instalment("b", Decimal("69.9"), "y")],
            Decimal("10"),
        )
    with pytest.raises(DomainError, match="must not be negative"):
        price_quote([QuoteLine("X", 1, Decimal("-1"))], insts, Decimal("10"))
    with pytest.raises(DomainError, match="quantity must be positive"):
        price_quote([QuoteLine("X", 0, Decimal("1"))], insts, Decimal("10"))


def test_quote_decisions():
    who = {"author": "rep-li", "decider": "mgr-wang"}
    assert decide_quote("pending_approval", "Q1", True, None, **who) is QuoteStatus.APPROVED
    with pytest.raises(DomainError, match="needs a reason"):
        decide_quote("pending_approval", "Q1", False, "", **who)
    with pytest.raises(Conflict):
        decide_quote("approved", "Q1", True, None, **who)


def test_four_eyes_no_one_decides_their_own_quote_or_reviews_their_own_contract():
    with pytest.raises(Conflict, match="four eyes") as err:
        decide_quote("pending_approval", "Q1", True, None, author="mgr-wang", decider="mgr-wang")
    assert err.value.extra["rule"] == "four_eyes"
    with pytest.raises(Conflict, match="four eyes"):  # rejecting one's own quote is a decision too
        decide_quote("pending_approval", "Q1", False, "太低", author="mgr-wang", decider="mgr-wang")
    c = Contract("HT-4E", ContractStatus.IN_REVIEW, authors=frozenset({"rep-li", "drafter-zhou"}))
    for author in ("rep-li", "drafter-zhou"):
        with pytest.raises(Conflict, match="four eyes"):
            c.sign_off(ReviewPart.LEGAL, True, author, ["legal", "admin"], "同意", NOW)
    assert c.sign_offs == [] and c.status is ContractStatus.IN_REVIEW
    c.sign_off(ReviewPart.LEGAL, True, "legal-1", ["legal"], "同意", NOW)
    assert [s.reviewer for s in c.sign_offs] == ["legal-1"]
    with pytest.raises(Conflict, match="expired"):
        ensure_quote_usable("approved", date(2026, 1, 1), "Q1", date(2026, 1, 2))


def test_service_terms_hang_together():
    levels = service_levels_with_overrides(
        [ServiceLevel(Urgency.URGENT, 60, 720, loaner_after_minutes=2880)]
    )
    with pytest.raises(DomainError, match="loaner_promised is false"):
        check_terms({"scope": ["repair"]}, levels)
    check_terms({"scope": ["repair"], "loaner_promised": True}, levels)
    with pytest.raises(DomainError, match="inspections_per_year"):
        check_terms({"scope": ["inspection"]}, [])
    assert service_term(date(2026, 1, 31), 1) == (date(2026, 1, 31), date(2026, 2, 27))
    assert service_term(date(2026, 11, 25), 12) == (date(2026, 11, 25), date(2027, 11, 24))


def test_orders_notice_and_installation_rules():
    with pytest.raises(DomainError, match="at least 24 h ahead"):
        delivery_notice_at(NOW + timedelta(hours=23), NOW)
    assert delivery_notice_at(NOW + timedelta(days=2), NOW) == NOW + timedelta(days=1)
    with pytest.raises(DomainError, match="3 days ahead"):
        check_installation_date(NOW + timedelta(days=2), NOW)
    with pytest.raises(Conflict, match="signed contracts"):
        ensure_contract_orderable("approved", "HT-1")
    # received after shipping; a client clock up to five minutes behind ours is tolerated
    with pytest.raises(DomainError, match="before the goods ship at 2026-11-25 08:00 UTC"):
        check_received_after_shipping(NOW - timedelta(minutes=6), NOW)
    check_received_after_shipping(NOW - timedelta(minutes=5), NOW)
    check_received_after_shipping(NOW + timedelta(days=1), NOW)


def test_document_hash_is_canonical():
    assert document_hash({"a": 1, "b": "乙"}) == document_hash({"b": "乙", "a": 1})
    assert document_hash({"a": 1}) != document_hash({"a": 2})
