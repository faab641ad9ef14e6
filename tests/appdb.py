"""A demo database file for the page and browser tests, built once per test run."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from db.engine import make_engine
from db.migrate import upgrade
from db.models import ChatSession, Role, User
from sessionlens import demo, geo

ROOT = Path(__file__).resolve().parent.parent


def build(path: Path, sessions: int = 300) -> str:
    url = f"sqlite:///{path}"
    eng = make_engine(url)
    upgrade(eng)
    from tests.conftest import NOW, TESTDATA

    with eng.begin() as conn:
        demo.generate(
            conn,
            locator=geo.Locator(TESTDATA / "GeoIP2-City-Test.mmdb"),
            sessions=sessions,
            seed=3,
            now=NOW,
        )
    eng.dispose()
    return url


def find_session(engine: Engine, *conds, where=lambda row: True) -> ChatSession:
    """The newest session of the first tenant matching SQL ``conds`` and the ``where`` test."""
    with engine.connect() as conn:
        tenant = conn.scalar(
            select(User.tenant_id)
            .where(User.role == Role.ADMIN)
            .order_by(User.tenant_id, User.id)
            .limit(1)
        )
        rows = conn.execute(
            select(ChatSession)
            .where(ChatSession.tenant_id == tenant, *conds)
            .order_by(ChatSession.started_at.desc())
        ).all()
    row = next((r for r in rows if where(r)), None)
    assert row is not None, f"no demo session matches {conds}"
    return row
