"""Fast batched inserts of generated rows: COPY on Postgres, executemany on SQLite.

Rows are tuples in the column order given to ``BulkWriter.table``. Buffers are flushed in foreign-key
order, so a message never reaches the database before its session.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Index, func, select, text

from db.models import Base
from sessionlens.bulk import copy_rows, with_search


class BulkWriter:
    def __init__(self, conn: Connection, batch: int = 20_000):
        self.conn = conn
        self.batch = batch
        self.is_pg = conn.dialect.name == "postgresql"
        self._cols: dict[str, list[str]] = {}
        self._buf: dict[str, list[tuple[Any, ...]]] = {}
        self.counts: dict[str, int] = {}
        self._pending = 0
        self._deferred: list[Index] = []

    def table(self, name: str, columns: list[str]) -> None:
        """Declare a table and its column order; declare tables in foreign-key order."""
        self._cols[name] = columns
        self._buf[name] = []
        self.counts[name] = 0

    def next_id(self, name: str) -> int:
        tbl = Base.metadata.tables[name]
        return (self.conn.scalar(select(func.max(tbl.c.id))) or 0) + 1

    def add(self, name: str, row: tuple[Any, ...]) -> None:
        self._buf[name].append(row)
        self._pending += 1

    def maybe_flush(self) -> None:
        """Flush once enough rows wait. Call between whole units (a session and its rows)."""
        if self._pending >= self.batch:
            self.flush()

    def flush(self) -> None:
        for name, rows in self._buf.items():
            if rows:
                self._write(name, rows)
                self.counts[name] += len(rows)
                rows.clear()
        self._pending = 0

    def defer_indexes(self, tables: list[str]) -> None:
        """Drop the secondary indexes of ``tables`` now and build them in ``finish``.

        A large COPY into indexed tables costs several times more than building the indexes once
        afterwards. Postgres only; everything stays in the caller's transaction.
        """
        if not self.is_pg:
            return
        for name in tables:
            for index in Base.metadata.tables[name].indexes:
                self.conn.execute(text(f'DROP INDEX IF EXISTS "{index.name}"'))
                self._deferred.append(index)

    def finish(self) -> None:
        self.flush()
        for index in self._deferred:
            index.create(self.conn)
        self._deferred.clear()
        if self.is_pg:  # ids were given explicitly: move the sequences past them
            for name in self._cols:
                self.conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                    )
                )

    def _write(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        cols = self._cols[name]
        if self.is_pg:
            copy_rows(self.conn, name, cols, rows)
            return
        cols, rows = with_search(name, cols, rows, pg=False)
        tbl = Base.metadata.tables[name]
        self.conn.execute(tbl.insert(), [dict(zip(cols, r, strict=True)) for r in rows])
