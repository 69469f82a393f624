"""The board's SLA countdowns at named moments: working time left on the default calendar
(Mon–Fri 09:00–12:00 and 13:00–18:00, national holidays and 调休 days), standing still at night,
over a holiday and while paused, coloured by the share of the target left. Times computed by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from aftersales_shared.calendars import builtin_calendar
from aftersales_testing.clock import MOMENTS, SH
from console.board import labels, wall_clock
from console.countdown import (
    Band,
    ClockView,
    band_of,
    countdown,
    format_overdue,
    format_working,
    in_working_time,
    most_pressing,
)

pytestmark = pytest.mark.deadlines

CAL = builtin_calendar("default")
ALWAYS = builtin_calendar("24x7")


def at(name: str) -> datetime:
    return MOMENTS[name].at


def running(target_h: float, deadline: datetime, kind: str = "response", **kw) -> ClockView:
    return ClockView(
        kind=kind, state="running", target=timedelta(hours=target_h), deadline=deadline, **kw
    )


def test_sunday_evening_the_countdown_stands_still_until_monday_morning():
    now = at("sunday-evening")  # Sun 29 Nov 2026 20:57
    deadline = CAL.add_working_time(now, timedelta(hours=4))
    assert deadline == datetime(2026, 11, 30, 14, 0, tzinfo=SH)  # 09-12, then 13-14 on Monday
    c = countdown(running(4, deadline), CAL, now)
    assert (c.left, c.band, c.ticking) == (timedelta(hours=4), Band.OK, False)
    assert c.resumes_at == datetime(2026, 11, 30, 9, 0, tzinfo=SH)
    # two hours later nothing has moved: night is no working time
    later = countdown(running(4, deadline), CAL, now + timedelta(hours=2))
    assert later.left == timedelta(hours=4) and not later.ticking
    # Monday 10:30: an hour and a half used, running
    monday = countdown(running(4, deadline), CAL, datetime(2026, 11, 30, 10, 30, tzinfo=SH))
    assert (monday.left, monday.ticking, monday.resumes_at) == (
        timedelta(hours=2, minutes=30),
        True,
        None,
    )
    assert monday.band is Band.OK and monday.share_left == pytest.approx(0.625)
    clock, left, state, wall = labels(c, SH, now)
    assert (clock, left, wall) == ("响应", "剩 4小时00分", "11-30 周一 14:00")
    assert state == "非工作时间·计时暂停，11-30 周一 09:00 恢复 (off hours)"


def test_the_countdown_stands_still_over_the_spring_festival():
    eve = at("holiday-eve")  # Sat 14 Feb 2026 17:59, a 调休 working day
    assert in_working_time(CAL, eve)
    deadline = CAL.add_working_time(eve, timedelta(hours=2))
    # one minute on Saturday, then the festival (15-23 Feb), then Tuesday 24 Feb from 09:00
    assert deadline == datetime(2026, 2, 24, 10, 59, tzinfo=SH)
    festival = countdown(running(8, deadline), CAL, at("spring-festival-eve"))
    assert festival.left == timedelta(hours=1, minutes=59)
    assert not festival.ticking
    assert festival.resumes_at == datetime(2026, 2, 24, 9, 0, tzinfo=SH)
    assert festival.band is Band.RISK  # under a quarter of eight hours left


def test_a_make_up_saturday_is_working_time_and_an_ordinary_one_is_not():
    assert in_working_time(CAL, at("make-up-saturday"))  # Sat 28 Feb 2026 10:00, 调休
    assert not in_working_time(CAL, datetime(2026, 3, 7, 10, 0, tzinfo=SH))  # a plain Saturday
    assert in_working_time(ALWAYS, at("sunday-evening"))  # 24x7 contracts tick at night


def test_friday_close_the_last_minute_counts_then_the_weekend_does_not():
    now = at("friday-close")  # Fri 27 Nov 2026 17:59
    deadline = CAL.add_working_time(now, timedelta(minutes=30))
    assert deadline == datetime(2026, 11, 30, 9, 29, tzinfo=SH)
    c = countdown(running(1.5, deadline), CAL, now)  # a third of 90 minutes left: amber
    assert c.ticking and c.left == timedelta(minutes=30) and c.band is Band.WATCH
    saturday = countdown(running(1.5, deadline), CAL, datetime(2026, 11, 28, 12, 0, tzinfo=SH))
    assert saturday.left == timedelta(minutes=29) and not saturday.ticking


def test_a_paused_clock_shows_what_is_left_and_stands_still():
    paused = ClockView(
        kind="resolution", state="paused", target=timedelta(hours=8), elapsed=timedelta(hours=6)
    )
    c = countdown(paused, CAL, at("friday-close"))
    assert (c.band, c.left, c.deadline, c.ticking) == (Band.PAUSED, timedelta(hours=2), None, False)
    assert c.share_left == pytest.approx(0.25)
    assert labels(c, SH, at("friday-close"))[1:] == ("剩 2小时00分", "计时暂停 (paused)", "—")


def test_a_breached_clock_says_by_how_much_wall_clock_time():
    now = at("sunday-evening")
    deadline = now - timedelta(days=1, hours=3)
    c = countdown(running(4, deadline), CAL, now)
    assert (c.band, c.left, c.overdue) == (Band.BREACHED, timedelta(0), timedelta(days=1, hours=3))
    assert labels(c, SH, now)[1:3] == ("已超时 1天3小时", "已超时 (breached)")


def test_year_end_deadlines_in_2027_are_marked_provisional():
    now = at("year-end")  # 31 Dec 2026 23:59
    deadline = CAL.add_working_time(now, timedelta(hours=4))
    assert CAL.is_provisional(now, deadline)
    c = countdown(running(4, deadline, provisional=True), CAL, now)
    assert labels(c, SH, now)[3] == wall_clock(deadline, SH, now) + " (暂定)"
    assert wall_clock(deadline, SH, now).startswith("2027-")


@pytest.mark.parametrize(
    ("share", "band"),
    [(1.0, Band.OK), (0.5, Band.OK), (0.49, Band.WATCH), (0.25, Band.WATCH), (0.1, Band.RISK)],
)
def test_colour_bands_follow_the_share_of_time_left(share, band):
    assert band_of(share) is band


def test_the_row_shows_its_most_pressing_clock():
    now = at("friday-close")
    met = ClockView(kind="acknowledge", state="met", target=timedelta(minutes=10))
    relaxed = running(8, CAL.add_working_time(now, timedelta(hours=7)), kind="resolution")
    tight = running(4, CAL.add_working_time(now, timedelta(minutes=30)), kind="response")
    assert most_pressing([met, relaxed, tight], CAL, now).kind == "response"
    late = running(1, now - timedelta(minutes=5), kind="onsite")
    assert most_pressing([relaxed, late, tight], CAL, now).kind == "onsite"
    assert most_pressing([met], CAL, now).band is Band.MET
    assert most_pressing([], CAL, now) is None


def test_clocks_are_read_as_the_tickets_api_writes_them():
    clock = ClockView.from_api(
        {
            "kind": "response",
            "state": "running",
            "target_minutes": 240.0,
            "deadline": "2026-11-30T06:00:00Z",
            "elapsed_minutes": 30,
            "provisional": False,
            "met_at": None,
            "breached_at": None,
        }
    )
    assert clock.deadline == datetime(2026, 11, 30, 14, 0, tzinfo=SH)
    assert clock.target == timedelta(hours=4) and clock.elapsed == timedelta(minutes=30)


def test_durations_read_as_the_desk_says_them():
    assert format_working(timedelta(hours=2, minutes=5, seconds=59)) == "2小时05分"
    assert format_working(timedelta(minutes=45)) == "45分"
    assert format_overdue(timedelta(days=2, hours=1, minutes=3)) == "2天1小时"
