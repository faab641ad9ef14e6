"""Counts in words, one way everywhere: "1 segment", "2 segments", "1,204 sessions"."""

from __future__ import annotations


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and ``word``, plural unless ``n`` is one (``plural`` where adding "s" is wrong:
    "match", "matches"), with thousands separated."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"
