"""Tests for the working-time calendar (official 2026 schedule, provisional 2027, validation)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from aftersales_shared.workcalendar import (
    DEFAULT_TZ,
    BusinessHours,
    CalendarDataError,
    DayEntry,
    DayKind,
    WorkCalendar,
    YearTable,
    national_year_table,
    provisional_year_table,
)

pytestmark = pytest.mark.deadlines

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
CAL = WorkCalendar()


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """Aware Asia/Shanghai datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def days(start: date, end: date) -> list[date]:
    """Inclusive date range."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# --- the package data the national table is built from ------------------------------------


def test_chinese_calendar_2026_spring_festival_matches_official_schedule() -> None:
    for d in days(date(2026, 2, 15), date(2026, 2, 23)):
        assert not chinese_calendar.is_workday(d), d
    assert chinese_calendar.is_workday(date(2026, 2, 14))  # Sat, 调休
    assert chinese_calendar.is_workday(date(2026, 2, 28))  # Sat, 调休
    assert chinese_calendar.is_workday(date(2026, 2, 24))


def test_chinese_calendar_2026_national_day_matches_official_schedule() -> None:
    # The package agrees with the official notice: Oct 1-7 off, 调休 on Sun Sep 20 and Sat Oct 10.
    # (In 2026 Mid-Autumn is separate: Fri Sep 25 off, with the weekend Sep 26-27.)
    for d in days(date(2026, 10, 1), date(2026, 10, 7)):
        assert not chinese_calendar.is_workday(d), d
    assert chinese_calendar.is_workday(date(2026, 9, 20))
    assert chinese_calendar.is_workday(date(2026, 10, 10))
    assert not chinese_calendar.is_workday(date(2026, 9, 25))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 1))


def test_national_year_table_2026_entries() -> None:
    table = national_year_table(2026)
    assert table is not None and table.year == 2026
    e = table.entries
    assert e[date(2026, 2, 14)].kind is DayKind.WORKDAY
    assert "调休" in e[date(2026, 2, 14)].name
    assert e[date(2026, 2, 28)].kind is DayKind.WORKDAY
    for d in days(date(2026, 2, 15), date(2026, 2, 23)):
        assert e[d].kind is DayKind.HOLIDAY, d
    assert e[date(2026, 2, 16)].name == "Spring Festival"
    assert date(2026, 2, 24) not in e and date(2026, 3, 1) not in e  # ordinary days
    assert e[date(2026, 9, 20)].kind is DayKind.WORKDAY
    assert e[date(2026, 10, 10)].kind is DayKind.WORKDAY
    workdays = sorted(d for d, x in e.items() if x.kind is DayKind.WORKDAY)
    assert workdays == [
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
        date(2026, 9, 20), date(2026, 10, 10),
    ]  # fmt: skip
    assert national_year_table(2026) is table  # cached
    assert national_year_table(2027) is None
    assert national_year_table(2003) is None


# --- 2026 Spring Festival ------------------------------------------------------------------


def test_spring_festival_working_days() -> None:
    assert CAL.is_working_day(date(2026, 2, 13))  # Fri
    assert CAL.is_working_day(date(2026, 2, 14))  # Sat 调休
    for d in days(date(2026, 2, 15), date(2026, 2, 23)):
        assert not CAL.is_working_day(d), d
    assert CAL.is_working_day(date(2026, 2, 24))
    assert CAL.is_working_day(date(2026, 2, 28))  # Sat 调休
    assert not CAL.is_working_day(date(2026, 3, 1))  # ordinary Sunday
    assert not CAL.is_working_day(date(2026, 3, 7))  # ordinary Saturday


def test_make_up_saturday_uses_weekday_hours() -> None:
    assert CAL.working_intervals(date(2026, 2, 14)) == [
        (sh(2026, 2, 14, 9), sh(2026, 2, 14, 12)),
        (sh(2026, 2, 14, 13), sh(2026, 2, 14, 18)),
    ]
    assert CAL.working_intervals(date(2026, 2, 16)) == []
    assert CAL.working_intervals(date(2026, 3, 7)) == []


def test_four_hours_from_friday_afternoon_ends_on_make_up_saturday() -> None:
    # Fri 16:00-18:00 = 2h, then Sat 2026-02-14 09:00-11:00 = 2h.
    end = CAL.add_working_time(sh(2026, 2, 13, 16), 4 * H)
    assert end == sh(2026, 2, 14, 11)
    assert end.tzinfo is UTC
    assert end == datetime(2026, 2, 14, 3, 0, tzinfo=UTC)


def test_eight_hours_from_make_up_saturday_skips_whole_festival() -> None:
    # Sat 17:00-18:00 = 1h; Feb 15-23 off; Tue Feb 24 09:00-12:00 = 3h, 13:00-17:00 = 4h.
    end = CAL.add_working_time(sh(2026, 2, 14, 17), 8 * H)
    assert end == sh(2026, 2, 24, 17)
    assert end == datetime(2026, 2, 24, 9, 0, tzinfo=UTC)
    assert CAL.working_time_between(sh(2026, 2, 14, 17), sh(2026, 2, 24, 17)) == 8 * H
    # Fri 16-18 = 2h, Sat 调休 full day = 8h, Tue 09-12 + 13-17 = 7h.
    assert CAL.working_time_between(sh(2026, 2, 13, 16), sh(2026, 2, 24, 17)) == 17 * H


def test_full_day_on_second_make_up_saturday() -> None:
    # Exactly one working day from Fri Feb 27 18:00 fills Sat Feb 28 and ends at its close.
    assert CAL.add_working_time(sh(2026, 2, 27, 18), 8 * H) == sh(2026, 2, 28, 18)
    # One more minute goes past Sunday Mar 1 to Monday.
    later = CAL.add_working_time(sh(2026, 2, 27, 18), 8 * H + timedelta(minutes=1))
    assert later == sh(2026, 3, 2, 9, 1)


# --- 2026 National Day / Mid-Autumn --------------------------------------------------------


def test_national_day_2026() -> None:
    for d in days(date(2026, 10, 1), date(2026, 10, 7)):
        assert not CAL.is_working_day(d), d
    assert CAL.is_working_day(date(2026, 9, 20))  # Sun 调休
    assert CAL.is_working_day(date(2026, 10, 10))  # Sat 调休
    assert not CAL.is_working_day(date(2026, 10, 11))
    assert not CAL.is_working_day(date(2026, 9, 25))  # Mid-Autumn (Fri)
    # Wed Sep 30 17:30 + 1h: 30 min that day, then Thu Oct 8 09:00-09:30.
    assert CAL.add_working_time(sh(2026, 9, 30, 17, 30), H) == sh(2026, 10, 8, 9, 30)
    # Fri Oct 9 17:00 + 2h: 1h Friday, 1h on make-up Sat Oct 10.
    assert CAL.add_working_time(sh(2026, 10, 9, 17), 2 * H) == sh(2026, 10, 10, 10)
    # Sat Sep 19 (ordinary weekend) 10:00 + 1h lands on make-up Sunday Sep 20.
    assert CAL.add_working_time(sh(2026, 9, 19, 10), H) == sh(2026, 9, 20, 10)
    # Thu Sep 24 17:00 + 2h: 1h Thursday, Fri-Sun off, Mon Sep 28 09:00-10:00.
    assert CAL.add_working_time(sh(2026, 9, 24, 17), 2 * H) == sh(2026, 9, 28, 10)


# --- intra-day behaviour ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (sh(2026, 3, 2, 11), 2 * H, sh(2026, 3, 2, 14)),  # lunch excluded
        (sh(2026, 3, 2, 12, 30), H, sh(2026, 3, 2, 14)),  # start inside lunch
        (sh(2026, 3, 2, 19), H, sh(2026, 3, 3, 10)),  # start after hours
        (sh(2026, 3, 2, 7), H, sh(2026, 3, 2, 10)),  # start before hours
        (sh(2026, 3, 7, 10), H, sh(2026, 3, 9, 10)),  # start on a Saturday
        (sh(2026, 3, 2, 9), 3 * H, sh(2026, 3, 2, 12)),  # exactly to lunch: ends at 12:00
        (sh(2026, 3, 2, 9), 48 * H, sh(2026, 3, 9, 18)),  # 6 working days (Mon..Mon)
        (sh(2026, 3, 2, 9), 160 * H, sh(2026, 3, 27, 18)),  # 20 working days
    ],
)
def test_add_working_time_cases(start: datetime, duration: timedelta, expected: datetime) -> None:
    end = CAL.add_working_time(start, duration)
    assert end == expected
    assert end.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "duration"),
    [
        (sh(2026, 3, 2, 11), 2 * H),
        (sh(2026, 2, 13, 16), 4 * H),
        (sh(2026, 2, 14, 17), 8 * H),
        (sh(2026, 9, 30, 17, 30), 3 * H + timedelta(minutes=17)),
        (sh(2026, 1, 1, 0), 200 * H),
        (sh(2026, 12, 30, 10), 40 * H),  # crosses into provisional 2027
    ],
)
def test_working_time_between_is_inverse(start: datetime, duration: timedelta) -> None:
    end = CAL.add_working_time(start, duration)
    assert CAL.working_time_between(start, end) == duration


def test_working_time_between_edges() -> None:
    assert CAL.working_time_between(sh(2026, 3, 2, 12), sh(2026, 3, 2, 13)) == timedelta(0)
    assert CAL.working_time_between(sh(2026, 3, 2, 11), sh(2026, 3, 2, 14)) == 2 * H
    assert CAL.working_time_between(sh(2026, 3, 2, 14), sh(2026, 3, 2, 11)) == timedelta(0)
    assert CAL.working_time_between(sh(2026, 3, 6, 18), sh(2026, 3, 9, 9)) == timedelta(0)
    # Other input zones are converted: 03:00 UTC == 11:00 Shanghai.
    assert (
        CAL.working_time_between(datetime(2026, 3, 2, 3, tzinfo=UTC), sh(2026, 3, 2, 14)) == 2 * H
    )


def test_zero_duration_returns_start_in_utc() -> None:
    start = sh(2026, 3, 7, 22)  # Saturday night, outside working hours
    end = CAL.add_working_time(start, timedelta(0))
    assert end == start and end.tzinfo is UTC


def test_naive_datetimes_and_negative_duration_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_working_time(datetime(2026, 3, 2, 9), H)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.working_time_between(datetime(2026, 3, 2, 9), sh(2026, 3, 2, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.is_provisional(sh(2026, 3, 2), datetime(2027, 3, 2))
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_time(sh(2026, 3, 2, 9), -H)


def test_always_open_is_plain_arithmetic() -> None:
    cal = WorkCalendar(always_open=True)
    start = sh(2026, 2, 14, 17)
    assert cal.add_working_time(start, 48 * H) == sh(2026, 2, 16, 17)
    assert cal.add_working_time(start, 48 * H).tzinfo is UTC
    assert cal.working_time_between(sh(2026, 2, 15), sh(2026, 2, 17, 6)) == 54 * H
    assert cal.is_working_day(date(2026, 2, 16))
    assert not cal.is_provisional(sh(2027, 1, 1), sh(2027, 12, 31))
    assert cal.provisional_years(sh(2027, 1, 1), sh(2028, 1, 1)) == set()


def test_dst_zone_uses_real_elapsed_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cal = WorkCalendar(tz=berlin)
    # Europe switches to summer time on Sun 2026-03-29; Mon 09:30 CEST is 07:30 UTC.
    start = datetime(2026, 3, 27, 17, 30, tzinfo=berlin)
    end = cal.add_working_time(start, H)
    assert end == datetime(2026, 3, 30, 7, 30, tzinfo=UTC)
    assert cal.working_time_between(start, end) == H


# --- provisional years, supplied tables, closures ------------------------------------------


def test_2027_is_provisional_rule_based() -> None:
    assert CAL.is_provisional(sh(2026, 12, 30), sh(2027, 1, 4))
    assert CAL.provisional_years(sh(2026, 12, 30), sh(2027, 1, 4)) == {2027}
    assert not CAL.is_provisional(sh(2026, 1, 1), sh(2026, 12, 31, 23, 59))
    # 2026-12-31 16:00 UTC is already 2027-01-01 00:00 in Shanghai.
    assert CAL.is_provisional(sh(2026, 12, 1), datetime(2026, 12, 31, 16, tzinfo=UTC))
    assert not CAL.is_working_day(date(2027, 1, 1))  # New Year's Day (Fri) by rule
    assert CAL.is_working_day(date(2027, 1, 4))
    assert not CAL.is_working_day(date(2027, 10, 1))
    table = provisional_year_table(2027)
    assert table.entries[date(2027, 1, 1)].kind is DayKind.HOLIDAY
    assert all(x.kind is DayKind.HOLIDAY for x in table.entries.values())  # no 调休 guesses
    # Thu 2026-12-31 17:00 + 2h: 1h Thursday, Fri Jan 1 off, weekend, Mon Jan 4 09:00-10:00.
    assert CAL.add_working_time(sh(2026, 12, 31, 17), 2 * H) == sh(2027, 1, 4, 10)


def test_supplied_2027_table_with_make_up_saturday() -> None:
    table = YearTable.from_entries(
        2027,
        [
            DayEntry(date(2027, 2, 8), DayKind.HOLIDAY, "春节"),
            (date(2027, 2, 9), "holiday", "春节"),
            {"date": "2027-02-20", "kind": "workday", "name": "调休"},
        ],
    )
    cal = WorkCalendar(year_tables={2027: table})
    assert cal.is_working_day(date(2027, 2, 20))  # Saturday made a workday
    assert not cal.is_working_day(date(2027, 2, 21))  # ordinary Sunday
    assert not cal.is_working_day(date(2027, 2, 8))
    assert cal.is_working_day(date(2027, 1, 1))  # the supplied table replaces the rule table
    assert not cal.is_provisional(sh(2027, 1, 1), sh(2027, 12, 31))
    assert cal.provisional_years(sh(2026, 6, 1), sh(2028, 1, 3)) == {2028}
    # Fri Feb 19 17:00 + 2h: 1h Friday, 1h on make-up Sat Feb 20.
    assert cal.add_working_time(sh(2027, 2, 19, 17), 2 * H) == sh(2027, 2, 20, 10)


def test_company_closure_layered_over_national_table() -> None:
    closures = {
        date(2026, 3, 4): DayEntry(date(2026, 3, 4), DayKind.HOLIDAY, "company outing"),
        date(2026, 10, 2): DayEntry(date(2026, 10, 2), DayKind.WORKDAY, "on-call day"),
    }
    cal = WorkCalendar(closures=closures)
    assert not cal.is_working_day(date(2026, 3, 4))  # ordinary Wednesday closed
    assert cal.is_working_day(date(2026, 10, 2))  # closure wins over the national holiday
    assert cal.add_working_time(sh(2026, 3, 3, 17, 30), H) == sh(2026, 3, 5, 9, 30)
    assert cal.working_time_between(sh(2026, 3, 3, 9), sh(2026, 3, 5, 18)) == 16 * H
    assert CAL.is_working_day(date(2026, 3, 4))


def test_custom_hours_and_saturday_service_desk() -> None:
    weekday = ((time(8, 30), time(12)), (time(13, 30), time(17, 30)))
    hours = BusinessHours(weekly={0: weekday, 1: weekday, 2: weekday, 3: weekday, 4: weekday,
                                  5: ((time(9), time(12)),)})  # fmt: skip
    cal = WorkCalendar(hours=hours)
    assert hours.workday_hours == weekday  # defaults to Monday's hours
    assert cal.working_time_between(sh(2026, 3, 2), sh(2026, 3, 3)) == 7 * H + 30 * timedelta(
        minutes=1
    )
    assert cal.working_time_between(sh(2026, 3, 7), sh(2026, 3, 8)) == 3 * H  # ordinary Saturday
    assert cal.working_time_between(sh(2026, 2, 14), sh(2026, 2, 15)) == 7.5 * H  # 调休 Saturday
    assert not cal.is_working_day(date(2026, 10, 3))  # National Day Saturday is off
    assert not cal.is_working_day(date(2026, 2, 21))  # Spring Festival Saturday is off
    # Mon 11:30 + 1h: 30 min before lunch, 13:30-14:00.
    assert cal.add_working_time(sh(2026, 3, 2, 11, 30), H) == sh(2026, 3, 2, 14)
    custom = BusinessHours(workday_hours=((time(10), time(16)),))
    assert (
        WorkCalendar(hours=custom).working_time_between(sh(2026, 2, 14), sh(2026, 2, 15)) == 6 * H
    )


def test_no_working_time_at_all_raises_instead_of_looping() -> None:
    cal = WorkCalendar(hours=BusinessHours(weekly={}, workday_hours=()))
    assert cal.hours.workday_hours == ()
    with pytest.raises(ValueError, match="no working time"):
        cal.add_working_time(sh(2026, 3, 2, 9), H)


def test_default_tz() -> None:
    assert DEFAULT_TZ == ZoneInfo("Asia/Shanghai")
    assert CAL.tz == DEFAULT_TZ
    assert CAL.working_intervals(date(2026, 3, 2))[0][0].tzinfo == DEFAULT_TZ


# --- validation ----------------------------------------------------------------------------


def test_year_table_rejects_date_outside_year() -> None:
    with pytest.raises(CalendarDataError, match="line 2: 2028-01-01 is outside year 2027") as ei:
        YearTable.from_entries(2027, [(date(2027, 1, 1), "holiday"), (date(2028, 1, 1), "holiday")])
    assert ei.value.line_no == 2


def test_year_table_rejects_duplicate() -> None:
    rows = [
        (date(2027, 1, 1), "holiday"),
        (date(2027, 1, 2), "holiday"),
        (date(2027, 1, 1), "holiday"),
    ]
    with pytest.raises(CalendarDataError, match="line 3: duplicate date 2027-01-01") as ei:
        YearTable.from_entries(2027, rows)
    assert ei.value.line_no == 3


def test_year_table_rejects_both_kinds() -> None:
    rows = [(date(2027, 2, 20), "workday"), (date(2027, 2, 20), "holiday")]
    with pytest.raises(CalendarDataError, match="line 2: 2027-02-20 is both holiday and workday"):
        YearTable.from_entries(2027, rows)


def test_year_table_rejects_bad_kind_and_date() -> None:
    with pytest.raises(CalendarDataError, match="line 1: invalid kind 'vacation'"):
        YearTable.from_entries(2027, [(date(2027, 1, 1), "vacation")])
    with pytest.raises(CalendarDataError, match="line 1"):
        YearTable.from_entries(2027, [("2027-13-01", "holiday")])


def test_year_table_is_read_only() -> None:
    table = YearTable.from_entries(2027, [(date(2027, 1, 1), DayKind.HOLIDAY, "元旦")])
    with pytest.raises(TypeError):
        table.entries[date(2027, 1, 2)] = DayEntry(date(2027, 1, 2), DayKind.HOLIDAY, "x")  # type: ignore[index]


def test_business_hours_validation() -> None:
    with pytest.raises(CalendarDataError, match="overlaps"):
        BusinessHours(weekly={0: ((time(9), time(12)), (time(11), time(18)))})
    with pytest.raises(CalendarDataError, match="not before end"):
        BusinessHours(weekly={0: ((time(18), time(9)),)})
    with pytest.raises(CalendarDataError, match="not before end"):
        BusinessHours(weekly={0: ((time(9), time(9)),)})
    with pytest.raises(CalendarDataError, match="overlaps or precedes"):
        BusinessHours(weekly={0: ((time(13), time(18)), (time(9), time(12)))})  # unsorted
    with pytest.raises(CalendarDataError, match="weekday keys"):
        BusinessHours(weekly={7: ((time(9), time(12)),)})
    with pytest.raises(CalendarDataError, match="workday_hours"):
        BusinessHours(workday_hours=((time(12), time(9)),))
    # Touching intervals are fine.
    ok = BusinessHours(weekly={0: ((time(9), time(12)), (time(12), time(18)))})
    assert ok.for_weekday(0) == ((time(9), time(12)), (time(12), time(18)))
    assert ok.for_weekday(1) == ()
