"""The choices the Session Filters offer, each scoped to the actor's tenant.

Customers are searched, never listed: a tenant can have hundreds of thousands of them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable, select, text
from sqlalchemy.orm import Session

from db.models import Agent, ChatSession, Customer, User
from sessionlens import statuses as session_statuses
from sessionlens import strict
from sessionlens.channels import VOICE_CHANNELS
from sessionlens.customers import PHONE, customer_name_key
from sessionlens.errors import BadInput
from sessionlens.filters import SessionFilter
from sessionlens.permissions import Action, Actor, require
from sessionlens.search import MIN_PREFIX, PersonMatch
from sessionlens.search_tokens import PHONE_DIGITS, phone_key, tokens


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


def agents(db: Session, *, actor: Actor) -> list[Choice]:
    require(actor, Action.VIEW_SESSIONS)
    rows = db.execute(
        select(Agent.id, Agent.name).where(Agent.tenant_id == actor.tenant_id).order_by(Agent.name)
    )
    return [Choice(str(i), n) for i, n in rows]


def voice_agent(db: Session, *, actor: Actor) -> str | None:
    """The id of the agent that took the tenant's newest call (a session on a voice channel): what
    an imported call recording most likely belongs to. None when the tenant has had no calls."""
    require(actor, Action.VIEW_SESSIONS)
    newest: tuple[dt.datetime, int] | None = None
    for channel in sorted(VOICE_CHANNELS):  # one index seek each (tenant, channel, started_at)
        row = db.execute(
            select(ChatSession.started_at, ChatSession.agent_id)
            .where(ChatSession.tenant_id == actor.tenant_id, ChatSession.channel == channel)
            .order_by(ChatSession.started_at.desc(), ChatSession.id.desc())
            .limit(1)
        ).first()
        if row is not None and (newest is None or row.started_at > newest[0]):
            newest = (row.started_at, row.agent_id)
    return str(newest[1]) if newest else None


def human_agents(db: Session, *, actor: Actor) -> list[Choice]:
    require(actor, Action.VIEW_SESSIONS)
    rows = db.execute(
        select(User.id, User.name)
        .where(User.tenant_id == actor.tenant_id, User.is_human_agent)
        .order_by(User.name)
    )
    return [Choice(str(i), n) for i, n in rows]


def statuses(db: Session, *, actor: Actor) -> list[str]:
    """The Statuses filter's choices: the tenant's statuses (no session has any other)."""
    require(actor, Action.VIEW_SESSIONS)
    return session_statuses.of_tenant(db, actor.tenant_id)


def countries(db: Session, *, actor: Actor) -> list[Choice]:
    """Countries that occur in the tenant's sessions, found by a loose index scan (one index probe
    per country, not a scan of the sessions)."""
    require(actor, Action.VIEW_SESSIONS)
    codes = db.scalars(
        text("""
        WITH RECURSIVE c(code) AS (
          SELECT MIN(country) FROM chat_sessions WHERE tenant_id = :t AND country IS NOT NULL
          UNION ALL
          SELECT (SELECT MIN(country) FROM chat_sessions WHERE tenant_id = :t AND country > c.code)
          FROM c WHERE c.code IS NOT NULL)
        SELECT code FROM c WHERE code IS NOT NULL"""),
        {"t": actor.tenant_id},
    ).all()
    out = []
    for code in codes:
        name = db.scalar(
            select(ChatSession.country_name)
            .where(ChatSession.tenant_id == actor.tenant_id, ChatSession.country == code)
            .limit(1)
        )
        out.append(Choice(code, f"{name or code} ({code})"))
    return sorted(out, key=lambda c: c.label)


#: How many customers a finder lists at most: a name typed in part matches many.
CUSTOMER_MATCHES = 20


def search_customers(
    db: Session, term: str, *, actor: Actor, limit: int = CUSTOMER_MATCHES
) -> list[Choice]:
    """Customers for what a user typed, best first: those whose id, external id or email equals
    it, or whose phone (else WhatsApp number) ends with the number it is, typed any way ("0151
    1912563", "1912563" and "+49 151 1912563" all find "+49 151 1912563"; at least
    ``PHONE_DIGITS`` digits); then those whose name starts with it (any case); then those whose
    name, email or phone holds it from the start of a word ("kim" finds Ines Kim, "o'brien" Nora
    O'Brien; accents and punctuation aside, as Search reads words). Each kind of match is its own
    index range or index lookup, so this stays fast however many customers a tenant has."""
    require(actor, Action.VIEW_SESSIONS)
    term = term.strip()
    key = customer_name_key(term)
    if not key:
        return []
    c = Customer
    cols = (c.id, c.name, c.email)
    mine = c.tenant_id == actor.tenant_id
    exact = [
        select(*cols).where(mine, col == term).limit(limit)
        for col in (c.external_id, c.email, c.phone)
    ]
    number = phone_key(term) if PHONE.match(term) else None  # as the contact edit takes it
    if number and len(number) >= PHONE_DIGITS:
        exact.append(
            select(*cols)
            .where(mine, c.phone_key >= number, c.phone_key < number + ":")  # ":" follows "9"
            .order_by(c.phone_key, c.id)
            .limit(limit)
        )
    # An id as ids are taken everywhere: ASCII digits within the column ("²" or twenty digits
    # once went to int() and the database as they were, and the box failed).
    if (cid := strict.id_or_none(term, big=True)) is not None:
        exact.append(select(*cols).where(mine, c.id == cid))
    by_name = (
        select(*cols)
        .where(mine, c.name_key >= key, c.name_key < key + "\U0010ffff")
        .order_by(c.name_key, c.id)
        .limit(limit)
    )
    found: dict[int, Choice] = {}
    for q in (*exact, by_name):
        for i, n, e in db.execute(q):
            found.setdefault(i, Choice(str(i), _customer_label(i, n, e)))
            if len(found) == limit:
                return list(found.values())
    # A name from any of its words: words one after another, the last one begun with at least
    # two letters (one letter would match most of a large tenant; the name's start takes one).
    words = tuple(tokens(term))
    if words and len(words[-1]) >= MIN_PREFIX:
        rows = _word_matches(db, select(*cols).where(mine, PersonMatch(words)).limit(limit))
        for i, n, e in sorted(rows, key=lambda r: (customer_name_key(r[1]) or "", r[0])):
            found.setdefault(i, Choice(str(i), _customer_label(i, n, e)))
    return list(found.values())[:limit]


def _word_matches(db: Session, query: Executable) -> list[Any]:
    """The rows of a ``PersonMatch`` query, read through the words' index on Postgres.

    Postgres cannot estimate how many customers a word prefix matches and guesses 2 % of them,
    so with a LIMIT it walks the tenant's rows testing each: instant for a common prefix, but a
    word nobody has read all 300,000 rows of a test tenant (55 ms) and grows with it. Through the
    GIN index the same query takes 1 ms for no match and 10 ms for a prefix that 30,000
    customers share (EXPLAIN ANALYZE, docs/engineering-notes.md). Unordered, so the index's
    first matches are taken; the caller puts the few found in order."""
    if db.get_bind().dialect.name != "postgresql":
        return list(db.execute(query))
    db.execute(text("SET LOCAL enable_seqscan = off"))
    db.execute(text("SET LOCAL enable_indexscan = off"))
    rows = list(db.execute(query))
    # Back on for the rest of the transaction (a failed query ends it, and the settings with it)
    db.execute(text("SET LOCAL enable_seqscan = on"))
    db.execute(text("SET LOCAL enable_indexscan = on"))
    return rows


def customers_by_id(db: Session, ids: tuple[int, ...], *, actor: Actor) -> list[Choice]:
    require(actor, Action.VIEW_SESSIONS)
    if not ids:
        return []
    rows = db.execute(
        select(Customer.id, Customer.name, Customer.email).where(
            Customer.tenant_id == actor.tenant_id, Customer.id.in_(ids)
        )
    )
    return [Choice(str(i), _customer_label(i, n, e)) for i, n, e in rows]


def check(db: Session, flt: SessionFilter, *, actor: Actor) -> None:
    """Refuse ids that do not exist in the actor's tenant, naming the first one."""
    _, problems = known_only(db, flt, actor=actor)
    if problems:
        raise problems[0]


def known_only(
    db: Session, flt: SessionFilter, *, actor: Actor
) -> tuple[SessionFilter, list[BadInput]]:
    """``flt`` without each filter that names what the actor's tenant does not have (an agent
    since deleted, an id from another workspace's link, a status since renamed), and a BadInput
    naming the first unknown value of each, in the dialog's order."""
    require(actor, Action.VIEW_SESSIONS)
    problems: list[BadInput] = []
    unknown: set[str] = set()  # the SessionFilter fields to leave out
    for field, ids, label, model, extra in (
        ("agent_ids", flt.agent_ids, "Agents", Agent, ()),
        ("human_agent_ids", flt.human_agent_ids, "Human Agent", User, (User.is_human_agent,)),
        ("customer_ids", flt.customer_ids, "Users", Customer, ()),
    ):
        if not ids:
            continue
        found = set(
            db.scalars(
                select(model.id).where(
                    model.tenant_id == actor.tenant_id, model.id.in_(ids), *extra
                )
            )
        )
        missing = [i for i in ids if i not in found]
        if missing:
            noun = label.lower().rstrip("s")
            problems.append(BadInput(f"{label} filter: no such {noun} with id {missing[0]}"))
            unknown.add(field)
    if flt.statuses:
        known = statuses(db, actor=actor)
        if strange := [s for s in flt.statuses if s not in known]:
            problems.append(
                BadInput(f"Statuses filter: {strange[0]!r} is not a status of this workspace")
            )
            unknown.add("statuses")
    if unknown:
        flt = dataclasses.replace(
            flt,
            agent_ids=() if "agent_ids" in unknown else flt.agent_ids,
            human_agent_ids=() if "human_agent_ids" in unknown else flt.human_agent_ids,
            customer_ids=() if "customer_ids" in unknown else flt.customer_ids,
            statuses=() if "statuses" in unknown else flt.statuses,
        )
    return flt, problems


def _customer_label(cid: int, name: str | None, email: str | None) -> str:
    """How a customer is offered in a list: two profiles may share a name and even an email (one
    person reaching out from two channels), so the id always tells them apart."""
    return f"{name or 'Unnamed'} · {email + ' · ' if email else ''}#{cid}"
