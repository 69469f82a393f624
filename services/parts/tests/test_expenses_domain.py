"""Expense claims, the rules alone (no database, no broker): the submission deadline counted in
working days on the national calendar with 调休, at named moments; amounts, lines and trips; who
may see, approve, settle and excuse a claim."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from parts import expenses as x

from aftersales_shared.auth import Principal, Role
from aftersales_shared.errors import Conflict, DomainError, Forbidden
from aftersales_shared.workcalendar import WorkCalendar

pytestmark = pytest.mark.deadlines

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(tz=SH)


def close(d: date) -> datetime:
    """18:00 in Shanghai (the default close of business), in UTC."""
    return datetime(d.year, d.month, d.day, 18, 0, tzinfo=SH).astimezone(UTC)


def who(sub: str, *roles: Role) -> Principal:
    return Principal(sub, frozenset(roles))


# ---------------------------------------------------------------- the deadline
def test_a_trip_ending_on_the_friday_before_national_day_counts_past_both_holidays():
    # Friday 25 Sep 2026 is 中秋 already; 28–30 Sep count 3, 1–7 Oct are off, 8 and 9 Oct count
    # 5, Saturday 10 Oct is a 调休 working day (6), Sunday 11 is not, 12–15 Oct make 10
    assert x.submit_due(CAL, date(2026, 9, 25), 10) == close(date(2026, 10, 15))
    # counted in calendar days it would have been 5 Oct, in weekdays 9 Oct
    assert x.submit_due(CAL, date(2026, 9, 25), 3) == close(date(2026, 9, 30))
    assert x.submit_due(CAL, date(2026, 9, 25), 6) == close(date(2026, 10, 10))


def test_a_trip_ending_on_the_tiaoxiu_saturday_before_spring_festival():
    # Sat 14 Feb 2026 (a working day) ends the trip; 15–23 Feb are off; 24–27 Feb count 4,
    # Saturday 28 Feb is 调休 (5), 2–6 March make 10
    assert x.submit_due(CAL, date(2026, 2, 14), 5) == close(date(2026, 2, 28))
    assert x.submit_due(CAL, date(2026, 2, 14), 10) == close(date(2026, 3, 6))


def test_a_trip_ending_on_31_december_runs_into_a_provisional_year():
    due = x.submit_due(CAL, date(2026, 12, 31), 10)
    # 1 Jan 2027 is New Year's Day in the rule-based table; 4–8 and 11–15 Jan make 10
    assert due == close(date(2027, 1, 15))
    end = datetime(2026, 12, 31, 12, 0, tzinfo=SH)
    assert CAL.is_provisional(end, due)


def test_a_trip_ending_on_a_sunday_evening_counts_from_monday():
    assert x.submit_due(CAL, date(2026, 11, 29), 1) == close(date(2026, 11, 30))
    assert x.submit_due(CAL, date(2026, 11, 29), 10) == close(date(2026, 12, 11))


def test_late_means_past_the_deadline_or_marked_overdue():
    due = close(date(2026, 12, 11))
    claim = x.ClaimView("BX-1", "eng-a", x.ClaimState.DRAFT, submit_due_at=due)
    assert not x.is_late(claim, due)
    assert x.is_late(claim, due + timedelta(seconds=1))
    marked = x.ClaimView("BX-1", "eng-a", x.ClaimState.DRAFT, overdue=True, submit_due_at=due)
    assert x.is_late(marked, due - timedelta(days=1))


# ---------------------------------------------------------------- lines and trips
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("0"), "须大于0"),
        (Decimal("-5.00"), "须大于0"),
        (Decimal("12.345"), "两位小数"),
        (Decimal("50000.01"), "上限"),
    ],
)
def test_bad_amounts_are_refused_with_the_line_number(value, message):
    with pytest.raises(DomainError, match=message) as err:
        x.amount(value, 3)
    assert "第3行" in err.value.message


def test_amounts_up_to_the_cap_are_kept_to_the_cent():
    assert x.amount(Decimal("50000.00"), 1) == Decimal("50000.00")
    assert x.amount(Decimal("0.01"), 1) == Decimal("0.01")


def line(day: date, **kw: object) -> x.Line:
    values: dict[str, object] = {
        "spent_on": day,
        "category": x.Category.TRANSPORT,
        "amount": Decimal("100.00"),
        "ticket_nos": ("SV-1",),
    }
    values.update(kw)
    return x.Line(**values)  # type: ignore[arg-type]


def test_lines_lie_inside_the_trip_and_name_tickets():
    start, end = date(2026, 11, 23), date(2026, 11, 25)
    ok = x.check_lines([line(start), line(end, ticket_nos=("SV-1", "SV-1", "SV-2"))], start, end)
    assert ok[1].ticket_nos == ("SV-1", "SV-2")
    with pytest.raises(DomainError, match="第1行的日期"):
        x.check_lines([line(date(2026, 11, 26))], start, end)
    with pytest.raises(DomainError, match="须关联"):
        x.check_lines([line(start, ticket_nos=())], start, end)
    with pytest.raises(DomainError, match="工单号"):
        x.check_lines([line(start, ticket_nos=("../etc",))], start, end)


def test_a_trip_must_have_ended_in_order_and_not_too_long():
    today = date(2026, 11, 29)
    x.check_trip(date(2026, 11, 23), today, today)
    with pytest.raises(DomainError, match="早于"):
        x.check_trip(date(2026, 11, 25), date(2026, 11, 23), today)
    with pytest.raises(DomainError, match="尚未结束"):
        x.check_trip(date(2026, 11, 23), date(2026, 11, 30), today)
    with pytest.raises(DomainError, match="最长"):
        x.check_trip(date(2026, 1, 1), date(2026, 6, 1), today)


def test_totals_per_category_include_the_empty_ones():
    total, per = x.totals(
        [
            ("transport", Decimal("553.50")),
            ("lodging", Decimal("680.00")),
            ("transport", Decimal("3")),
        ]
    )
    assert total == Decimal("1236.50")
    assert per == {
        "transport": Decimal("556.50"),
        "lodging": Decimal("680.00"),
        "meal_allowance": Decimal("0.00"),
        "other": Decimal("0.00"),
    }
    assert x.CATEGORY_ZH[x.Category.MEAL_ALLOWANCE] == "餐补"


# ---------------------------------------------------------------- who may do what
A, B = who("eng-a", Role.ENGINEER), who("eng-b", Role.ENGINEER)
SUP = who("sup-wang", Role.SERVICE_SUPERVISOR)
FIN = who("fin-zhao", Role.FINANCE)
MGR = who("mgr-li", Role.MANAGER)
DEALER = Principal("d-1", frozenset({Role.DEALER}), dealer_id="D-1")


def claim(state: x.ClaimState, owner: str = "eng-a", **kw: object) -> x.ClaimView:
    return x.ClaimView("BX-1", owner, state, **kw)  # type: ignore[arg-type]


def test_engineers_see_their_own_claims_supervisors_and_finance_all_dealers_none():
    mine = claim(x.ClaimState.DRAFT)
    assert x.may_see(mine, A) and not x.may_see(mine, B)
    assert x.may_see(mine, SUP) and x.may_see(mine, FIN) and x.may_see(mine, MGR)
    assert not x.may_see(mine, DEALER)


def test_only_the_owner_edits_and_only_a_draft_or_a_rejected_claim():
    x.check_owner_edits(claim(x.ClaimState.DRAFT), A)
    x.check_owner_edits(claim(x.ClaimState.REJECTED), A)
    with pytest.raises(Forbidden):
        x.check_owner_edits(claim(x.ClaimState.DRAFT), B)
    with pytest.raises(Conflict):
        x.check_owner_edits(claim(x.ClaimState.SUBMITTED), A)


def test_submission_needs_lines_and_receipts_and_is_refused_late_without_an_exception():
    now = close(date(2026, 12, 11))
    draft = claim(x.ClaimState.DRAFT, submit_due_at=now)
    x.check_submit(draft, A, now, [], 1)
    with pytest.raises(DomainError, match="没有费用明细"):
        x.check_submit(draft, A, now, [], 0)
    with pytest.raises(DomainError, match="第1、3行缺少凭证"):
        x.check_submit(draft, A, now, [1, 3], 3)
    late = now + timedelta(minutes=1)
    with pytest.raises(Conflict, match="逾期将不予报销"):
        x.check_submit(draft, A, late, [], 1)
    excused = claim(x.ClaimState.DRAFT, submit_due_at=now, late_exception=True)
    x.check_submit(excused, A, late, [], 1)
    # a rejected claim was submitted in time once: its correction is not late
    x.check_submit(claim(x.ClaimState.REJECTED, submit_due_at=now, overdue=False), A, late, [], 1)


def test_approvers_never_decide_their_own_claim_and_only_submitted_ones():
    submitted = claim(x.ClaimState.SUBMITTED)
    x.check_decide(submitted, SUP)
    with pytest.raises(Forbidden, match="本人"):
        x.check_decide(claim(x.ClaimState.SUBMITTED, owner="sup-wang"), SUP)
    with pytest.raises(Forbidden):
        x.check_decide(submitted, B)
    with pytest.raises(Conflict):
        x.check_decide(claim(x.ClaimState.DRAFT), SUP)


def test_finance_settles_approved_claims_only():
    x.check_settle(claim(x.ClaimState.APPROVED), FIN)
    with pytest.raises(Forbidden):
        x.check_settle(claim(x.ClaimState.APPROVED), SUP)
    with pytest.raises(Conflict):
        x.check_settle(claim(x.ClaimState.SUBMITTED), FIN)


def test_a_manager_excuses_an_overdue_draft_once():
    due = close(date(2026, 12, 11))
    now = due + timedelta(days=1)
    x.check_exception(claim(x.ClaimState.DRAFT, submit_due_at=due), MGR, now)
    with pytest.raises(Forbidden):
        x.check_exception(claim(x.ClaimState.DRAFT, submit_due_at=due), SUP, now)
    with pytest.raises(Conflict, match="未逾期"):
        x.check_exception(claim(x.ClaimState.DRAFT, submit_due_at=due), MGR, due)
    with pytest.raises(Conflict, match="已批准过"):
        x.check_exception(
            claim(x.ClaimState.DRAFT, submit_due_at=due, late_exception=True), MGR, now
        )


def test_an_overdue_claims_trip_end_cannot_move():
    x.check_trip_change(claim(x.ClaimState.DRAFT), date(2026, 11, 1), date(2026, 11, 20))
    with pytest.raises(Conflict):
        x.check_trip_change(
            claim(x.ClaimState.DRAFT, overdue=True), date(2026, 11, 1), date(2026, 11, 20)
        )
