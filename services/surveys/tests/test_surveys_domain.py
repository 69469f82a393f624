"""Survey rules without database or broker: timing, quiet period, tokens, validation, low scores,
language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales_shared.workcalendar import WorkCalendar
from surveys import domain
from surveys.domain import AnswerInvalid, Policy, SkipReason
from surveys.ratelimit import GuessLimiter
from surveys.usecases.figures import to_csv

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(tz=SH)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


# ---------------------------------------------------------------- invitation timing
def test_invitation_is_one_working_hour_after_completion_by_default():
    # Friday 2026-11-20 17:30: 30 working minutes left that day, the other 30 on Monday morning
    due = domain.invitation_due(CAL, sh(2026, 11, 20, 17, 30), Policy(invite_delay_minutes=60))
    assert due == sh(2026, 11, 23, 9, 30)


def test_invitation_never_later_than_close_of_the_next_working_day():
    # a delay of 3 working days is capped at close of business of the 1st working day after
    # completion
    due = domain.invitation_due(
        CAL, sh(2026, 11, 20, 10, 0), Policy(invite_delay_minutes=3 * 8 * 60)
    )
    assert due == sh(2026, 11, 23, 18, 0)


def test_invitation_skips_national_holidays():
    # completed on the last working day before National Day 2026 (1–7 October are off)
    completed = sh(2026, 9, 30, 17, 50)
    due = domain.invitation_due(CAL, completed, Policy(invite_delay_minutes=60))
    assert due.astimezone(SH).date() > datetime(2026, 10, 7).date()
    assert CAL.is_working_day(due.astimezone(SH).date())


def test_zero_delay_invites_at_completion():
    completed = sh(2026, 11, 18, 11, 0)
    assert domain.invitation_due(CAL, completed, Policy(invite_delay_minutes=0)) == completed


# ---------------------------------------------------------------- who is surveyed
def test_customer_surveyed_recently_is_skipped():
    policy = Policy(quiet_days=30)
    last = datetime(2026, 11, 1, tzinfo=UTC)
    assert (
        domain.skip_reason(
            has_contact=True,
            last_surveyed_at=last,
            completed_at=last + timedelta(days=29),
            policy=policy,
        )
        is SkipReason.RECENTLY_SURVEYED
    )
    assert (
        domain.skip_reason(
            has_contact=True,
            last_surveyed_at=last,
            completed_at=last + timedelta(days=30),
            policy=policy,
        )
        is None
    )
    assert (
        domain.skip_reason(
            has_contact=True, last_surveyed_at=None, completed_at=last, policy=policy
        )
        is None
    )


def test_quiet_period_zero_surveys_every_time_and_no_contact_is_skipped():
    now = datetime(2026, 11, 1, tzinfo=UTC)
    assert (
        domain.skip_reason(
            has_contact=True, last_surveyed_at=now, completed_at=now, policy=Policy(quiet_days=0)
        )
        is None
    )
    assert (
        domain.skip_reason(
            has_contact=False, last_surveyed_at=None, completed_at=now, policy=Policy()
        )
        is SkipReason.NO_CONTACT
    )


def test_customer_key_prefers_id_then_normalised_contact():
    assert domain.customer_key("C-1", "138 0013 8000", None) == "id:C-1"
    assert domain.customer_key(None, "138-0013-8000", None) == domain.customer_key(
        None, "13800138000", None
    )
    assert domain.customer_key(None, None, " Wang@Example.CN ") == "email:wang@example.cn"
    assert domain.customer_key(None, None, None) is None


def test_report_month_is_taken_in_the_business_time_zone():
    # 2026-11-30 17:00 UTC is already 1 December in Shanghai
    assert (
        domain.completed_month(datetime(2026, 11, 30, 17, 0, tzinfo=UTC), "Asia/Shanghai")
        == "2026-12"
    )


# ---------------------------------------------------------------- tokens
def test_token_has_256_random_bits_and_only_its_hash_is_kept():
    token, token_hash = domain.new_token()
    assert len(token) == 43 and domain.well_formed_token(token)
    assert (
        token_hash == domain.hash_token(token) and len(token_hash) == 64 and token not in token_hash
    )
    assert len({domain.new_token()[0] for _ in range(200)}) == 200
    assert not domain.well_formed_token(token[:-1]) and not domain.well_formed_token(token + "=")


def test_only_an_invited_unexpired_survey_is_open():
    now = datetime(2026, 11, 20, tzinfo=UTC)
    domain.check_open("invited", now + timedelta(seconds=1), now)
    with pytest.raises(domain.SurveyExpired):
        domain.check_open("invited", now, now)
    with pytest.raises(domain.SurveyAlreadyAnswered):
        domain.check_open("answered", now + timedelta(days=1), now)
    with pytest.raises(domain.SurveyNotOpen):
        domain.check_open("scheduled", None, now)


# ---------------------------------------------------------------- answers
GOOD = {"efficiency": "4", "attitude": "5", "professionalism": "3"}


def test_valid_answer_with_optional_fields():
    a = domain.validate_answer(
        GOOD | {"recommend": "0", "comment": "  工程师很专业\r\n谢谢  "}, 500
    )
    assert a.scores == (4, 5, 3) and a.recommend == 0 and a.comment == "工程师很专业\n谢谢"
    b = domain.validate_answer(GOOD | {"recommend": "", "comment": ""}, 500)
    assert b.recommend is None and b.comment is None


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("efficiency", None, "required"),
        ("attitude", "", "required"),
        ("professionalism", "0", "out_of_range"),
        ("efficiency", "6", "out_of_range"),
        ("efficiency", "-1", "not_integer"),
        ("attitude", "4.5", "not_integer"),
        ("attitude", "五", "not_integer"),
        ("recommend", "11", "out_of_range"),
        ("recommend", "99999999999999999999", "not_integer"),
        ("comment", "字" * 501, "too_long"),
        ("comment", "bad\x00byte", "control_chars"),
    ],
)
def test_each_wrong_field_is_named_with_its_reason(field, value, code):
    with pytest.raises(AnswerInvalid) as err:
        domain.validate_answer(GOOD | {field: value}, 500)
    assert err.value.errors == {field: code}
    assert err.value.status == 422


def test_every_missing_rating_is_reported_at_once():
    with pytest.raises(AnswerInvalid) as err:
        domain.validate_answer({"efficiency": "3"}, 500)
    assert set(err.value.errors) == {"attitude", "professionalism"}


def test_low_score_threshold_is_inclusive_and_configurable():
    a = domain.Answer(efficiency=5, attitude=2, professionalism=5, recommend=9)
    assert domain.is_low_score(a, Policy(low_score_threshold=2))
    assert not domain.is_low_score(a, Policy(low_score_threshold=1))
    b = domain.Answer(efficiency=4, attitude=4, professionalism=4, recommend=5)
    assert not domain.is_low_score(b, Policy())
    assert domain.is_low_score(b, Policy(low_recommend_threshold=6))


# ---------------------------------------------------------------- language, rate limit, CSV
@pytest.mark.parametrize(
    ("explicit", "accept", "expected"),
    [
        (None, None, "zh-CN"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "fr-FR, en;q=0.5, zh;q=0.8", "zh-CN"),
        (None, "de-DE", "zh-CN"),
        ("en", "zh-CN", "en"),
        ("zh-CN", "en", "zh-CN"),
        ("xx", "en", "en"),
        (None, "en;q=0", "zh-CN"),
    ],
)
def test_language_negotiation(explicit, accept, expected):
    assert domain.negotiate_language(explicit, accept) == expected


def test_guess_limiter_blocks_after_the_limit_and_forgets_after_the_window():
    now = [1000.0]
    limiter = GuessLimiter(3, 60, clock=lambda: now[0])
    for _ in range(3):
        assert not limiter.blocked("1.2.3.4")
        limiter.failed("1.2.3.4")
    assert limiter.blocked("1.2.3.4") and not limiter.blocked("5.6.7.8")
    assert 1 <= limiter.retry_after("1.2.3.4") <= 61
    now[0] += 61
    assert not limiter.blocked("1.2.3.4")


def test_guess_limiter_memory_is_bounded():
    limiter = GuessLimiter(1, 60, max_clients=100)
    for i in range(1000):
        limiter.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._failures) == 100


def test_csv_cells_cannot_become_spreadsheet_formulas():
    text = to_csv(
        {
            "rows": [
                {"key": '=HYPERLINK("x")', "surveyed": 1},
                {"key": "eng-zhang", "surveyed": 2},
            ],
            "total": {"surveyed": 3},
        }
    )
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[1].startswith('"\'=HYPERLINK(""x"")",1,') and lines[2].startswith("eng-zhang,2,")
