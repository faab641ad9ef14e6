"""search per session: every word of a session's messages on the session row, kept by triggers

Measured at a million sessions, searching per message could not keep the table's order cheaply: a
rare word found its 20 messages in 0.1 ms and then joined them against every session of the tenant,
a common phrase rechecked 900,000 messages. The session row now holds the words of all its
messages, so the table's query filters its own rows (walking its Start index for a common word,
using the GIN index for a rare one).

Postgres: ``chat_sessions.search`` is a tsvector of the distinct words (no positions), appended by a
statement-level trigger on messages (one UPDATE per session per INSERT statement or COPY batch) and
recomputed when messages are deleted; GIN on (tenant_id, search). A phrase is then confirmed on the
messages of the sessions that hold all its words (``messages.search`` keeps positions); the
per-message GIN index is dropped. A session keeps at most 8,000 distinct words (a tsvector holds
1 MB at most).

SQLite: ``chat_sessions.search`` holds the tokens of all messages in order, one separator token
(U+E000, which no search can contain) between messages so a phrase never spans two; an FTS5 table
over it answers the whole query, phrases included. ``messages_fts`` is dropped.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import SearchDoc

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_WORDS = 8000
SEPARATOR = "\ue000"

PG_WORDS = """
SELECT m.session_id, array_to_tsvector(array_agg(DISTINCT u.lexeme)) AS words
FROM {source} m, unnest(m.search) AS u
{where}
GROUP BY m.session_id
"""

PG_FUNCTIONS = f"""
-- One UPDATE by primary key per session the statement touched (a join of the statement's rows
-- with chat_sessions could be planned as a scan of every session).
CREATE FUNCTION sessionlens_add_session_words() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE w record;
BEGIN
    FOR w IN {PG_WORDS.format(source="added", where="")} LOOP
        UPDATE chat_sessions
           SET search = CASE WHEN length(coalesce(search, ''::tsvector)) < {MAX_WORDS}
                             THEN coalesce(search, ''::tsvector) || w.words ELSE search END
         WHERE id = w.session_id;
    END LOOP;
    RETURN NULL;
END $$;

CREATE FUNCTION sessionlens_recount_session_words() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE sid bigint;
BEGIN
    FOR sid IN SELECT DISTINCT session_id FROM removed LOOP
        UPDATE chat_sessions
           SET search = (SELECT array_to_tsvector(array_agg(DISTINCT u.lexeme))
                           FROM messages m, unnest(m.search) AS u WHERE m.session_id = sid)
         WHERE id = sid;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER messages_session_words_ai AFTER INSERT ON messages
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION sessionlens_add_session_words();

CREATE TRIGGER messages_session_words_ad AFTER DELETE ON messages
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION sessionlens_recount_session_words();
"""

SQLITE_DOC = f"""(SELECT group_concat(search, ' {SEPARATOR} ') FROM
    (SELECT search FROM messages WHERE session_id = {{sid}} AND search <> '' ORDER BY seq))"""


def sqlite_ddl() -> list[str]:
    from importlib import import_module

    fts5_ddl = import_module("db.migrations.versions.0010_full_text_search").fts5_ddl
    return [
        f"UPDATE chat_sessions SET search = {SQLITE_DOC.format(sid='chat_sessions.id')}",
        *fts5_ddl("chat_sessions"),
        "CREATE TRIGGER messages_session_words_ai AFTER INSERT ON messages "
        "WHEN new.search <> '' BEGIN "
        "UPDATE chat_sessions SET search = CASE WHEN search IS NULL OR search = '' "
        f"THEN new.search ELSE search || ' {SEPARATOR} ' || new.search END "
        "WHERE id = new.session_id; END",
        "CREATE TRIGGER messages_session_words_ad AFTER DELETE ON messages BEGIN "
        f"UPDATE chat_sessions SET search = {SQLITE_DOC.format(sid='old.session_id')} "
        "WHERE id = old.session_id; END",
    ]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("chat_sessions", sa.Column("search", SearchDoc(), nullable=True))
    if sqlite:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS messages_fts_{suffix}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
        for statement in sqlite_ddl():
            op.execute(statement)
        return
    op.drop_index("ix_messages_search", table_name="messages")
    op.execute(
        "UPDATE chat_sessions s SET search = w.words FROM ("
        + PG_WORDS.format(source="messages", where="")
        + ") w WHERE s.id = w.session_id"
    )
    op.execute(PG_FUNCTIONS)
    # The planner reads how common each word is from these statistics (search.planned): keep
    # ten times the default number of words, so that fewer words count as unknown (rare).
    op.execute("ALTER TABLE chat_sessions ALTER COLUMN search SET STATISTICS 1000")
    # A phrase is confirmed on the session's messages. ANALYZE's sample sees messages clustered by
    # session and guessed 63,000 sessions among 13 M messages (there were 1 M), so it costed that
    # check at 200 messages a session and chose to read 100,000 sessions through the index instead
    # of walking the newest 400 (150 ms against 2). Say it: about 20 messages a session.
    op.execute("ALTER TABLE messages ALTER COLUMN session_id SET (n_distinct = -0.05)")
    op.execute("ANALYZE chat_sessions, messages")
    op.create_index(
        "ix_chat_sessions_search", "chat_sessions", ["tenant_id", "search"], postgresql_using="gin"
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in ("messages_session_words_ai", "messages_session_words_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS chat_sessions_fts_{suffix}")
        op.execute("DROP TABLE IF EXISTS chat_sessions_fts")
    else:
        op.execute("DROP TRIGGER messages_session_words_ai ON messages")
        op.execute("DROP TRIGGER messages_session_words_ad ON messages")
        op.execute("DROP FUNCTION sessionlens_add_session_words()")
        op.execute("DROP FUNCTION sessionlens_recount_session_words()")
        op.drop_index("ix_chat_sessions_search", table_name="chat_sessions")
        op.create_index(
            "ix_messages_search", "messages", ["tenant_id", "search"], postgresql_using="gin"
        )
    with op.batch_alter_table("chat_sessions") as batch:
        batch.drop_column("search")
