"""The parts rules alone: no database, no broker."""

from __future__ import annotations

from decimal import Decimal

import pytest
from parts import domain as d

from aftersales_shared.auth import Principal, Role
from aftersales_shared.errors import DomainError, Forbidden

K, L = d.MovementKind, d.LocationKind


def who(role: Role, sub: str = "u", dealer_id: str | None = None) -> Principal:
    return Principal(subject=sub, roles=frozenset({role}), dealer_id=dealer_id)


def test_part_numbers_are_kept_upper_case_and_refused_readably():
    assert d.check_part_no(" xk-brg-6205 ") == "XK-BRG-6205"
    for bad in ("", "X", "有中文", "A B", "-LEADING", "X" * 41):
        with pytest.raises(DomainError, match="备件编号"):
            d.check_part_no(bad)


def test_prices_have_two_places_and_no_sign():
    assert d.money(Decimal("12.3")) == Decimal("12.30")
    with pytest.raises(DomainError, match="负数"):
        d.money(Decimal("-0.01"))
    with pytest.raises(DomainError, match="两位小数"):
        d.money(Decimal("0.001"))


def test_waiting_reservations_are_covered_oldest_first_and_whole():
    waiting = [d.Waiting("a", 2), d.Waiting("b", 1), d.Waiting("c", 1)]
    assert d.newly_covered(on_hand=3, covered=0, waiting=waiting) == ["a", "b"]
    assert d.newly_covered(on_hand=3, covered=2, waiting=waiting) == []  # a still needs 2
    assert d.newly_covered(on_hand=1, covered=0, waiting=waiting) == []  # b never overtakes a
    assert d.newly_covered(on_hand=10, covered=6, waiting=waiting) == ["a", "b", "c"]


def test_the_reorder_point_is_crossed_once_and_re_armed_above_it():
    assert d.reorder_crossing(on_hand=2, point=2, flagged=False) is True
    assert d.reorder_crossing(on_hand=1, point=2, flagged=True) is None
    assert d.reorder_crossing(on_hand=3, point=2, flagged=True) is False
    assert d.reorder_crossing(on_hand=3, point=2, flagged=False) is None
    assert d.reorder_crossing(on_hand=0, point=0, flagged=False) is True


def test_unused_units_go_back_at_the_newest_price_with_that_many_out():
    tiers = [d.Tier(Decimal("100.00"), 2, 0), d.Tier(Decimal("120.00"), 1, 0)]
    assert d.return_tier(tiers, 1, "P", "T") == Decimal("120.00")
    assert d.return_tier(tiers, 2, "P", "T") == Decimal("100.00")
    with pytest.raises(DomainError, match="分批退回") as split:
        d.return_tier([d.Tier(Decimal("1"), 1, 0), d.Tier(Decimal("2"), 1, 0)], 2, "P", "T")
    assert split.value.code == "split_return"
    with pytest.raises(DomainError, match="只领用了3件"):
        d.return_tier(tiers, 4, "P", "T")


def test_who_may_move_what():
    van = d.Place("VAN-1", L.VAN, engineer_id="eng-zhang")
    store = d.Place("RS-1", L.REGIONAL)
    dealer_store = d.Place("DS-1", L.DEALER, dealer_id="D-1")
    d.may_move(K.TRANSFER, [store, van], who(Role.SERVICE_SUPERVISOR))
    d.may_move(K.SCRAP, [dealer_store], who(Role.MANAGER))
    d.may_move(K.ISSUE, [van], who(Role.ENGINEER, "eng-zhang"))
    d.may_move(K.ISSUE, [store], who(Role.ENGINEER, "eng-wang"))
    d.may_move(K.RECEIVE, [dealer_store], who(Role.DEALER, dealer_id="D-1"))
    refused = [
        (K.ISSUE, [van], who(Role.ENGINEER, "eng-wang")),  # another's van
        (K.RECEIVE, [van], who(Role.ENGINEER, "eng-zhang")),  # not what a repair does
        (K.ISSUE, [dealer_store], who(Role.ENGINEER, "eng-zhang")),
        (K.RECEIVE, [dealer_store], who(Role.DEALER, dealer_id="D-2")),
        (K.TRANSFER, [store, dealer_store], who(Role.DEALER, dealer_id="D-1")),
        (K.ISSUE, [store], who(Role.SERVICE_AGENT)),
    ]
    for kind, places, user in refused:
        with pytest.raises(Forbidden):
            d.may_move(kind, places, user)


def test_a_van_needs_its_engineer_and_a_dealer_store_its_dealer():
    d.check_location(L.VAN, "eng-zhang", None)
    for kind, engineer, dealer in (
        (L.VAN, None, None),
        (L.DEALER, None, None),
        (L.CENTRAL, "eng-zhang", None),
        (L.REGIONAL, None, "D-1"),
    ):
        with pytest.raises(DomainError):
            d.check_location(kind, engineer, dealer)
