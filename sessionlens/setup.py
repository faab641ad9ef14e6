"""Opening the database the way every door does: migrated to the newest schema and, on the
embedded default, filled with demo data when it has no sessions yet.

The app (components/data.py) and the CLI (`sessionlens db upgrade`, `sessionlens demo --if-empty`)
both come through here, so a first start behaves the same whichever door opens it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from db.models import ChatSession
from sessionlens import demo, geo


def migrated_engine(url: str) -> Engine:
    """An engine on ``url`` whose schema is the newest (created if the database is new)."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


def has_sessions(conn: Connection) -> bool:
    return bool(conn.scalar(select(func.count()).select_from(ChatSession)))


def open_database(
    url: str, *, demo_on_first_start: bool, locator: Callable[[], geo.Locator]
) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """The write and read-only sessionmakers of the app for ``url``. An empty embedded (SQLite)
    database is filled with demo data when ``demo_on_first_start``; Postgres never is."""
    engine = migrated_engine(url)
    if demo_on_first_start and engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            if not has_sessions(conn):
                demo.generate(conn, locator=locator())
    return make_sessionmaker(engine), make_sessionmaker(engine, read_only=True)
