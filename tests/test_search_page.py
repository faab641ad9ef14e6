"""Search and Results missing on the Sessions page (AppTest): the box, the URL, the narrowed table,
the marked matches with "n of m" and the arrows, the marker on missing results."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Message
from sessionlens import identity, search, sessions
from sessionlens.filters import SessionFilter
from sessionlens.settings import get_settings
from tests import appdb

APP = appdb.FRAME
# The table loads this many sessions at a time (SESSIONLENS_PAGE_SIZE; the tests run the default).
PAGE = get_settings().page_size
_run = appdb.run_app


def _html(at) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def _loaded(at) -> int:
    for c in at.caption:
        if m := re.fullmatch(r"(\d+) sessions loaded", c.value):
            return int(m.group(1))
    raise AssertionError("no 'sessions loaded' caption")


def _matching(engine, q: str) -> list[int]:
    with Session(engine) as db:
        who = identity.default_actor(db)
        page = sessions.list_page(db, SessionFilter(text=search.parse(q)), actor=who, limit=500)
        return [r.id for r in page.rows]


def test_typing_a_search_and_applying_narrows_the_table_and_writes_the_url(app_db):
    phrase = '"Rücksendung ist 30 Tage"'  # a German topic's: fewer sessions than a page
    expected = _matching(app_db, phrase)
    assert 0 < len(expected) < PAGE
    at = _run()
    assert _loaded(at) == PAGE
    at.button(key="search_button").click().run()
    at.text_input(key="d_q").input(phrase).run()
    at.button(key="d_apply").click().run()
    assert at.query_params["q"] == phrase
    assert _loaded(at) == len(expected)
    assert at.button(key="search_button").label == "Search · 1"
    assert any("1 filter active: Search" in c.value for c in at.caption)


def test_opening_a_match_marks_every_hit_and_steps_through_them(app_db):
    with Session(app_db) as db:  # a session in which the search matches several times
        sid = db.scalar(
            select(Message.session_id)
            .where(Message.text.like("%started a refund%"))
            .order_by(Message.session_id.desc())
            .limit(1)
        )
    at = _run({"q": "refund*", "session": str(sid)})
    html = _html(at)
    marks = re.findall(r'<mark class="sl-hit( sl-now)?" data-hit="(\d+)">([^<]*)</mark>', html)
    assert marks and all(m[2].lower().startswith("refund") for m in marks)
    assert [m[1] for m in marks] == [str(i) for i in range(len(marks))]
    assert marks[0][0] == " sl-now"  # the first match is the current one, scrolled into view
    counter = f"**1 of {len(marks)}**"
    assert any(counter in m.value for m in at.markdown)
    assert len(marks) > 1, "pick a session with several matches"
    at.button(key=f"hit_next_{sid}").click().run()
    assert any(f"**2 of {len(marks)}**" in m.value for m in at.markdown)
    assert re.search(r'<mark class="sl-hit sl-now" data-hit="1">', _html(at))
    at.button(key=f"hit_prev_{sid}").click().run()
    at.button(key=f"hit_prev_{sid}").click().run()  # before the first: round to the last
    n = len(marks)
    assert any(f"**{n} of {n}**" in m.value for m in at.markdown)
    assert re.search(rf'<mark class="sl-hit sl-now" data-hit="{n - 1}">', _html(at))


def test_a_query_that_cannot_be_used_is_named_and_nothing_is_filtered(app_db):
    at = _run()
    at.button(key="search_button").click().run()
    at.text_input(key="d_q").input("%%% ___").run()
    at.button(key="d_apply").click().run()
    assert any("has no letters or digits to look for" in e for e in appdb.shown(at.error))
    assert "q" not in at.query_params and _loaded(at) == PAGE


def test_a_bad_search_in_a_shared_link_is_named_and_all_sessions_shown(app_db):
    at = _run({"q": "x" * 600})
    assert any("at most 500 characters" in e for e in appdb.shown(at.error))
    assert _loaded(at) == PAGE


def test_results_missing_filter_and_the_panel_marker(app_db):
    at = _run()
    at.button(key="search_button").click().run()
    box = at.selectbox(key="d_missing")
    assert box.options[:4] == ["Any", "Any configured field", "Human Name", "Phone Number"]
    box.select("any").run()
    at.button(key="d_apply").click().run()
    assert at.query_params["missing"] == "any"
    assert any("Results missing" in c.value for c in at.caption)
    with Session(app_db) as db:
        who = identity.default_actor(db)
        flt_rows = sessions.list_page(
            db,
            SessionFilter(missing_results=("human_name",), missing_any=False),
            actor=who,
            limit=1,
        ).rows
    opened = _run({"missing": "human_name", "session": str(flt_rows[0].id)})
    panel = appdb.panel_text(opened)
    assert "⚠ Not collected: Human Name" in panel
    assert "Human Name: ---  ⚠ missing" in panel or "No results found" in panel


def test_the_search_button_opens_the_session_filters_dialog_filled_from_the_url(app_db):
    at = _run({"q": "refund*", "channel": "web"})
    at.button(key="search_button").click().run()
    assert at.text_input(key="d_q").value == "refund*"
    assert at.multiselect(key="d_channel").value == ["web"]
    assert at.button(key="d_apply").label == "Apply" and at.button(key="d_reset").label == "Reset"


def test_matches_in_a_long_chat_are_counted_in_the_messages_shown(app_db):
    """A chat opens at its newest messages: "1 of n" counts the matches there and says that
    earlier messages are not loaded, instead of passing n off as the whole conversation's."""
    import datetime as dt

    from db.models import AuthorKind, ChatSession
    from sessionlens import chat
    from sessionlens.messages import append_message

    with Session(app_db) as db:
        cs = db.scalars(select(ChatSession).order_by(ChatSession.started_at.desc())).first()
        for i in range(chat.WINDOW + 30):
            append_message(
                db,
                cs,
                author_kind=AuthorKind.CUSTOMER,
                text=f"kestrel sighting {i}",
                sent_at=cs.started_at + dt.timedelta(minutes=5, seconds=i),
            )
        db.commit()
        who = identity.default_actor(db)
        sid, earlier = cs.id, chat.conversation(db, cs.id, actor=who).earlier
    assert earlier >= 30
    at = _run({"q": "kestrel", "session": str(sid)})
    counter = [m.value for m in at.markdown if " of " in m.value and "match" in m.value]
    assert counter == [
        f":material/search: **1 of {chat.WINDOW}** matches in the messages shown "
        f"({earlier} earlier not loaded: Show earlier)"
    ]
