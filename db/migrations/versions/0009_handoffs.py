"""handoffs: one row per handover with its outcome

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "tenant_id",
            sa.Integer(),
            sa.ForeignKey("tenants.id", name="fk_handoffs_tenant_id_tenants"),
            nullable=False,
        ),
        sa.Column(
            "session_id",
            BigId,
            sa.ForeignKey("chat_sessions.id", name="fk_handoffs_session_id_chat_sessions"),
            nullable=False,
        ),
        sa.Column(
            "agent_id",
            sa.Integer(),
            sa.ForeignKey("agents.id", name="fk_handoffs_agent_id_agents"),
            nullable=False,
        ),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "accepted_by",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_handoffs_accepted_by_users"),
            nullable=True,
        ),
        sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reassignments", sa.Integer(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "resolved_by",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_handoffs_resolved_by_users"),
            nullable=True,
        ),
    )
    op.create_index("ix_handoffs_tenant_id_requested_at", "handoffs", ["tenant_id", "requested_at"])
    op.create_index("ix_handoffs_session_id", "handoffs", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_handoffs_session_id", table_name="handoffs")
    op.drop_index("ix_handoffs_tenant_id_requested_at", table_name="handoffs")
    op.drop_table("handoffs")
