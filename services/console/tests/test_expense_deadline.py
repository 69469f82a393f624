"""The expense claim's submission deadline as the console words it, at named moments, on the
national calendar (调休 and holidays): working days left are not calendar days. Pure: no service."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from aftersales_shared.calendars import builtin_calendar
from aftersales_testing.clock import MOMENTS
from console import expenses as x

SH = ZoneInfo("Asia/Shanghai")
CAL = builtin_calendar("default")


def due(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 18, 0, tzinfo=SH)


@pytest.mark.parametrize(
    ("moment", "deadline", "left"),
    [
        # Sunday evening: Mon 30 Nov … Fri 11 Dec are ten working days (two weekends skipped)
        ("sunday-evening", due(2026, 12, 11), 10),
        # the 调休 Saturday before the Spring Festival: 15–23 Feb off, Sat 28 Feb worked
        ("holiday-eve", due(2026, 3, 6), 10),
        # 31 December: 1 January off, the weekends off
        ("year-end", due(2027, 1, 15), 10),
        # Friday a minute before close, due Monday: only Monday counts
        ("friday-close", due(2026, 11, 30), 1),
    ],
)
def test_working_days_left(moment, deadline, left):
    assert x.working_days_left(deadline, MOMENTS[moment].at, CAL) == left


def test_the_words_of_a_deadline():
    now = MOMENTS["sunday-evening"].at
    draft = {"state": "draft", "submit_due_at": "2026-12-11T10:00:00Z", "overdue": False}
    said = x.deadline(draft, now, CAL)
    assert said.at_label == "2026-12-11 18:00" and said.words == "还剩 10 个工作日"
    last_day = x.deadline(draft, datetime(2026, 12, 11, 9, 0, tzinfo=SH), CAL)
    assert last_day.words == "今天下班前截止"
    late = x.deadline(draft, datetime(2026, 12, 11, 18, 0, tzinfo=SH), CAL)
    assert late.overdue and "逾期将不予报销" in late.words
    excepted = x.deadline(draft | {"overdue": True, "late_exception_by": "mgr-wang"}, now, CAL)
    assert not excepted.overdue
    assert x.deadline(draft | {"state": "submitted"}, now, CAL) is None


def test_lines_and_their_refusals():
    good = {"spent_on": "2026-11-27", "category": "transport", "amount": "128.5"}
    good["ticket_nos"] = "SV-1，SV-2"
    assert x.line(good) == {
        "spent_on": "2026-11-27",
        "category": "transport",
        "amount": "128.5",
        "ticket_nos": ["SV-1", "SV-2"],
    }
    for bad, says in (
        ({"amount": "12.345"}, "最多两位小数"),
        ({"amount": "0"}, "须大于 0 元"),
        ({"category": "gift"}, "请选择费用类别"),
        ({"ticket_nos": ""}, "对应的工单号"),
        ({"ticket_nos": "SV 1/2"}, "工单号格式不对"),
        ({"spent_on": "27.11.2026"}, "费用日期格式不对"),
    ):
        with pytest.raises(x.FormError, match=says):
            x.line(good | bad)
    claim = {
        "lines": [
            {
                "spent_on": "2026-11-27",
                "category": "transport",
                "amount": "1.00",
                "ticket_nos": ["SV-1"],
            }
        ]
        * 3,
        "receipts": [{"receipt_id": 9, "line_no": 2}],
    }
    assert len(x.without_line(claim, "3")) == 2  # after the receipt's line: nothing slides
    with pytest.raises(x.FormError, match="请先删除这些凭证"):
        x.without_line(claim, "1")  # line 2's receipt would slide onto line 1
