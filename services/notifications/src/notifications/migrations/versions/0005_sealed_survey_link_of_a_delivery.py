"""deliveries.secret: a survey link arrives sealed (SurveyRequested v2); the delivery keeps it sealed, with its
masked form, and the worker opens it only to send. body_text, body_html and sms_params hold the masked link.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column(
                "secret",
                sa.Text(),
                nullable=True,
                comment="a sealed survey link and its masked form (never shown)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("secret")
