"""The words of a text as full-text search sees them: one tokenizer for messages, customers and
queries, on both databases. A leaf module (the tables compute their search column with it).

- Case and accents do not matter: NFKC, casefold ("Straße" is "strasse", fullwidth letters are
  ASCII), then the combining accents of Latin, Greek and Cyrillic letters are dropped ("Müller" is
  "muller", "ё" is "е"). Marks that are part of a letter elsewhere (Devanagari vowel signs, kana
  voicing) stay.
- A token is a run of letters, digits and combining marks of any script. Every CJK ideograph, kana
  and Hangul syllable is a token of its own: Chinese and Japanese write no spaces, so a word there is
  found as a phrase of single characters, which is substring search in the same order.
- Tokens are cut at ``MAX_TOKEN`` characters, and a document keeps its first ``MAX_TOKENS`` tokens
  (the last position Postgres can record). A query is tokenized the same way, so both sides agree.

Postgres stores a document as a ``tsvector`` built here (``tsvector_literal``), SQLite as the tokens
joined by spaces for FTS5; neither database runs a parser of its own on the text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

MAX_TOKEN = 64
MAX_TOKENS = 16_383  # Postgres keeps word positions up to 16383
MAX_POSITIONS = 256  # ... and at most 256 positions of one word in one document
_MAX_LEXEME_BYTES = 600_000  # a tsvector holds at most 1 MB
SESSION_WORDS = 8000  # the distinct words a session row keeps (migrations 0011 and 0013)

# Ideographs, kana, bopomofo, Hangul: one token per character.
CJK = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3038-\u303c\u3040-\u30ff"
    "\u3100-\u312f\u3131-\u318e\u31a0-\u31bf\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
_CJK_CHAR = re.compile(f"[{CJK}]")
_CJK_SPLIT = re.compile(f"[{CJK}]|[^{CJK}]+")
_ACCENTS = re.compile("[\u0300-\u036f]+")
_ASCII_TOKEN = re.compile("[a-z0-9]+")


@cache
def _token_re() -> re.Pattern[str]:
    """Letters, digits (``\\w`` without ``_``) and combining marks, built once from the Unicode
    database Python ships (``re`` has no ``\\p{M}``)."""
    marks: list[str] = ["\U000e0100-\U000e01ef"]  # variation selectors supplement
    start = None
    for cp in range(0x300, 0x20001):
        is_mark = cp < 0x20000 and unicodedata.category(chr(cp)).startswith("M")
        if is_mark and start is None:
            start = cp
        elif not is_mark and start is not None:
            marks.append(f"{re.escape(chr(start))}-{re.escape(chr(cp - 1))}")
            start = None
    return re.compile(f"(?:[^\\W_]|[{''.join(marks)}])+")


def fold(text: str) -> str:
    """``text`` without case and the accents of Latin, Greek and Cyrillic letters."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return unicodedata.normalize("NFC", _ACCENTS.sub("", decomposed))


def tokens(text: str) -> list[str]:
    """The search tokens of ``text``, in order."""
    if text.isascii():
        found = _ASCII_TOKEN.findall(text.lower())
    else:
        found = _token_re().findall(_CJK_CHAR.sub(r" \g<0> ", fold(text)))
    return [t[:MAX_TOKEN] for t in found]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Each token of ``text`` with the start and end of the characters it came from, for
    highlighting: the text is cut where tokens are, and each piece is folded on its own."""
    out: list[tuple[str, int, int]] = []
    for m in _token_re().finditer(text):
        for part in _CJK_SPLIT.finditer(m.group()):
            at, end = m.start() + part.start(), m.start() + part.end()
            out.extend((tok, at, end) for tok in tokens(part.group()))
    return out


def document(text: str) -> list[str]:
    """The tokens a stored text is found by: ``tokens`` up to what a tsvector can hold."""
    toks = tokens(text)[:MAX_TOKENS]
    while len(toks) > 1 and sum(len(t.encode()) + 1 for t in set(toks)) > _MAX_LEXEME_BYTES:
        toks = toks[: len(toks) // 2]
    return toks


def people_document(name: str | None, email: str | None, phone: str | None) -> list[str]:
    """A customer's name, email and phone as one document; the phone also as its bare digits, so
    "+1 (555) 010-2030" is found by "5550102030" and by "555-010"."""
    toks = document(" ".join(x for x in (name, email, phone) if x))
    digits = "".join(c for c in phone or "" if c.isdigit() and c.isascii())
    if len(digits) > 3:
        toks.append(digits[:MAX_TOKEN])
        toks.append(digits[-10:])
    return toks


#: The fewest digits a typed number needs to be looked up as the end of a phone number.
PHONE_DIGITS = 6


def phone_key(*numbers: str | None) -> str | None:
    """A customer's phone search key: the digits of the first of ``numbers`` that has any (their
    phone, else their WhatsApp number), leading zeros dropped, reversed. The end of a number typed
    any way ("1912563", "0151 191-2563", "+49 151 1912563") is then a prefix of the key: an index
    range, whatever the country code or trunk prefix in front."""
    for number in numbers:
        digits = "".join(ch for ch in number or "" if "0" <= ch <= "9").lstrip("0")
        if digits:
            return digits[::-1]
    return None


def _quoted(tok: str) -> str:
    return "'" + tok.replace("\\", "\\\\").replace("'", "''") + "'"


def words_literal(docs: list[list[str]]) -> str:
    """The distinct words of ``docs`` as Postgres ``tsvector`` input, without positions: what a
    session row keeps of its messages."""
    return " ".join(_quoted(tok) for tok in dict.fromkeys(t for doc in docs for t in doc))


def tsvector_literal(toks: list[str]) -> str:
    """``toks`` as Postgres ``tsvector`` input: each word with its positions (1-based)."""
    positions: dict[str, list[int]] = {}
    for i, tok in enumerate(toks, start=1):
        at = positions.setdefault(tok, [])
        if len(at) < MAX_POSITIONS:
            at.append(i)
    return " ".join(_quoted(tok) + ":" + ",".join(map(str, at)) for tok, at in positions.items())
