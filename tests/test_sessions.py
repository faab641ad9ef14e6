"""The sessions list and the session read: order, keyset paging, tenant scoping, derived columns."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.models import Attachment, ChatSession, LogKind, Message, Role
from sessionlens import chat, customers, handover, logs, sessions
from sessionlens.errors import BadInput, NotFound, PermissionDenied
from sessionlens.filters import SessionFilter
from sessionlens.messages import COUNTED_KINDS
from sessionlens.sessions import SortKey
from sessionlens.settings import get_settings
from tests.conftest import NOW
from tests.helpers import actor


def _all_rows(db, who, sort, limit=37):
    rows, cursor = [], None
    while True:
        page = sessions.list_page(db, SessionFilter(), sort, cursor, actor=who, limit=limit)
        rows += page.rows
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


@pytest.mark.parametrize("sort", list(SortKey))
def test_keyset_pages_cover_every_session_once_newest_first(db, sort):
    who = actor(db)
    rows = _all_rows(db, who, sort)
    expected = (
        db.execute(
            select(ChatSession.id)
            .where(ChatSession.tenant_id == who.tenant_id)
            .order_by(sort.column.desc(), ChatSession.id.desc())
        )
        .scalars()
        .all()
    )
    assert [r.id for r in rows] == expected
    assert len(rows) > 100


def test_first_page_has_page_size_rows_and_a_cursor(db):
    page = sessions.list_page(db, SessionFilter(), actor=actor(db))
    assert len(page.rows) == get_settings().page_size and page.next_cursor
    assert page.rows[0].started_at >= page.rows[-1].started_at


def test_ties_on_start_time_are_neither_skipped_nor_repeated(db):
    who = actor(db)
    first = db.scalars(
        select(ChatSession)
        .where(ChatSession.tenant_id == who.tenant_id)
        .order_by(ChatSession.id)
        .limit(5)
    ).all()
    for cs in first:  # five sessions starting at the same instant
        cs.started_at = first[0].started_at
    db.flush()
    ids = [r.id for r in _all_rows(db, who, SortKey.STARTED, limit=2)]
    assert len(ids) == len(set(ids))
    assert {cs.id for cs in first} <= set(ids)


def test_bad_cursor_is_a_clear_message(db):
    with pytest.raises(BadInput, match="Invalid page cursor"):
        sessions.list_page(db, SessionFilter(), cursor="not-a-cursor", actor=actor(db))
    page = sessions.list_page(db, SessionFilter(), SortKey.STARTED, actor=actor(db))
    with pytest.raises(BadInput, match="does not belong to this sort order"):
        sessions.list_page(
            db, SessionFilter(), SortKey.LAST_MESSAGE, page.next_cursor, actor=actor(db)
        )


def test_other_tenants_rows_never_appear_through_any_read(db):
    mine, theirs = actor(db, 0), actor(db, 1)
    my_ids = {r.id for r in _all_rows(db, mine, SortKey.STARTED, limit=200)}
    their_ids = {r.id for r in _all_rows(db, theirs, SortKey.STARTED, limit=200)}
    assert my_ids and their_ids and not my_ids & their_ids
    foreign = min(their_ids)
    with pytest.raises(NotFound):
        sessions.get_session(db, foreign, actor=mine)
    with pytest.raises(NotFound):
        logs.list_logs(db, foreign, LogKind.SYSTEM, actor=mine)
    cust = db.scalar(
        select(ChatSession.customer_id).where(
            ChatSession.id.in_(their_ids), ChatSession.customer_id.is_not(None)
        )
    )
    with pytest.raises(NotFound):
        customers.get_contact(db, cust, actor=mine)
    atts = db.execute(
        select(Attachment.id, Attachment.is_recording).where(Attachment.session_id.in_(their_ids))
    ).all()
    assert {r for _, r in atts} == {True, False}, "the other tenant needs a recording and a file"
    for att, recording in atts:
        with pytest.raises(NotFound):
            chat.stored_file(db, att, actor=mine, recording=recording)
    # The filter cannot widen the scope either.
    with pytest.raises(BadInput, match="no such user"):
        sessions.list_page(db, SessionFilter(customer_ids=(cust,)), actor=mine)


def test_session_detail_has_messages_in_order_and_one_result_per_field(db):
    who = actor(db)
    sid = db.scalar(
        select(ChatSession.id).where(
            ChatSession.tenant_id == who.tenant_id,
            ChatSession.customer_id.is_not(None),
            ChatSession.message_count > 3,
        )
    )
    d = sessions.get_session(db, sid, actor=who)
    msgs = d.conversation.messages
    assert [m.seq for m in msgs] == sorted(m.seq for m in msgs)
    assert msgs[0].system_event == "started"
    assert [r.label for r in d.results][:4] == [
        "Human Name",
        "Phone Number",
        "Promise to Pay",
        "Payment Date",
    ]
    assert d.contact is not None and d.contact.id == d.row.customer_id
    assert d.timezone == "Europe/Berlin"


def test_derived_columns_match_the_messages(db):
    counted = (
        select(Message.session_id, func.count().label("n"), func.max(Message.sent_at).label("last"))
        .where(Message.author_kind.in_(list(COUNTED_KINDS)))
        .group_by(Message.session_id)
        .subquery()
    )
    rows = db.execute(
        select(ChatSession, counted.c.n, counted.c.last).outerjoin(
            counted, counted.c.session_id == ChatSession.id
        )
    ).all()
    for cs, n, last in rows:
        assert cs.message_count == (n or 0)
        if n:
            assert cs.last_message_at == (
                last if last.tzinfo else last.replace(tzinfo=cs.started_at.tzinfo)
            )
    with_files = set(
        db.scalars(select(Attachment.session_id).where(Attachment.is_recording.is_(False)))
    )
    flagged = set(db.scalars(select(ChatSession.id).where(ChatSession.has_attachments)))
    assert with_files == flagged and flagged


def test_viewer_may_read_but_not_hand_over(db):
    viewer = actor(db, 0, Role.VIEWER)
    rows = sessions.list_page(db, SessionFilter(), actor=viewer).rows
    assert rows
    active = next(r for r in rows if r.finished_at is None and r.mode == "ai")
    assert handover.blocked_reason(active, viewer) == handover.NO_PERMISSION
    with pytest.raises(PermissionDenied):  # the domain refuses, not only the button
        handover.hand_over(db, actor=viewer, session_id=active.id, now=NOW)
    assert sessions.get_session(db, active.id, actor=viewer).row.mode == "ai"


def test_free_tenant_cannot_read_traces_even_through_the_domain(db):
    free = actor(db, 1)
    sid = sessions.list_page(db, SessionFilter(), actor=free).rows[0].id
    with pytest.raises(PermissionDenied, match="paid plans"):
        logs.list_logs(db, sid, LogKind.TRACE, actor=free)
    system = logs.list_logs(db, sid, LogKind.SYSTEM, actor=free)
    assert system and all(e.text for e in system)  # the free plan still reads System Logs
