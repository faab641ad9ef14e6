"""live sessions out of the GIN index: a live append no longer re-indexes every word of its session

Every write of a ``chat_sessions`` row makes a new version of it, and the counter update of a live
append cannot be HOT (``last_message_at`` and the open-human index's ``message_count`` are
indexed). A new version gets an entry in every index, so the GIN index on ``search`` received every
word of the session again on each message: 55 KB of WAL and 2 to 3 ms for a session of 3,000
words, the largest part of an append, and growing with the conversation.

Postgres only: ``search_live`` marks a session a runtime is writing to. The GIN index leaves those
rows out (``WHERE NOT search_live``), and a small btree index holds them instead, so a search reads
the few live sessions one by one and the rest through GIN. An index only receives a row version its
predicate accepts, so an append to a live session writes nothing to GIN. Once a session has been
quiet for a few minutes, ``sessionlens.search.settle_live_words`` clears the flag, and that write puts
its words in the GIN index once. Every row is in exactly one of the two indexes, whatever the flag
says, so a search never misses a session.

SQLite gets the column (one schema for both) and leaves it false: its FTS5 table is written only
when the words change.

The GIN index is built again (a minute or two at a million sessions).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _search_index(where: str | None) -> None:
    """The GIN index on the sessions' words, over the rows ``where`` says (None: all of them)."""
    op.create_index(
        "ix_chat_sessions_search",
        "chat_sessions",
        ["tenant_id", "search"],
        postgresql_using="gin",
        postgresql_where=sa.text(where) if where else None,
    )


def upgrade() -> None:
    op.add_column(
        "chat_sessions",
        sa.Column("search_live", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_chat_sessions_search", table_name="chat_sessions")
    _search_index("NOT search_live")
    op.create_index(
        "ix_chat_sessions_search_live",
        "chat_sessions",
        ["tenant_id"],
        postgresql_where=sa.text("search_live"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_chat_sessions_search_live", table_name="chat_sessions")
        op.drop_index("ix_chat_sessions_search", table_name="chat_sessions")
        _search_index(None)
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would lose its FTS5 triggers.
    op.drop_column("chat_sessions", "search_live")
