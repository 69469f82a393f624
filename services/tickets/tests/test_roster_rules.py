"""The roster's rules without a database: leave ends with its last day in the business time zone
(on leave on the 调休 Saturday, back on Monday; 31 December ends at midnight in Shanghai, while UTC
still says 31 December), a last day already past is refused, a phone must be a mainland mobile,
names and regions have lengths, an edit records only what changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales_shared.errors import DomainError
from aftersales_testing.clock import MOMENTS
from tickets import roster

SH = ZoneInfo("Asia/Shanghai")
# as the service reads the clock: in UTC (utcnow); the rules must turn it into Shanghai's day
MAKE_UP_SATURDAY = MOMENTS["make-up-saturday"].at.astimezone(UTC)  # Saturday 28 Feb 2026, 调休
YEAR_END = MOMENTS["year-end"].at.astimezone(UTC)  # 31 December 2026 23:59 in Shanghai


def test_leave_until_sunday_covers_the_make_up_saturday_and_ends_before_monday():
    until = date(2026, 3, 1)  # the Sunday after the 调休 Saturday
    assert roster.on_leave_at(True, until, MAKE_UP_SATURDAY, SH)
    assert not roster.available_at(True, True, until, MAKE_UP_SATURDAY, SH)
    sunday_night = datetime(2026, 3, 1, 23, 59, tzinfo=SH).astimezone(UTC)
    assert roster.on_leave_at(True, until, sunday_night, SH)
    monday = datetime(2026, 3, 2, 0, 1, tzinfo=SH).astimezone(UTC)  # still Sunday 16:01 in UTC
    assert monday.date() == date(2026, 3, 1)
    assert not roster.on_leave_at(True, until, monday, SH)
    assert roster.available_at(True, True, until, monday, SH)


def test_leave_until_31_december_ends_at_midnight_in_shanghai():
    until = date(2026, 12, 31)
    assert roster.on_leave_at(True, until, YEAR_END, SH)
    new_year = YEAR_END + timedelta(minutes=2)  # 1 January 00:01 in Shanghai, 16:01 UTC on the 31st
    assert new_year.date() == date(2026, 12, 31)
    assert not roster.on_leave_at(True, until, new_year, SH)


def test_leave_without_an_end_lasts_and_a_deactivated_engineer_is_never_available():
    assert roster.on_leave_at(True, None, YEAR_END + timedelta(days=400), SH)
    assert not roster.on_leave_at(False, date(2026, 12, 31), YEAR_END, SH)
    assert not roster.available_at(False, False, None, YEAR_END, SH)
    assert roster.available_at(True, False, None, YEAR_END, SH)


def test_a_last_day_of_leave_already_past_is_refused_today_is_fine():
    assert roster.check_leave(True, date(2026, 2, 28), MAKE_UP_SATURDAY, SH) == date(2026, 2, 28)
    with pytest.raises(DomainError, match="已过"):
        roster.check_leave(True, date(2026, 2, 27), MAKE_UP_SATURDAY, SH)
    assert roster.check_leave(False, date(2020, 1, 1), MAKE_UP_SATURDAY, SH) is None
    new_year = YEAR_END + timedelta(minutes=2)
    with pytest.raises(DomainError):
        roster.check_leave(True, date(2026, 12, 31), new_year, SH)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("13800000001", "13800000001"),
        ("+86 138-0000-0001", "13800000001"),
        ("8619912345678", "19912345678"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_phone_is_a_mainland_mobile(typed, kept):
    assert roster.check_phone(typed) == kept


@pytest.mark.parametrize("typed", ["0571-88888888", "12800000001", "1380000000", "138000000012"])
def test_a_landline_or_a_wrong_length_is_refused_in_chinese(typed):
    with pytest.raises(DomainError, match="手机号"):
        roster.check_phone(typed)


def test_names_regions_subjects_and_skills_are_checked():
    data = roster.check(
        " eng-zhao ", " 赵  工 ", "华北·天津", "13800000009", "XK-200、XK-300,XK-200"
    )
    assert data == roster.EngineerData(
        "eng-zhao", "赵 工", "华北·天津", "13800000009", ["XK-200", "XK-300"]
    )
    for bad in ("", "x" * 51):
        with pytest.raises(DomainError, match="姓名"):
            roster.check_name(bad)
    with pytest.raises(DomainError, match="区域"):
        roster.check_region("区" * 51)
    for bad in ("", "has space", "a/b", "x" * 101):
        with pytest.raises(DomainError, match="账号"):
            roster.check_sub(bad)
    with pytest.raises(DomainError, match="最多"):
        roster.check_skills([f"s{n}" for n in range(21)])
    for bad in ("张\x00工", "张\x1b工"):
        with pytest.raises(DomainError, match="控制字符"):
            roster.check_name(bad)
    with pytest.raises(DomainError, match="控制字符"):
        roster.check_skills(["XK\x00"])


def test_an_edit_records_only_what_changed():
    before = {"name": "张工", "region": "华东·苏州", "active": True}
    after = roster.check_patch({"name": "张工", "region": "华东·无锡", "active": False, "id": "x"})
    assert roster.changes(before, after) == {
        "region": ["华东·苏州", "华东·无锡"],
        "active": [True, False],
    }
