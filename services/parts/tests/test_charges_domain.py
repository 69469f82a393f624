"""The money rules alone: coverage from the entitlement, the override's rights and reason, tax
rounding, a quote's life and the repair gate — no database, no broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from parts import charges as c

from aftersales_shared.auth import Principal, Role
from aftersales_shared.errors import Conflict, DomainError, Forbidden

SUP = Principal(subject="sup-wang", roles=frozenset({Role.SERVICE_SUPERVISOR}))
ENG = Principal(subject="eng-zhang", roles=frozenset({Role.ENGINEER}))
ISSUED_AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
EXPIRES = ISSUED_AT + timedelta(days=7)


def test_coverage_follows_the_entitlement():
    assert c.coverage_from_entitlement(True, "HT-1")[0] is c.Coverage.WARRANTY
    assert c.coverage_from_entitlement(False, "HT-1")[0] is c.Coverage.CHARGEABLE
    coverage, reason = c.coverage_from_entitlement(None, "HT-1")
    assert coverage is c.Coverage.CHARGEABLE and "HT-1" in reason
    assert c.coverage_from_entitlement(None, None)[0] is c.Coverage.CHARGEABLE


def test_override_needs_a_supervisor_a_change_and_a_reason():
    w, ch = c.Coverage.WARRANTY, c.Coverage.CHARGEABLE
    with pytest.raises(Forbidden):
        c.check_override(ENG, w, ch, "设备进水，人为损坏")
    with pytest.raises(Conflict):
        c.check_override(SUP, w, w, "设备进水，人为损坏")
    with pytest.raises(DomainError, match="原因"):
        c.check_override(SUP, w, ch, "  进水 ")
    assert c.check_override(SUP, w, ch, " 设备进水，人为损坏 ") == "设备进水，人为损坏"


def test_tax_is_rounded_half_up_once_on_the_net_sum():
    t = c.taxed(Decimal("0.35") + Decimal("0.35") + Decimal("0.35"), Decimal("0.13"))
    # 1.05 × 0.13 = 0.1365 → 0.14 (per line it would be 3 × 0.05 = 0.15)
    assert (t.net, t.tax, t.total) == (Decimal("1.05"), Decimal("0.14"), Decimal("1.19"))
    assert c.line_amount(Decimal("2.5"), Decimal("180.00")) == Decimal("450.00")
    with pytest.raises(DomainError):
        c.check_tax_rate(Decimal("0.2"))
    with pytest.raises(DomainError):
        c.check_quantity(Decimal("1.005"), "工时")


def test_a_quote_is_decided_once_and_expires():
    assert c.quote_status("issued", EXPIRES, EXPIRES - timedelta(seconds=1)) is c.QuoteStatus.ISSUED
    assert c.quote_status("issued", EXPIRES, EXPIRES) is c.QuoteStatus.EXPIRED
    assert c.quote_status("accepted", EXPIRES, EXPIRES + timedelta(days=1)).value == "accepted"
    to, signer, reason = c.check_decision(c.QuoteStatus.ISSUED, "decline", " 王工 ", " 太贵 ")
    assert (to, signer, reason) == (c.QuoteStatus.DECLINED, "王工", "太贵")
    with pytest.raises(c.QuoteClosed, match="过期"):
        c.check_decision(c.QuoteStatus.EXPIRED, "accept", "王工", None)
    with pytest.raises(c.QuoteClosed, match="不能更改"):
        c.check_decision(c.QuoteStatus.ACCEPTED, "decline", "王工", None)
    with pytest.raises(DomainError, match="姓名"):
        c.check_decision(c.QuoteStatus.ISSUED, "accept", "  ", None)
    with pytest.raises(DomainError, match="接受或不接受"):
        c.check_decision(c.QuoteStatus.ISSUED, "maybe", "王工", None)


def test_a_chargeable_repair_waits_for_acceptance_and_a_special_invoice_for_bank_details():
    assert c.may_start_repair(c.Coverage.WARRANTY, accepted_quote=False)
    assert not c.may_start_repair(c.Coverage.CHARGEABLE, accepted_quote=False)
    assert c.may_start_repair(c.Coverage.CHARGEABLE, accepted_quote=True)
    with pytest.raises(DomainError, match="专用发票"):
        c.check_special_invoice("special", "苏州 0512-1", None)
    c.check_special_invoice("special", "苏州 0512-1", "中国银行 123")
    c.check_special_invoice("normal", None, None)
