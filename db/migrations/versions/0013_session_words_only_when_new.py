"""session words: the trigger writes the session row only when the messages bring a new word

Every UPDATE of ``chat_sessions`` writes a new version of the row and an entry in each of its
fourteen indexes (the GIN index on ``search`` makes it one that cannot be HOT). Migration 0011's
trigger did that once per INSERT statement on ``messages``, even when every word was already there
("yes", "thanks") and even past the 8,000-word limit, where it wrote the row back unchanged. A live
append then wrote the session row twice: the counter update, then the trigger.

Now the trigger skips a session whose words already hold every word of the new messages, or that is
full. Ingest (``sessionlens.ingest._bump``) adds the words in its counter update, before the
INSERT, so an appended message costs one write of the session row; writers that do not (a human
agent's reply, a transcription) still get their words from the trigger. Postgres only: SQLite's
trigger keeps every token in order (phrases need it) and is unchanged.

Measured on this machine: an INSERT of one message with the trigger 0.85 ms, 0.35 ms when it finds
nothing new.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 16:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_WORDS = 8000  # sessionlens.search_tokens.SESSION_WORDS when this was written


def _add_words(update: str) -> str:
    """The trigger function of 0011, with ``update`` for each session the statement touched."""
    from importlib import import_module

    words = import_module("db.migrations.versions.0011_session_search").PG_WORDS
    return f"""
CREATE OR REPLACE FUNCTION sessionlens_add_session_words() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE w record;
BEGIN
    FOR w IN {words.format(source="added", where="")} LOOP
        {update}
    END LOOP;
    RETURN NULL;
END $$;
"""


# The words carry no positions on either side, so equal means "no word is new".
ADD_NEW_WORDS = f"""UPDATE chat_sessions
           SET search = coalesce(search, ''::tsvector) || w.words
         WHERE id = w.session_id
           AND length(coalesce(search, ''::tsvector)) < {MAX_WORDS}
           AND coalesce(search, ''::tsvector) || w.words <> coalesce(search, ''::tsvector);"""

# 0011's: every statement writes the row (a full session keeps its words).
REWRITE_ALWAYS = f"""UPDATE chat_sessions
           SET search = CASE WHEN length(coalesce(search, ''::tsvector)) < {MAX_WORDS}
                             THEN coalesce(search, ''::tsvector) || w.words ELSE search END
         WHERE id = w.session_id;"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_add_words(ADD_NEW_WORDS))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_add_words(REWRITE_ALWAYS))
