"""decisions: indexes in the agent console's queue order (hand-offs newest first, by topic too)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.create_index("ix_decisions_queue", ["action", "created_at", "id"])
        batch.create_index("ix_decisions_topic_queue", ["topic", "action", "created_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_index("ix_decisions_topic_queue")
        batch.drop_index("ix_decisions_queue")
