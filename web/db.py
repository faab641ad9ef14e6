"""The database for the HTTP routes: one migrated engine per process and URL, shared by every
route module (the Streamlit side has its own in ``components/data.py``)."""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_sessionmaker
from sessionlens import setup
from sessionlens.settings import get_settings

#: What a 503 (the database cannot be reached) asks a client to wait before it tries again.
RETRY_AFTER_SECONDS = 5


@cache
def sessionmaker_for(url: str) -> sessionmaker[Session]:
    return make_sessionmaker(setup.migrated_engine(url))


def sessions() -> sessionmaker[Session]:
    """Write sessions (one transaction each) on the configured database."""
    return sessionmaker_for(get_settings().database_url)
