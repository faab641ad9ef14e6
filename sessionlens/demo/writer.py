"""Fast batched inserts of generated rows: COPY on Postgres, executemany on SQLite.

Rows are tuples in the column order given to ``BulkWriter.table``. Buffers are flushed in foreign-key
order, so a message never reaches the database before its session.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Connection, Index, Table, func, select, text

from db.models import Base
from sessionlens.search_tokens import document, people_document, tsvector_literal

#: Columns the writer fills itself from others: the search tokens (sessionlens.search_tokens).
SEARCH_SOURCES = {"messages": ("text",), "customers": ("name", "email", "phone")}


class BulkWriter:
    def __init__(self, conn: Connection, batch: int = 20_000):
        self.conn = conn
        self.batch = batch
        self.is_pg = conn.dialect.name == "postgresql"
        self._cols: dict[str, list[str]] = {}
        self._buf: dict[str, list[tuple[Any, ...]]] = {}
        self._json_idx: dict[str, list[int]] = {}
        self.counts: dict[str, int] = {}
        self._pending = 0
        self._deferred: list[Index] = []

    def table(self, name: str, columns: list[str]) -> None:
        """Declare a table and its column order; declare tables in foreign-key order."""
        tbl: Table = Base.metadata.tables[name]
        self._cols[name] = columns
        self._buf[name] = []
        self._json_idx[name] = [i for i, c in enumerate(columns) if isinstance(tbl.c[c].type, JSON)]
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
        if name in SEARCH_SOURCES and "search" not in cols:
            rows, cols = self._with_search(name, rows, cols)
        if self.is_pg:
            jidx = self._json_idx[name]
            raw = self.conn.connection.driver_connection
            assert raw is not None, "COPY needs the driver's connection"
            with (
                raw.cursor() as cur,
                cur.copy(
                    f"COPY {name} ({', '.join(cols)}) FROM STDIN"  # noqa: S608 - names are ours
                ) as cp,
            ):
                for r in rows:
                    values = list(r)
                    for i in jidx:
                        if values[i] is not None:
                            values[i] = json.dumps(values[i])
                    cp.write_row(values)
        else:
            tbl = Base.metadata.tables[name]
            self.conn.execute(tbl.insert(), [dict(zip(cols, r, strict=True)) for r in rows])

    def _with_search(
        self, name: str, rows: list[tuple[Any, ...]], cols: list[str]
    ) -> tuple[list[tuple[Any, ...]], list[str]]:
        """``rows`` with their search tokens added (COPY bypasses the column's default)."""
        at = [cols.index(c) for c in SEARCH_SOURCES[name]]
        if name == "messages":
            found = [document(r[at[0]] or "") for r in rows]
        else:
            found = [people_document(*(r[i] for i in at)) for r in rows]
        values = [tsvector_literal(t) for t in found] if self.is_pg else found
        return [(*r, v) for r, v in zip(rows, values, strict=True)], [*cols, "search"]
