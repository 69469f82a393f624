"""Knowledge-base rules and search terms without a database: review states, what review needs, the
draft a ticket suggests, jieba terms with the trade's synonyms, the ts_rank the SQLite fallback
computes."""

from __future__ import annotations

import pytest

from aftersales_shared.errors import Conflict, DomainError
from tickets import textsearch
from tickets.knowledge import (
    ArticleContent,
    ArticleStatus,
    PartUsed,
    TicketFacts,
    check_article_transition,
    prefill,
    require_comment,
    require_other_reviewer,
    require_ready_for_review,
    similarity,
)


def test_review_states():
    assert check_article_transition("submit", ArticleStatus.RETURNED, 1) is ArticleStatus.SUBMITTED
    assert check_article_transition("edit", ArticleStatus.APPROVED, 1) is ArticleStatus.DRAFT
    assert check_article_transition("approve", ArticleStatus.SUBMITTED, 1) is ArticleStatus.APPROVED
    for action, status in [
        ("approve", ArticleStatus.DRAFT),
        ("return", ArticleStatus.APPROVED),
        ("edit", ArticleStatus.SUBMITTED),
        ("submit", ArticleStatus.APPROVED),
    ]:
        with pytest.raises(Conflict, match=f"cannot {action} an article that is {status.value}"):
            check_article_transition(action, status, 7)
    with pytest.raises(Conflict, match="other than its author"):
        require_other_reviewer("tech-li", "tech-li", 7)
    require_other_reviewer("eng-zhang", "tech-li", 7)
    with pytest.raises(DomainError, match="returned"):
        require_comment("   ", 7)


def test_review_needs_symptom_cause_and_steps():
    bare = ArticleContent(title="t", symptom=" ")
    with pytest.raises(DomainError) as caught:
        require_ready_for_review(bare, 3)
    assert caught.value.extra["missing"] == ["symptom", "cause or cause_category", "steps"]
    assert "故障现象、故障原因或原因类别、处理步骤" in caught.value.message
    require_ready_for_review(bare.changed(symptom="异响", cause_category="wear", steps=["换"]), 3)


def test_a_completed_ticket_suggests_its_draft():
    facts = TicketFacts(
        ticket_no="SV-20261130-0001",
        description="主轴异响\n11月24日开始",
        product_model="XK-200",
        actions=["拆检主轴", " ", "更换轴承"],
        parts=[{"name": "轴承", "quantity": 2}, {"name": "油封", "quantity": 1}, {"name": "轴承"}],
    )
    draft = prefill(facts)
    assert draft.title == "XK-200 主轴异响" and draft.symptom == facts.description
    assert draft.steps == ("拆检主轴", "更换轴承") and draft.product_model == "XK-200"
    assert draft.parts == (PartUsed("轴承", 2), PartUsed("油封", 1))
    assert ArticleContent.from_dict(draft.as_dict()) == draft


def test_terms_fold_the_trades_synonyms_and_drop_what_every_request_says():
    assert textsearch.terms("主轴有噪音，11月24日开始") == ["主轴", "异响"]
    assert "异响" in textsearch.terms("开机后异常声响")
    assert textsearch.terms("ＸＫ－２００电机发烫 告警") == ["xk200", "电机", "过热", "报警"]
    assert textsearch.terms("轴承6205.2RS，HP-50/2") == ["轴承", "62052rs", "hp502"]
    assert textsearch.terms("客户反映设备出现问题") == []
    # only letters, digits and CJK reach a query: nothing for tsquery or FTS5 to parse as syntax
    query = textsearch.query_terms('主轴\' | !(& "异响" :* OR NEAR')
    assert query == ["主轴", "异响", "or", "near"]
    assert textsearch.tsquery(query) == "主轴 | 异响 | or | near"
    assert textsearch.fts5_query(query) == '"主轴" OR "异响" OR "or" OR "near"'
    assert len(textsearch.query_terms(" ".join(f"part{n:03d}" for n in range(40)))) == 16


def test_ts_rank_as_postgresql_computes_it():
    one = 1 / 1.64493406685  # a term found once with weight A
    assert textsearch.ts_rank(["主轴"], ("主轴 异响", "", "")) == pytest.approx(one)
    assert textsearch.ts_rank(["主轴", "电机"], ("主轴", "", "")) == pytest.approx(one / 2)
    assert textsearch.ts_rank(["主轴"], ("", "", "主轴")) == pytest.approx(0.2 * one)
    # repeats add w/j² (the heaviest counted first): once in A, once in C
    assert textsearch.ts_rank(["主轴"], ("主轴", "", "主轴")) == pytest.approx(
        (1.0 + 0.2 / 4) / 1.64493406685
    )
    assert textsearch.ts_rank(["主轴"], ("", "主轴", "主轴 主轴")) == pytest.approx(
        (0.4 + 0.2 / 4 + 0.2 / 9) / 1.64493406685
    )
    assert textsearch.ts_rank(["x"], ("", "", "")) == 0
    assert similarity(one) == 1.0 and similarity(one / 2) == 0.5 and similarity(3 * one) == 1.0


def test_a_query_is_cut_precisely_an_article_with_the_words_inside():
    assert textsearch.query_terms("润滑泵漏油") == ["润滑泵", "漏油"]
    assert {"润滑", "润滑泵"} <= set(textsearch.terms("润滑泵漏油"))


def test_common_terms_rank_but_select_only_when_nothing_else_is_left():
    from tickets.usecases.knowledge_search import common_terms, match_terms

    common = common_terms(["开机", "主轴", "异响"], [0.2, 0.051, 0.05, 0.05, 0.2, 0.0])
    assert common == {"开机", "主轴"}
    assert match_terms(["主轴", "异响", "开机"], common) == ["异响"]
    assert match_terms(["主轴", "开机"], common) == ["主轴", "开机"]
    assert common_terms(None, None) == frozenset()
