"""Knowledge-base rules: an article's review states, what a draft needs before review, the four
eyes of its review, and the draft a completed ticket suggests. Pure Python: no web, broker or
ORM."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from aftersales_shared.errors import Conflict, DomainError


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for the technical department
    APPROVED = "approved"  # the working copy is the published revision
    RETURNED = "returned"  # sent back with a comment


STATUS_ZH = {
    ArticleStatus.DRAFT: "草稿",
    ArticleStatus.SUBMITTED: "待审核",
    ArticleStatus.APPROVED: "已发布",
    ArticleStatus.RETURNED: "已退回",
}

# action → (statuses it is allowed in, status after it). Editing an approved article starts a new
# revision (a draft again); the approved revision stays published until the next one is approved.
ARTICLE_TRANSITIONS: dict[str, tuple[frozenset[ArticleStatus], ArticleStatus]] = {
    "edit": (
        frozenset({ArticleStatus.DRAFT, ArticleStatus.RETURNED, ArticleStatus.APPROVED}),
        ArticleStatus.DRAFT,
    ),
    "submit": (frozenset({ArticleStatus.DRAFT, ArticleStatus.RETURNED}), ArticleStatus.SUBMITTED),
    "approve": (frozenset({ArticleStatus.SUBMITTED}), ArticleStatus.APPROVED),
    "return": (frozenset({ArticleStatus.SUBMITTED}), ArticleStatus.RETURNED),
}

ACTION_ZH = {"edit": "修改", "submit": "提交审核", "approve": "审核通过", "return": "退回"}


def check_article_transition(action: str, status: ArticleStatus, article_id: int) -> ArticleStatus:
    """The status after `action`, or Conflict naming why it is not allowed now."""
    allowed, target = ARTICLE_TRANSITIONS[action]
    if status not in allowed:
        raise Conflict(
            f"知识文章{article_id}当前状态为“{STATUS_ZH[status]}”，不能{ACTION_ZH[action]} "
            f"(cannot {action} an article that is {status.value})",
            status=status.value,
        )
    return target


@dataclass(frozen=True)
class PartUsed:
    name: str
    quantity: int


@dataclass(frozen=True)
class ArticleContent:
    """What an article says: plain text and a cause category string, so it can be joined with a
    fault-cause catalogue later without depending on it."""

    title: str
    symptom: str
    cause_category: str | None = None
    cause: str | None = None
    steps: tuple[str, ...] = ()
    parts: tuple[PartUsed, ...] = ()
    product_model: str | None = None
    product_line: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["steps"] = list(self.steps)
        data["parts"] = [asdict(p) for p in self.parts]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArticleContent:
        return cls(
            title=data["title"],
            symptom=data["symptom"],
            cause_category=data.get("cause_category"),
            cause=data.get("cause"),
            steps=tuple(data.get("steps") or ()),
            parts=tuple(PartUsed(p["name"], p["quantity"]) for p in data.get("parts") or ()),
            product_model=data.get("product_model"),
            product_line=data.get("product_line"),
        )

    def changed(self, **values: Any) -> ArticleContent:
        """A copy with the given fields replaced (steps and parts as sequences)."""
        if "steps" in values:
            values["steps"] = tuple(values["steps"])
        if "parts" in values:
            values["parts"] = tuple(values["parts"])
        return replace(self, **values)


@dataclass(frozen=True)
class TicketFacts:
    """What a completed ticket tells an article: its description, product and the work logged."""

    ticket_no: str
    description: str
    product_model: str | None
    actions: list[str] = field(default_factory=list)  # what the progress log says was done
    parts: list[dict[str, Any]] = field(default_factory=list)  # every part logged, repeats included


TITLE_LENGTH = 60


def prefill(facts: TicketFacts) -> ArticleContent:
    """The draft a completed ticket suggests: its description as the symptom, its logged actions
    as the steps, the parts it used (summed by name), its product model; a title from the first
    line."""
    first_line = facts.description.strip().splitlines()[0] if facts.description.strip() else ""
    title = " ".join(filter(None, [facts.product_model, first_line]))[:TITLE_LENGTH]
    return ArticleContent(
        title=title or facts.ticket_no,
        symptom=facts.description,
        steps=tuple(a for a in facts.actions if a.strip()),
        parts=summed_parts(facts.parts),
        product_model=facts.product_model,
    )


def summed_parts(logged: Iterable[dict[str, Any]]) -> tuple[PartUsed, ...]:
    """Parts logged on a ticket, one line per name with the quantities added, first-used first."""
    totals: dict[str, int] = {}
    for part in logged:
        name = str(part.get("name", "")).strip()
        if name:
            totals[name] = totals.get(name, 0) + int(part.get("quantity") or 0)
    return tuple(PartUsed(n, q) for n, q in totals.items())


def require_ready_for_review(content: ArticleContent, article_id: int) -> None:
    """A reviewer gets an article that says what was seen, why, and what fixed it."""
    missing = []
    if not content.symptom.strip():
        missing.append(("故障现象", "symptom"))
    if not (content.cause or "").strip() and not (content.cause_category or "").strip():
        missing.append(("故障原因或原因类别", "cause or cause_category"))
    if not any(s.strip() for s in content.steps):
        missing.append(("处理步骤", "steps"))
    if missing:
        raise DomainError(
            f"知识文章{article_id}缺少{'、'.join(zh for zh, _ in missing)}，不能提交审核 "
            f"(cannot submit for review without: {', '.join(en for _, en in missing)})",
            missing=[en for _, en in missing],
        )


def require_other_reviewer(author: str, reviewer: str, article_id: int) -> None:
    """Four eyes: nobody approves or returns the article they wrote."""
    if author == reviewer:
        raise Conflict(
            f"不能审核自己撰写的知识文章{article_id}，请由技术部其他人员审核 "
            "(an article is reviewed by someone other than its author)"
        )


def require_comment(comment: str | None, article_id: int) -> str:
    """A returned article tells its author what to change."""
    if not (comment or "").strip():
        raise DomainError(f"退回知识文章{article_id}须写明原因 (say why the article is returned)")
    return (comment or "").strip()


# ts_rank of a query term found once in the symptom (weight A): 1 / (sum of 1/i²)
RANK_OF_ONE_TERM_IN_SYMPTOM = 1 / 1.64493406685
SCORE_NOTE = (
    "how similar, 0–1: the share of the query's words found in the article's title or symptom "
    "(words found only in its cause, product or steps count less; ts_rank scaled, capped at 1)"
)


def similarity(rank: float) -> float:
    """ts_rank of an OR query as a 0–1 score: 1.0 when every word of the query is in the title
    or symptom (ts_rank averages its terms' weights over the query's words)."""
    return round(min(1.0, max(rank, 0.0) / RANK_OF_ONE_TERM_IN_SYMPTOM), 3)
