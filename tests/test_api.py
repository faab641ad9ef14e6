"""The agent runtime's HTTP API over HTTP (Starlette's TestClient on the real routes and a real demo
database): keys, idempotency, all-or-nothing batches, errors as JSON paths, tenant scoping."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from db.models import ChatSession, Message, SessionLog, User
from sessionlens import admin, identity
from sessionlens.settings import get_settings
from tests.test_exchange import doc
from web import api
from web import db as web_db

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def keys(app_db):
    """A key of the first tenant, one of the second, and a revoked one."""
    with Session(app_db) as db, db.begin():
        first = identity.default_actor(db)
        from tests.helpers import actor

        second = actor(db, 1)
        mine = admin.create_api_key(db, actor=first, name="runtime", now=NOW)
        theirs = admin.create_api_key(db, actor=second, name="other", now=NOW)
        old = admin.create_api_key(db, actor=first, name="old", now=NOW)
        old_id = admin.list_api_keys(db, actor=first)[0].id
        admin.revoke_api_key(db, actor=first, key_id=old_id, now=NOW)
    return {"mine": mine, "theirs": theirs, "revoked": old}


def api_client() -> Iterator[TestClient]:
    """The real routes on the database and settings of the environment as it is now."""
    get_settings.cache_clear()
    web_db.sessionmaker_for.cache_clear()
    with TestClient(Starlette(routes=api.routes()), base_url="http://127.0.0.1") as c:
        yield c
    get_settings.cache_clear()


@pytest.fixture
def client(app_db):
    yield from api_client()


def h(key):
    return {"Authorization": f"Bearer {key}"}


def _count(app_db, model, **where):
    with Session(app_db) as db:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return db.scalar(stmt)


def _session(app_db, external_id):
    with Session(app_db) as db:
        return db.scalars(select(ChatSession).where(ChatSession.external_id == external_id)).one()


def _markers(app_db, session_id):
    with Session(app_db) as db:
        rows = db.execute(
            select(Message.system_event, Message.sent_at)
            .where(Message.session_id == session_id, Message.author_kind == "system")
            .order_by(Message.seq)
        ).all()
    return [(event, at if at.tzinfo else at.replace(tzinfo=dt.UTC)) for event, at in rows]


def test_a_session_the_runtime_opens_starts_with_the_start_marker(client, keys, app_db):
    """The chat opens with "Client started the session at …" also when the runtime sent no such
    marker; one it sent itself is not doubled, and the runtime is told of its own messages only."""
    res = client.post(
        "/api/v1/sessions", json=doc(external_id="api-start"), headers=h(keys["mine"])
    )
    assert res.status_code == 201 and res.json()["messages_added"] == 2
    cs = _session(app_db, "api-start")
    assert _markers(app_db, cs.id) == [("started", dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC))]
    assert cs.message_count == 2
    own = {
        "author": "system",
        "event": "started",
        "sent_at": "2026-11-26T09:00:00Z",
        "event_data": {"initiator": "Max (Sales)"},
    }
    body = doc(external_id="api-start-own")
    body["messages"] = [own, *body["messages"]]
    res = client.post("/api/v1/sessions", json=body, headers=h(keys["mine"]))
    assert res.status_code == 201 and res.json()["messages_added"] == 3
    assert len(_markers(app_db, _session(app_db, "api-start-own").id)) == 1


def test_the_audit_page_tells_a_change_through_an_api_key_from_its_makers_own(client, keys, app_db):
    """A session the runtime sends and one it hands over are audited under the admin who made
    the key, as before, and name the key: the Audit page showed them as that admin's own work."""
    assert (
        client.post(
            "/api/v1/sessions", json=doc(external_id="api-audit"), headers=h(keys["mine"])
        ).status_code
        == 201
    )
    res = client.post(
        "/api/v1/sessions/api-audit/handover",
        json={"trigger": "automatic", "reason": "angry customer"},
        headers=h(keys["mine"]),
    )
    assert res.status_code == 200
    sid = _session(app_db, "api-audit").id
    with Session(app_db) as db:
        boss = identity.default_actor(db)
        rows = [r for r in admin.audit_log(db, actor=boss) if r.target == f"session {sid}"]
    assert {(r.action, r.user, r.details.get("via")) for r in rows} == {
        ("session_created", boss.name, "API key runtime"),
        ("hand_over", boss.name, "API key runtime"),
    }


def test_keys_are_required_and_checked(client, keys):
    assert client.post("/api/v1/sessions", json=doc()).status_code == 401
    for key in ("slk_not-a-key", keys["revoked"]):
        res = client.post("/api/v1/sessions", json=doc(), headers=h(key))
        assert res.status_code == 401 and "unknown or revoked" in res.json()["error"]


def test_a_wrong_path_or_method_under_api_gets_json_naming_it(client, keys):
    """A runtime with a mistyped URL or the wrong method learns which, in JSON: 404 for a path the
    API does not have, 405 with Allow for a method its path does not take."""
    r = client.get("/api/v1/sesions", headers=h(keys["mine"]))
    assert r.status_code == 404
    assert r.json()["error"] == "No such API endpoint: GET /api/v1/sesions"
    r = client.get("/api/v1/sessions", headers=h(keys["mine"]))
    assert (r.status_code, r.headers["allow"]) == (405, "POST")
    assert r.json()["error"] == "GET /api/v1/sessions is not allowed; use POST"
    r = client.put("/api/v1/sessions/ext-1", json={}, headers=h(keys["mine"]))
    assert (r.status_code, r.headers["allow"]) == (405, "GET, HEAD, PATCH")
    assert client.post("/api/v1/jobs/1").headers["allow"] == "GET, HEAD"


def test_create_twice_makes_one_session_then_append_and_finish(client, keys, app_db):
    body = doc(external_id="api-1")
    res = client.post("/api/v1/sessions", json=body, headers=h(keys["mine"]))
    assert res.status_code == 201 and res.json()["messages_added"] == 2
    res = client.post("/api/v1/sessions", json=body, headers=h(keys["mine"]))
    assert res.status_code == 200 and res.json() == {
        "external_id": "api-1",
        "created": False,
        "messages_added": 0,
        "messages_skipped": 2,
        "logs_added": 0,
        "mode": "ai",
        "finished": False,
        "ai_answers": True,
    }
    one = {
        "external_id": "m3",
        "author": "customer",
        "text": "Still there?",
        "sent_at": "2026-11-26T09:05:00Z",
    }
    for _ in range(2):
        res = client.post("/api/v1/sessions/api-1/messages", json=one, headers=h(keys["mine"]))
        assert res.status_code == 200
    assert _session(app_db, "api-1").message_count == 3
    res = client.patch(
        "/api/v1/sessions/api-1", json={"results": {"order": "NW-1"}}, headers=h(keys["mine"])
    )
    assert res.status_code == 200 and _session(app_db, "api-1").results == {"order": "NW-1"}
    res = client.post(
        "/api/v1/sessions/api-1/logs",
        json={
            "logs": [
                {"kind": "system", "at": "2026-11-26T09:06:00Z", "text": "Tool call: refund()"}
            ]
        },
        headers=h(keys["mine"]),
    )
    assert res.json() == {"logs_added": 1}
    res = client.post(
        "/api/v1/sessions/api-1/finish",
        json={"finished_at": "2026-11-26T09:07:00Z", "status": "resolved"},
        headers=h(keys["mine"]),
    )
    cs = _session(app_db, "api-1")
    assert res.status_code == 200 and cs.status == "resolved"
    assert cs.finished_at == dt.datetime(2026, 11, 26, 9, 7, tzinfo=dt.UTC)
    # The runtime sends its first document again (a late retry, or a sync of what it has): the
    # fields it leaves out keep their values, and the session stays finished.
    res = client.post("/api/v1/sessions", json=body, headers=h(keys["mine"]))
    cs = _session(app_db, "api-1")
    assert res.status_code == 200 and (cs.status, cs.results) == ("resolved", {"order": "NW-1"})
    assert cs.finished_at == dt.datetime(2026, 11, 26, 9, 7, tzinfo=dt.UTC)
    assert (res.json()["finished"], res.json()["ai_answers"]) == (True, False)
    res = client.post(
        "/api/v1/sessions",
        json={**body, "finished_at": None, "results": {}},
        headers=h(keys["mine"]),
    )
    cs = _session(app_db, "api-1")
    assert res.status_code == 200 and cs.results == {}  # a field it gives is set
    assert cs.finished_at == dt.datetime(2026, 11, 26, 9, 7, tzinfo=dt.UTC)  # a finish is for good


def test_a_session_cannot_finish_before_it_started(client, keys, app_db):
    """The Finish time column would show a time before Start, and the Handoffs page a negative
    duration: a finish before the start is named (422) and nothing is written."""
    res = client.post(
        "/api/v1/sessions",
        json=doc(external_id="api-early", finished_at="2026-11-26T08:59:00Z"),
        headers=h(keys["mine"]),
    )
    assert res.status_code == 422
    assert res.json()["errors"] == [
        "$.finished_at: before the session's start, 2026-11-26T09:00:00Z"
    ]
    with Session(app_db) as db:
        assert db.scalar(select(ChatSession).where(ChatSession.external_id == "api-early")) is None
    client.post("/api/v1/sessions", json=doc(external_id="api-late"), headers=h(keys["mine"]))
    res = client.post(
        "/api/v1/sessions/api-late/finish",
        json={"finished_at": "2026-11-26T10:00:00+02:00"},  # 08:00 UTC
        headers=h(keys["mine"]),
    )
    assert res.status_code == 422
    assert res.json()["error"] == "$.finished_at: before the session's start, 2026-11-26T09:00:00Z"
    assert _session(app_db, "api-late").finished_at is None


def test_a_status_the_workspace_does_not_have_is_refused_naming_the_list(client, keys, app_db):
    """The Statuses filter offers the workspace's statuses only: a session the runtime gave
    another status could never be found by it. The runtime is told the list (422) and nothing
    is written; a configured status goes through."""
    listed = "(open, resolved, escalated, abandoned, spam)"
    res = client.post(
        "/api/v1/sessions",
        json=doc(external_id="api-pending", status="pending"),
        headers=h(keys["mine"]),
    )
    assert res.status_code == 422
    assert res.json()["errors"] == [
        f"$.status: 'pending' is not one of this workspace's statuses {listed}; an admin can "
        "add it under Settings → Tenant"
    ]
    assert _count(app_db, ChatSession, external_id="api-pending") == 0
    client.post("/api/v1/sessions", json=doc(external_id="api-st"), headers=h(keys["mine"]))
    for method, path, body in [
        ("patch", "/api/v1/sessions/api-st", {"status": "Resolved", "results": {"x": 1}}),
        ("post", "/api/v1/sessions/api-st/finish", {"status": "done"}),
    ]:
        res = getattr(client, method)(path, json=body, headers=h(keys["mine"]))
        assert (
            res.status_code == 422
            and "is not one of this workspace's statuses" in (res.json()["error"])
        ), path
    cs = _session(app_db, "api-st")  # neither the results nor the finish were half-written
    assert (cs.status, cs.results, cs.finished_at) == ("open", {}, None)
    res = client.patch(
        "/api/v1/sessions/api-st", json={"status": "escalated"}, headers=h(keys["mine"])
    )
    assert res.status_code == 200 and _session(app_db, "api-st").status == "escalated"


def test_a_batch_with_one_bad_message_writes_nothing_and_names_it(client, keys, app_db):
    client.post("/api/v1/sessions", json=doc(external_id="api-2"), headers=h(keys["mine"]))
    before = _count(app_db, Message, session_id=_session(app_db, "api-2").id)
    batch = [
        {
            "external_id": f"b{i}",
            "author": "ai",
            "text": f"line {i}",
            "sent_at": "2026-11-26T09:10:00Z",
        }
        for i in range(5)
    ]
    batch[3]["sent_at"] = "soon"
    res = client.post(
        "/api/v1/sessions/api-2/messages", json={"messages": batch}, headers=h(keys["mine"])
    )
    assert res.status_code == 422
    assert res.json()["errors"] == ["$.messages[3].sent_at: not a datetime"]
    assert _count(app_db, Message, session_id=_session(app_db, "api-2").id) == before


@pytest.mark.parametrize(
    "change, path",
    [
        ({"channel": "fax"}, "$.channel"),
        ({"started_at": 12}, "$.started_at"),
        ({"external_id": ""}, "$.external_id"),
        (
            {"messages": [{"author": "ai", "sent_at": "2026-11-26T09:00:00Z", "text": 5}]},
            "$.messages[0].text",
        ),
    ],
)
def test_bad_documents_get_422_naming_the_field_and_create_nothing(
    client, keys, app_db, change, path
):
    body = doc(**{"external_id": "api-bad", **change})
    res = client.post("/api/v1/sessions", json=body, headers=h(keys["mine"]))
    assert res.status_code == 422 and res.json()["errors"][0].startswith(path)
    assert _count(app_db, ChatSession, external_id="api-bad") == 0


def test_missing_fields_and_broken_json(client, keys):
    body = doc(external_id="api-3")
    del body["agent"], body["started_at"]
    res = client.post("/api/v1/sessions", json=body, headers=h(keys["mine"]))
    assert res.status_code == 422 and res.json()["errors"] == [
        "$.agent: required",
        "$.started_at: required",
    ]
    res = client.post("/api/v1/sessions", content=b'{"external_id": ', headers=h(keys["mine"]))
    assert res.status_code == 422 and res.json()["errors"][0].startswith("$: not JSON")


def test_values_that_cannot_be_right_are_named_in_plain_words(client, keys, app_db):
    """An empty name, an empty batch, a time far ahead of the server's clock or a PATCH that
    changes nothing says so, not in the validation library's words."""
    res = client.post(
        "/api/v1/sessions", json=doc(external_id="api-4", agent=""), headers=h(keys["mine"])
    )
    assert res.status_code == 422 and res.json()["errors"] == ["$.agent: empty"]
    assert (
        client.post(
            "/api/v1/sessions", json=doc(external_id="api-4"), headers=h(keys["mine"])
        ).status_code
        == 201
    )
    ahead = {"author": "ai", "text": "x", "sent_at": "2099-01-01T00:00:00Z"}
    res = client.post("/api/v1/sessions/api-4/messages", json=ahead, headers=h(keys["mine"]))
    assert res.status_code == 422
    assert res.json()["errors"][0].startswith(
        "$.sent_at: more than a day ahead of the server's clock (now "
    )
    res = client.patch("/api/v1/sessions/api-4", json={}, headers=h(keys["mine"]))
    assert res.status_code == 422
    assert res.json()["errors"] == ["$: nothing to change: give parameters, results or status"]
    for path, body in (("messages", {"messages": []}), ("logs", {"logs": []})):
        res = client.post(f"/api/v1/sessions/api-4/{path}", json=body, headers=h(keys["mine"]))
        assert res.status_code == 422
        assert res.json()["errors"] == [f"$.{path}: empty; at least one is needed"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        # Python's decoder takes these; no JSON column holds them (Postgres refuses them, an
        # export would write invalid JSON): they were stored, or a 500 on Postgres.
        (b'{"results": {"total": NaN}}', "$: not JSON (NaN is not a JSON number)"),
        (b'{"results": {"total": -Infinity}}', "$: not JSON (-Infinity is not a JSON number)"),
        (b'{"parameters": {"x": 1e999}}', "$: the number 1e999 is too large"),
        (b'{"parameters": {"x": ' + b"9" * 5000 + b"}}", "$: not JSON (Exceeds the limit"),
        # Postgres stores no NUL in text or JSON (a 500 there); SQLite stored it
        (b'{"results": {"note": "a\\u0000b"}}', "$.results.note: holds a NUL character"),
        # a 500 before: the decoder ran out of recursion
        (b'{"parameters": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "$: nested too deeply"),
        # the panel showed it as "---: 1"
        (b'{"results": {" ": 1}}', "$.results: a key is empty"),
    ],
)
def test_json_no_database_can_store_is_refused_and_nothing_changes(
    client, keys, app_db, body, error
):
    client.post("/api/v1/sessions", json=doc(external_id="api-json"), headers=h(keys["mine"]))
    before = _session(app_db, "api-json")
    res = client.patch("/api/v1/sessions/api-json", content=body, headers=h(keys["mine"]))
    assert res.status_code == 422 and res.json()["errors"][0].startswith(error)
    after = _session(app_db, "api-json")
    assert (after.parameters, after.results) == (before.parameters, before.results)


def test_a_50_mb_message_is_refused(client, keys, monkeypatch):
    client.post("/api/v1/sessions", json=doc(external_id="api-4"), headers=h(keys["mine"]))
    huge = {
        "author": "customer",
        "text": "x" * (50 * 1024 * 1024),
        "sent_at": "2026-11-26T09:00:00Z",
    }
    res = client.post("/api/v1/sessions/api-4/messages", json=huge, headers=h(keys["mine"]))
    assert res.status_code == 422 and res.json()["errors"] == [
        "$.text: longer than 1,000,000 characters"
    ]
    monkeypatch.setenv("SESSIONLENS_MAX_UPLOAD_MB", "10")
    get_settings.cache_clear()
    res = client.post("/api/v1/sessions/api-4/messages", json=huge, headers=h(keys["mine"]))
    assert res.status_code == 413 and "larger than 10 MB" in res.json()["error"]


def test_another_tenants_key_never_sees_this_tenants_sessions(client, keys, app_db):
    client.post("/api/v1/sessions", json=doc(external_id="api-5"), headers=h(keys["mine"]))
    one = {"author": "customer", "text": "intruder", "sent_at": "2026-11-26T09:00:00Z"}
    for method, path, body in [
        ("post", "/api/v1/sessions/api-5/messages", one),
        ("patch", "/api/v1/sessions/api-5", {"status": "spam"}),
        ("post", "/api/v1/sessions/api-5/finish", {}),
        ("post", "/api/v1/sessions/api-5/handover", {"trigger": "automatic"}),
    ]:
        res = getattr(client, method)(path, json=body, headers=h(keys["theirs"]))
        assert res.status_code == 404 and res.json()["error"] == "Session 'api-5' not found", path
    cs = _session(app_db, "api-5")
    assert cs.status == "open" and cs.finished_at is None and cs.mode == "ai"


def test_handover_follows_the_buttons_rules(client, keys, app_db):
    client.post("/api/v1/sessions", json=doc(external_id="api-6"), headers=h(keys["mine"]))
    ask = {"trigger": "customer_request", "reason": "Customer asked for a person"}
    res = client.post("/api/v1/sessions/api-6/handover", json=ask, headers=h(keys["mine"]))
    assert res.status_code == 200 and _session(app_db, "api-6").mode == "human"
    res = client.post("/api/v1/sessions/api-6/handover", json=ask, headers=h(keys["mine"]))
    assert res.status_code == 409
    with Session(app_db) as db:
        cs = _session(app_db, "api-6")
        marker = db.scalars(
            select(Message).where(Message.session_id == cs.id, Message.system_event == "transfer")
        ).all()
        lines = db.scalars(select(SessionLog.text).where(SessionLog.session_id == cs.id)).all()
    assert len(marker) == 1
    assert (
        "Handover requested by the agent runtime (customer_request): Customer asked for a person"
        in lines
    )
    res = client.post(
        "/api/v1/sessions/api-6/handover", json={"trigger": "boredom"}, headers=h(keys["mine"])
    )
    assert res.status_code == 422 and res.json()["errors"][0].startswith("$.trigger: not one of")


def test_intercom_assignee_to_a_person_hands_over(client, keys, app_db):
    client.post(
        "/api/v1/sessions",
        json=doc(external_id="api-7", channel="intercom"),
        headers=h(keys["mine"]),
    )
    # JSON's true and false only: "no" and 0 were taken for false, and handed the session over
    for vague in ("no", 0, "false"):
        res = client.post(
            "/api/v1/sessions/api-7/assignee", json={"is_bot": vague}, headers=h(keys["mine"])
        )
        assert res.status_code == 422 and res.json()["errors"] == ["$.is_bot: not true or false"]
    assert _session(app_db, "api-7").mode == "ai"
    res = client.post(
        "/api/v1/sessions/api-7/assignee", json={"is_bot": True}, headers=h(keys["mine"])
    )
    assert res.json()["handed_over"] is False and _session(app_db, "api-7").mode == "ai"
    res = client.post(
        "/api/v1/sessions/api-7/assignee", json={"is_bot": False}, headers=h(keys["mine"])
    )
    assert res.json()["handed_over"] is True and _session(app_db, "api-7").mode == "human"
    client.post("/api/v1/sessions", json=doc(external_id="api-8"), headers=h(keys["mine"]))
    res = client.post(
        "/api/v1/sessions/api-8/assignee", json={"is_bot": False}, headers=h(keys["mine"])
    )
    assert res.status_code == 409 and "Intercom" in res.json()["error"]


def test_export_streams_the_tenants_sessions_as_a_download(client, keys, app_db):
    client.post(
        "/api/v1/sessions",
        json=doc(external_id="api-9", agent="Export Agent"),
        headers=h(keys["mine"]),
    )
    res = client.get(
        "/api/v1/sessions/export",
        params={"format": "jsonl", "agent": "Export Agent"},
        headers=h(keys["mine"]),
    )
    assert res.status_code == 200 and "attachment;" in res.headers["content-disposition"]
    assert "_agent-export-agent_" in res.headers["content-disposition"]
    lines = [json.loads(x) for x in res.text.splitlines()]
    assert [d["external_id"] for d in lines] == ["api-9"]
    res = client.get(
        "/api/v1/sessions/export",
        params={"format": "csv", "agent": "Export Agent"},
        headers=h(keys["theirs"]),
    )
    assert res.status_code == 404  # the other tenant has no such agent
    assert (
        client.get(
            "/api/v1/sessions/export", params={"format": "xml"}, headers=h(keys["mine"])
        ).status_code
        == 422
    )


def test_an_agent_named_in_another_script_exports_under_its_name(client, keys, app_db):
    """A file name holding "Ассистент Ольга" cannot go in an HTTP header as it is: the export
    was a 500. The header has an ASCII fallback and the name in UTF-8 (RFC 6266)."""
    from urllib.parse import unquote

    agent = "Ассистент Ольга"
    client.post(
        "/api/v1/sessions", json=doc(external_id="api-cyr", agent=agent), headers=h(keys["mine"])
    )
    res = client.get(
        "/api/v1/sessions/export", params={"format": "csv", "agent": agent}, headers=h(keys["mine"])
    )
    assert res.status_code == 200 and "api-cyr" in res.text
    header = res.headers["content-disposition"]
    assert header.isascii() and header.startswith('attachment; filename="')
    assert "_agent-ассистент-ольга_" in unquote(header.split("filename*=UTF-8''")[1])


def test_a_session_id_with_a_slash_can_be_appended_to_and_finished(client, keys, app_db):
    """A runtime's id such as an e-mail thread's "<CAF/x9@mail>" was created, then every append,
    PATCH and finish was a 404: the slash split the path."""
    from urllib.parse import quote

    ext = "<CAF/x9+a@mail.example>"
    assert (
        client.post(
            "/api/v1/sessions", json=doc(external_id=ext), headers=h(keys["mine"])
        ).status_code
        == 201
    )
    for path in (quote(ext, safe=""), ext):  # percent-encoded, and as it is
        res = client.post(
            f"/api/v1/sessions/{path}/messages",
            json={"author": "customer", "text": f"by {path}", "sent_at": "2026-11-26T09:01:00Z"},
            headers=h(keys["mine"]),
        )
        assert res.status_code == 200 and res.json()["external_id"] == ext
    res = client.patch(
        f"/api/v1/sessions/{quote(ext, safe='')}",
        json={"results": {"k": "v"}},
        headers=h(keys["mine"]),
    )
    assert res.status_code == 200
    res = client.post(
        f"/api/v1/sessions/{quote(ext, safe='')}/finish", json={}, headers=h(keys["mine"])
    )
    assert res.status_code == 200
    cs = _session(app_db, ext)
    assert cs.finished_at is not None and cs.results == {"k": "v"}
    with Session(app_db) as db:
        texts = db.scalars(select(Message.text).where(Message.session_id == cs.id)).all()
    assert {"by <CAF/x9+a@mail.example>", f"by {quote(ext, safe='')}"} <= set(texts)
    res = client.post("/api/v1/sessions/no/such/thread/finish", json={}, headers=h(keys["mine"]))
    assert res.status_code == 404 and "no/such/thread" in res.json()["error"]


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["revision"] == ready.json()["head"]


def test_the_readme_example_is_accepted(client, keys):
    """The example in the README is a valid document (kept in step by this test)."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = readme.index("```json\n", readme.index("### The session format")) + len("```json\n")
    example = json.loads(readme[start : readme.index("```", start)])
    res = client.post("/api/v1/sessions", json=copy.deepcopy(example), headers=h(keys["mine"]))
    assert res.status_code in (200, 201), res.json()


def test_the_outbox_round_trip(client, keys, app_db):
    """A human agent's reply waits in the outbox; the runtime reports it delivered, then it is
    gone from the outbox and the chat shows the status and the provider's note."""
    from sessionlens import handover, human_agents

    client.post("/api/v1/sessions", json=doc(external_id="api-out"), headers=h(keys["mine"]))
    with Session(app_db) as db, db.begin():
        boss = identity.default_actor(db)
        sid = _session(app_db, "api-out").id
        handover.hand_over(db, actor=boss, session_id=sid, now=NOW)
        grace = identity.actor_for(
            db.scalars(select(User).where(User.email == "grace.kim@northwind.example")).one()
        )
        human_agents.accept(db, actor=grace, session_id=sid, now=NOW)
        mid = human_agents.reply(db, actor=grace, session_id=sid, text="On its way", now=NOW)
    res = client.get("/api/v1/outbox", headers=h(keys["mine"]))
    items = [m for m in res.json()["messages"] if m["id"] == mid]
    assert items == [
        {
            "id": mid,
            "session_external_id": "api-out",
            "channel": "web",
            "text": "On its way",
            "author_name": "Grace Kim",
            "sent_at": "2026-11-26T10:00:00Z",
        }
    ]
    assert client.get("/api/v1/outbox", headers=h(keys["theirs"])).json()["messages"] == []
    res = client.post(
        f"/api/v1/messages/{mid}/delivery",
        json={"status": "failed", "note": "WhatsApp: 24-hour window closed"},
        headers=h(keys["theirs"]),
    )
    assert res.status_code == 404  # another tenant's message
    res = client.post(
        f"/api/v1/messages/{mid}/delivery",
        json={"status": "failed", "note": "WhatsApp: 24-hour window closed"},
        headers=h(keys["mine"]),
    )
    assert res.status_code == 200
    assert mid not in [
        m["id"] for m in client.get("/api/v1/outbox", headers=h(keys["mine"])).json()["messages"]
    ]
    with Session(app_db) as db:
        m = db.get_one(Message, mid)
        assert (m.delivery_status, m.delivery_note) == ("failed", "WhatsApp: 24-hour window closed")
    res = client.post(
        f"/api/v1/messages/{mid}/delivery", json={"status": "lost"}, headers=h(keys["mine"])
    )
    assert res.status_code == 422 and res.json()["errors"][0].startswith("$.status: not one of")


def test_after_a_human_resolves_the_customers_next_message_starts_a_new_ai_session(
    client, keys, app_db
):
    from sessionlens import handover, human_agents

    client.post("/api/v1/sessions", json=doc(external_id="api-again"), headers=h(keys["mine"]))
    with Session(app_db) as db, db.begin():
        boss = identity.default_actor(db)
        sid = _session(app_db, "api-again").id
        handover.hand_over(db, actor=boss, session_id=sid, now=NOW)
        grace = identity.actor_for(
            db.scalars(select(User).where(User.email == "grace.kim@northwind.example")).one()
        )
        human_agents.accept(db, actor=grace, session_id=sid, now=NOW)
        human_agents.resolve(db, actor=grace, session_id=sid, now=NOW)
    again = {"author": "customer", "text": "One more question", "sent_at": "2026-11-26T10:30:00Z"}
    res = client.post("/api/v1/sessions/api-again/messages", json=again, headers=h(keys["mine"]))
    assert (
        res.status_code == 200
        and res.json()["external_id"] == "api-again~2"
        and res.json()["created"]
    )
    new = _session(app_db, "api-again~2")
    old = _session(app_db, "api-again")
    assert (new.mode, new.finished_at, new.customer_id, new.agent_id) == (
        "ai",
        None,
        old.customer_id,
        old.agent_id,
    )
    assert new.message_count == 1 and old.message_count == 2
    assert _markers(app_db, new.id) == [
        ("started", dt.datetime(2026, 11, 26, 10, 30, tzinfo=dt.UTC))
    ]
    more = {"author": "ai", "text": "Sure, ask away.", "sent_at": "2026-11-26T10:30:05Z"}
    res = client.post("/api/v1/sessions/api-again/messages", json=more, headers=h(keys["mine"]))
    assert res.json()["external_id"] == "api-again~2" and not res.json()["created"]
    assert _session(app_db, "api-again~2").message_count == 2


def test_the_runtime_learns_when_its_ai_is_to_stop_answering(client, keys, app_db):
    """ "The AI agent stops responding" after a hand-over made in the console: the runtime cannot
    see the console's button, so every write answers who drives the session now (``mode``,
    ``ai_answers``) and ``GET /api/v1/sessions/{id}`` tells it at any time, with the assignee's
    name; after the operator resolves it, the customer's next message is the AI's again."""
    from sessionlens import handover, human_agents

    first = client.post(
        "/api/v1/sessions", json=doc(external_id="api-who"), headers=h(keys["mine"])
    )
    assert first.status_code == 201
    assert {k: first.json()[k] for k in ("mode", "finished", "ai_answers")} == {
        "mode": "ai",
        "finished": False,
        "ai_answers": True,
    }
    hello = {"author": "customer", "text": "Are you a bot?", "sent_at": "2026-11-26T09:10:00Z"}
    res = client.post("/api/v1/sessions/api-who/messages", json=hello, headers=h(keys["mine"]))
    assert (res.json()["mode"], res.json()["ai_answers"]) == ("ai", True)
    now = client.get("/api/v1/sessions/api-who", headers=h(keys["mine"])).json()
    assert (now["mode"], now["ai_answers"], now["assignee"], now["finished_at"]) == (
        "ai",
        True,
        None,
        None,
    )
    assert now["agent"] == doc()["agent"] and now["message_count"] == 3

    with Session(app_db) as db, db.begin():  # a lead presses Hand over to the operator
        boss = identity.default_actor(db)
        sid = _session(app_db, "api-who").id
        handover.hand_over(db, actor=boss, session_id=sid, now=NOW)
    again = {"author": "customer", "text": "Hello??", "sent_at": "2026-11-26T09:11:00Z"}
    res = client.post("/api/v1/sessions/api-who/messages", json=again, headers=h(keys["mine"]))
    assert (res.json()["mode"], res.json()["ai_answers"]) == ("human", False)
    with Session(app_db) as db, db.begin():
        grace = identity.actor_for(
            db.scalars(select(User).where(User.email == "grace.kim@northwind.example")).one()
        )
        human_agents.accept(db, actor=grace, session_id=sid, now=NOW)
    now = client.get("/api/v1/sessions/api-who", headers=h(keys["mine"])).json()
    assert (now["mode"], now["ai_answers"], now["assignee"]) == ("human", False, "Grace Kim")
    assert client.get("/api/v1/sessions/api-who", headers=h(keys["theirs"])).status_code == 404
    missing = client.get("/api/v1/sessions/nobody-here", headers=h(keys["mine"]))
    assert (
        missing.status_code == 404 and missing.json()["error"] == "Session 'nobody-here' not found"
    )

    with Session(app_db) as db, db.begin():
        human_agents.resolve(db, actor=grace, session_id=sid, now=NOW)
    now = client.get("/api/v1/sessions/api-who", headers=h(keys["mine"])).json()
    assert (now["ai_answers"], now["finished_at"]) == (False, "2026-11-26T10:00:00Z")
    later = {"author": "customer", "text": "One more thing", "sent_at": "2026-11-26T11:00:00Z"}
    res = client.post("/api/v1/sessions/api-who/messages", json=later, headers=h(keys["mine"]))
    assert (res.json()["external_id"], res.json()["ai_answers"]) == ("api-who~2", True)
    now = client.get("/api/v1/sessions/api-who", headers=h(keys["mine"])).json()
    assert (now["external_id"], now["mode"], now["ai_answers"]) == ("api-who~2", "ai", True)


def test_the_api_on_its_own_runs_small_requests_on_the_event_loop_with_the_same_answers(
    keys, app_db, monkeypatch
):
    """``sessionlens api`` (web/asgi.py) runs a small request's transaction on the event loop and
    a big batch in a worker thread; the answers, errors included, are those of the routes
    beside Streamlit, which always use a thread."""
    import threading

    from sessionlens import ingest

    threads: list[str] = []
    real = ingest.append_messages

    def watched(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "append_messages", watched)
    small = {"author": "customer", "text": "Hello?", "sent_at": "2026-11-26T09:05:00Z"}
    big = {"messages": [{**small, "external_id": f"b{i}", "text": "x" * 200} for i in range(400)]}
    answers = {}
    for inline in (0, api.API_ONLY_INLINE_BODY_BYTES):
        monkeypatch.setattr(api, "INLINE_BODY_BYTES", inline)
        ext = f"inline-{inline}"
        threads.clear()
        with TestClient(Starlette(routes=api.routes()), base_url="http://127.0.0.1") as c:
            got = [c.post("/api/v1/sessions", json=doc(external_id=ext), headers=h(keys["mine"]))]
            for body, key in (
                (small, "mine"),
                (big, "mine"),
                ({"text": 5}, "mine"),
                (small, "revoked"),
                (small, "theirs"),
            ):
                got.append(
                    c.post(f"/api/v1/sessions/{ext}/messages", json=body, headers=h(keys[key]))
                )
        answers[inline] = [(r.status_code, r.text.replace(ext, "ID")) for r in got]
        # Reached ingest: the small append, the big batch, the other tenant's small append.
        worker = ["AnyIO worker" in t for t in threads]
        assert worker == ([False, True, False] if inline else [True, True, True]), threads
    assert answers[0] == answers[api.API_ONLY_INLINE_BODY_BYTES]
    assert [code for code, _ in answers[0]] == [201, 200, 200, 422, 401, 404]
    # and web/asgi.py, what `sessionlens api` serves, turns it on (in a process of its own:
    # importing it configures logging)
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", "import web.asgi, web.api; print(web.api.INLINE_BODY_BYTES)"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout.split()[-1]) == api.API_ONLY_INLINE_BODY_BYTES > 0


def test_a_database_that_cannot_be_reached_answers_503_with_retry_after(monkeypatch):
    """Postgres restarting or refusing connections: the runtime gets 503 in the API's error format
    and is told when to send the same request again (it was all or nothing, so nothing was half
    written); Starlette's default was a plain-text 500, which reads as a bug to retry never."""
    from tests import appdb

    monkeypatch.setenv("SESSIONLENS_DATABASE_URL", appdb.missing_database_url())
    for c in api_client():
        r = c.patch("/api/v1/sessions/conv-1", json={"status": "x"}, headers=h("slk_anything"))
        assert r.status_code == 503
        assert r.headers["retry-after"] == str(api.RETRY_AFTER_SECONDS)
        assert r.json()["error"] == "The database is unavailable just now; retry shortly"
        assert appdb.MISSING_DB not in r.text
    web_db.sessionmaker_for.cache_clear()
