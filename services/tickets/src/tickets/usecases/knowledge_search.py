"""Finding solved problems: the published revisions of knowledge articles, searched by the jieba
terms of a description (PostgreSQL: `tsvector` + GIN + ts_rank; SQLite: FTS5 and the same rank
computed here), filtered by product and cause, and suggested for a ticket from its description and
product.

Only approved revisions are in `knowledge_published`, so nothing unapproved can be found."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    delete,
    func,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal

from .. import textsearch
from ..knowledge import ArticleContent, similarity
from ..models import KnowledgePublishedRow
from .access import load

P = KnowledgePublishedRow.__table__
SIMPLE = literal_column("'simple'::regconfig")
SUGGESTIONS = 3
# SQLite FTS5 columns: the sections of the tsvector's weights A, B, C
FTS_COLUMNS = ("head", "cause", "product")


@dataclass(frozen=True)
class KnowledgeFilters:
    """Equality filters on the published revision (unset: any)."""

    product_model: str | None = None
    product_line: str | None = None
    cause_category: str | None = None
    exclude_ticket_no: str | None = None  # a ticket's own article is no suggestion for it


@dataclass(frozen=True)
class Hit:
    """One published article and how similar it is to the query (None when nothing was asked)."""

    article: dict[str, Any]
    score: float | None


def sections(content: ArticleContent) -> tuple[str, str, str]:
    """The terms of an article by weight: what was seen (A: title, symptom), why (B: cause),
    on what (C: product). The steps are not searched: their words (检查, 更换, 润滑…) are in most
    articles and would match them all."""
    return (
        textsearch.document(content.title, content.symptom),
        textsearch.document(content.cause_category, content.cause),
        textsearch.document(content.product_model, content.product_line),
    )


def tsvector_of(terms: tuple[str, ...]) -> ColumnElement[Any]:
    """setweight(to_tsvector('simple', A), 'A') || … || setweight(…, 'C')."""
    weighted = [
        func.setweight(func.to_tsvector(SIMPLE, t), literal_column(f"'{w}'"))
        for t, w in zip(terms, "ABC")
    ]
    return reduce(lambda a, b: a.op("||")(b), weighted)


async def publish(
    session: AsyncSession,
    article_id: int,
    revision: int,
    source_ticket_no: str,
    content: ArticleContent,
    approved_by: str,
    now: datetime,
) -> None:
    """Make `revision` the one search finds and readers see (replacing an earlier one)."""
    sqlite = session.bind.dialect.name == "sqlite"
    terms = sections(content)
    await unpublish(session, article_id)
    values = content.as_dict() | {
        "article_id": article_id,
        "revision": revision,
        "source_ticket_no": source_ticket_no,
        "approved_by": approved_by,
        "approved_at": now,
        "search_vector": None if sqlite else tsvector_of(terms),
    }
    await session.execute(P.insert().values(**values))
    if sqlite:
        await session.execute(
            text(
                f"INSERT INTO knowledge_fts (rowid, {', '.join(FTS_COLUMNS)}) "
                "VALUES (:id, :a, :b, :c)"
            ),
            {"id": article_id, **dict(zip("abc", terms))},
        )


async def unpublish(session: AsyncSession, article_id: int) -> bool:
    """Take an article out of search; whether it was in."""
    gone = await session.execute(delete(P).where(P.c.article_id == article_id))
    if session.bind.dialect.name == "sqlite":
        await session.execute(
            text("DELETE FROM knowledge_fts WHERE rowid = :id"), {"id": article_id}
        )
    return bool(gone.rowcount)


async def published(session: AsyncSession, article_id: int) -> dict[str, Any] | None:
    row = (await session.execute(_columns().where(P.c.article_id == article_id))).first()
    return dict(row._mapping) if row else None


def _columns() -> Select[Any]:
    return select(*(c for c in P.c if c.name != "search_vector"))


def _filtered(stmt: Select[Any], f: KnowledgeFilters) -> Select[Any]:
    for column in ("product_model", "product_line", "cause_category"):
        value = getattr(f, column)
        if value:
            stmt = stmt.where(P.c[column] == value)
    if f.exclude_ticket_no:
        stmt = stmt.where(P.c.source_ticket_no != f.exclude_ticket_no)
    return stmt


def pg_statement(
    terms: list[str], filters: KnowledgeFilters, limit: int, offset: int, match: list[str] | None
) -> Select[Any]:
    """PostgreSQL: the published articles holding any of the `match` terms (default: all terms)
    ranked by ts_rank over all `terms`, one page of them and how many match in all (the benchmark
    runs this very statement through raw asyncpg as its baseline)."""

    def tsquery(words: list[str], name: str) -> Any:
        return (
            func.to_tsquery(SIMPLE, textsearch.tsquery(words))
            .table_valued("q")
            .render_derived(name=name)
        )

    ranked = tsquery(terms, "ranked")
    wanted = tsquery(match or terms, "wanted")
    rank = func.ts_rank(P.c.search_vector, ranked.c.q)
    stmt = (
        _columns()
        .add_columns(rank.label("rank"), func.count().over().label("total"))
        .select_from(P.join(ranked, true()).join(wanted, true()))
        .where(P.c.search_vector.op("@@")(wanted.c.q))
    )
    return (
        _filtered(stmt, filters)
        .order_by(rank.desc(), P.c.article_id.desc())
        .limit(limit)
        .offset(offset)
    )


# a term in more than this share of the published articles (PostgreSQL's own statistics of the
# tsvector column, kept by ANALYZE/autovacuum) ranks but does not select: matching on it alone
# would rank a large part of the knowledge base for little
COMMON_SHARE = 0.05
COMMON_TERMS_SQL = (
    "SELECT most_common_elems::text::text[] AS elems, most_common_elem_freqs AS freqs "
    "FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'knowledge_published' "
    "AND attname = 'search_vector'"
)


def common_terms(elems: list[str] | None, freqs: list[float] | None) -> frozenset[str]:
    return frozenset(e for e, f in zip(elems or [], freqs or []) if f > COMMON_SHARE)


def match_terms(terms: list[str], common: frozenset[str]) -> list[str]:
    """The terms that select articles: the uncommon ones, or all when every one is common."""
    return [t for t in terms if t not in common] or terms


class CommonTerms:
    """The common terms per database, read from pg_stats at most every `refresh` seconds (a
    process-wide cache: the statistics change when ANALYZE runs, not per request)."""

    def __init__(self, refresh: float = 300.0) -> None:
        self.refresh = refresh
        self._by_db: dict[str, tuple[float, frozenset[str]]] = {}

    async def get(self, session: AsyncSession) -> frozenset[str]:
        key = session.bind.url.render_as_string(hide_password=True)
        cached = self._by_db.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.refresh:
            return cached[1]
        row = (await session.execute(text(COMMON_TERMS_SQL))).first()
        common = common_terms(row.elems, row.freqs) if row else frozenset()
        self._by_db[key] = (time.monotonic(), common)
        return common


COMMON = CommonTerms()


async def _pg_ranked(
    session: AsyncSession, terms: list[str], filters: KnowledgeFilters, limit: int, offset: int
) -> tuple[list[tuple[dict[str, Any], float]], int]:
    match = match_terms(terms, await COMMON.get(session))
    rows = (await session.execute(pg_statement(terms, filters, limit, offset, match))).all()
    if rows:
        total = rows[0].total
    elif offset:  # a page past the last one: how many there are
        inner = pg_statement(terms, filters, 1, 0, match).limit(None).offset(None).order_by(None)
        total = await session.scalar(select(func.count()).select_from(inner.subquery())) or 0
    else:
        total = 0
    ranked = []
    for row in rows:
        data = dict(row._mapping)
        rank, _ = data.pop("rank"), data.pop("total")
        ranked.append((data, float(rank)))
    return ranked, total


async def _sqlite_ranked(
    session: AsyncSession, terms: list[str], filters: KnowledgeFilters, limit: int, offset: int
) -> tuple[list[tuple[dict[str, Any], float]], int]:
    """SQLite (the laptop default): FTS5 finds the articles holding any of the terms, each is
    ranked here as ts_rank ranks it on PostgreSQL (textsearch.ts_rank), then one page is read."""
    fts = (
        text(
            f"SELECT rowid AS article_id, {', '.join(FTS_COLUMNS)} FROM knowledge_fts "
            "WHERE knowledge_fts MATCH :match"
        )
        .bindparams(match=textsearch.fts5_query(terms))
        .columns(article_id=Integer, **dict.fromkeys(FTS_COLUMNS, Text))
        .subquery("fts")
    )
    matches = select(fts).select_from(P.join(fts, fts.c.article_id == P.c.article_id))
    order = sorted(
        (
            (textsearch.ts_rank(terms, tuple(r._mapping[c] for c in FTS_COLUMNS)), r.article_id)
            for r in (await session.execute(_filtered(matches, filters))).all()
        ),
        reverse=True,
    )
    page = order[offset : offset + limit]
    rows = await session.execute(_columns().where(P.c.article_id.in_([a for _, a in page])))
    by_id = {r.article_id: dict(r._mapping) for r in rows}
    return [(by_id[a], rank) for rank, a in page], len(order)


async def search(
    session: AsyncSession,
    words: str | None,
    filters: KnowledgeFilters,
    limit: int,
    offset: int,
) -> tuple[list[Hit], int]:
    """Published articles most similar to `words` (with filters); without words, the newest
    published ones that pass the filters. Words with nothing to search for find nothing."""
    if not (words or "").strip():
        return await _browse(session, filters, limit, offset)
    terms = textsearch.query_terms(words)
    if not terms:
        return [], 0
    sqlite = session.bind.dialect.name == "sqlite"
    ranked, total = await (_sqlite_ranked if sqlite else _pg_ranked)(
        session, terms, filters, limit, offset
    )
    return [Hit(data, similarity(rank)) for data, rank in ranked], total


async def _browse(
    session: AsyncSession, filters: KnowledgeFilters, limit: int, offset: int
) -> tuple[list[Hit], int]:
    query = _filtered(_columns(), filters)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(P.c.approved_at.desc(), P.c.article_id.desc()).limit(limit).offset(offset)
    )
    return [Hit(dict(r._mapping), None) for r in rows], total


async def suggestions(
    session: AsyncSession, no: str, user: Principal, limit: int = SUGGESTIONS
) -> list[Hit]:
    """The articles most similar to a ticket's description and product (its own article left
    out). Read-only: never part of intake's write path."""
    ticket = await load(session, no, user)
    words = " ".join(filter(None, [ticket.description, ticket.product_model]))
    if not words.strip():
        return []
    hits, _ = await search(
        session, words, KnowledgeFilters(exclude_ticket_no=ticket.ticket_no), limit, 0
    )
    return hits
