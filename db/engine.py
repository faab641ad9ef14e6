"""Engine and sessionmaker factories. One engine per process; a ``db`` session per user action."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

#: A pooled Postgres connection that has sat unused this long is checked before it is handed
#: out (see ``_ping_if_idle``).
PING_AFTER_IDLE_SECONDS = 10.0


#: What a database URL may name, as the messages below put it.
USABLE = "sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/database"


class UnusableDatabase(ValueError):
    """A database URL Sessionlens cannot use, or an embedded database whose folder cannot be
    made; the message says which in words, with any password left out."""


def checked_url(url: str) -> str:
    """``url`` if it names a database Sessionlens runs on (SQLite or PostgreSQL, with a driver
    that is installed); else :class:`UnusableDatabase` saying what is wrong. Nothing is
    connected to: a server that is down is the connection's own message, later."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        what = "is empty" if not url.strip() else "is not a database URL"
        raise UnusableDatabase(f"{what}; use {USABLE}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise UnusableDatabase(f"{backend} is not supported; use {USABLE}") from None
    try:
        parsed.get_dialect().import_dbapi()
    except (ImportError, exc.NoSuchModuleError):
        raise UnusableDatabase(
            f"the driver of {parsed.drivername} is not installed; use {USABLE}"
        ) from None
    return url


def is_postgres(url: str) -> bool:
    """Whether the SQLAlchemy URL ``url`` names a PostgreSQL database (any driver)."""
    return url.split(":", 1)[0].split("+", 1)[0] == "postgresql"


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``. SQLite gets foreign keys, WAL and a created parent folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise UnusableDatabase(
                    f"cannot make {folder} for the SQLite database: {err.strerror}"
                ) from None
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: object) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        return engine
    # prepare_threshold=None: the list query is dynamic, and generic plans cannot use
    # parameter-dependent partial indexes (docs/engineering-notes.md, "Postgres").
    # No pre-ping on every checkout: it costs a round trip, a third of a list page. Only a
    # connection that has been idle a while is checked (``_ping_if_idle``), and old ones are
    # recycled.
    # jit=off: a search whose plan walks the table with a per-row check is costed high enough to
    # be JIT-compiled, which took 400 ms for a query that runs in 2 ms; no query here is long
    # enough to gain from it.
    engine = create_engine(
        url,
        pool_recycle=1800,
        connect_args={"prepare_threshold": None, "options": "-c jit=off"},
    )
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _note_checkin(_dbapi_conn: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(
    dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """Check a pooled connection that has been idle for ``PING_AFTER_IDLE_SECONDS`` before it is
    used. After Postgres restarts (an upgrade, a failover) every pooled connection is dead, and
    without this the first page or API call of each process failed with "cannot use its database"
    although the database was back. A dead one raises ``DisconnectionError``, on which the pool
    drops it and hands out a new connection. Connections in steady use skip the round trip."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cur = dbapi_conn.cursor()
        try:
            cur.execute("SELECT 1")
        finally:
            cur.close()
        dbapi_conn.rollback()  # end the transaction the ping began; the pool hands out none open
    except Exception as err:  # any failure here means this connection cannot be used
        raise exc.DisconnectionError(f"a pooled connection was dead: {err}") from err


def create_database_if_missing(url: str) -> bool:
    """Create the PostgreSQL database that ``url`` names if the server has none by that name
    (through the server's ``postgres`` database, so the URL's user needs CREATEDB); True if it
    was created. A SQLite file is created by its first connection, so SQLite is left alone."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return False
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ):
                return False
            name = parsed.database.replace('"', '""')
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            return True
    finally:
        admin.dispose()


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its result is a cursor result)."""
    return cast(CursorResult[Any], result).rowcount or 0


def make_sessionmaker(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions for writes (one transaction each), or ``read_only`` ones for page reads.

    Read-only sessions run in autocommit: a list page is one statement, and skipping BEGIN and
    ROLLBACK saves two of its three round trips to Postgres.
    """
    if read_only:
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return sessionmaker(engine, expire_on_commit=False)
