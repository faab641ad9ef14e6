"""Fixtures: every domain test runs on SQLite and on a real Postgres, each test rolled back.

Postgres comes from SESSIONLENS_TEST_POSTGRES_URL (default: the local server on 127.0.0.1:5432).
Where it cannot be reached the Postgres half is skipped locally, and fails under CI=true.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from streamlit.components.v2 import manifest_scanner

from db.engine import create_database_if_missing, make_engine
from db.migrate import upgrade
from sessionlens import demo, geo

ROOT = Path(__file__).resolve().parent.parent
# MaxMind's test databases (MIT / Apache 2.0), copied from shared/testdata/geoip.
TESTDATA = ROOT / "tests" / "data" / "geoip"
IN_CI = os.environ.get("CI", "").lower() == "true"
_PG_SERVER = os.environ.get(
    "SESSIONLENS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/sessionlens_test"
)
# `make test` runs the suite in two processes (pytest-xdist, a test file to each in turn); each
# uses databases of its own on the one Postgres server, named after the process ("_gw0").
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def pg_url(name: str) -> str:
    """The URL of the test Postgres database ``name`` for this test process."""
    return (
        make_url(_PG_SERVER)
        .set(database=f"{name}_{_WORKER}" if _WORKER else name)
        .render_as_string(hide_password=False)
    )


# Every AppTest looks through the metadata of all installed packages for Streamlit components
# (about 0.7 s each on a slow machine, and the page tests make a few hundred); nothing is
# installed while the tests run, so one look serves them all.
manifest_scanner.scan_component_manifests = functools.cache(  # type: ignore[assignment]
    manifest_scanner.scan_component_manifests
)

PG_URL = pg_url(make_url(_PG_SERVER).database or "sessionlens_test")
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
DEMO_SESSIONS = 400


def unavailable(reason: str) -> None:
    """Skip locally; in CI a test that cannot run is a failure, never a skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must run)")
    pytest.skip(reason)


def _postgres_engine(database_url: str = PG_URL) -> Engine:
    """An engine on a Postgres database with an empty ``public`` schema (created if missing)."""
    url = make_url(database_url)
    try:
        create_database_if_missing(url.render_as_string(hide_password=False))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no Postgres here"
        unavailable(f"Postgres at {url.render_as_string()} is not reachable: {exc}")
    engine = make_engine(url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    return engine


def pg_database(name: str) -> Engine:
    """An empty database ``name`` on the test Postgres server, for tests that need their own
    (committed writes from several connections or processes)."""
    return _postgres_engine(pg_url(name))


def seeded(eng: Engine, *, sessions: int, seed: int) -> Engine:
    """``eng`` migrated and holding a small demo data set (no locations)."""
    upgrade(eng)
    with eng.begin() as conn:
        demo.generate(conn, locator=geo.Locator(None), sessions=sessions, seed=seed, now=NOW)
    return eng


@pytest.fixture(scope="session")
def test_locator() -> geo.Locator:
    path = TESTDATA / "GeoIP2-City-Test.mmdb"
    assert path.is_file(), f"missing test database {path}"
    return geo.Locator(path)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def engine(request, tmp_path_factory, test_locator) -> Iterator[Engine]:
    """A migrated database holding a small deterministic demo data set."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")
    else:
        eng = _postgres_engine()
    upgrade(eng)
    with eng.begin() as conn:
        demo.generate(conn, locator=test_locator, sessions=DEMO_SESSIONS, seed=3, now=NOW)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A ``db`` session whose writes are rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        if engine.dialect.name == "sqlite":
            # pysqlite begins a transaction only at the first write: without this BEGIN the
            # session's SAVEPOINT would be the outermost, and the RELEASE of a commit in the code
            # under test (an export writes its audit row first) would keep its writes for good.
            conn.exec_driver_sql("BEGIN")
        session = Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            session.close()
            trans.rollback()


@pytest.fixture(scope="module")
def app_db(tmp_path_factory) -> Iterator[Engine]:
    """A demo database file the app under test (AppTest) is pointed at, one per test module."""
    from sessionlens.settings import get_settings
    from tests import appdb

    url = appdb.build(tmp_path_factory.mktemp("app") / "app.db")
    mp = pytest.MonkeyPatch()
    mp.setenv("SESSIONLENS_DATABASE_URL", url)
    mp.setenv("SESSIONLENS_EMBEDDED_WORKER", "false")
    get_settings.cache_clear()
    yield make_engine(url)
    mp.undo()
    get_settings.cache_clear()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test (``item.rep_call``), for fixtures that add what
    helps read a failure (the browser tests print their server's log)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
