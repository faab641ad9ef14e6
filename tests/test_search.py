"""Full-text search: the query language, every query form on both databases against the plain-Python
reference, text in other languages and scripts, hostile input, and "Results missing"."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Agent, ApiKey, ChatSession, Customer, Message, Role, Tenant, User
from sessionlens import exchange, export, filter_query, ingest, search, sessions
from sessionlens.errors import BadInput
from sessionlens.filters import SessionFilter
from sessionlens.identity import actor_for
from sessionlens.search import Term
from sessionlens.search_tokens import people_document, tokens
from sessionlens.sessions import SortKey

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
QUIET_PAST = dt.timedelta(days=3651)  # later than any session has been quiet for
FIELDS = [{"key": "order_id", "label": "Order id"}, {"key": "reason", "label": "Reason"}]
# (messages, (author kinds), customer (name, email, phone) or None, results)
CONVERSATIONS = [
    (["Hi, I want a refund for order A-1234", "Sure, the refund is on its way"], None, {}),
    (["Where is my order?", "It was refunded yesterday."], None, {"order_id": "B-77"}),
    (["Ich möchte eine Rückerstattung", "Die Straße ist gesperrt"], None, {"reason": ""}),
    (["Хочу вернуть деньги за заказ", "Ваш возврат оформлен"], None, {"order_id": "x"}),
    (["東京駅で払い戻しをお願いします", "かしこまりました"], None, {"order_id": [], "reason": "x"}),
    (["Please cancel my subscription", "Done, use voucher SAVE10 next time"], None, {}),
    (
        ["cancel", "my subscription is fine"],
        ("Jürgen Müller", "jm@example.com", "+49 30 1234-567"),
        {"order_id": "1", "reason": "2"},
    ),
    (["Καλημέρα, θέλω επιστροφή χρημάτων"], ("Ελένη Π.", None, None), {"reason": "y"}),
    (["100% off? use code_50 \\ or 'quotes'"], None, {}),
]


@pytest.fixture
def world(db: Session):
    t = Tenant(
        name="Search Co",
        timezone="UTC",
        plan="paid",
        statuses=["open"],
        result_fields=FIELDS,
        created_at=T0,
    )
    db.add(t)
    db.flush()
    admin = User(tenant_id=t.id, name="Admin", email="admin@search.example", role=Role.ADMIN)
    agent = Agent(tenant_id=t.id, name="Searcher")
    db.add_all([admin, agent])
    db.flush()
    kinds = ["customer", "ai", "human", "private_note", "copilot_draft"]
    made = []
    for i, (texts, person, results) in enumerate(CONVERSATIONS):
        customer = None
        if person:
            customer = Customer(tenant_id=t.id, name=person[0], email=person[1], phone=person[2])
            db.add(customer)
            db.flush()
        cs = ChatSession(
            tenant_id=t.id,
            agent_id=agent.id,
            channel="web",
            customer_id=customer.id if customer else None,
            status="open",
            started_at=T0 + dt.timedelta(hours=i),
            last_message_at=T0 + dt.timedelta(hours=i),
            message_count=len(texts),
            parameters={},
            results=results,
        )
        db.add(cs)
        db.flush()
        for j, text in enumerate(texts):
            db.add(
                Message(
                    tenant_id=t.id,
                    session_id=cs.id,
                    seq=j,
                    author_kind=kinds[(i + j) % len(kinds)],
                    text=text,
                    sent_at=cs.started_at,
                )
            )
        made.append((cs.id, texts, " ".join(x for x in person or () if x), results))
    db.flush()
    return actor_for(admin), made


def _found(db, who, flt, limit=50):
    got, cursor = [], None
    while True:
        page = sessions.list_page(db, flt, SortKey.STARTED, cursor, actor=who, limit=limit)
        got += [r.id for r in page.rows]
        if page.next_cursor is None:
            return got
        cursor = page.next_cursor


QUERIES = [
    "refund",
    "REFUND",
    "refund*",
    "refun*",
    '"refund is"',
    '"is refund"',
    "a-1234",
    "A1234",
    "refund OR subscription",
    "refund -order",
    "refund -muller",
    "order -refund",
    '"cancel my subscription"',
    "cancel subscription",
    '-"cancel my" subscription',
    "rückerstattung",
    "RUCKERSTATTUNG",
    "strasse",
    "Straße",
    "вернуть",
    "Вернуть ДЕНЬГИ",
    "возв*",
    "払い戻し",
    "駅で",
    "京都",
    "επιστροφη",
    "ΕΠΙΣΤΡΟΦΉ",
    "muller",
    "jm@example.com",
    "1234-567",
    "100%",
    "code_50",
    "'quotes'",
    'subscription OR "use voucher" -fine',
]


@pytest.mark.parametrize("people", [False, True])
@pytest.mark.parametrize("q", QUERIES)
def test_each_query_form_finds_what_the_reference_finds(db, world, q, people):
    who, made = world
    query = search.parse(q, people=people)
    expected = [sid for sid, texts, person, _ in made if query.matches(texts, person)]
    assert _found(db, who, SessionFilter(text=query), limit=2) == sorted(expected, reverse=True)


@pytest.mark.parametrize("people", [False, True])
def test_live_sessions_are_found_as_the_others_are(db, world, people):
    """Half the sessions live (a runtime writing to them: Postgres keeps them out of the GIN index
    and in an index of their own), every query form still finds what the reference finds. On
    Postgres the table may not be read whole, so each half comes through its index."""
    from sqlalchemy import text, update

    who, made = world
    db.execute(
        update(ChatSession)
        .where(ChatSession.id.in_([sid for sid, *_ in made[::2]]))
        .values(search_live=True)
    )
    db.flush()
    if db.bind.dialect.name == "postgresql":
        db.execute(text("SET LOCAL enable_seqscan = off"))
    for q in QUERIES:
        query = search.parse(q, people=people)
        expected = [sid for sid, texts, person, _ in made if query.matches(texts, person)]
        assert _found(db, who, SessionFilter(text=query)) == sorted(expected, reverse=True), q


def test_the_reference_reads_the_queries_as_a_person_would(world):
    _, made = world
    by_text = {texts[0]: sid for sid, texts, _, _ in made}

    def hits(q, people=False):
        query = search.parse(q, people=people)
        return {texts[0] for _, texts, p, _ in made if query.matches(texts, p)}

    assert hits("refund") == {CONVERSATIONS[0][0][0]}  # "refunded" is another word
    assert hits("refund*") == {CONVERSATIONS[0][0][0], CONVERSATIONS[1][0][0]}
    assert hits('"cancel my subscription"') == {CONVERSATIONS[5][0][0]}  # one message, in a row
    assert hits("cancel subscription") == {CONVERSATIONS[5][0][0], CONVERSATIONS[6][0][0]}
    assert hits("strasse") == {CONVERSATIONS[2][0][0]}
    assert hits("駅で") == {CONVERSATIONS[4][0][0]} and not hits("京都")
    assert hits("muller") == set() and hits("muller", people=True) == {CONVERSATIONS[6][0][0]}
    assert len(by_text) == len(CONVERSATIONS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("refund", [("refund",)]),
        ("e-mail", [("e", "mail")]),
        ("払い戻し", [("払", "い", "戻", "し")]),
        ('"cancel my" subscription', [("cancel", "my"), ("subscription",)]),
        ("refund OR return", [("refund",), ("return",)]),
    ],
)
def test_words_phrases_and_or_parse_into_terms(raw, expected):
    query = search.parse(raw)
    assert [t.words for c in query.clauses for t in c.terms] == expected


def test_prefix_exclusion_and_or_structure():
    q = search.parse('refun* -"gift card" a OR b')
    assert [(c.exclude, c.terms) for c in q.clauses] == [
        (False, (Term(("refun",), prefix=True),)),
        (True, (Term(("gift", "card")),)),
        (False, (Term(("a",)), Term(("b",)))),
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("%%% ___ \\\\", "has no letters or digits to look for"),
        ('"', "has no letters or digits to look for"),
        ("-voucher", "a -word only leaves sessions out"),
        ("a*", "needs at least 2 letters before the *"),
        ("x" * 10_000, "at most 500 characters, this query has 10,000"),
        ("refund OR -voucher", "put a -word outside it"),
        ("abc\x00def", "Search"),
    ],
)
def test_queries_that_cannot_be_used_get_a_clear_message(raw, message):
    with pytest.raises(BadInput, match="Search"):
        search.parse(raw)
    try:
        search.parse(raw)
    except BadInput as err:
        assert message in str(err)


@pytest.mark.parametrize(
    "raw",
    [
        "'",
        "\\",
        "%",
        "_",
        "%refund%",
        "re_und",
        "refund\\",
        "O'Brien",
        '"unclosed phrase',
        "OR",
        "a OR",
    ],
)
def test_hostile_queries_are_a_message_or_a_match_never_an_error(db, world, raw):
    who, made = world
    try:
        query = search.parse(raw)
    except BadInput:
        return
    assert query is not None
    expected = [sid for sid, texts, person, _ in made if query.matches(texts, person)]
    assert _found(db, who, SessionFilter(text=query)) == sorted(expected, reverse=True)


def test_the_search_lives_in_the_url_and_combines_with_other_filters(db, world):
    who, made = world
    flt = filter_query.parse({"q": "refund*", "people": "1", "channel": "web"}, "UTC")
    assert flt.text is not None and flt.text.people and flt.channels == ("web",)
    assert filter_query.encode(flt, "UTC") == {"q": "refund*", "people": "1", "channel": "web"}
    assert filter_query.active_labels(flt)[:1] == ["Search"]
    within = SessionFilter(
        text=flt.text,
        started_from=T0 + dt.timedelta(minutes=30),
        started_to=T0 + dt.timedelta(hours=5),
    )
    assert _found(db, who, within) == [made[1][0]]


def test_a_blank_query_is_no_filter():
    assert filter_query.parse({"q": "   "}, "UTC") == SessionFilter()


def test_search_never_crosses_tenants(db, world):
    who, made = world
    other = Tenant(
        name="Other", timezone="UTC", plan="paid", statuses=[], result_fields=[], created_at=T0
    )
    db.add(other)
    db.flush()
    boss = User(tenant_id=other.id, name="B", email="b@other.example", role=Role.ADMIN)
    db.add(boss)
    db.flush()
    assert _found(db, actor_for(boss), SessionFilter(text=search.parse("refund"))) == []


def test_export_uses_the_same_search(db, world):
    who, made = world
    flt = SessionFilter(text=search.parse('"cancel my subscription"'))
    docs = list(export.documents(db, actor=who, flt=flt))
    assert [d["messages"][0]["text"] for d in docs] == ["Please cancel my subscription"]


# --- results missing ------------------------------------------------------------------------------


def _missing(results, keys):
    return any(results.get(k) in (None, "", []) for k in keys)


@pytest.mark.parametrize("missing", ["any", "order_id", "reason"])
def test_results_missing_finds_sessions_without_a_configured_result(db, world, missing):
    who, made = world
    keys = [f["key"] for f in FIELDS]
    flt = filter_query.parse({"missing": missing}, "UTC", keys)
    wanted = keys if missing == "any" else [missing]
    expected = [sid for sid, _, _, results in made if _missing(results, wanted)]
    assert _found(db, who, flt) == sorted(expected, reverse=True)
    assert filter_query.encode(flt, "UTC") == {"missing": missing}
    assert "Results missing" in filter_query.active_labels(flt)


def test_results_missing_names_a_field_that_is_not_configured():
    with pytest.raises(BadInput, match="'colour' is not a configured result field"):
        filter_query.parse({"missing": "colour"}, "UTC", ["order_id"])
    with pytest.raises(BadInput, match="no result fields are configured"):
        filter_query.parse({"missing": "any"}, "UTC", [])


def test_the_panel_data_marks_the_missing_fields(db, world):
    who, made = world
    detail = sessions.get_session(db, made[2][0], actor=who)
    assert [(r.label, r.missing) for r in detail.results] == [("Order id", True), ("Reason", True)]
    detail = sessions.get_session(db, made[1][0], actor=who)
    assert [(r.label, r.missing) for r in detail.results] == [("Order id", False), ("Reason", True)]


# --- tokens and highlighting -------------------------------------------------------------------------


def test_tokens_ignore_case_accents_and_punctuation_in_any_script():
    assert tokens("Straße MÜLLER ёлка Ἀθῆναι") == ["strasse", "muller", "елка", "αθηναι"]
    assert tokens("東京駅") == ["東", "京", "駅"]
    assert tokens("हिन्दी") == ["हिन्दी"]  # vowel signs are part of the word
    assert tokens("%_\\'\"") == []


def test_a_phone_is_found_by_its_digits():
    doc = people_document("Ann", None, "+1 (555) 010-2030")
    assert "15550102030" in doc and "5550102030" in doc


def test_hits_are_spans_of_the_original_text():
    text = "Die RÜCKERSTATTUNG für Straße 5; 東京駅で"
    spans = search.hits(text, search.parse('rückerstattung "strasse 5" 駅で'))
    assert [text[a:b] for a, b in spans] == ["RÜCKERSTATTUNG", "Straße 5", "駅で"]


def test_the_session_forgets_the_words_of_deleted_messages(db, world):
    """A retried transcription replaces its messages: the old words must stop matching."""
    from sqlalchemy import delete

    who, made = world
    sid = made[5][0]
    assert _found(db, who, SessionFilter(text=search.parse("voucher"))) == [sid]
    db.execute(delete(Message).where(Message.session_id == sid, Message.text.like("%voucher%")))
    db.flush()
    assert _found(db, who, SessionFilter(text=search.parse("voucher"))) == []
    assert _found(db, who, SessionFilter(text=search.parse('"cancel my subscription"'))) == [sid]


def test_messages_added_in_one_statement_all_reach_the_session(db, world):
    from sqlalchemy import insert

    who, made = world
    sid = made[7][0]
    db.execute(
        insert(Message),
        [
            {
                "tenant_id": who.tenant_id,
                "session_id": sid,
                "seq": 10 + i,
                "author_kind": "ai",
                "text": text,
                "sent_at": T0,
            }
            for i, text in enumerate(["first batch word quokka", "second batch word wombat"])
        ],
    )
    db.flush()
    for word in ("quokka", "wombat", '"batch word wombat"'):
        assert _found(db, who, SessionFilter(text=search.parse(word))) == [sid]


def test_the_search_indexes_stay_consistent_after_writes(db, world):
    """After the inserts, deletes and updates above, the indexes agree with the rows: FTS5's own
    integrity check on SQLite; on Postgres every session's words equal those of its messages."""
    from sqlalchemy import delete, text

    who, made = world
    db.execute(delete(Message).where(Message.session_id == made[0][0], Message.seq == 0))
    c = db.get_one(Customer, db.get_one(ChatSession, made[6][0]).customer_id)
    c.email = "new@example.com"
    db.flush()
    if db.bind.dialect.name == "sqlite":
        for fts in ("chat_sessions_fts", "customers_fts"):
            db.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('integrity-check')"))
    else:
        assert _stale_sessions(db, who.tenant_id) == 0
    assert _found(db, who, SessionFilter(text=search.parse("new@example.com", people=True))) == [
        made[6][0]
    ]


def _stale_sessions(db, tenant_id: int) -> int:
    """Postgres: the tenant's sessions whose words differ from the words of their messages."""
    from sqlalchemy import text

    return db.scalar(
        text(
            "SELECT count(*) FROM chat_sessions s WHERE s.tenant_id = :t AND "
            "coalesce(s.search, ''::tsvector) <> coalesce((SELECT array_to_tsvector("
            "array_agg(DISTINCT u.lexeme)) FROM messages m, unnest(m.search) u "
            "WHERE m.session_id = s.id), ''::tsvector)"
        ),
        {"t": tenant_id},
    )


def _session_row_writes(db) -> int | None:
    """Postgres: the rows of chat_sessions this transaction has updated so far."""
    from sqlalchemy import text

    if db.bind.dialect.name != "postgresql":
        return None
    db.flush()
    return db.scalar(
        text("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'chat_sessions'")
    )


def _said(text: str, external_id: str | None = None) -> exchange.MessageIn:
    body = {"author": "customer", "text": text, "sent_at": T0.isoformat()}
    return exchange.parse(exchange.MessageIn, body | ({"external_id": external_id} or {}))


def test_messages_a_runtime_appends_are_found_at_once(db, world):
    """Ingest writes the new words with the session's counters (one write of the row on
    Postgres): one message, a batch with external ids (COPY on Postgres), and a repeat."""
    who, made = world
    sid = made[7][0]
    cs = db.get_one(ChatSession, sid)
    before = cs.message_count
    writes = _session_row_writes(db)
    assert ingest.add_messages(db, cs, [_said("is the platypus here")]) == (1, 0)
    batch = [_said("an echidna came", "e-1"), _said("and a numbat left", "e-2")]
    assert ingest.add_messages(db, cs, batch) == (2, 0)
    if writes is not None:
        assert _session_row_writes(db) == writes + 2  # one per append
    assert ingest.add_messages(db, cs, [_said("an echidna came", "e-1")]) == (0, 1)
    db.flush()
    for word in ("platypus", "echidna", '"a numbat left"', "Καλημέρα"):
        assert _found(db, who, SessionFilter(text=search.parse(word))) == [sid], word
    assert _found(db, who, SessionFilter(text=search.parse("wombat"))) == []
    db.refresh(cs)
    assert cs.message_count == before + 3
    if db.bind.dialect.name == "postgresql":
        assert _stale_sessions(db, who.tenant_id) == 0


def test_a_message_with_no_new_word_does_not_rewrite_the_session_row(db, world):
    """Postgres: the trigger writes the session row (a new version: a new ctid) only for a new
    word. On both databases the message is there to be found."""
    from sqlalchemy import insert, text

    who, made = world
    sid = made[5][0]  # "Please cancel my subscription", "Done, use voucher SAVE10 next time"
    pg = db.bind.dialect.name == "postgresql"

    def add(seq: int, words: str) -> str | None:
        db.execute(
            insert(Message).values(
                tenant_id=who.tenant_id,
                session_id=sid,
                seq=seq,
                author_kind="human",
                text=words,
                sent_at=T0,
            )
        )
        db.flush()
        if not pg:
            return None
        return db.scalar(text("SELECT ctid::text FROM chat_sessions WHERE id = :i"), {"i": sid})

    start = add(10, "cancel my subscription")
    assert add(11, "Voucher, next time: SAVE10!") == start
    assert add(12, "a voucher for the kookaburra") != start or not pg
    assert _found(db, who, SessionFilter(text=search.parse('"voucher for the"'))) == [sid]
    assert _found(db, who, SessionFilter(text=search.parse("kookaburra"))) == [sid]
    if pg:
        assert _stale_sessions(db, who.tenant_id) == 0


def test_a_live_append_writes_nothing_to_the_search_index(db, world):
    """A runtime's append makes the session live; on Postgres the new version of its row then
    stays out of the GIN index (before, every append put every word of the session in it again:
    2 to 3 ms for a long conversation). The words are found all the same."""
    from sqlalchemy import text

    who, made = world
    sid = made[0][0]
    cs = db.get_one(ChatSession, sid)
    pg = db.bind.dialect.name == "postgresql"

    def pending() -> int | None:
        if not pg:
            return None
        db.execute(text("CREATE EXTENSION IF NOT EXISTS pgstattuple"))
        return db.scalar(
            text("SELECT pending_tuples FROM pgstatginindex('ix_chat_sessions_search')")
        )

    ingest.add_messages(db, cs, [_said("the first one of many words: quokka")])
    db.flush()
    before = pending()
    for word in ("bilby", "dingo", "galah"):
        ingest.add_messages(db, cs, [_said(f"and then a {word} and a refund")])
    db.flush()
    assert db.scalar(select(ChatSession.search_live).where(ChatSession.id == sid)) is pg
    if pg:
        assert pending() == before
        assert _stale_sessions(db, who.tenant_id) == 0
    for word in ("quokka", "galah", '"a dingo and"', "refund"):
        assert sid in _found(db, who, SessionFilter(text=search.parse(word))), word


def test_a_finished_session_is_no_longer_live(db, world):
    """The runtime's finish puts the session's words back in the GIN index at once (Postgres);
    found before and after, on both databases."""
    from sessionlens.exchange import FinishIn

    who, made = world
    sid = made[2][0]
    cs = db.get_one(ChatSession, sid)
    cs.external_id = "finish-me"
    ingest.add_messages(db, cs, [_said("a cassowary crossed")])
    db.flush()
    pg = db.bind.dialect.name == "postgresql"
    assert db.scalar(select(ChatSession.search_live).where(ChatSession.id == sid)) is pg
    assert _found(db, who, SessionFilter(text=search.parse("cassowary"))) == [sid]
    ingest.finish(db, "finish-me", exchange.parse(FinishIn, {}), actor=who, now=T0)
    db.flush()
    assert db.scalar(select(ChatSession.search_live).where(ChatSession.id == sid)) is False
    assert _found(db, who, SessionFilter(text=search.parse("cassowary"))) == [sid]


def test_a_quiet_live_session_goes_back_into_the_search_index(monkeypatch):
    """Postgres: the first live append of a process starts its settler, which clears the flag of
    a session without a message for ``search.QUIET`` (one write, which indexes its words once)
    and leaves alone one that an append holds right now. The session is found before and after."""
    from sqlalchemy import text

    from tests.conftest import pg_database, seeded

    eng = seeded(pg_database("sessionlens_settle"), sessions=5, seed=3)
    monkeypatch.setattr(search, "SETTLE_EVERY_SECONDS", 0.05)
    with Session(eng) as db:
        cs = db.scalars(select(ChatSession).order_by(ChatSession.id)).first()
        assert cs is not None
        who = actor_for(db.scalars(select(User).where(User.tenant_id == cs.tenant_id)).first())
        monkeypatch.setattr(search, "QUIET", dt.timedelta(days=3650))  # not yet
        ingest.add_messages(db, cs, [_said("a wallaby at the door")])
        db.commit()
        sid, last = cs.id, cs.last_message_at

        def live() -> bool:
            db.rollback()
            return db.scalar(select(ChatSession.search_live).where(ChatSession.id == sid))

        def found() -> list[int]:
            db.rollback()
            db.execute(text("SET LOCAL enable_seqscan = off"))
            return _found(db, who, SessionFilter(text=search.parse("wallaby")))

        assert live() and found() == [sid]
        assert search.settle_live_words(eng, now=last + dt.timedelta(minutes=1)) == 0
        with eng.connect() as other:  # an append in flight holds the row
            other.execute(text("SELECT 1 FROM chat_sessions WHERE id = :i FOR UPDATE"), {"i": sid})
            assert search.settle_live_words(eng, now=dt.datetime.now(dt.UTC) + QUIET_PAST) == 0
        assert live()
        monkeypatch.setattr(search, "QUIET", dt.timedelta(0))  # now it is quiet
        for _ in range(100):
            if not live():
                break
            time.sleep(0.05)
        assert not live(), "the settler thread did not settle the session"
        assert found() == [sid]
    eng.dispose()


def test_an_append_sees_what_the_same_transaction_has_not_flushed_yet(db, world):
    """Ingest runs Core statements, which do not autoflush: a message the ORM still holds must
    still count for the next seq, and a revoked key must already be refused."""
    from sessionlens import admin

    who, made = world
    sid = made[1][0]
    cs = db.get_one(ChatSession, sid)
    db.add(
        Message(
            tenant_id=who.tenant_id,
            session_id=sid,
            seq=50,
            author_kind="ai",
            text="pending",
            sent_at=T0,
        )
    )
    assert ingest.add_messages(db, cs, [_said("after the pending one")]) == (1, 0)
    seqs = db.scalars(select(Message.seq).where(Message.session_id == sid)).all()
    assert sorted(seqs)[-2:] == [50, 51]
    key = admin.create_api_key(db, actor=who, name="soon revoked", now=T0)
    assert admin.api_actor(db, key) is not None
    db.get_one(ApiKey, admin.list_api_keys(db, actor=who)[0].id).revoked_at = T0
    assert admin.api_actor(db, key) is None
