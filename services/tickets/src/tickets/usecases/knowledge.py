"""Knowledge articles from completed tickets: write (prefilled from the ticket), submit, review by
the technical department (approve → published, or return with a comment), withdraw. Every step is
kept in the article's history with who, when and the content as it was."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal, Role
from aftersales_shared.errors import Conflict, Forbidden, NotFound
from aftersales_shared.events import Envelope, KnowledgeArticleChangedV1
from aftersales_shared.outbox import enqueue

from ..domain import Status
from ..knowledge import (
    ArticleContent,
    ArticleStatus,
    TicketFacts,
    check_article_transition,
    prefill,
    require_comment,
    require_other_reviewer,
    require_ready_for_review,
)
from ..models import KnowledgeArticleRow, KnowledgeRevisionRow, ProgressRow
from .access import load
from .knowledge_search import publish, unpublish

# who sees every working copy (drafts, submitted, returned); an author sees their own
OVERSEERS = (Role.TECHNICAL, Role.SERVICE_SUPERVISOR)
CONTENT_FIELDS = tuple(ArticleContent.__dataclass_fields__)
STEP_KINDS = ("action", "parts")  # progress entries that say what was done


@dataclass(frozen=True)
class ArticleFilters:
    status: str | None = None
    author: str | None = None
    source_ticket_no: str | None = None


def _not_found(article_id: int) -> NotFound:
    return NotFound(f"知识文章{article_id}不存在 (knowledge article not found)")


def content_of(row: KnowledgeArticleRow) -> ArticleContent:
    return ArticleContent.from_dict({f: getattr(row, f) for f in CONTENT_FIELDS})


def _apply(row: KnowledgeArticleRow, content: ArticleContent) -> None:
    for name, value in content.as_dict().items():
        setattr(row, name, value)


async def _history(
    session: AsyncSession,
    row: KnowledgeArticleRow,
    action: str,
    user: Principal,
    now: datetime,
    comment: str | None = None,
) -> None:
    """Append one step to the article's history (append-only: it is the audit trail) and tell
    whoever follows the article (KnowledgeArticleChanged, in the step's transaction: outbox)."""
    session.add(
        KnowledgeRevisionRow(
            article_id=row.id,
            revision=row.revision,
            action=action,
            actor=user.subject,
            actor_roles=sorted(r.value for r in user.roles),
            at=now,
            comment=comment,
            content=content_of(row).as_dict(),
        )
    )
    await enqueue(
        session,
        Envelope(
            subject=str(row.id),
            data=KnowledgeArticleChangedV1(
                article_id=row.id,
                ticket_no=row.source_ticket_no,
                title=row.title,
                product_model=row.product_model,
                product_line=row.product_line,
                change=action,
                status=row.status,
                revision=row.revision,
                published_revision=row.published_revision,
                changed_at=now,
                changed_by=user.subject,
                author_id=row.author,
                comment=comment,
            ),
        ),
    )


async def _ticket_facts(session: AsyncSession, ticket: Any) -> TicketFacts:
    rows = (
        await session.execute(
            select(ProgressRow.kind, ProgressRow.text, ProgressRow.parts)
            .where(ProgressRow.ticket_id == ticket.id)
            .order_by(ProgressRow.id)
        )
    ).all()
    return TicketFacts(
        ticket_no=ticket.ticket_no,
        description=ticket.description,
        product_model=ticket.product_model,
        actions=[r.text for r in rows if r.kind in STEP_KINDS],
        parts=[p for r in rows for p in (r.parts or [])],
    )


async def create_article(
    session: AsyncSession, ticket_no: str, changes: dict[str, Any], user: Principal, now: datetime
) -> KnowledgeArticleRow:
    """A draft from a completed ticket the caller may see: prefilled from it, `changes` on top."""
    ticket = await load(session, ticket_no, user, lock=True)  # one article per ticket: serialised
    if ticket.status != Status.COMPLETED.value:
        raise Conflict(
            f"工单{ticket.ticket_no}尚未完成，不能生成知识文章 "
            "(only a completed ticket becomes a knowledge article)"
        )
    existing = await session.scalar(
        select(KnowledgeArticleRow.id).where(
            KnowledgeArticleRow.source_ticket_no == ticket.ticket_no
        )
    )
    if existing is not None:
        raise _one_per_ticket(ticket.ticket_no, existing)
    content = prefill(await _ticket_facts(session, ticket)).changed(**changes)
    row = KnowledgeArticleRow(
        source_ticket_no=ticket.ticket_no,
        source_ticket_id=ticket.id,
        status=ArticleStatus.DRAFT.value,
        revision=1,
        author=user.subject,
        created_at=now,
        updated_at=now,
        **content.as_dict(),
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # SQLite has no row lock: a concurrent writer got there first
        raise _one_per_ticket(ticket.ticket_no, None) from None
    await _history(session, row, "created", user, now)
    return row


def _one_per_ticket(ticket_no: str, existing: int | None) -> Conflict:
    which = "" if existing is None else str(existing)
    en = "a knowledge article" if existing is None else f"knowledge article {existing}"
    return Conflict(
        f"工单{ticket_no}已有知识文章{which}，请修改该文章 "
        f"(ticket already has {en}: edit that one)",
        article_id=existing,
    )


def may_see_working_copy(row: KnowledgeArticleRow, user: Principal) -> bool:
    return user.has(*OVERSEERS) or row.author == user.subject


async def working_copy(
    session: AsyncSession, article_id: int, user: Principal, lock: bool = False
) -> KnowledgeArticleRow:
    """An article as its author and the overseers see it (404 for anyone else, as for none)."""
    query = select(KnowledgeArticleRow).where(KnowledgeArticleRow.id == article_id)
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None or not may_see_working_copy(row, user):
        raise _not_found(article_id)
    return row


def _require_author(row: KnowledgeArticleRow, user: Principal) -> None:
    if row.author != user.subject and Role.ADMIN not in user.roles:
        raise Forbidden(
            f"只有作者可以修改或提交知识文章{row.id} (only the author edits or submits an article)"
        )


async def edit_article(
    session: AsyncSession, article_id: int, changes: dict[str, Any], user: Principal, now: datetime
) -> KnowledgeArticleRow:
    """A new revision of the working copy (a draft again; a published revision stays published
    until the next is approved). Sending what is already there changes nothing."""
    row = await working_copy(session, article_id, user, lock=True)
    _require_author(row, user)
    target = check_article_transition("edit", ArticleStatus(row.status), row.id)
    content = content_of(row).changed(**changes)
    if content == content_of(row):
        return row
    _apply(row, content)
    row.status, row.revision, row.updated_at = target.value, row.revision + 1, now
    await _history(session, row, "edited", user, now)
    await session.flush()
    return row


async def submit_article(
    session: AsyncSession, article_id: int, user: Principal, now: datetime
) -> KnowledgeArticleRow:
    row = await working_copy(session, article_id, user, lock=True)
    _require_author(row, user)
    target = check_article_transition("submit", ArticleStatus(row.status), row.id)
    require_ready_for_review(content_of(row), row.id)
    row.status, row.submitted_at, row.updated_at = target.value, now, now
    await _history(session, row, "submitted", user, now)
    await session.flush()
    return row


async def approve_article(
    session: AsyncSession, article_id: int, comment: str | None, user: Principal, now: datetime
) -> KnowledgeArticleRow:
    """The technical department's yes: this revision becomes the one search finds."""
    row = await working_copy(session, article_id, user, lock=True)
    target = check_article_transition("approve", ArticleStatus(row.status), row.id)
    require_other_reviewer(row.author, user.subject, row.id)
    _reviewed(row, target, comment, user, now)
    row.published_revision = row.revision
    await publish(
        session, row.id, row.revision, row.source_ticket_no, content_of(row), user.subject, now
    )
    await _history(session, row, "approved", user, now, comment)
    await session.flush()
    return row


async def return_article(
    session: AsyncSession, article_id: int, comment: str | None, user: Principal, now: datetime
) -> KnowledgeArticleRow:
    """The technical department's no, with what to change; a published revision stays."""
    row = await working_copy(session, article_id, user, lock=True)
    target = check_article_transition("return", ArticleStatus(row.status), row.id)
    require_other_reviewer(row.author, user.subject, row.id)
    reason = require_comment(comment, row.id)
    _reviewed(row, target, reason, user, now)
    await _history(session, row, "returned", user, now, reason)
    await session.flush()
    return row


def _reviewed(
    row: KnowledgeArticleRow,
    target: ArticleStatus,
    comment: str | None,
    user: Principal,
    now: datetime,
) -> None:
    row.status, row.updated_at = target.value, now
    row.reviewed_by, row.reviewed_at, row.review_comment = user.subject, now, comment


async def withdraw_article(
    session: AsyncSession, article_id: int, reason: str | None, user: Principal, now: datetime
) -> KnowledgeArticleRow:
    """Take a published article out of search (found wrong or outdated); its author may revise
    it and submit again."""
    row = await working_copy(session, article_id, user, lock=True)
    reason = require_comment(reason, row.id)
    if row.published_revision is None:
        raise Conflict(
            f"知识文章{row.id}未发布，无需撤回 (only a published article can be withdrawn)"
        )
    await unpublish(session, row.id)
    row.published_revision = None
    if row.status == ArticleStatus.APPROVED.value:
        row.status = ArticleStatus.RETURNED.value
    row.reviewed_by, row.reviewed_at, row.review_comment = user.subject, now, reason
    row.updated_at = now
    await _history(session, row, "withdrawn", user, now, reason)
    await session.flush()
    return row


async def list_articles(
    session: AsyncSession, user: Principal, filters: ArticleFilters, limit: int, offset: int
) -> tuple[list[KnowledgeArticleRow], int]:
    """Working copies: the overseers see all (e.g. `status=submitted`: the review queue), an
    author their own."""
    query = select(KnowledgeArticleRow)
    if not user.has(*OVERSEERS):
        query = query.where(KnowledgeArticleRow.author == user.subject)
    for name in ("status", "author", "source_ticket_no"):
        value = getattr(filters, name)
        if value:
            query = query.where(getattr(KnowledgeArticleRow, name) == value)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(KnowledgeArticleRow.updated_at.desc(), KnowledgeArticleRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


async def article_history(
    session: AsyncSession, article_id: int, user: Principal, limit: int, offset: int
) -> tuple[list[KnowledgeRevisionRow], int]:
    """Every step of an article, oldest first."""
    await working_copy(session, article_id, user)
    query = select(KnowledgeRevisionRow).where(KnowledgeRevisionRow.article_id == article_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(KnowledgeRevisionRow.id).limit(limit).offset(offset)
    )
    return list(rows), total
