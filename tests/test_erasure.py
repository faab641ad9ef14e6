"""Erasing a customer on their request (sessionlens/erasure.py), on SQLite and Postgres: their
profile and everything of their sessions go, in one transaction, and nothing of anyone else."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from db.models import (
    Attachment,
    AuditEvent,
    ChatSession,
    Customer,
    Handoff,
    Job,
    Message,
    SessionLog,
)
from sessionlens import audit, erasure, filter_options, search, sessions
from sessionlens.blobs import LocalBlobStore
from sessionlens.errors import NotFound, PermissionDenied, RuleViolation
from sessionlens.filters import SessionFilter
from sessionlens.kinds import JobStatus, Role
from sessionlens.messages import append_message
from sessionlens.sessions import SortKey
from tests.helpers import actor, busiest_customer

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
TABLES = (Message, Attachment, SessionLog, Handoff, Job)


def _busiest_customer(db, who) -> Customer:
    return db.get_one(Customer, busiest_customer(db, who.tenant_id)[0])


def _counts(db) -> dict[str, int]:
    return {
        t.__tablename__: db.scalar(select(func.count()).select_from(t))
        for t in (*TABLES, ChatSession, Customer)
    }


def _of(db, table, session_ids) -> int:
    return db.scalar(
        select(func.count()).select_from(table).where(table.session_id.in_(session_ids))
    )


def test_an_admin_erases_a_customer_and_everything_of_theirs(db, tmp_path):
    who = actor(db)
    person = _busiest_customer(db, who)
    name = person.name
    theirs = list(db.scalars(select(ChatSession.id).where(ChatSession.customer_id == person.id)))
    assert len(theirs) >= 2, "the demo data must give a customer several sessions"
    first = db.get_one(ChatSession, theirs[0])
    calls = db.scalar(
        select(func.count())
        .select_from(Attachment)
        .where(Attachment.session_id.in_(theirs), Attachment.is_recording)
    )
    # A word only they used, a recording in the blob store and a queued transcription.
    append_message(
        db, first, author_kind="customer", text="my zanzibarquux order", sent_at=first.started_at
    )
    store = LocalBlobStore(tmp_path)
    key = store.put(b"RIFF fake call audio", suffix=".wav")
    db.add(
        Attachment(
            tenant_id=who.tenant_id,
            session_id=first.id,
            is_recording=True,
            file_name="call.wav",
            mime_type="audio/wav",
            size_bytes=20,
            storage_key=key,
            created_at=first.started_at,
        )
    )
    db.add(Job(tenant_id=who.tenant_id, session_id=first.id, kind="transcription", created_at=NOW))
    # Audit rows about one of their sessions and about someone else's.
    someone_else = db.scalar(
        select(ChatSession.id).where(
            ChatSession.tenant_id == who.tenant_id, ChatSession.id.not_in(theirs)
        )
    )
    for sid, ext in ((first.id, "whatsapp/4915112345"), (someone_else, "web-77")):
        audit.record(db, who, "session_created", "session", sid, now=NOW, external_id=ext)
    db.flush()
    word = search.parse("zanzibarquux")
    assert sessions.list_page(db, SessionFilter(text=word), SortKey.STARTED, None, actor=who).rows

    held = erasure.holdings(db, person.id, actor=who)
    mine = {t.__tablename__: _of(db, t, theirs) for t in TABLES}
    assert (held.sessions, held.messages, held.recordings) == (
        len(theirs),
        mine["messages"],
        calls + 1,
    )
    before = _counts(db)

    erased = erasure.erase_customer(db, person.id, actor=who, now=NOW)

    assert erased.holdings == held and key in erased.recording_keys
    assert db.get(Customer, person.id) is None
    assert all(_of(db, t, theirs) == 0 for t in TABLES)
    assert not db.scalars(select(ChatSession.id).where(ChatSession.id.in_(theirs))).all()
    after = _counts(db)
    gone = {**mine, "chat_sessions": len(theirs), "customers": 1}
    assert {t: before[t] - after[t] for t in before} == gone  # nobody else's rows
    # Nothing finds them any more: not the customer finder, not a message search.
    assert not [
        c for c in filter_options.search_customers(db, name, actor=who) if c.id == person.id
    ]
    assert not sessions.list_page(
        db, SessionFilter(text=word), SortKey.STARTED, None, actor=who
    ).rows
    # The audit row says what went and who erased it, and nothing that names the person.
    row = db.scalars(select(AuditEvent).where(AuditEvent.action == "customer_erased")).one()
    assert (row.actor_user_id, row.target_id) == (who.user_id, str(person.id))
    assert row.details == {
        "sessions": held.sessions,
        "messages": held.messages,
        "files": held.files,
        "recordings": calls + 1,
    }
    # Their sessions' audit rows keep what was done, not what named them; others are as written.
    kept = dict(
        db.execute(
            select(AuditEvent.target_id, AuditEvent.details).where(
                AuditEvent.action == "session_created",
                AuditEvent.target_id.in_([str(first.id), str(someone_else)]),
            )
        ).all()
    )
    assert kept == {
        str(first.id): {"details": "erased with the customer"},
        str(someone_else): {"external_id": "web-77"},
    }
    assert erasure.remove_recordings(store, [key]) == []
    assert not store.exists(key)


def test_erasing_is_for_admins_and_stays_in_the_tenant(db):
    admin = actor(db)
    person = _busiest_customer(db, admin)
    for role in (Role.LEAD, Role.OPERATOR, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            erasure.erase_customer(db, person.id, actor=actor(db, role=role), now=NOW)
        with pytest.raises(PermissionDenied):
            erasure.holdings(db, person.id, actor=actor(db, role=role))
    with pytest.raises(NotFound):  # another workspace's admin: as if there were no such person
        erasure.erase_customer(db, person.id, actor=actor(db, 1), now=NOW)
    assert db.get(Customer, person.id) is not None


def test_a_recording_being_transcribed_holds_the_erasure_back(db):
    who = actor(db)
    person = _busiest_customer(db, who)
    sid = db.scalar(select(ChatSession.id).where(ChatSession.customer_id == person.id))
    db.add(
        Job(
            tenant_id=who.tenant_id,
            session_id=sid,
            kind="transcription",
            status=JobStatus.RUNNING,
            created_at=NOW,
        )
    )
    db.flush()
    with pytest.raises(RuleViolation, match="being transcribed just now"):
        erasure.erase_customer(db, person.id, actor=who, now=NOW)
    assert db.get(ChatSession, sid) is not None and db.get(Customer, person.id) is not None


def test_a_recording_the_store_cannot_remove_is_named(tmp_path):
    class Refusing(LocalBlobStore):
        def delete(self, key: str) -> None:  # a network share gone away: the store's boundary
            raise OSError("share unavailable")

    store = Refusing(tmp_path)
    key = store.put(b"audio")
    assert erasure.remove_recordings(store, [key]) == [key]


def test_sessions_past_the_retention_period_are_purged_in_batches(db):
    """`sessionlens sessions purge --older-than DAYS`: the sessions whose last message is older
    go with everything of theirs, a batch per transaction, each audited; newer sessions and every
    customer profile stay."""
    who = actor(db)
    stamps = sorted(
        db.scalars(
            select(ChatSession.last_message_at).where(ChatSession.tenant_id == who.tenant_id)
        )
    )
    cutoff = stamps[len(stamps) // 3]
    old = list(
        db.scalars(
            select(ChatSession.id).where(
                ChatSession.tenant_id == who.tenant_id, ChatSession.last_message_at < cutoff
            )
        )
    )
    assert len(old) > 7, "the demo data must hold enough old sessions for several batches"
    before = _counts(db)
    mine = {t.__tablename__: _of(db, t, old) for t in TABLES}
    batches = []
    while (
        done := erasure.purge_sessions(db, actor=who, before=cutoff, now=NOW, limit=7)
    ).holdings.sessions:
        batches.append(done.holdings.sessions)
    assert sum(batches) == len(old) and max(batches) == 7
    after = _counts(db)
    assert {t: before[t] - after[t] for t in before} == {
        **mine,
        "chat_sessions": len(old),
        "customers": 0,
    }
    rows = db.scalars(select(AuditEvent).where(AuditEvent.action == "sessions_purged")).all()
    assert [r.details["sessions"] for r in rows] == batches
    assert {r.details["older_than"] for r in rows} == {cutoff.isoformat(timespec="seconds")}
    with pytest.raises(PermissionDenied):
        erasure.purge_sessions(db, actor=actor(db, role=Role.LEAD), before=cutoff, now=NOW)


def test_recordings_leave_the_store_when_the_erasure_commits_and_stay_when_it_rolls_back(
    tmp_path,
):
    """The store is not transactional: a recording is removed once the transaction that deleted
    its session commits, whoever called the erasure, and kept if it rolls back; one the store
    cannot remove comes back in ``unremoved``."""
    from sqlalchemy.orm import Session

    from db.engine import make_engine
    from tests.conftest import seeded

    eng = seeded(make_engine(f"sqlite:///{tmp_path / 'erase.db'}"), sessions=30, seed=5)
    store = LocalBlobStore(tmp_path / "blobs")

    def customer_with_a_call() -> tuple[int, str]:
        with Session(eng) as db, db.begin():
            who = actor(db)
            person = _busiest_customer(db, who)
            sid = db.scalar(select(ChatSession.id).where(ChatSession.customer_id == person.id))
            key = store.put(b"RIFF call", suffix=".wav")
            db.add(
                Attachment(
                    tenant_id=who.tenant_id,
                    session_id=sid,
                    is_recording=True,
                    file_name="call.wav",
                    mime_type="audio/wav",
                    size_bytes=9,
                    storage_key=key,
                    created_at=NOW,
                )
            )
            return person.id, key

    cid, key = customer_with_a_call()
    with pytest.raises(RuntimeError), Session(eng) as db, db.begin():
        erasure.erase_customer(db, cid, actor=actor(db), now=NOW, store=store)
        raise RuntimeError("the page failed after the erasure")
    assert store.exists(key)  # rolled back: the rows and the recording are both there
    with Session(eng) as db, db.begin():
        done = erasure.erase_customer(db, cid, actor=actor(db), now=NOW, store=store)
        assert store.exists(key)  # not before the commit
    assert not store.exists(key) and done.unremoved == []

    class Refusing(LocalBlobStore):
        def delete(self, key: str) -> None:  # a network share gone away: the store's boundary
            raise OSError("share unavailable")

    cid, key = customer_with_a_call()
    with Session(eng) as db, db.begin():
        done = erasure.erase_customer(db, cid, actor=actor(db), now=NOW, store=Refusing(store.root))
    assert done.unremoved == [key] and store.exists(key)
    eng.dispose()
