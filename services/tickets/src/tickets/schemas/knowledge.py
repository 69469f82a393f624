"""The knowledge base: articles, their review and history, what readers find."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field

from aftersales_shared.patch import NoNullsUnlessClearable
from aftersales_shared.schemas import In, Out, Page

from ..knowledge import SCORE_NOTE, PartUsed

Step = Annotated[str, Field(min_length=1, max_length=2000)]


class PartUsedIn(In):
    name: str = Field(min_length=1, max_length=100)
    quantity: int = Field(gt=0, le=10000)


class _ArticleFields(In):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    symptom: str | None = Field(
        default=None, min_length=1, max_length=4000, description="故障现象 (what was seen)"
    )
    cause_category: str | None = Field(
        default=None,
        max_length=60,
        description="故障原因类别, e.g. design, material, manufacturing, transport, installation, "
        "misuse, wear, unknown (a plain string, joinable with a fault-cause catalogue)",
    )
    cause: str | None = Field(default=None, max_length=4000, description="故障原因")
    steps: list[Step] | None = Field(default=None, max_length=50, description="处理步骤, in order")
    parts: list[PartUsedIn] | None = Field(default=None, max_length=50)
    product_model: str | None = Field(default=None, max_length=100)
    product_line: str | None = Field(default=None, max_length=100)

    def changes(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The fields sent (PATCH) or given (create), parts as PartUsed."""
        data = self.model_dump(exclude_unset=True, exclude=set(exclude))
        if data.get("parts") is not None:
            data["parts"] = [PartUsed(p["name"], p["quantity"]) for p in data["parts"]]
        return data


class ArticleIn(_ArticleFields):
    """A draft from a completed ticket; a field left out is taken from the ticket."""

    ticket_no: str = Field(min_length=1, max_length=32)


class ArticlePatch(NoNullsUnlessClearable, _ArticleFields):
    """A new revision: a field left out keeps its value."""

    clearable: ClassVar[frozenset[str]] = frozenset(
        {"cause_category", "cause", "product_model", "product_line"}
    )


class ReviewIn(In):
    comment: str | None = Field(default=None, max_length=2000)


class CommentIn(In):
    comment: str = Field(min_length=1, max_length=2000, description="why (the author reads it)")


class PartUsedOut(Out):
    name: str
    quantity: int


class _ArticleContentOut(Out):
    source_ticket_no: str
    title: str
    symptom: str
    cause_category: str | None
    cause: str | None
    steps: list[str]
    parts: list[PartUsedOut]
    product_model: str | None
    product_line: str | None


class ArticleOut(_ArticleContentOut):
    """The working copy and where it stands in review."""

    id: int
    status: str
    revision: int
    published_revision: int | None
    author: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_comment: str | None


ArticlePage = Page[ArticleOut]


class ArticleStepOut(Out):
    """One step of an article's history (append-only)."""

    id: int
    revision: int
    action: str
    actor: str
    actor_roles: list[str]
    at: datetime
    comment: str | None
    content: dict


ArticleStepPage = Page[ArticleStepOut]


class PublishedArticleOut(_ArticleContentOut):
    """The approved revision of an article: what readers see."""

    article_id: int
    revision: int
    approved_by: str
    approved_at: datetime


class KnowledgeHitOut(PublishedArticleOut):
    score: float | None = Field(description=SCORE_NOTE + "; null when no words were searched")


KnowledgeHitPage = Page[KnowledgeHitOut]
