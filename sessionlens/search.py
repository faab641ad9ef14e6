"""Full-text search over what was said: the query language, its SQL on both databases, and the
plain-Python reference the tests hold the SQL to.

The language is web-search syntax:

- ``refund order``: both words, anywhere in the session (each word in any message);
- ``"cancel my subscription"``: those words in a row, in one message;
- ``refun*``: a word that starts with "refun" (at least two letters before the star);
- ``refund OR return``: either of the two items around OR;
- ``-voucher``: sessions in which the word never occurs (a phrase may be excluded too).

Words are matched as ``search_tokens`` cuts them, so case, accents, punctuation and the language do
not matter; a word that tokenizes into several tokens ("e-mail", "A-1234", "払い戻し") is a phrase.
Messages of every kind are searched: customer, AI, human agent, private notes, Copilot drafts and
the transcripts of imported calls; with ``people`` a word may also match the customer's name, email
or phone.

SQL: each item becomes one ``EXISTS`` over the session's messages. Postgres matches the stored
``tsvector`` against a ``tsquery`` built here (GIN index on ``(tenant_id, search)``); SQLite matches
its FTS5 table ``messages_fts``. ``TextMatch`` compiles to either, so the filter stays one pure
expression (``SessionFilter.conditions``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, not_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import Boolean

from sessionlens import strict
from sessionlens.errors import BadInput
from sessionlens.search_tokens import CJK, document, token_spans, tokens

MAX_LENGTH = 500
MAX_ITEMS = 16
MIN_PREFIX = 2
LABEL = "Search"
_CJK_ONLY = re.compile(f"^[{CJK}]+$")
# A quoted phrase, or a run of anything but space and quotes; a leading "-" excludes it.
_ITEM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')


@dataclass(frozen=True)
class Term:
    """Consecutive tokens (one word, or a phrase); ``prefix``: the last one only has to start so."""

    words: tuple[str, ...]
    prefix: bool = False

    def found_in(self, toks: list[str]) -> bool:
        n = len(self.words)
        for i in range(len(toks) - n + 1):
            if toks[i : i + n - 1] == list(self.words[:-1]) and (
                toks[i + n - 1].startswith(self.words[-1])
                if self.prefix
                else toks[i + n - 1] == self.words[-1]
            ):
                return True
        return False


@dataclass(frozen=True)
class Clause:
    """Any of ``terms`` (OR); ``exclude``: the session must contain none of them."""

    terms: tuple[Term, ...]
    exclude: bool = False

    def found_in(self, docs: list[list[str]]) -> bool:
        return any(t.found_in(d) for d in docs for t in self.terms)


@dataclass(frozen=True)
class TextQuery:
    """A parsed search: ``text`` as typed (for the URL and the box), its clauses (AND)."""

    text: str
    clauses: tuple[Clause, ...]
    people: bool = False

    def matches(self, messages: list[str], people: str = "") -> bool:
        """The reference: does a session with these message texts (and this customer's name,
        email and phone) match? The SQL of both databases must agree with it."""
        docs = [document(t) for t in messages]
        if self.people and people:
            docs.append(document(people))
        return all(c.found_in(docs) != c.exclude for c in self.clauses)

    @property
    def terms(self) -> list[Term]:
        """The terms to highlight (those the session must contain)."""
        return [t for c in self.clauses if not c.exclude for t in c.terms]


def parse(raw: str, *, people: bool = False) -> TextQuery | None:
    """The query typed in the search box; None when it is blank. BadInput says what to change."""
    text = " ".join(raw.split())
    if not text:
        return None
    if len(text) > MAX_LENGTH:
        raise BadInput(
            f"{LABEL}: at most {MAX_LENGTH} characters, this query has {len(text):,}; "
            "keep the few words that matter most"
        )
    strict.text(text, LABEL, max_len=MAX_LENGTH)  # control characters and the like
    groups: list[list[tuple[Term, bool]]] = []
    join_next = False
    for m in _ITEM.finditer(text):
        minus, quoted, bare = m.groups()
        if quoted is None and bare == "OR":
            join_next = bool(groups)
            continue
        term = _term(quoted if quoted is not None else bare, quoted=quoted is not None)
        if term is None:
            continue
        if join_next and groups:
            groups[-1].append((term, bool(minus)))
        else:
            groups.append([(term, bool(minus))])
        join_next = False
    clauses: list[Clause] = []
    for group in groups:
        excluded = {ex for _, ex in group}
        if len(group) > 1 and True in excluded:
            raise BadInput(f"{LABEL}: OR joins words to look for; put a -word outside it")
        clauses.append(Clause(tuple(dict.fromkeys(t for t, _ in group)), exclude=True in excluded))
    if not clauses:
        raise BadInput(
            f"{LABEL}: {strict.quote(text)} has no letters or digits to look for; "
            "type a word, a number or a phrase"
        )
    if len(clauses) > MAX_ITEMS:
        raise BadInput(
            f"{LABEL}: at most {MAX_ITEMS} words or phrases, this query has {len(clauses)}"
        )
    if all(c.exclude for c in clauses):
        raise BadInput(f"{LABEL}: add a word to look for; a -word only leaves sessions out")
    return TextQuery(text, tuple(clauses), people)


def _term(raw: str, *, quoted: bool) -> Term | None:
    prefix = raw.endswith("*")
    words = tuple(tokens(raw))
    if not words:
        return None
    if prefix and len(words[-1]) < MIN_PREFIX and not _CJK_ONLY.match(words[-1]):
        raise BadInput(
            f"{LABEL}: {strict.quote(raw)} needs at least {MIN_PREFIX} letters before the *"
        )
    return Term(words, prefix)


# --- SQL -----------------------------------------------------------------------------------------


def tsquery(clause: Clause) -> str:
    """One clause as Postgres ``tsquery`` input: terms joined by |, phrases by <->."""

    def lexeme(word: str) -> str:
        return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"

    def term(t: Term) -> str:
        parts = [lexeme(w) for w in t.words]
        if t.prefix:
            parts[-1] += ":*"
        return "(" + " <-> ".join(parts) + ")"

    return " | ".join(term(t) for t in clause.terms)


def fts5_query(clause: Clause) -> str:
    """One clause as an SQLite FTS5 MATCH expression: quoted phrases joined by OR."""

    def term(t: Term) -> str:
        return '"' + " ".join(t.words) + '"' + (" *" if t.prefix else "")

    return " OR ".join(term(t) for t in clause.terms)


class TextMatch(ColumnElement[bool]):
    """True for a ``chat_sessions`` row whose messages (or customer, with ``people``) match one
    clause; compiled per dialect below. Negation is the caller's ``~``/``not_``."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, clause: Clause, *, people: bool) -> None:
        self.clause = clause
        self.people = people


@compiles(TextMatch, "postgresql")
def _pg(element: TextMatch, compiler: Any, **kw: Any) -> str:
    q = compiler.process(bindparam(None, tsquery(element.clause), unique=True), **kw)
    sql = (
        "EXISTS (SELECT 1 FROM messages sm WHERE sm.session_id = chat_sessions.id"
        " AND sm.tenant_id = chat_sessions.tenant_id"
        f" AND sm.search @@ CAST({q} AS tsquery))"
    )
    if element.people:
        sql = (
            f"({sql} OR EXISTS (SELECT 1 FROM customers sc WHERE sc.id = chat_sessions.customer_id"
            f" AND sc.search @@ CAST({q} AS tsquery)))"
        )
    return sql


@compiles(TextMatch, "sqlite")
def _sqlite(element: TextMatch, compiler: Any, **kw: Any) -> str:
    q = compiler.process(bindparam(None, fts5_query(element.clause), unique=True), **kw)
    # Uncorrelated: SQLite finds the matching messages once and keeps their sessions in a
    # temporary index, then walks the sessions in the table's order.
    sql = (
        "chat_sessions.id IN (SELECT sm.session_id FROM messages sm WHERE sm.id IN "
        f"(SELECT rowid FROM messages_fts WHERE messages_fts MATCH {q}))"
    )
    if element.people:
        sql = (
            # IS NOT NULL first: "NULL IN (...)" is NULL, and NOT of it would drop the row.
            f"({sql} OR (chat_sessions.customer_id IS NOT NULL AND chat_sessions.customer_id IN "
            f"(SELECT rowid FROM customers_fts WHERE customers_fts MATCH {q})))"
        )
    return sql


def conditions(query: TextQuery) -> list[ColumnElement[bool]]:
    """The SQL conditions of ``query``, one per clause (AND)."""
    out: list[ColumnElement[bool]] = []
    for c in query.clauses:
        match = TextMatch(c, people=query.people)
        out.append(not_(match) if c.exclude else match)
    return out


# --- highlighting --------------------------------------------------------------------------------


def hits(text: str, query: TextQuery) -> list[tuple[int, int]]:
    """Where the terms of ``query`` occur in ``text``: (start, end) character spans, in order and
    merged, for marking matches in the chat."""
    spans = token_spans(text)
    toks = [t for t, _, _ in spans]
    found: list[tuple[int, int]] = []
    for term in query.terms:
        n = len(term.words)
        for i in range(len(toks) - n + 1):
            if term.found_in(toks[i : i + n]):
                found.append((spans[i][1], spans[i + n - 1][2]))
    found.sort()
    merged: list[tuple[int, int]] = []
    for a, b in found:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged
