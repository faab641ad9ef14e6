"""Property test: for random small data sets and random filter combinations, the domain's paged
query returns exactly what a plain-Python reading of the spec's rules returns, in order."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from db.models import Agent, ChatSession, Customer, Message, Role, Tenant, User
from sessionlens import search, sessions
from sessionlens.errors import BadInput
from sessionlens.filters import Compare, Responsible, SessionFilter
from sessionlens.identity import actor_for
from sessionlens.sessions import SortKey

T0 = dt.datetime(2026, 3, 27, tzinfo=dt.UTC)
CHANNELS = ["web", "email", "sip"]
STATUSES = ["open", "resolved", "escalated"]
COUNTRIES = [None, "GB", "SE"]
IPS = [None, "81.2.69.142", "89.160.20.112"]
MODES = ["ai", "human", "copilot"]
# Words for messages and searches: inflections, accents, case, Cyrillic and CJK (one token a char).
VOCAB = [
    "refund",
    "refunded",
    "Order",
    "order",
    "Straße",
    "strasse",
    "заказ",
    "ЗАКАЗ",
    "東京",
    "駅",
    "café",
    "cafe",
    "cancel",
    "my",
    "A-12",
]
RESULT_KEYS = ["order_id", "reason"]
message_texts = st.lists(
    st.lists(st.sampled_from(VOCAB), min_size=1, max_size=5).map(
        lambda ws: " ".join(ws) if len(ws) % 2 else ", ".join(ws) + "!"
    ),
    max_size=3,
)
result_values = st.dictionaries(
    st.sampled_from(RESULT_KEYS), st.sampled_from([None, "", "x", [], ["y"]]), max_size=2
)
word = st.sampled_from(VOCAB)
item = st.one_of(
    word,
    word.map(lambda w: w[:3] + "*"),
    st.tuples(word, word).map(lambda p: f'"{p[0]} {p[1]}"'),
    st.tuples(word, word).map(lambda p: f"{p[0]} OR {p[1]}"),
    word.map(lambda w: "-" + w),
)
text_queries = st.lists(item, min_size=1, max_size=3).map(" ".join)
# A coarse hour grid, so that range bounds often equal stored times (boundary cases).
minutes = st.integers(0, 60).map(lambda h: T0 + dt.timedelta(hours=h))

session_rows = st.fixed_dictionaries(
    {
        "agent": st.integers(0, 2),
        "channel": st.sampled_from(CHANNELS),
        "customer": st.one_of(st.none(), st.integers(0, 2)),
        "mode": st.sampled_from(MODES),
        "human": st.one_of(st.none(), st.integers(0, 1)),
        "status": st.sampled_from(STATUSES),
        "started": minutes,
        "duration": st.one_of(st.none(), st.integers(0, 30).map(lambda k: k * 60)),
        "last_after": st.integers(0, 30).map(lambda k: k * 60),
        "count": st.integers(0, 12),
        "attach": st.booleans(),
        "geo": st.integers(0, 2),
        "texts": message_texts,
        "results": result_values,
    }
)
maybe_time = st.one_of(st.none(), minutes)
filters = st.fixed_dictionaries(
    {
        "agents": st.lists(st.integers(0, 2), max_size=2, unique=True),
        "channels": st.lists(st.sampled_from(CHANNELS), max_size=2, unique=True),
        "responsible": st.sampled_from([None, Responsible.HUMAN, Responsible.AI]),
        "humans": st.lists(st.integers(0, 1), max_size=1),
        "customers": st.lists(st.integers(0, 2), max_size=2, unique=True),
        "statuses": st.lists(st.sampled_from(STATUSES), max_size=2, unique=True),
        "countries": st.lists(st.sampled_from(["GB", "SE"]), max_size=1),
        "ip": st.sampled_from([None, *IPS[1:]]),
        "started": st.tuples(maybe_time, maybe_time),
        "finished": st.tuples(maybe_time, maybe_time),
        "last": st.tuples(maybe_time, maybe_time),
        "op": st.sampled_from([None, *Compare]),
        "n": st.integers(0, 12),
        "attach": st.booleans(),
        "text": text_queries,
        "people": st.booleans(),
        "missing": st.sampled_from(["any", *RESULT_KEYS]),
    }
)
# Each example sets a few filters only, so that results are neither always empty nor everything.
enabled = st.sets(
    st.sampled_from(
        [
            "agents",
            "channels",
            "responsible",
            "humans",
            "customers",
            "statuses",
            "countries",
            "ip",
            "started",
            "finished",
            "last",
            "op",
            "attach",
            "text",
            "missing",
        ]
    ),
    min_size=1,
    max_size=3,
)


def _world(db):
    t = Tenant(
        name="Property Co",
        timezone="Europe/Berlin",
        plan="paid",
        statuses=STATUSES,
        result_fields=[{"key": k, "label": k} for k in RESULT_KEYS],
        created_at=T0,
    )
    db.add(t)
    db.flush()
    admin = User(tenant_id=t.id, name="Admin", email="a@x", role=Role.ADMIN)
    humans = [
        User(tenant_id=t.id, name=f"H{i}", email=f"h{i}@x", role=Role.OPERATOR, is_human_agent=True)
        for i in range(2)
    ]
    agents = [Agent(tenant_id=t.id, name=f"A{i}") for i in range(3)]
    customers = [Customer(tenant_id=t.id, name=n) for n in ("C0 Cafe", "C1 Straße", "C2 東京")]
    db.add_all([admin, *humans, *agents, *customers])
    db.flush()
    return t, admin, humans, agents, customers


def _reference(rows, f, sort, texts, people):
    """The spec's rules, read literally: every set filter must hold (AND)."""

    def ok(r):
        if f.text is not None and not f.text.matches(texts[r.id], people.get(r.customer_id, "")):
            return False
        if f.missing_results and not any(
            r.results.get(k) in (None, "", []) for k in f.missing_results
        ):
            return False
        checks = [
            not f.agent_ids or r.agent_id in f.agent_ids,
            not f.channels or r.channel in f.channels,
            f.responsible is None or ((r.mode == "ai") == (f.responsible == Responsible.AI)),
            not f.human_agent_ids or r.assigned_user_id in f.human_agent_ids,
            not f.customer_ids or r.customer_id in f.customer_ids,
            not f.statuses or r.status in f.statuses,
            not f.countries or r.country in f.countries,
            f.ip is None or r.ip == f.ip,
            not f.has_attachments or r.has_attachments,
        ]
        for value, lo, hi in (
            (r.started_at, f.started_from, f.started_to),
            (r.finished_at, f.finished_from, f.finished_to),
            (r.last_message_at, f.last_message_from, f.last_message_to),
        ):
            if lo is not None:
                checks.append(value is not None and value >= lo)
            if hi is not None:
                checks.append(value is not None and value < hi)
        if f.messages_op is not None:
            n, c = f.messages_count, r.message_count
            checks.append(
                {
                    Compare.EQ: c == n,
                    Compare.NE: c != n,
                    Compare.GT: c > n,
                    Compare.LT: c < n,
                    Compare.GE: c >= n,
                    Compare.LE: c <= n,
                }[f.messages_op]
            )
        return all(checks)

    key = (
        (lambda r: (r.started_at, r.id))
        if sort is SortKey.STARTED
        else (lambda r: (r.last_message_at, r.id))
    )
    return [r.id for r in sorted((r for r in rows if ok(r)), key=key, reverse=True)]


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.lists(session_rows, min_size=4, max_size=30),
    spec=filters,
    on=enabled,
    sort=st.sampled_from(list(SortKey)),
    page=st.integers(1, 6),
)
def test_domain_query_matches_the_reference(db, data, spec, sort, page, on):
    blank = {
        "agents": [],
        "channels": [],
        "responsible": None,
        "humans": [],
        "customers": [],
        "statuses": [],
        "countries": [],
        "ip": None,
        "started": (None, None),
        "finished": (None, None),
        "last": (None, None),
        "op": None,
        "attach": False,
        "text": "",
        "missing": "",
    }
    spec = {k: (v if k in on or k in ("n", "people") else blank[k]) for k, v in spec.items()}
    try:
        text = search.parse(spec["text"], people=spec["people"])
    except BadInput:
        assume(False)
    nested = db.begin_nested()
    try:
        t, admin, humans, agents, customers = _world(db)
        rows = []
        for d in data:
            geo = d["geo"]
            started = d["started"]
            rows.append(
                ChatSession(
                    tenant_id=t.id,
                    agent_id=agents[d["agent"]].id,
                    channel=d["channel"],
                    customer_id=None if d["customer"] is None else customers[d["customer"]].id,
                    mode=d["mode"],
                    assigned_user_id=None
                    if d["human"] is None or d["mode"] == "ai"
                    else humans[d["human"]].id,
                    status=d["status"],
                    started_at=started,
                    finished_at=None
                    if d["duration"] is None
                    else started + dt.timedelta(minutes=d["duration"]),
                    last_message_at=started + dt.timedelta(minutes=d["last_after"]),
                    message_count=d["count"],
                    has_attachments=d["attach"],
                    ip=IPS[geo],
                    country=COUNTRIES[geo],
                    parameters={},
                    results=d["results"],
                )
            )
        db.add_all(rows)
        db.flush()
        texts = {}
        for r, d in zip(rows, data, strict=True):
            texts[r.id] = d["texts"]
            for j, body in enumerate(d["texts"]):
                db.add(
                    Message(
                        tenant_id=t.id,
                        session_id=r.id,
                        seq=j,
                        author_kind=["customer", "ai", "private_note"][j % 3],
                        text=body,
                        sent_at=r.started_at,
                    )
                )
        db.flush()
        people = {c.id: c.name for c in customers}

        def pick(xs, objs):
            return tuple(objs[i].id for i in xs)

        f = SessionFilter(
            agent_ids=pick(spec["agents"], agents),
            channels=tuple(spec["channels"]),
            responsible=spec["responsible"],
            human_agent_ids=pick(spec["humans"], humans),
            customer_ids=pick(spec["customers"], customers),
            statuses=tuple(spec["statuses"]),
            countries=tuple(spec["countries"]),
            ip=spec["ip"],
            started_from=spec["started"][0],
            started_to=_after(*spec["started"]),
            finished_from=spec["finished"][0],
            finished_to=_after(*spec["finished"]),
            last_message_from=spec["last"][0],
            last_message_to=_after(*spec["last"]),
            messages_op=spec["op"],
            messages_count=spec["n"] if spec["op"] else None,
            has_attachments=spec["attach"],
            text=text,
            missing_results=tuple(RESULT_KEYS if spec["missing"] == "any" else [spec["missing"]])
            if spec["missing"]
            else (),
            missing_any=spec["missing"] == "any",
        )
        who = actor_for(admin)
        got, cursor = [], None
        while True:
            res = sessions.list_page(db, f, sort, cursor, actor=who, limit=page)
            assert len(res.rows) <= page
            got += [r.id for r in res.rows]
            if res.next_cursor is None:
                break
            cursor = res.next_cursor
        assert got == _reference(rows, f, sort, texts, people)
    finally:
        nested.rollback()


def _after(lo, hi):
    """An upper bound strictly after ``lo`` (a reversed range is refused before reaching SQL)."""
    if hi is None or lo is None:
        return hi
    return hi if hi > lo else None
