"""How the app, the API and the workers write their logs.

``SESSIONLENS_LOG_FORMAT=text`` (the default) writes lines for people; ``json`` writes one JSON
object per line for a log collector, with the ``session_id`` and ``job_id`` the line is about
when there is one. Code that works on a session or a job says so once, with ``context(...)``;
every line logged inside it, by any module, carries those ids.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any, TextIO

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "log_context", default=None
)
_HANDLER_NAME = "sessionlens"
#: The ids a text line ends with, when the line is about one.
_IDS = ("session_id", "job_id")


@contextlib.contextmanager
def context(**ids: Any) -> Iterator[None]:
    """Lines logged inside carry ``ids`` (``session_id=…, job_id=…``); contexts nest."""
    token = _context.set(
        {**(_context.get() or {}), **{k: v for k, v in ids.items() if v is not None}}
    )
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the context's
    ids and any ``extra=`` fields, and the traceback as ``exc_info`` text."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written (a test runner swaps it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        # The handler's filter has put the context's ids on the record already.
        ids = " ".join(f"{k}={getattr(record, k)}" for k in _IDS if getattr(record, k, None))
        return f"{line} [{ids}]" if ids else line


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """Send the ``sessionlens`` loggers' records to stderr in ``fmt``; safe to call again."""
    logger = logging.getLogger("sessionlens")
    logger.setLevel(level)
    for h in list(logger.handlers):
        if h.get_name() == _HANDLER_NAME:
            logger.removeHandler(h)
    handler = _Stderr()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_ContextFilter())
    logger.addHandler(handler)
    logger.propagate = False
