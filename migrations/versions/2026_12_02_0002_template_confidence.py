"""decisions: the template's probability and the threshold it met; suggestions live in response

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("template_prob", sa.Float(), nullable=True))
        batch.add_column(sa.Column("threshold", sa.Float(), nullable=True))
        batch.add_column(sa.Column("threshold_source", sa.String(length=16), nullable=True))
        batch.drop_column("suggestions")


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(
            sa.Column("suggestions", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.drop_column("threshold_source")
        batch.drop_column("threshold")
        batch.drop_column("template_prob")
