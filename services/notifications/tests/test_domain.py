"""Rules, templates, quiet hours, rate limits and address checks — no database, no broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from notif_support import sample

from notifications.app import load_notifier
from notifications.domain import (
    AddressError,
    QuietHours,
    Recipient,
    RulesError,
    delivery_timing,
    fit_sms,
    normalize_email,
    normalize_phone,
    retry_delay,
)
from notifications.rules import CONSUMED, parse_rules
from notifications.settings import NotificationsSettings
from notifications.templates import TemplateDataError, Templates

SH = ZoneInfo("Asia/Shanghai")


# consumed (a rule may name them) but announced to nobody by default: nothing is late or wrong
INFORMATIONAL = {
    "ContractArchived",
    "SlaDeadlineChanged",
    "WarrantyCardRegistered",
    "DealerContactsChanged",  # kept as the dealer's recipients, not announced
    "FaultClassified",  # a cause filled in after analysis: counted by the reports, not announced
    "PartIssued",  # parts on a ticket: its cost, not news
    "PartReturned",
    "ServiceSheetSigned",  # the customer signed on the spot: the completion that follows is news
    "PartsArrivedForTicket",  # tickets resumes the waiting ticket (its log says so)
    "TicketAcknowledged",  # the first response per channel, counted by the reports
    "QuoteAccepted",  # parts lets the repair start (issuing parts); the page tells the customer
    "InvoiceRequested",  # for finance systems, not people
    # finance registered it; the 数电 invoice reaches the buyer through the tax platform's own
    # delivery (税务数字账户, e-mail or SMS), a paper one by post: another message would double it
    "InvoiceIssued",
    # finance withdrew a request or reversed an invoice (红冲): the red invoice reaches the buyer
    # through the tax platform like the blue one; the register shows who, when and why
    "InvoiceCancelled",
    "QuoteWithdrawn",  # the office withdrew it itself; the link tells the customer
    "ContractSubmitted",  # the review inbox updates live; the departments read it there
    "ContractReviewed",
    # an article's step: 技术部's review queue and the author's list update live; the author
    # reads a return there (no rule may name the author yet: `owner` reads owner_id)
    "KnowledgeArticleChanged",
}


@pytest.fixture(scope="module")
def notifier():
    return load_notifier(NotificationsSettings())


# ---------------------------------------------------------------- rules
def test_default_rules_cover_every_consumed_event(notifier):
    assert {r.event for r in notifier.rules.rules} == set(CONSUMED) - INFORMATIONAL
    # every deadline missed anywhere, of every producer, reaches someone
    late = {n for n in CONSUMED if n.endswith(("Overdue", "Missed", "Missing", "DueSoon"))}
    assert late <= {r.event for r in notifier.rules.rules}
    assert {c.PRODUCER for n in late for c in CONSUMED[n]} == {
        "contracts",
        "parts",
        "tickets",
        "dealers",
        "surveys",
    }


def test_expense_claims_reach_the_engineer_and_the_supervisors(notifier):
    """Overdue: the engineer who claims (assignee_id) and the supervisors; submitted: the
    supervisors who approve; approved, rejected, settled: the engineer."""
    expected = {
        "ExpenseClaimOverdue": ["assignee", "group:service_supervisor"],
        "ExpenseClaimSubmitted": ["group:service_supervisor"],
        "ExpenseClaimApproved": ["assignee"],
        "ExpenseClaimRejected": ["assignee"],
        "ExpenseClaimSettled": ["assignee"],
    }
    for name, recipients in expected.items():
        (rule,) = notifier.rules.for_event(sample(name).data)
        assert rule.recipients == recipients, name
    overdue = sample("ExpenseClaimOverdue").data
    assert overdue.assignee_id == "eng-zhang"
    late_approval = overdue.model_copy(update={"stage": "approval"})
    (rule,) = notifier.rules.for_event(late_approval)
    assert rule.id == "expense-claim-approval-overdue"
    assert rule.recipients == ["group:service_supervisor", "group:manager"]


def test_a_low_score_tells_the_supervisors_and_a_good_one_nobody(notifier):
    answered = sample("SurveyAnswered").data
    low = answered.model_copy(update={"low_score": True})
    good = answered.model_copy(update={"low_score": False})
    assert [r.id for r in notifier.rules.for_event(low)] == ["survey-low-score-supervisor"]
    assert notifier.rules.for_event(good) == []


def test_a_rule_names_an_event_by_name_or_type_and_may_take_a_range_of_versions(notifier):
    base = {"id": "r1", "template": "survey_invitation", "recipients": ["contact"]}
    only_v2 = parse_rules(
        {
            "rules": [
                base | {"event": "SurveyRequested", "versions": {"min": 2}, "channels": ["sms"]}
            ]
        }
    ).rules[0]
    assert [c.VERSION for c in only_v2.classes()] == [2]
    v1, v2 = (sample("SurveyRequested", cls).data for cls in CONSUMED["SurveyRequested"])
    assert not only_v2.matches(v1) and only_v2.matches(v2)
    by_type = parse_rules(
        {
            "rules": [
                base
                | {"event": "cn.aftersales.dealers.CardOverdue", "channels": ["sms"]}
                | {"template": "card_overdue", "recipients": ["dealer"]}
            ]
        }
    ).rules[0]
    assert by_type.event == "CardOverdue" and by_type.matches(sample("CardOverdue").data)
    with pytest.raises(RulesError, match="the type of CardOverdue is"):
        parse_rules(
            {"rules": [base | {"event": "cn.aftersales.tickets.CardOverdue", "channels": ["sms"]}]}
        )
    with pytest.raises(RulesError, match="has no version in 3"):
        parse_rules(
            {
                "rules": [
                    base | {"event": "SurveyRequested", "versions": {"min": 3}, "channels": ["sms"]}
                ]
            }
        )


def test_a_rules_file_naming_a_missing_field_is_refused_with_its_line(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "version: 1\n"
        "rules:\n"
        "  - id: fine\n"
        "    event: CardOverdue\n"
        "    template: card_overdue\n"
        "    recipients: [dealer]\n"
        "    channels: [sms]\n"
        "  - id: wrong\n"
        "    event: CardOverdue\n"
        "    template: card_overdue\n"
        "    recipients: [dealer]\n"
        "    channels: [sms]\n"
        "    when: {colour: {eq: red}}\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesError) as err:
        load_notifier(NotificationsSettings(rules_path=path))
    assert "line 8 (rules.1.when)" in str(err.value) and "'colour'" in str(err.value)
    assert "规则 wrong 的条件" in str(err.value)  # the rule and the field, in Chinese too
    assert err.value.problems == [
        {"rule": "wrong", "index": 1, "field": "when", "detail": err.value.problems[0]["detail"]}
    ]


def test_a_switched_off_rule_is_kept_but_never_applied(notifier):
    env = sample("TicketOpened")
    doc = {"rules": [r.model_dump(by_alias=True) for r in notifier.rules.rules]}
    for item in doc["rules"]:
        if item["id"] == "ticket-opened-ack":
            item["enabled"] = False
    switched = parse_rules(doc, notifier.templates.names)
    assert "ticket-opened-ack" in [r.id for r in switched.rules]
    assert "ticket-opened-ack" in [r.id for r in notifier.rules.for_event(env.data)]
    assert "ticket-opened-ack" not in [r.id for r in switched.for_event(env.data)]


def test_breach_reaches_supervisors_and_the_escalation_management(notifier):
    breach = sample("SlaBreached").data
    escalated = sample("SlaEscalated").data
    assert [r.id for r in notifier.rules.for_event(breach)] == ["sla-breached-supervisor"]
    assert [r.id for r in notifier.rules.for_event(escalated)] == ["sla-escalated-management"]
    assert all(r.is_urgent(breach) for r in notifier.rules.for_event(breach))
    assert all(r.is_urgent(escalated) for r in notifier.rules.for_event(escalated))
    for lang in ("zh-CN", "en"):  # the breach template renders the escalation too
        rule = notifier.rules.for_event(escalated)[0]
        sms = notifier.templates.render(
            rule.template, lang, escalated.model_dump(mode="json"), "【售后】", 200, "sms"
        ).sms
        assert "SV-20261120-0007" in sms and ("2级升级" in sms or "escalation 2" in sms)


def test_critical_ticket_ack_is_urgent_normal_is_not(notifier):
    env = sample("TicketOpened")
    rule = notifier.rules.for_event(env.data)[0]
    assert rule.is_urgent(env.data.model_copy(update={"urgency": "critical"}))
    assert not rule.is_urgent(env.data.model_copy(update={"urgency": "normal"}))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"event": "TicketClosed"}, "is not in the event catalog"),
        ({"recipients": ["everyone"]}, "unknown recipient selector"),
        ({"when": {"colour": {"eq": "red"}}}, "does not have"),
        ({"channels": ["fax"]}, "channels.0"),
        ({"surprise": 1}, "Extra inputs"),
        ({"template": "no_such_template"}, "unknown templates): no_such_template"),
    ],
)
def test_invalid_rules_are_refused_with_the_place_and_reason(notifier, rule, message):
    base = {
        "id": "r1",
        "event": "TicketOpened",
        "template": "ticket_opened",
        "recipients": ["contact"],
        "channels": ["sms"],
    }
    with pytest.raises(RulesError) as err:
        parse_rules({"rules": [base | rule]}, notifier.templates.names)
    assert message in str(err.value)


def test_duplicate_rule_ids_are_refused(notifier):
    rule = {
        "id": "r1",
        "event": "TicketOpened",
        "template": "ticket_opened",
        "recipients": ["contact"],
        "channels": ["sms"],
    }
    with pytest.raises(RulesError, match="appears twice"):
        parse_rules({"rules": [rule, rule]})


# ---------------------------------------------------------------- templates
@pytest.mark.parametrize(
    "rule_id", [r.id for r in load_notifier(NotificationsSettings()).rules.rules]
)
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_default_rule_renders_its_sample_event(notifier, rule_id, lang):
    rule = next(r for r in notifier.rules.rules if r.id == rule_id)
    for cls in rule.classes():  # every version the rule takes
        env = sample(rule.event, cls)
        context = env.data.model_dump(mode="python") | {
            "recipient_name": "张三",
            "event_id": env.id,
        }
        if "link_sealed" in context:  # v2 carries the link sealed: planning shows the masked one
            context["link"] = context["link_masked"]
        out = notifier.templates.render(rule.template, lang, context, "售后服务", 200)
        assert out.sms.startswith("【售后服务】") and len(out.sms) <= 200
        assert out.subject and out.text and out.html.startswith("<p>")
        assert "\n" not in out.subject


def test_chinese_ack_carries_ticket_and_local_time(notifier):
    env = sample("TicketOpened")
    out = notifier.templates.render(
        "ticket_opened",
        "zh-CN",
        env.data.model_dump(mode="python") | {"recipient_name": "王"},
        "售后服务",
        200,
    )
    assert "SV-20261120-0007" in out.sms and "紧急" in out.sms
    assert "2026-11-20 11:12" in out.text  # 03:12 UTC in Asia/Shanghai
    assert out.sms_params == {"ticket_no": "SV-20261120-0007"}


def test_strict_undefined_and_sandbox_and_escaping():
    spec = {
        lang: {
            "sms": "{{ missing_field }}",
            "subject": "s",
            "text": "t",
            "html": "<p>{{ name }}</p>",
        }
        for lang in ("zh-CN", "en")
    }
    t = Templates({"x": spec})
    with pytest.raises(TemplateDataError, match="missing_field"):
        t.render("x", "zh-CN", {"name": "a"}, "签名", 100)
    spec["zh-CN"]["sms"] = "{{ name.__class__.__mro__ }}"
    with pytest.raises(TemplateDataError, match="unsafe|SecurityError"):
        Templates({"x": spec}).render("x", "zh-CN", {"name": "a"}, "签名", 100)
    spec["zh-CN"]["sms"] = "hi"
    out = Templates({"x": spec}).render("x", "zh-CN", {"name": "<script>"}, "签名", 100)
    assert out.html == "<p>&lt;script&gt;</p>"


def test_templates_missing_a_language_or_with_bad_syntax_are_refused():
    good = {"sms": "a", "subject": "s", "text": "t", "html": "h"}
    with pytest.raises(RulesError, match="x.zh-CN: missing"):
        Templates({"x": {"en": good}})
    with pytest.raises(RulesError, match="x.en: missing"):
        Templates({"x": {"zh-CN": good, "en": "not a mapping"}})
    only_chinese = Templates({"x": {"zh-CN": good | {"sms": "你好{{ n }}"}}})
    assert only_chinese.render("x", "en", {"n": 1}, "售后", 70).sms == "【售后】你好1"
    with pytest.raises(RulesError, match=r"x.en.sms"):
        Templates({"x": {"zh-CN": good, "en": good | {"sms": "{{ oops"}}})


def test_sms_gets_signature_and_stays_within_limit():
    text = fit_sms("很长的内容" * 50, "售后服务", 70)
    assert text.startswith("【售后服务】") and len(text) == 70 and text.endswith("…")
    assert fit_sms("短信  内容\n第二行", "售后服务", 70) == "【售后服务】短信 内容 第二行"


# ---------------------------------------------------------------- timing
def at(hh: int, mm: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=SH).astimezone(UTC)


def test_quiet_hours_over_midnight_hold_until_morning():
    q = QuietHours.parse("22:00-08:00")
    assert q.release_at(at(23, 30), SH) == at(8, 0, day=26)
    assert q.release_at(at(3, 0), SH) == at(8, 0)
    assert q.release_at(at(12, 0), SH) is None
    assert q.release_at(at(22, 0), SH) == at(8, 0, day=26)
    assert q.release_at(at(8, 0), SH) is None
    day = QuietHours.parse("12:00-13:30")
    assert day.release_at(at(12, 10), SH) == at(13, 30)
    assert day.release_at(at(14, 0), SH) is None


def test_urgent_goes_through_quiet_hours_and_rate_limit():
    r = Recipient(
        key="k", name="n", quiet_hours=QuietHours.parse("22:00-08:00"), rate_limit_per_hour=1
    )
    now = at(3, 0)
    assert delivery_timing(r, True, now, [now, now]).due_at == now
    held = delivery_timing(r, False, now, [])
    assert held.held and held.due_at == at(8, 0) and "quiet" in held.reason


def test_rate_limit_spreads_messages_over_the_hour():
    r = Recipient(key="k", name="n", rate_limit_per_hour=2)
    now = at(12, 0)
    assert not delivery_timing(r, False, now, [now - timedelta(minutes=50)]).held
    t = delivery_timing(r, False, now, [now - timedelta(minutes=50), now - timedelta(minutes=10)])
    assert t.held and t.due_at == now + timedelta(minutes=10) and "rate limit 2/h" in t.reason
    old = [now - timedelta(minutes=70), now - timedelta(minutes=65)]
    assert not delivery_timing(r, False, now, old).held


def test_retry_back_off_is_exponential_and_capped():
    assert [retry_delay(n, 2, 30).total_seconds() for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]


# ---------------------------------------------------------------- addresses
def test_phone_numbers_are_normalised_or_refused_readably():
    assert normalize_phone("138 0013 8000") == "+8613800138000"
    assert normalize_phone("+86-139-0000-0000") == "+8613900000000"
    for bad, why in (
        ("12345", "无效"),
        ("021-62345678", "not a mobile"),
        ("abc", "cannot be parsed"),
    ):
        with pytest.raises(AddressError, match=why):
            normalize_phone(bad)


def test_emails_are_normalised_or_refused():
    assert normalize_email("Wang@Example.COM") == "Wang@example.com"
    with pytest.raises(AddressError, match="邮箱地址无效"):
        normalize_email("wang@@example")


def test_transactional_messages_never_wait_for_the_rate_limit(notifier):
    r = Recipient(key="k", name="n", rate_limit_per_hour=1)
    now = at(12, 0)
    full = [now - timedelta(minutes=5)]
    assert delivery_timing(r, False, now, full).held  # an alert waits
    assert not delivery_timing(r, False, now, full, rate_limited=False).held
    kinds = {rule.id: rule.kind.value for rule in notifier.rules.rules}
    for customer_facing in ("ticket-opened-ack", "survey-invitation", "ticket-assigned-customer"):
        assert kinds[customer_facing] == "transactional"
    assert kinds["sla-breached-supervisor"] == kinds["card-overdue"] == "alert"
