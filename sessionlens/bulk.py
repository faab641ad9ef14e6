"""Many rows at once: COPY on Postgres, with what the columns' defaults would have added.

COPY goes past SQLAlchemy, so two things its INSERTs do are done here: JSON columns are written as
JSON text, and the search words of messages and customers (``sessionlens.search_tokens``) are
computed. One COPY is one statement, so the trigger that adds a message's words to its session
(migration 0011) runs once for all the rows. Used by the demo generator and by ingest.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Connection

from db.models import Base
from sessionlens.search_tokens import document, people_document, tsvector_literal

#: Tables with a search column, and the columns its words come from.
SEARCH_SOURCES = {"messages": ("text",), "customers": ("name", "email", "phone")}

Rows = list[tuple[Any, ...]]


def with_search(name: str, cols: list[str], rows: Rows, *, pg: bool) -> tuple[list[str], Rows]:
    """``cols`` and ``rows`` with the search column added, when ``name`` has one and it is not
    given: a tsvector literal for Postgres' COPY, the token list for an SQLAlchemy INSERT."""
    if name not in SEARCH_SOURCES or "search" in cols:
        return cols, rows
    at = [cols.index(c) for c in SEARCH_SOURCES[name]]
    if name == "messages":
        found = [document(r[at[0]] or "") for r in rows]
    else:
        found = [people_document(*(r[i] for i in at)) for r in rows]
    values: list[Any] = [tsvector_literal(t) for t in found] if pg else found
    return [*cols, "search"], [(*r, v) for r, v in zip(rows, values, strict=True)]


def copy_rows(conn: Connection, name: str, cols: list[str], rows: Rows) -> None:
    """COPY ``rows`` (tuples in ``cols`` order) into table ``name``, in ``conn``'s transaction
    (Postgres only)."""
    cols, rows = with_search(name, cols, rows, pg=True)
    table = Base.metadata.tables[name]
    as_json = [i for i, c in enumerate(cols) if isinstance(table.c[c].type, JSON)]
    raw = conn.connection.driver_connection
    assert raw is not None, "COPY needs the driver's connection"
    copy = f"COPY {name} ({', '.join(cols)}) FROM STDIN"  # noqa: S608 - names are ours
    with raw.cursor() as cur, cur.copy(copy) as cp:
        for r in rows:
            values = list(r)
            for i in as_json:
                if values[i] is not None:
                    values[i] = json.dumps(values[i])
            cp.write_row(values)
