"""Counts in words, one way everywhere: "1 segment", "2 segments", "1,204 sessions"."""

from __future__ import annotations


def counted(n: int, word: str, plural: str = "") -> str:
    """``n`` and ``word``, with an "s" unless ``n`` is one (or ``plural``, for a word such as
    "process"), thousands separated."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"
