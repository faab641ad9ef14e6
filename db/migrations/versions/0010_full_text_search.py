"""full-text search: search tokens of messages and customers, their indexes

Postgres: a tsvector column on messages and customers and a GIN index on (tenant_id, search)
(btree_gin puts the tenant in the same index). SQLite: a text column holding the tokens and an FTS5
table per searched table, kept in step by triggers. Rows already there get their tokens here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 11:30:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from db.models import SearchDoc
from sessionlens.search_tokens import document, people_document

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in ("messages", "customers"):
        op.add_column(table, sa.Column("search", SearchDoc(), nullable=True))
    _backfill("messages", ("text",), lambda r: document(r.text or ""))
    _backfill(
        "customers", ("name", "email", "phone"), lambda r: people_document(r.name, r.email, r.phone)
    )
    if sqlite:  # the index is built from the rows now there, then kept by the triggers
        for table in ("messages", "customers"):
            for statement in fts5_ddl(table):
                op.execute(statement)
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        for table in ("messages", "customers"):
            op.create_index(
                f"ix_{table}_search", table, ["tenant_id", "search"], postgresql_using="gin"
            )


def fts5_ddl(table: str) -> list[str]:
    """The FTS5 table over ``table.search`` (external content: the tokens live once, in the
    table), built from the rows already there, and the triggers that keep it in step with inserts,
    updates and deletes (a row without tokens is never in the index)."""
    fts = f"{table}_fts"
    remove = (
        f"INSERT INTO {fts}({fts}, rowid, search) "
        "SELECT 'delete', old.id, old.search WHERE old.search IS NOT NULL; "
    )
    add = (
        f"INSERT INTO {fts}(rowid, search) SELECT new.id, new.search WHERE new.search IS NOT NULL; "
    )
    return [
        # Letters, digits and marks are word characters, as for search_tokens; Co too, for the
        # separator between two messages of a session (U+E000).
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search, content='{table}', content_rowid='id', "
        "tokenize=\"unicode61 remove_diacritics 0 categories 'L* N* M* Co'\")",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {add}END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {remove}END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search ON {table} BEGIN {remove}{add}END",
    ]


def _backfill(
    table: str, columns: tuple[str, ...], tokens: Callable[[sa.Row[Any]], list[str]]
) -> None:
    bind = op.get_bind()
    tbl = sa.table(
        table, sa.column("id"), sa.column("search", SearchDoc()), *map(sa.column, columns)
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(tbl.c.id, *(tbl.c[c] for c in columns))
            .where(tbl.c.id > last)
            .order_by(tbl.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            tbl.update().where(tbl.c.id == sa.bindparam("rid")),
            [{"rid": r.id, "search": tokens(r)} for r in rows],
        )
        last = rows[-1].id


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in ("messages", "customers"):
        if sqlite:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
        else:
            op.drop_index(f"ix_{table}_search", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("search")
