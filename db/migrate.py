"""Run Alembic migrations from code (first start of the embedded default, tests, the CLI)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.schema import SchemaItem

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """What schema comparison looks at: everything but SQLite's FTS5 search tables (a virtual
    table and its shadow tables, made by migration 0010, not by the models)."""
    return not (type_ == "table" and name is not None and "_fts" in name)


def include_object_for(dialect: str) -> Callable[..., bool]:
    """Schema comparison skips what the models create on another database only (``ddl_if``:
    the GIN search indexes are Postgres'; SQLite searches through FTS5)."""

    def include_object(
        obj: SchemaItem,
        name: str | None,
        type_: str,
        reflected: bool,
        compare_to: SchemaItem | None,
    ) -> bool:
        only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return only is None or only == dialect

    return include_object


# Alembic keeps its running context in module globals: two threads migrating at once (the first
# page run and the first API request of a new process) would trip over each other.
_ONE_AT_A_TIME = threading.Lock()


def upgrade(engine: Engine) -> None:
    """Bring the database behind ``engine`` to the newest revision (idempotent)."""
    cfg = alembic_config()
    with _ONE_AT_A_TIME, engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
