"""shadow_decisions: what a challenger would have decided on each ticket, beside the champion

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shadow_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("rulebook_version", sa.String(length=64), nullable=False),
        sa.Column("champion_version", sa.String(length=64), nullable=False),
        sa.Column("champion_template", sa.String(length=128), nullable=True),
        sa.Column("champion_reply", sa.Boolean(), nullable=False),
        sa.Column("challenger_version", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("would_reply", sa.Boolean(), nullable=False),
        sa.Column("topic", sa.String(length=256), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("template_prob", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("threshold_source", sa.String(length=16), nullable=True),
        sa.Column("rule_id", sa.String(length=128), nullable=True),
        sa.Column("template_id", sa.String(length=128), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shadow_decisions_decision_id", "shadow_decisions", ["decision_id"])
    op.create_index("ix_shadow_decisions_ticket_id", "shadow_decisions", ["ticket_id"])
    op.create_index(
        "ix_shadow_decisions_challenger", "shadow_decisions", ["challenger_version", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_shadow_decisions_challenger", table_name="shadow_decisions")
    op.drop_index("ix_shadow_decisions_ticket_id", table_name="shadow_decisions")
    op.drop_index("ix_shadow_decisions_decision_id", table_name="shadow_decisions")
    op.drop_table("shadow_decisions")
