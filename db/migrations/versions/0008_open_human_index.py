"""a partial index for the Human Agents queue

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_HUMAN = sa.text("mode <> 'ai' AND finished_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_chat_sessions_open_human",
        "chat_sessions",
        ["tenant_id", "assigned_user_id"],
        unique=False,
        postgresql_where=OPEN_HUMAN,
        postgresql_include=["id", "last_message_at", "message_count"],
        sqlite_where=OPEN_HUMAN,
    )


def downgrade() -> None:
    op.drop_index("ix_chat_sessions_open_human", table_name="chat_sessions")
