"""The knowledge base over HTTP: articles from completed tickets, their review by the technical
department, search, and suggestions for a ticket."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.errors import NotFound
from aftersales_shared.http import FromPath, JSONBody, Limit, Offset, QueryParameter, RowId
from aftersales_shared.service import Runtime

from ..schemas import (
    ArticleIn,
    ArticleOut,
    ArticlePage,
    ArticlePatch,
    ArticleStepOut,
    ArticleStepPage,
    CommentIn,
    KnowledgeHitOut,
    KnowledgeHitPage,
    PublishedArticleOut,
    ReviewIn,
)
from ..usecases import knowledge, knowledge_search
from .roles import AUTHORS, READERS

StatusQ = Annotated[str | None, QueryParameter(pattern="^(draft|submitted|approved|returned)$")]
Words = Annotated[
    str | None,
    QueryParameter(max_length=500, description="symptom, product or cause in Chinese (or not)"),
]
Short = Annotated[str | None, QueryParameter(max_length=100)]


def article_out(row: Any) -> ArticleOut:
    return ArticleOut.model_validate(row, from_attributes=True)


def hit_out(hit: knowledge_search.Hit) -> KnowledgeHitOut:
    return KnowledgeHitOut.model_validate(hit.article | {"score": hit.score})


class KnowledgeController(Controller):
    path = "/knowledge"
    tags = ["knowledge"]

    @post(
        "/articles",
        guards=[requires(*AUTHORS)],
        summary="Write a solution article from a completed ticket (prefilled from it)",
    )
    async def create(
        self, rt: NamedDependency[Runtime], data: JSONBody[ArticleIn], request: Request
    ) -> ArticleOut:
        given = data.changes(exclude=frozenset({"ticket_no"}))
        changes = {k: v for k, v in given.items() if v is not None}  # null: the ticket's
        async with rt.sessions.begin() as session:
            row = await knowledge.create_article(
                session, data.ticket_no, changes, request.user, utcnow()
            )
            return article_out(row)

    @get(
        "/articles",
        guards=[requires(*AUTHORS)],
        summary="Working copies (technical, supervisors: all — status=submitted is the review "
        "queue; authors: their own)",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        request: Request,
        status: StatusQ = None,
        author: Short = None,
        source_ticket_no: Annotated[str | None, QueryParameter(max_length=32)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ArticlePage:
        filters = knowledge.ArticleFilters(status, author, source_ticket_no)
        async with rt.sessions() as session:
            rows, total = await knowledge.list_articles(
                session, request.user, filters, limit, offset
            )
            items = [article_out(r) for r in rows]
            return ArticlePage(items=items, total=total, limit=limit, offset=offset)

    @get("/articles/{article_id:int}", guards=[requires(*AUTHORS)], summary="The working copy")
    async def get_one(
        self, rt: NamedDependency[Runtime], article_id: RowId, request: Request
    ) -> ArticleOut:
        async with rt.sessions() as session:
            return article_out(await knowledge.working_copy(session, article_id, request.user))

    @patch(
        "/articles/{article_id:int}",
        guards=[requires(*AUTHORS)],
        summary="Edit (the author): a new revision, a draft again",
    )
    async def edit(
        self,
        rt: NamedDependency[Runtime],
        article_id: RowId,
        data: JSONBody[ArticlePatch],
        request: Request,
    ) -> ArticleOut:
        async with rt.sessions.begin() as session:
            row = await knowledge.edit_article(
                session, article_id, data.changes(), request.user, utcnow()
            )
            return article_out(row)

    @post(
        "/articles/{article_id:int}/submit",
        guards=[requires(*AUTHORS)],
        status_code=200,
        summary="Submit for review by the technical department",
    )
    async def submit(
        self, rt: NamedDependency[Runtime], article_id: RowId, request: Request
    ) -> ArticleOut:
        async with rt.sessions.begin() as session:
            row = await knowledge.submit_article(session, article_id, request.user, utcnow())
            return article_out(row)

    @post(
        "/articles/{article_id:int}/approve",
        guards=[requires(Role.TECHNICAL)],
        status_code=200,
        summary="Approve (技术部): this revision becomes visible and searchable",
    )
    async def approve(
        self,
        rt: NamedDependency[Runtime],
        article_id: RowId,
        data: JSONBody[ReviewIn],
        request: Request,
    ) -> ArticleOut:
        async with rt.sessions.begin() as session:
            row = await knowledge.approve_article(
                session, article_id, data.comment, request.user, utcnow()
            )
            return article_out(row)

    @post(
        "/articles/{article_id:int}/return",
        guards=[requires(Role.TECHNICAL)],
        status_code=200,
        summary="Return to the author with a comment (技术部)",
    )
    async def return_(
        self,
        rt: NamedDependency[Runtime],
        article_id: RowId,
        data: JSONBody[CommentIn],
        request: Request,
    ) -> ArticleOut:
        async with rt.sessions.begin() as session:
            row = await knowledge.return_article(
                session, article_id, data.comment, request.user, utcnow()
            )
            return article_out(row)

    @post(
        "/articles/{article_id:int}/withdraw",
        guards=[requires(Role.TECHNICAL)],
        status_code=200,
        summary="Take a published article out of search (技术部), with the reason",
    )
    async def withdraw(
        self,
        rt: NamedDependency[Runtime],
        article_id: RowId,
        data: JSONBody[CommentIn],
        request: Request,
    ) -> ArticleOut:
        async with rt.sessions.begin() as session:
            row = await knowledge.withdraw_article(
                session, article_id, data.comment, request.user, utcnow()
            )
            return article_out(row)

    @get(
        "/articles/{article_id:int}/history",
        guards=[requires(*AUTHORS)],
        summary="Every step of an article: who, when, comment, content (append-only)",
    )
    async def history(
        self,
        rt: NamedDependency[Runtime],
        article_id: RowId,
        request: Request,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> ArticleStepPage:
        async with rt.sessions() as session:
            rows, total = await knowledge.article_history(
                session, article_id, request.user, limit, offset
            )
            items = [ArticleStepOut.model_validate(r) for r in rows]
            return ArticleStepPage(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/published/{article_id:int}",
        guards=[requires(*READERS)],
        summary="An approved article as agents, engineers and dealers see it",
    )
    async def published(
        self, rt: NamedDependency[Runtime], article_id: RowId
    ) -> PublishedArticleOut:
        async with rt.sessions() as session:
            data = await knowledge_search.published(session, article_id)
        if data is None:
            raise NotFound(f"知识文章{article_id}不存在或未发布 (no published knowledge article)")
        return PublishedArticleOut.model_validate(data)

    @get(
        "/search",
        guards=[requires(*READERS)],
        summary="Search approved articles by symptom text, product and cause (most similar first)",
    )
    async def search(
        self,
        rt: NamedDependency[Runtime],
        q: Words = None,
        product_model: Short = None,
        product_line: Short = None,
        cause_category: Annotated[str | None, QueryParameter(max_length=60)] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> KnowledgeHitPage:
        filters = knowledge_search.KnowledgeFilters(product_model, product_line, cause_category)
        async with rt.sessions() as session:
            hits, total = await knowledge_search.search(session, q, filters, limit, offset)
        items = [hit_out(h) for h in hits]
        return KnowledgeHitPage(items=items, total=total, limit=limit, offset=offset)


class SuggestionController(Controller):
    path = "/tickets"
    tags = ["knowledge"]

    @get(
        "/{no:str}/suggestions",
        guards=[requires(*READERS)],
        summary="Approved articles most similar to this ticket's description and product (top 3)",
    )
    async def suggestions(
        self,
        rt: NamedDependency[Runtime],
        no: FromPath[str],
        request: Request,
        limit: Annotated[int, QueryParameter(ge=1, le=10)] = knowledge_search.SUGGESTIONS,
    ) -> list[KnowledgeHitOut]:
        async with rt.sessions() as session:
            hits = await knowledge_search.suggestions(session, no, request.user, limit)
        return [hit_out(h) for h in hits]


__all__ = ["KnowledgeController", "SuggestionController"]
