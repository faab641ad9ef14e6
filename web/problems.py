"""Errors as the HTTP routes answer them: ``{"error": "...", "errors": ["...", ...]}``."""

from __future__ import annotations

from starlette.responses import JSONResponse


def problem(status: int, error: str, errors: list[str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "errors": errors or [error]}, status_code=status)
