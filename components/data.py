"""The bridge between pages and the domain: engine, ``db`` sessions, the actor, and error messages."""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from functools import cache, wraps
from typing import TYPE_CHECKING, TypeVar

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from components import feedback
from sessionlens import auth, geo, setup
from sessionlens.errors import DomainError, PermissionDenied
from sessionlens.permissions import Actor
from sessionlens.settings import get_settings

if TYPE_CHECKING:
    from sessionlens.worker import Worker

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
_ONCE = threading.RLock()


def once_per_process(fn: Callable[[K], T]) -> Callable[[K], T]:
    """``fn``'s result for this argument, made once per process by whichever thread asks first
    (the server's start, a page run, a download) while the others wait for it. Not
    ``st.cache_resource``: outside a page run that warns "missing ScriptRunContext", and the
    app menu's "Clear cache" empties it, which would open a second engine and start a second
    worker beside the first."""
    made = cache(fn)

    @wraps(fn)
    def get(key: K) -> T:
        with _ONCE:
            return made(key)

    return get


@once_per_process
def _sessionmakers(url: str) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """One engine per process and URL. The embedded default is created, migrated and, when empty,
    filled with demo data on first start."""
    return setup.open_database(
        url, demo_on_first_start=get_settings().demo_on_first_start, locator=locator
    )


@once_per_process
def _locator(path: str | None) -> geo.Locator:
    return geo.get_locator(path)


def locator() -> geo.Locator:
    path = get_settings().geoip_path
    return _locator(str(path) if path else None)


def prepare_database() -> None:
    """Create, migrate and (embedded default, empty) fill the database once per process, before
    anyone signs in: the demo's accounts must exist when the sign-in form asks for them."""
    _sessionmakers(get_settings().database_url)


@contextmanager
def db_session() -> Iterator[Session]:
    """A ``db`` session for one user action: committed if it succeeds, rolled back if not."""
    maker = _sessionmakers(get_settings().database_url)[0]
    with maker() as db, db.begin():
        yield db


# AppTest cannot send cookies: tests put the same signed token under this key. It is checked
# exactly like the cookie (signature, expiry, user active, not signed out).
TEST_TOKEN = "_sessionlens_token"


def signed_in_actor() -> Actor | None:
    """The user the browser's sign-in cookie names, checked against the database on every run;
    None when there is none or it no longer holds (expired, altered, user deactivated, signed out)."""
    token = st.context.cookies.get(auth.COOKIE)
    if not isinstance(token, str) or not token:  # (AppTest's context has no real cookies)
        token = st.session_state.get(TEST_TOKEN)
    if not isinstance(token, str) or not token:
        return None
    with db_session() as db:
        actor = auth.actor_from_token(
            db,
            token,
            secret=auth.app_secret(),
            now=dt.datetime.now(dt.UTC),
        )
    return actor


def current_actor() -> Actor:
    """The signed-in user of this run (the frame signed them in before any screen runs)."""
    actor: Actor | None = st.session_state.get("actor")
    if actor is None:
        raise PermissionDenied("Sign in first")
    return actor


def read_session() -> Session:
    """A read-only ``db`` session (autocommit); also usable from download callbacks, which run
    outside the script."""
    return _sessionmakers(get_settings().database_url)[1]()


def run_read(fn: Callable[[Session], T]) -> T | None:
    """Run a one-statement read (a list page) without a transaction; errors as in run_action."""
    try:
        with read_session() as db:
            return fn(db)
    except DomainError as err:
        feedback.error(str(err))
        return None


def run_action(fn: Callable[[Session], T], *, success: str | None = None) -> T | None:
    """Run one domain call in its own transaction; show a DomainError as a clear message."""
    try:
        with db_session() as db:
            result = fn(db)
    except DomainError as err:
        feedback.error(str(err))
        return None
    if success:
        feedback.toast(success)
    return result


def refusal(fn: Callable[[Session], object]) -> str | None:
    """Run one domain call from a widget's callback, where nothing can be drawn yet: None when it
    went through, else the message of the DomainError that refused it, for the page to show
    beside what was typed (which the callback keeps)."""
    try:
        with db_session() as db:
            fn(db)
    except DomainError as err:
        return str(err)
    return None


def run_step(fn: Callable[[Session], object], *, success: str | None = None) -> bool:
    """Run one domain call for what it changes (its result, often None, is not needed): True
    when it went through, False when a DomainError was shown instead."""
    return run_action(lambda db: fn(db) or True, success=success) is not None


@cache
def keep_imports_out_of_gc() -> None:
    """Once per process, after the first page run: move every object alive now (the modules,
    classes and caches of Streamlit, pandas, SQLAlchemy and the app; the objects of that one run
    too, a small one-off) out of the garbage collector's way, so that its full collections, rare
    now that Streamlit's forced one after every run is off (.streamlit/config.toml), walk only
    what later runs leave behind: about 160,000 objects fewer."""
    gc.freeze()


@once_per_process
def start_embedded_worker(url: str) -> Worker | None:
    """One transcription worker thread per app process on the embedded default (setting
    SESSIONLENS_EMBEDDED_WORKER; off on Postgres, where `sessionlens worker` processes run).
    The server starts it (``app.py``'s lifespan, ``start_with_server``); a page run finds it
    running (AppTest and a plain ``streamlit run frame.py`` start it there)."""
    from sessionlens.blobs import default_store
    from sessionlens.worker import Worker

    settings = get_settings()
    if not settings.runs_embedded_worker:
        return None
    worker = Worker(_sessionmakers(url)[0], settings, default_store(), name="embedded")
    worker.start_thread()
    return worker


def start_with_server() -> Worker | None:
    """What the server does before it serves anyone, on the embedded default: create, migrate
    and fill the database, and start the transcription worker, so that a recording the agent
    runtime sends before anyone opens the console is transcribed, and jobs a restart left in the
    queue go on. On Postgres nothing: workers are processes of their own there, and a database
    that does not answer yet is reported by the pages and /readyz, not by a server that will
    not start."""
    settings = get_settings()
    if not settings.runs_embedded_worker:
        return None
    prepare_database()
    return start_embedded_worker(settings.database_url)
