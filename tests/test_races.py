"""Races on both backends, with threads and with processes: a rule that holds on Postgres by locking
must hold on SQLite, the embedded default, too.

Each test gets its own committed database (the rolled-back ``db`` fixture cannot be seen by other
connections): a SQLite file, or a separate Postgres database.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
import time

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.models import AuditEvent, ChatSession, Message, Mode, SystemEvent
from sessionlens import geo, handover, identity
from sessionlens.errors import RuleViolation
from tests.conftest import NOW, pg_database, seeded

CLICKS = 8


@pytest.fixture(params=["sqlite", "postgres"])
def committed(request, tmp_path) -> Engine:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    else:
        eng = pg_database("sessionlens_race")
    yield seeded(eng, sessions=30, seed=5)
    eng.dispose()


def _active_ai_session(eng: Engine) -> int:
    with Session(eng) as db:
        who = identity.default_actor(db)
        return db.scalar(
            select(ChatSession.id)
            .where(
                ChatSession.tenant_id == who.tenant_id,
                ChatSession.mode == Mode.AI,
                ChatSession.finished_at.is_(None),
            )
            .limit(1)
        )


def click_hand_over(url: str, session_id: int, start_at: float) -> str:
    """One operator's click, in its own process or thread, with its own connection."""
    eng = make_engine(url)
    try:
        with Session(eng) as db:
            who = identity.default_actor(db)
        time.sleep(max(0.0, start_at - time.time()))
        try:
            with Session(eng) as db, db.begin():
                handover.hand_over(db, actor=who, session_id=session_id, now=NOW)
            return "moved"
        except RuleViolation as err:
            return str(err)
    finally:
        eng.dispose()


def _results(eng: Engine, session_id: int, outcomes: list[str]) -> None:
    assert outcomes.count("moved") == 1, outcomes
    assert set(outcomes) - {"moved"} <= {handover.HANDLED}
    with Session(eng) as db:
        markers = db.scalar(
            select(func.count()).where(
                Message.session_id == session_id, Message.system_event == SystemEvent.TRANSFER
            )
        )
        audits = db.scalar(
            select(func.count()).where(
                AuditEvent.action == "hand_over", AuditEvent.target_id == str(session_id)
            )
        )
        mode = db.scalar(select(ChatSession.mode).where(ChatSession.id == session_id))
    assert (markers, audits, mode) == (1, 1, Mode.HUMAN)


def test_simultaneous_hand_overs_in_threads_make_one_transition(committed):
    sid = _active_ai_session(committed)
    url = committed.url.render_as_string(hide_password=False)
    start_at = time.time() + 1.0
    outcomes: list[str] = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(click_hand_over(url, sid, start_at)))
        for _ in range(CLICKS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    _results(committed, sid, outcomes)


def test_simultaneous_hand_overs_in_processes_make_one_transition(committed):
    sid = _active_ai_session(committed)
    url = committed.url.render_as_string(hide_password=False)
    start_at = time.time() + 4.0  # spawned interpreters need a moment to import the app
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(CLICKS) as pool:
        outcomes = pool.starmap(click_hand_over, [(url, sid, start_at)] * CLICKS, chunksize=1)
    _results(committed, sid, outcomes)


def test_a_finished_session_is_refused_by_every_click(committed):
    with Session(committed) as db, db.begin():
        sid = _active_ai_session(committed)
        db.get(ChatSession, sid).finished_at = NOW - dt.timedelta(minutes=1)
    url = committed.url.render_as_string(hide_password=False)
    outcomes = [click_hand_over(url, sid, 0) for _ in range(2)]
    assert outcomes == [handover.FINISHED] * 2


def append_one(url: str, session_id: int, start_at: float, i: int) -> str:
    """One writer (an agent runtime, an operator) adding a message to a session."""
    from sessionlens.messages import append_message

    eng = make_engine(url)
    try:
        time.sleep(max(0.0, start_at - time.time()))
        with Session(eng) as db, db.begin():
            cs = db.get(ChatSession, session_id)
            append_message(db, cs, author_kind="customer", text=f"message {i}", sent_at=NOW)
        return "ok"
    except Exception as exc:  # noqa: BLE001 - the test reports what went wrong in a writer
        return f"{type(exc).__name__}: {exc}"
    finally:
        eng.dispose()


def test_concurrent_appends_to_one_session_get_distinct_sequence_numbers(committed):
    sid = _active_ai_session(committed)
    url = committed.url.render_as_string(hide_password=False)
    with Session(committed) as db:
        before = db.get(ChatSession, sid).message_count
        top = db.scalar(select(func.max(Message.seq)).where(Message.session_id == sid))
    start_at = time.time() + 1.0
    outcomes: list[str] = []
    threads = [
        threading.Thread(target=lambda i=i: outcomes.append(append_one(url, sid, start_at, i)))
        for i in range(CLICKS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes == ["ok"] * CLICKS, outcomes
    with Session(committed) as db:
        seqs = db.scalars(
            select(Message.seq).where(Message.session_id == sid, Message.seq > top)
        ).all()
        assert sorted(seqs) == list(range(top + 1, top + CLICKS + 1))
        assert db.get(ChatSession, sid).message_count == before + CLICKS


def api_append(url: str, external_id: str, tenant_id: int, start_at: float, i: int) -> str:
    """One agent-runtime request appending two messages (no external ids) through ingest."""
    from db.models import User
    from sessionlens import exchange, ingest
    from sessionlens.permissions import Actor

    eng = make_engine(url)
    try:
        with Session(eng) as db:
            uid = db.scalar(select(User.id).where(User.tenant_id == tenant_id).limit(1))
        who = Actor(user_id=uid, tenant_id=tenant_id, role="operator", name="API key")
        batch = exchange.parse(
            exchange.MessagesIn,
            {
                "messages": [
                    {"author": "customer", "text": f"c{i}", "sent_at": "2026-11-01T12:00:00Z"},
                    {"author": "ai", "text": f"a{i}", "sent_at": "2026-11-01T12:00:01Z"},
                ]
            },
        )
        time.sleep(max(0.0, start_at - time.time()))
        with Session(eng) as db, db.begin():
            ingest.append_messages(db, external_id, batch.messages, actor=who)
        return "ok"
    except Exception as exc:  # noqa: BLE001 - the test reports what went wrong in a writer
        return f"{type(exc).__name__}: {exc}"
    finally:
        eng.dispose()


def test_simultaneous_api_appends_to_one_session_all_land_in_order(committed):
    from sessionlens import exchange, ingest

    with Session(committed) as db, db.begin():
        who = identity.default_actor(db)
        ingest.upsert_session(
            db,
            exchange.parse(
                exchange.SessionIn,
                {
                    "external_id": "race-1",
                    "agent": "Racer",
                    "channel": "web",
                    "started_at": "2026-11-01T11:00:00Z",
                },
            ),
            actor=who,
            now=NOW,
            locate=geo.Locator(None).locate,
        )
        sid = db.scalar(select(ChatSession.id).where(ChatSession.external_id == "race-1"))
    url = committed.url.render_as_string(hide_password=False)
    start_at = time.time() + 1.0
    outcomes: list[str] = []
    threads = [
        threading.Thread(
            target=lambda i=i: outcomes.append(
                api_append(url, "race-1", who.tenant_id, start_at, i)
            )
        )
        for i in range(CLICKS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes == ["ok"] * CLICKS, outcomes
    with Session(committed) as db:
        seqs = db.scalars(
            select(Message.seq).where(Message.session_id == sid).order_by(Message.seq)
        ).all()
        count = db.scalar(select(ChatSession.message_count).where(ChatSession.id == sid))
    # seq 1 is the session's "started" marker, written with it.
    assert seqs == list(range(1, 2 * CLICKS + 2)) and count == 2 * CLICKS


def import_call(url: str, blob_dir: str, wav: str, start_at: float) -> str:
    """One agent runtime sending a call recording with its external id (a retry racing the
    original, or two telephony nodes reporting one call)."""
    from pathlib import Path

    from sessionlens import identity
    from sessionlens.blobs import LocalBlobStore
    from sessionlens.errors import DomainError
    from sessionlens.importer import import_recording
    from sessionlens.settings import Settings

    eng = make_engine(url)
    try:
        with Session(eng) as db:
            who = identity.default_actor(db)
            agent = db.scalar(
                select(ChatSession.agent_id).where(ChatSession.tenant_id == who.tenant_id).limit(1)
            )
        time.sleep(max(0.0, start_at - time.time()))
        with Session(eng) as db, db.begin():
            import_recording(
                db,
                actor=who,
                data=Path(wav).read_bytes(),
                filename="call.wav",
                agent_id=agent,
                channel="sip",
                store=LocalBlobStore(blob_dir),
                settings=Settings(),
                now=NOW,
                external_id="call-9",
            )
        return "ok"
    except DomainError as err:
        return f"{type(err).__name__}: {err}"
    except Exception as exc:  # noqa: BLE001 - the test reports what went wrong in a writer
        return f"unexpected {type(exc).__name__}: {exc}"
    finally:
        eng.dispose()


def test_one_call_sent_by_several_processes_at_once_is_one_session(committed, tmp_path):
    from tests.test_import import SENTENCE, _espeak

    wav = _espeak(SENTENCE, tmp_path / "call.wav")
    blob_dir = tmp_path / "blobs"
    url = committed.url.render_as_string(hide_password=False)
    start_at = time.time() + 4.0
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        outcomes = pool.starmap(
            import_call, [(url, str(blob_dir), str(wav), start_at)] * 4, chunksize=1
        )
    assert sorted(outcomes) == ["RuleViolation: A session with external id 'call-9' exists"] * 3 + [
        "ok"
    ], outcomes
    with Session(committed) as db:
        assert db.scalar(select(func.count()).where(ChatSession.external_id == "call-9")) == 1
    assert len([p for p in blob_dir.rglob("*") if p.is_file()]) == 1  # no orphan recording


def rename_to(url: str, user_id: int, email: str, start_at: float) -> str:
    """An admin renaming one user's address, in its own process with its own connection."""
    from db.models import User
    from sessionlens import admin
    from sessionlens.errors import BadInput

    eng = make_engine(url)
    try:
        with Session(eng) as db:
            boss = identity.default_actor(db)
            name = db.get_one(User, user_id).name
        time.sleep(max(0.0, start_at - time.time()))
        try:
            with Session(eng) as db, db.begin():
                admin.rename_user(db, actor=boss, user_id=user_id, name=name, email=email, now=NOW)
            return "renamed"
        except BadInput as err:
            return str(err)
    finally:
        eng.dispose()


def test_two_admins_giving_two_users_one_address_at_once_make_one_of_them_have_it(committed):
    """The address is what a user signs in with, so no two users share it. Both admins' checks
    run before either writes; the database's index refuses the second, who is told the address
    is taken (on SQLite as on Postgres)."""
    from db.models import User

    with Session(committed) as db:
        boss = identity.default_actor(db)
        users = db.scalars(
            select(User.id).where(User.tenant_id == boss.tenant_id, User.id != boss.user_id)
        ).all()[:4]
    url = committed.url.render_as_string(hide_password=False)
    start_at = time.time() + 4.0
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        outcomes = pool.starmap(
            rename_to, [(url, u, "Shared@Example.com", start_at) for u in users], chunksize=1
        )
    assert outcomes.count("renamed") == 1, outcomes
    assert set(outcomes) - {"renamed"} == {
        "A user with the email Shared@Example.com already exists"
    }
    with Session(committed) as db:
        holders = db.scalar(
            select(func.count()).where(func.lower(User.email) == "shared@example.com")
        )
    assert holders == 1


def erase(url: str, customer_id: int, start_at: float) -> str:
    """An admin erasing a customer, in a process of its own."""
    from sessionlens import erasure

    eng = make_engine(url)
    try:
        with Session(eng) as db:
            who = identity.default_actor(db)
        time.sleep(max(0.0, start_at - time.time()))
        with Session(eng) as db, db.begin():
            erasure.erase_customer(db, customer_id, actor=who, now=NOW)
        return "erased"
    except Exception as exc:  # noqa: BLE001 - the test reports what went wrong in a writer
        return f"{type(exc).__name__}: {exc}"
    finally:
        eng.dispose()


def keep_appending(
    url: str, external_id: str, tenant_id: int, start_at: float, i: int
) -> list[str]:
    """A runtime appending eight times in a row, each a request of its own."""
    return [api_append(url, external_id, tenant_id, start_at, 10 * i + n) for n in range(8)]


def test_erasing_a_customer_while_their_runtime_appends_leaves_nothing_of_theirs(committed):
    """The customer's chat is live while an admin erases them: the erasure goes through whatever
    the appends do (on Postgres they wait for its lock on the sessions, on SQLite for its write),
    and no message of theirs is left behind; an append that comes after finds no session."""
    from sessionlens import exchange, ingest

    with Session(committed) as db, db.begin():
        who = identity.default_actor(db)
        ingest.upsert_session(
            db,
            exchange.parse(
                exchange.SessionIn,
                {
                    "external_id": "race-erase",
                    "agent": "Racer",
                    "channel": "web",
                    "started_at": "2026-11-01T11:00:00Z",
                    "customer": {"external_id": "cust-erase", "name": "Forget Me"},
                },
            ),
            actor=who,
            now=NOW,
            locate=geo.Locator(None).locate,
        )
        sid, cid = db.execute(
            select(ChatSession.id, ChatSession.customer_id).where(
                ChatSession.external_id == "race-erase"
            )
        ).one()
    url = committed.url.render_as_string(hide_password=False)
    start_at = time.time() + 4.0  # spawned interpreters need a moment to import the app
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:  # three appends and the erasure: enough to race, quick to spawn
        # Each runtime appends again and again around the erasure, so that some append finds
        # the session and then waits for the erasure's lock: the case that must not end in an
        # error.
        appends = [
            pool.apply_async(keep_appending, (url, "race-erase", who.tenant_id, start_at, i))
            for i in range(3)
        ]
        erased = pool.apply_async(erase, (url, cid, start_at + 0.02))
        outcomes = [o for a in appends for o in a.get(120)]
        assert erased.get(120) == "erased"
    # Each append landed before the erasure (and went with it) or found no session after it.
    assert set(outcomes) <= {"ok", "NotFound: Session 'race-erase' not found"}, outcomes
    with Session(committed) as db:
        assert db.get(ChatSession, sid) is None
        assert not db.scalar(select(func.count()).where(Message.session_id == sid))
