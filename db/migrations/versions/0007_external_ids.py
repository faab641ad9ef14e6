"""external ids of sessions and messages (HTTP API, JSON import); author names from elsewhere

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): these tables are referenced by others.
    op.add_column("chat_sessions", sa.Column("external_id", sa.String(length=200), nullable=True))
    op.add_column("messages", sa.Column("external_id", sa.String(length=200), nullable=True))
    op.add_column("messages", sa.Column("author_name", sa.String(length=200), nullable=True))
    op.create_index(
        "ix_chat_sessions_tenant_id_external_id",
        "chat_sessions",
        ["tenant_id", "external_id"],
        unique=True,
    )
    op.create_index(
        "ix_messages_session_id_external_id", "messages", ["session_id", "external_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_messages_session_id_external_id", table_name="messages")
    op.drop_index("ix_chat_sessions_tenant_id_external_id", table_name="chat_sessions")
    op.drop_column("messages", "author_name")
    op.drop_column("messages", "external_id")
    op.drop_column("chat_sessions", "external_id")
