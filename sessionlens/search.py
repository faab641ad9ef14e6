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

SQL: a session row holds the words of all its messages (``chat_sessions.search``, kept by triggers,
migration 0011). Postgres matches them against a ``tsquery`` built here (GIN index on
``(tenant_id, search)``) and confirms phrases on the messages; SQLite matches its FTS5 table
``chat_sessions_fts``. ``TextMatch`` compiles to either, so the filter stays one pure expression
(``SessionFilter.conditions``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Engine, bindparam, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
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

    @property
    def has_phrase(self) -> bool:
        return any(len(t.words) > 1 for t in self.terms)

    def found_in(self, docs: list[list[str]]) -> bool:
        return any(t.found_in(d) for d in docs for t in self.terms)


@dataclass(frozen=True)
class TextQuery:
    """A parsed search: ``text`` as typed (for the URL and the box), its clauses (AND).

    ``anchor`` (Postgres, set by ``planned``): the one word the index condition names; the rest of
    the query is checked on each row it finds. Not part of the query's identity.
    """

    text: str
    clauses: tuple[Clause, ...]
    people: bool = False
    anchor: str | None = field(default=None, compare=False)

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


def tsquery(clause: Clause, *, positions: bool = True) -> str:
    """One clause as Postgres ``tsquery`` input: terms joined by |, a phrase's words by <->
    (or by &, ``positions=False``, for the session's words, which have no positions)."""

    def term(t: Term) -> str:
        parts = [_lexeme(w) for w in t.words]
        if t.prefix:
            parts[-1] += ":*"
        return "(" + (" <-> " if positions else " & ").join(parts) + ")"

    return " | ".join(term(t) for t in clause.terms)


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def session_tsquery(query: TextQuery) -> str:
    """The words a session must (and must not) hold: every clause, a phrase as all its words, a
    left-out phrase not at all (holding its words is not holding the phrase)."""
    parts = [f"({tsquery(c, positions=False)})" for c in query.clauses if not c.exclude]
    parts += [
        f"!({tsquery(c, positions=False)})" for c in query.clauses if c.exclude and not c.has_phrase
    ]
    return " & ".join(parts)


def fts5_query(clause: Clause) -> str:
    """One clause as an SQLite FTS5 MATCH expression: quoted phrases joined by OR."""

    def term(t: Term) -> str:
        return '"' + " ".join(t.words) + '"' + (" *" if t.prefix else "")

    return " OR ".join(term(t) for t in clause.terms)


def fts5_session_query(query: TextQuery) -> str:
    """The whole query as one FTS5 expression over a session's tokens."""
    expr = " AND ".join(f"({fts5_query(c)})" for c in query.clauses if not c.exclude)
    for c in query.clauses:
        if c.exclude:
            expr = f"({expr}) NOT ({fts5_query(c)})"
    return expr


class TextMatch(ColumnElement[bool]):
    """True for a ``chat_sessions`` row that matches ``query``; compiled per dialect below.

    Postgres: the session's words (``chat_sessions.search``, GIN) answer words, prefixes, OR and
    exclusions in one condition; a phrase is confirmed on the session's messages. SQLite: one FTS5
    match over the session's tokens answers everything. With ``people``, each clause may instead
    match the customer's name, email or phone.
    """

    inherit_cache = False
    type = Boolean()

    def __init__(self, query: TextQuery) -> None:
        self.query = query


# --- planning (Postgres) -------------------------------------------------------------------------

STATS_SECONDS = 600
_stats: dict[str, tuple[float, dict[str, float]]] = {}
_stats_lock = threading.Lock()


def planned(db: Session, query: TextQuery) -> TextQuery:
    """``query`` with its anchor: the rarest word the sessions must hold, by the frequencies
    Postgres' ANALYZE keeps for ``chat_sessions.search`` (a word it does not list is rarer than
    any it does).

    Postgres estimates "all of these words" as the product of their frequencies, which is far too
    low for words that come together (a phrase, one topic's words) and made it read tens of
    thousands of sessions through the index where walking the table's order finds a page at once.
    Naming one word gives it an honest estimate: it walks for a common word and uses the index for
    a rare one; the whole query is then checked on each session it reads.
    """
    if db.get_bind().dialect.name != "postgresql" or query.people:
        return query
    words = [
        w
        for c in query.clauses
        if not c.exclude and len(c.terms) == 1
        for w in (c.terms[0].words[:-1] if c.terms[0].prefix else c.terms[0].words)
    ]
    if not words:
        return query
    freqs = _frequencies(db)
    rarest = min(words, key=lambda w: (freqs.get(w, 0.0), -len(w)))
    return replace(query, anchor=_lexeme(rarest))


def _frequencies(db: Session) -> Mapping[str, float]:
    key = str(db.get_bind().engine.url)
    with _stats_lock:
        held = _stats.get(key)
    if held and time.monotonic() - held[0] < STATS_SECONDS:
        return held[1]
    row = db.execute(
        text(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = 'chat_sessions' AND attname = 'search' LIMIT 1"
        )
    ).first()
    freqs = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
    with _stats_lock:
        _stats[key] = (time.monotonic(), freqs)
    return freqs


def _param(compiler: Any, value: str, **kw: Any) -> str:
    return str(compiler.process(bindparam(None, value, unique=True), **kw))


@compiles(TextMatch, "postgresql")
def _pg(element: TextMatch, compiler: Any, **kw: Any) -> str:
    query = element.query

    def q(tsq: str) -> str:
        return f"CAST({_param(compiler, tsq, **kw)} AS tsquery)"

    def said(c: Clause) -> str:
        # The clause holds in one of the session's messages; OFFSET 0 keeps it a check of the
        # sessions found (Postgres would otherwise join it, reading every message that matches).
        return (
            "EXISTS (SELECT 1 FROM messages sm WHERE sm.session_id = chat_sessions.id"
            f" AND sm.search @@ {q(tsquery(c))} OFFSET 0)"
        )

    def indexed(tsq: str) -> str:
        # Each session is in exactly one of two indexes (migration 0014): GIN for most, a small
        # btree for the live ones. Naming both halves lets Postgres read each through its index.
        return (
            f"((NOT chat_sessions.search_live AND chat_sessions.search @@ {tsq})"
            f" OR (chat_sessions.search_live AND chat_sessions.search @@ {tsq}))"
        )

    if not query.people:
        words = q(session_tsquery(query))
        parts = (
            [indexed(q(query.anchor)), f"ts_match_vq(chat_sessions.search, {words})"]
            if query.anchor
            else [indexed(words)]
        )
        parts += [f"NOT {said(c)}" if c.exclude else said(c) for c in query.clauses if c.has_phrase]
        return "(" + " AND ".join(parts) + ")"
    parts = []
    for c in query.clauses:
        words = f"coalesce(chat_sessions.search, ''::tsvector) @@ {q(tsquery(c, positions=False))}"
        session = f"({words} AND {said(c)})" if c.has_phrase else words
        person = (
            "EXISTS (SELECT 1 FROM customers sc WHERE sc.id = chat_sessions.customer_id"
            f" AND sc.search @@ {q(tsquery(c))})"
        )
        either = f"({session} OR {person})"
        parts.append(f"NOT {either}" if c.exclude else either)
    return "(" + " AND ".join(parts) + ")"


@compiles(TextMatch, "sqlite")
def _sqlite(element: TextMatch, compiler: Any, **kw: Any) -> str:
    query = element.query

    def sessions_matching(expr: str) -> str:
        # Uncorrelated: SQLite runs the match once, keeps the rowids in a temporary index, then
        # walks the sessions in the table's order.
        return (
            "chat_sessions.id IN (SELECT rowid FROM chat_sessions_fts"
            f" WHERE chat_sessions_fts MATCH {_param(compiler, expr, **kw)})"
        )

    if not query.people:
        return sessions_matching(fts5_session_query(query))
    parts = []
    for c in query.clauses:
        expr = fts5_query(c)
        # IS NOT NULL first: "NULL IN (...)" is NULL, and NOT of it would drop the row.
        either = (
            f"({sessions_matching(expr)} OR (chat_sessions.customer_id IS NOT NULL AND "
            "chat_sessions.customer_id IN (SELECT rowid FROM customers_fts WHERE customers_fts"
            f" MATCH {_param(compiler, expr, **kw)})))"
        )
        parts.append(f"NOT {either}" if c.exclude else either)
    return "(" + " AND ".join(parts) + ")"


class PersonMatch(ColumnElement[bool]):
    """True for a ``customers`` row whose name, email or phone holds ``words`` one after another,
    the last as the start of a word: "kim", "o'brien" and "ines k" find Ines Kim and Nora
    O'Brien, as a lead types a name from any of its words (the finders of 360 View, the Users
    filter and the import). Postgres: the customer's ``tsvector`` (GIN); SQLite: ``customers_fts``.
    """

    inherit_cache = False
    type = Boolean()

    def __init__(self, words: tuple[str, ...]) -> None:
        self.clause = Clause((Term(words, prefix=True),))


@compiles(PersonMatch, "postgresql")
def _person_pg(element: PersonMatch, compiler: Any, **kw: Any) -> str:
    tsq = _param(compiler, tsquery(element.clause), **kw)
    return f"customers.search @@ CAST({tsq} AS tsquery)"


@compiles(PersonMatch, "sqlite")
def _person_sqlite(element: PersonMatch, compiler: Any, **kw: Any) -> str:
    expr = _param(compiler, fts5_query(element.clause), **kw)
    return f"customers.id IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH {expr})"


# --- live sessions (Postgres) --------------------------------------------------------------------

#: A live session goes back into the GIN index after this long without a message.
QUIET = dt.timedelta(minutes=5)
SETTLE_EVERY_SECONDS = 60.0
SETTLE_BATCH = 200

_SETTLE = text(
    "UPDATE chat_sessions SET search_live = false WHERE id IN ("
    " SELECT id FROM chat_sessions WHERE search_live AND last_message_at < :before"
    " LIMIT :n FOR UPDATE SKIP LOCKED)"
)
log = logging.getLogger("sessionlens.search")


def settle_live_words(engine: Engine, *, now: dt.datetime | None = None) -> int:
    """Put the live sessions that have had no message for ``QUIET`` back into the GIN index (one
    write of each row, which indexes all its words once); how many. Batches of ``SETTLE_BATCH``,
    each its own transaction; a row an append holds right now is skipped, for the next round.
    Searches find a session whichever index holds it, so this only keeps the live index small."""
    before = (now or dt.datetime.now(dt.UTC)) - QUIET
    settled = 0
    while True:
        with engine.begin() as conn:
            n = conn.execute(_SETTLE, {"before": before, "n": SETTLE_BATCH}).rowcount
        settled += n
        if n < SETTLE_BATCH:
            return settled


# The settler thread of each engine, with the process it runs in (a forked child starts its own).
_settlers: weakref.WeakKeyDictionary[Engine, tuple[int, threading.Thread]] = (
    weakref.WeakKeyDictionary()
)
_settlers_lock = threading.Lock()


def _settling(engine: Engine) -> bool:
    held = _settlers.get(engine)
    return held is not None and held[0] == os.getpid() and held[1].is_alive()


def keep_settling(engine: Engine) -> None:
    """Make sure this process runs ``settle_live_words`` every minute on ``engine``'s database
    (Postgres; started by the first live append, so that the live sessions of a process that
    appends are always settled by someone). One thread a database and process; it holds the engine
    weakly and ends with it."""
    if _settling(engine):  # every append after the first: no lock taken
        return
    with _settlers_lock:
        if _settling(engine):
            return  # another thread just started it
        thread = threading.Thread(
            target=_settle_forever,
            args=(weakref.ref(engine),),
            name="settle-live-words",
            daemon=True,
        )
        _settlers[engine] = (os.getpid(), thread)
        thread.start()


def _settle_forever(engine_ref: weakref.ref[Engine]) -> None:
    failing = False
    while True:
        time.sleep(SETTLE_EVERY_SECONDS)
        engine = engine_ref()
        if engine is None:
            return
        try:
            settle_live_words(engine)
            failing = False
        except Exception:  # a database restart, a dropped test database: try again next round
            if not failing:
                log.warning("could not settle live sessions into the search index", exc_info=True)
            failing = True
        del engine


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
