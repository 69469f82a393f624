"""SLA clock rules on working time, without a database or broker."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales_shared.events import SlaClock, Urgency
from aftersales_shared.workcalendar import WorkCalendar
from tickets.domain import (
    DEFAULT_POLICIES,
    Clock,
    ClockState,
    RequestType,
    Status,
    check_transition,
    clock_targets,
)

pytestmark = pytest.mark.deadlines

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_friday_to_monday_over_a_make_up_sunday():
    # Fri 2026-09-18 16:00 + 24 working hours: Fri 2h, Sat off, Sun 09-20 is 调休 (8h), Mon 8h, Tue
    # 6h → Tue 16:00
    clock = Clock(SlaClock.RESPONSE, timedelta(hours=24), at(2026, 9, 18, 16))
    assert clock.recompute(CAL) == at(2026, 9, 22, 16)
    assert not clock.provisional


def test_pause_and_resume_neither_lose_nor_double_count_time():
    clock = Clock(SlaClock.RESOLUTION, timedelta(hours=8), at(2026, 3, 2, 9))  # Monday
    assert clock.recompute(CAL) == at(2026, 3, 2, 18)
    clock.pause(CAL, at(2026, 3, 2, 11))  # 2 h used
    assert clock.state is ClockState.PAUSED and clock.deadline is None
    assert clock.elapsed == timedelta(hours=2)
    clock.pause(CAL, at(2026, 3, 2, 15))  # a second pause changes nothing
    clock.resume(CAL, at(2026, 3, 3, 9))  # waited for parts until Tuesday
    assert clock.deadline == at(2026, 3, 3, 16)  # 6 h left: 9–12, 13–16
    assert clock.used(CAL, at(2026, 3, 3, 10)) == timedelta(hours=3)
    clock.meet(CAL, at(2026, 3, 3, 14))
    assert clock.state is ClockState.MET and clock.elapsed == timedelta(hours=6)


def test_urgency_change_recomputes_from_the_original_start_keeping_paused_time():
    clock = Clock(SlaClock.RESOLUTION, timedelta(hours=48), at(2026, 3, 2, 9))
    clock.recompute(CAL)
    clock.pause(CAL, at(2026, 3, 2, 10))  # 1 h used
    clock.resume(CAL, at(2026, 3, 4, 9))  # two days waiting for the customer do not count
    clock.target = timedelta(hours=24)  # urgent now
    assert clock.recompute(CAL) == at(
        2026, 3, 6, 17
    )  # 23 h left from Wed 09:00: Wed 8, Thu 8, Fri 7 → 17:00


def test_warning_at_three_quarters_of_the_target():
    clock = Clock(SlaClock.RESPONSE, timedelta(hours=8), at(2026, 3, 2, 9))
    clock.recompute(CAL)
    assert clock.warn_at(CAL, 0.75) == at(2026, 3, 2, 16)  # 6 working hours, lunch excluded


def test_clock_into_a_year_without_an_official_table_is_provisional():
    clock = Clock(SlaClock.RESOLUTION, timedelta(hours=48), at(2026, 12, 28, 16))
    # Dec 28 2h, 29–31 24h, Jan 1 (rule-based holiday) off, weekend, Jan 4 8h, Jan 5 8h, Jan 6 6h →
    # 16:00
    assert clock.recompute(CAL) == at(2027, 1, 6, 16)
    assert clock.provisional


def test_targets_per_policy_and_suggestions_within_three_working_days():
    opened = at(2026, 9, 30, 17)  # Wednesday before National Day
    urgent = clock_targets(DEFAULT_POLICIES[Urgency.URGENT], RequestType.QUALITY_ISSUE, CAL, opened)
    assert urgent[SlaClock.ACKNOWLEDGE] == timedelta(minutes=10)
    assert urgent[SlaClock.RESPONSE] == timedelta(hours=2)
    assert urgent[SlaClock.ONSITE] == timedelta(hours=4)
    assert SlaClock.ONSITE not in clock_targets(
        DEFAULT_POLICIES[Urgency.NORMAL], RequestType.QUALITY_ISSUE, CAL, opened
    )
    suggestion = clock_targets(
        DEFAULT_POLICIES[Urgency.NORMAL], RequestType.SUGGESTION, CAL, opened
    )
    # 3 working days after Sep 30: Oct 1–7 off, Oct 8, 9, 10 (Sat, 调休) → close of business Oct 10
    due = CAL.add_working_time(opened, suggestion[SlaClock.RESPONSE])
    assert due == at(2026, 10, 10, 18)


def test_illegal_transitions_name_the_state():
    assert check_transition("acknowledge", Status.NEW, "SV-1") is Status.ACKNOWLEDGED
    for action, status in (
        ("acknowledge", Status.ASSIGNED),
        ("complete", Status.NEW),
        ("log", Status.COMPLETED),
        ("resume", Status.IN_PROGRESS),
        ("onsite", Status.NEW),
    ):
        try:
            check_transition(action, status, "SV-1")
        except Exception as exc:
            assert exc.status == 409 and status.value in exc.message
        else:
            raise AssertionError(f"{action} from {status} should be refused")
