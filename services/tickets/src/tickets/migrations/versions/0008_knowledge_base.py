"""knowledge base: solution articles from completed tickets, their review history, the published
revisions search finds (PostgreSQL: a tsvector with a GIN index; SQLite: the FTS5 table knowledge_fts
over the same jieba terms)

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import aftersales_shared.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = aftersales_shared.db.UTCDateTime(timezone=True)
# the FTS5 table's columns follow the tsvector's weights A, B, C: symptom, cause, product
FTS5 = "CREATE VIRTUAL TABLE knowledge_fts USING fts5(head, cause, product, tokenize = 'unicode61')"


def _content() -> list[sa.Column]:
    return [
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("symptom", sa.Text(), nullable=False),
        sa.Column("cause_category", sa.String(length=60), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("product_model", sa.String(length=100), nullable=True),
        sa.Column("product_line", sa.String(length=100), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "knowledge_articles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_ticket_no", sa.String(length=32), nullable=False),
        sa.Column("source_ticket_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("published_revision", sa.Integer(), nullable=True),
        *_content(),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("submitted_at", UTC, nullable=True),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("reviewed_at", UTC, nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_articles")),
        sa.UniqueConstraint(
            "source_ticket_no", name=op.f("uq_knowledge_articles_source_ticket_no")
        ),
    )
    op.create_index("ix_knowledge_articles_author", "knowledge_articles", ["author"], unique=False)
    op.create_index(
        "ix_knowledge_articles_status", "knowledge_articles", ["status", "updated_at"], unique=False
    )
    op.create_table(
        "knowledge_published",
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("source_ticket_no", sa.String(length=32), nullable=False),
        *_content(),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("approved_at", UTC, nullable=False),
        sa.Column(
            "search_vector",
            sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_published_article_id_knowledge_articles"),
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_knowledge_published")),
    )
    for column in ("cause_category", "product_model", "product_line"):
        op.create_index(
            f"ix_knowledge_published_{column}", "knowledge_published", [column], unique=False
        )
    op.create_index(
        "ix_knowledge_published_search",
        "knowledge_published",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "knowledge_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("actor_roles", sa.JSON(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_revisions_article_id_knowledge_articles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_revisions")),
    )
    op.create_index(
        "ix_knowledge_revisions_article", "knowledge_revisions", ["article_id", "id"], unique=False
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(FTS5)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS knowledge_fts")
    op.drop_index("ix_knowledge_revisions_article", table_name="knowledge_revisions")
    op.drop_table("knowledge_revisions")
    op.drop_index("ix_knowledge_published_search", table_name="knowledge_published")
    for column in ("product_line", "product_model", "cause_category"):
        op.drop_index(f"ix_knowledge_published_{column}", table_name="knowledge_published")
    op.drop_table("knowledge_published")
    op.drop_index("ix_knowledge_articles_status", table_name="knowledge_articles")
    op.drop_index("ix_knowledge_articles_author", table_name="knowledge_articles")
    op.drop_table("knowledge_articles")
