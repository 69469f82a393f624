"""Contract rules without a database or broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftersales_shared.errors import Conflict, DomainError
from contracts.domain import (
    Contract,
    ContractStatus,
    InvalidCreditCode,
    Party,
    ServiceLevel,
    Signature,
    SignMethod,
    Urgency,
    service_levels_with_overrides,
    validate_credit_code,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_credit_code_check_character():
    assert validate_credit_code("91350100M000100Y43") == "91350100M000100Y43"  # GB 32100-2015 example
    assert validate_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"
    with pytest.raises(InvalidCreditCode, match="校验位错误.*应为“3”"):
        validate_credit_code("91350100M000100Y44")
    with pytest.raises(InvalidCreditCode, match="第9位字符“O”"):
        validate_credit_code("91350100O000100Y43")
    with pytest.raises(InvalidCreditCode, match="18位"):
        validate_credit_code("9135010")


def test_service_levels_default_from_the_domain_and_are_overridable():
    levels = {s.urgency: s for s in service_levels_with_overrides([])}
    assert (levels[Urgency.NORMAL].response_minutes, levels[Urgency.NORMAL].resolution_minutes) == (1440, 2880)
    assert (levels[Urgency.URGENT].response_minutes, levels[Urgency.URGENT].onsite_minutes) == (120, 240)
    assert levels[Urgency.CRITICAL].response_minutes == 30
    custom = service_levels_with_overrides([ServiceLevel(Urgency.URGENT, 60, 720)])
    assert {s.urgency: s.response_minutes for s in custom}[Urgency.URGENT] == 60
    with pytest.raises(DomainError, match="exceeds resolution"):
        service_levels_with_overrides([ServiceLevel(Urgency.NORMAL, 600, 60)])
    with pytest.raises(DomainError, match="only one"):
        service_levels_with_overrides([ServiceLevel(Urgency.NORMAL, 1, 2), ServiceLevel(Urgency.NORMAL, 1, 2)])


def _sigs(at: datetime = NOW) -> list[Signature]:
    return [Signature(Party.COMPANY, "李", at, SignMethod.SEAL), Signature(Party.CUSTOMER, "王", at, SignMethod.E_SIGNATURE)]


def test_signing_needs_both_parties_a_hash_and_happens_once():
    c = Contract("HT-1", ContractStatus.DRAFT)
    with pytest.raises(DomainError, match="exactly one signature"):
        c.sign(_sigs()[:1] * 2, "a" * 64, NOW)
    with pytest.raises(DomainError, match="64 lowercase hex"):
        c.sign(_sigs(), "not-a-hash", NOW)
    with pytest.raises(DomainError, match="future"):
        c.sign(_sigs(NOW + timedelta(hours=1)), "a" * 64, NOW)
    assert c.status is ContractStatus.DRAFT
    c.sign(_sigs(), "a" * 64, NOW)
    assert c.status is ContractStatus.SIGNED and c.signed_at == NOW
    with pytest.raises(Conflict):
        c.sign(_sigs(), "b" * 64, NOW)
