"""Events owned by the tickets service about its knowledge base (知识库); apart from tickets.py
only to keep that file short."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .base import EventData, event


@event
class KnowledgeArticleChangedV1(EventData):
    """A knowledge article written from a completed ticket moved a step: created, edited,
    submitted for review, approved (published), returned to its author with a comment, or
    withdrawn from search. The technical department's review queue and the author's list follow
    it. Says what the article is called and where it stands — never what it says about the
    customer (no symptom, cause or steps text)."""

    NAME = "KnowledgeArticleChanged"
    VERSION = 1
    PRODUCER = "tickets"

    article_id: int
    ticket_no: str = Field(description="the completed ticket the article was written from")
    title: str
    product_model: str | None = None
    product_line: str | None = None
    change: Literal["created", "edited", "submitted", "approved", "returned", "withdrawn"]
    status: str = Field(description="draft | submitted | approved | returned (after the change)")
    revision: int = Field(ge=1, description="the working copy's revision after the change")
    published_revision: int | None = Field(
        default=None, description="the revision search finds (None: not published)"
    )
    changed_at: datetime
    changed_by: str
    author_id: str = Field(description="who wrote the article (its author edits and submits)")
    comment: str | None = Field(
        default=None,
        description="returned: what the author should change; withdrawn: why; approved: the "
        "reviewer's optional comment",
    )
