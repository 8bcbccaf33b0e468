"""feedback: escalations, suggestions marked wrong with a reason, one row per idempotency key

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(
            sa.Column("escalated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("wrong_template_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("wrong_reason", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_feedback_idempotency_key", ["idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_constraint("uq_feedback_idempotency_key", type_="unique")
        batch.drop_column("idempotency_key")
        batch.drop_column("wrong_reason")
        batch.drop_column("wrong_template_id")
        batch.drop_column("escalated")
