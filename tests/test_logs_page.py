"""The Logs drawer in AppTest: tabs, search counter and stepping, refresh, plan gating, and the
link from an AI message to its trace call."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from components.chat import LISTENER_KEY
from db.models import ChatSession, LogKind, Message, SessionLog
from tests import appdb

APP = appdb.FRAME


def _open_logs(session_id: int) -> AppTest:
    at = appdb.app_test()
    at.query_params["session"] = str(session_id)
    at.run()
    at.button(key="logs_open").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _bodies(at) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def _counter(at) -> list[str]:
    return [m.value for m in at.markdown if " of " in m.value or m.value == "No matches"]


def test_trace_tab_search_counts_and_steps(app_db):
    cs = appdb.showcase(app_db)
    at = _open_logs(cs.id)
    assert at.session_state["logs_tab"] == "Trace Logs"
    assert any(c.value.startswith("Calls 1–") for c in at.caption)
    assert "Action:</b> reply" in _bodies(at)
    at.text_input(key="logs_q").input("RETURNS").run()  # case-insensitive
    (first,) = _counter(at)
    total = int(first.strip("*").split(" of ")[1])
    assert first == f"**1 of {total}**" and total >= 2
    assert _bodies(at).count("<mark") >= 1 and 'class="sl-now"' in _bodies(at)
    for n in range(2, total + 1):
        at.button(key="logs_next").click().run()
        assert _counter(at) == [f"**{n} of {total}**"]
    at.button(key="logs_next").click().run()
    assert _counter(at) == [f"**1 of {total}**"]  # wraps around
    at.button(key="logs_prev").click().run()
    assert _counter(at) == [f"**{total} of {total}**"]
    at.text_input(key="logs_q").input("returns").run()  # a new search starts at its first match
    assert _counter(at) == [f"**1 of {total}**"]
    at.text_input(key="logs_q").input("[a-z]+").run()  # regex characters are literal
    assert _counter(at) == ["No matches"]


def test_system_tab_and_refresh_sees_new_lines(app_db):
    cs = appdb.showcase(app_db)
    at = _open_logs(cs.id)
    at.session_state["logs_tab"] = "System Logs"
    at.run()
    assert "Session opened: channel=web" in _bodies(at)
    with app_db.begin() as conn:
        last = conn.execute(
            select(SessionLog).where(SessionLog.session_id == cs.id).order_by(SessionLog.at.desc())
        ).first()
        conn.execute(
            SessionLog.__table__.insert().values(
                tenant_id=cs.tenant_id,
                session_id=cs.id,
                kind=LogKind.SYSTEM,
                at=last.at,
                level="INFO",
                text="Notification tool called: notify_team",
            )
        )
    at.button(key="logs_refresh").click().run()
    assert "Notification tool called: notify_team" in _bodies(at), [
        c.value for c in at.caption if "Lines" in c.value
    ]


def test_free_plan_shows_system_logs_only(app_db):
    with app_db.connect() as conn:
        tenant2 = conn.scalar(
            select(ChatSession.tenant_id).order_by(ChatSession.tenant_id.desc()).limit(1)
        )
    from sqlalchemy.orm import Session

    from db.models import Role, User

    with Session(app_db) as db:
        admin = db.scalars(
            select(User).where(User.tenant_id == tenant2, User.role == Role.ADMIN)
        ).first()
        sid = db.scalar(select(ChatSession.id).where(ChatSession.tenant_id == tenant2).limit(1))
    at = appdb.app_test(admin.email)  # the Free tenant's admin
    at.query_params["session"] = str(sid)
    at.run()
    at.button(key="logs_open").click().run()
    assert at.session_state["logs_tab"] == "System Logs"
    at.session_state["logs_tab"] = "Trace Logs"
    at.run()
    assert any("Trace Logs are available on paid plans" in i.value for i in at.info)


def test_a_session_without_trace_calls_opens_on_its_system_logs(app_db):
    """On a paid plan the drawer opens on Trace Logs, but a session with no trace call (a call
    recording, a runtime that sends none) opened on "No logs found" over the lines it has."""
    from sessionlens import exchange, identity, ingest
    from tests.test_exchange import LOCATE, NOW, doc

    lines = [{"kind": "system", "at": "2026-11-26T09:00:00Z", "text": "Session opened"}]
    with Session(app_db) as db, db.begin():
        sid = ingest.upsert_session(
            db,
            exchange.parse(exchange.SessionIn, doc(external_id="no-trace-calls", logs=lines)),
            actor=identity.default_actor(db),
            now=NOW,
            locate=LOCATE,
        ).session_id
    at = _open_logs(sid)
    assert at.session_state["logs_tab"] == "System Logs"
    assert "No logs found" not in [m.value for m in [*at.markdown, *at.caption]]
    assert any(c.value.startswith("Lines 1–") for c in at.caption), [c.value for c in at.caption]
    assert _open_logs(appdb.showcase(app_db).id).session_state["logs_tab"] == "Trace Logs"


def test_view_trace_from_an_ai_message_opens_that_call(app_db):
    cs = appdb.showcase(app_db)
    at = appdb.app_test()
    at.query_params["session"] = str(cs.id)
    at.run()
    chat = "".join(h.proto.body for h in at.get("html"))
    traced = [int(t) for t in re.findall(r'<button [^>]*data-sl-trace="(\d+)"', chat)]
    assert traced and "View trace</button>" in chat
    assert "logs_for" not in at.session_state
    appdb.fire_trigger(at, LISTENER_KEY, "trace", str(traced[0]))
    assert at.session_state["logs_tab"] == "Trace Logs"
    assert "sl-call sl-focus" in _bodies(at)


def test_a_forged_trace_click_opens_nothing(app_db):
    """The message id of a "View trace" click comes from the browser: garbage and a message that
    is not a traced answer of this chat (here: the customer's first message) are refused."""
    cs = appdb.showcase(app_db)
    at = appdb.app_test()
    at.query_params["session"] = str(cs.id)
    at.run()
    with Session(app_db) as db:
        customer_msg = db.scalar(
            select(Message.id)
            .where(Message.session_id == cs.id, Message.author_kind == "customer")
            .order_by(Message.seq)
        )
    appdb.fire_trigger(at, LISTENER_KEY, "trace", "12x")
    assert "'12x' is not an id" in " ".join(e.value for e in at.error)
    appdb.fire_trigger(at, LISTENER_KEY, "trace", str(customer_msg))
    assert "no trace call in this session" in " ".join(e.value for e in at.error)
    assert "logs_for" not in at.session_state
    assert not at.exception
