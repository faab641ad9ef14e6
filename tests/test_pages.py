"""Page tests with Streamlit's AppTest: each page and each state of the session panels."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from components import divider
from components.chat import LISTENER_KEY
from components.live import sessions_drawn
from components.markdown import md_escape
from db.models import Attachment, AuditEvent, ChatSession, Customer, Message, Mode, Tenant, User
from sessionlens import admin, human_agents
from sessionlens.errors import DATABASE_UNAVAILABLE
from sessionlens.settings import get_settings
from tests import appdb
from tests.helpers import busiest_customer

APP = appdb.FRAME


_run = appdb.run_app


def _open(app_db, *conds) -> tuple[AppTest, ChatSession]:
    cs = appdb.find_session(app_db, *conds)
    return _run({"session": str(cs.id)}), cs


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [line for t in at.text for line in t.value.splitlines()]
    parts += [s.value for s in at.subheader] + [h.value for h in at.header]
    return "\n".join(parts) + "\n" + appdb.panel_text(at)


def test_sessions_page_lists_the_first_page(app_db):
    at = _run()
    assert any(f"{get_settings().page_size} sessions loaded" in c.value for c in at.caption)
    grid = at.get("component_instance")[0]
    assert grid.proto.component_name == "st_aggrid.AgGrid.agGrid"
    assert at.subheader[0].value == "Chat"


def test_a_new_workspace_says_where_sessions_come_from(app_db):
    """A workspace with nothing in it yet (a fresh install, or a new tenant): the Sessions page
    says how sessions arrive, and Human Agents what will show there, instead of "Nothing was
    found for the specified filters" under a filter of "All"."""
    from sessionlens import admin, auth

    with Session(app_db) as db, db.begin():
        tenant = admin.add_tenant(
            db, name="Empty Co", timezone="UTC", plan="free", now=dt.datetime.now(dt.UTC)
        )
        auth.add_user(
            db,
            email="first@empty.example",
            name="First Admin",
            role="admin",
            password=None,
            tenant=str(tenant.id),
        )
    at = _run(email="first@empty.example")
    (hint,) = [i.value for i in at.info if "No sessions yet" in i.value]
    assert "through the HTTP API" in hint and "Import session" in hint
    assert "0 sessions loaded" in [c.value for c in at.caption]
    with Session(app_db) as db, db.begin():  # its first session, from its runtime
        from sessionlens import exchange, identity, ingest

        first = identity.actor_for(
            db.scalars(select(User).where(User.email == "first@empty.example")).one()
        )
        doc = exchange.SessionIn.model_validate(
            {
                "external_id": "first",
                "agent": "Aria",
                "channel": "web",
                "started_at": "2026-11-29T09:00:00Z",
            }
        )
        ingest.upsert_session(
            db, doc, actor=first, now=dt.datetime.now(dt.UTC), locate=lambda ip: None
        )
    at = _run(email="first@empty.example")
    assert "1 session loaded" in [c.value for c in at.caption]  # not "1 sessions loaded"
    at = _run(page="screens/human_agents.py", email="first@empty.example")
    assert any(i.value.startswith("No conversation is with a person just now") for i in at.info)
    assert not any("specified filters" in i.value for i in at.info)


def test_load_more_appends_the_next_page(app_db):
    at = _run()
    next(b for b in at.button if b.label == "Load More").click().run()
    assert any(f"{2 * get_settings().page_size} sessions loaded" in c.value for c in at.caption)


def test_clicking_a_row_opens_its_chat_and_sets_the_url(app_db):
    at = _run()
    cs = appdb.find_session(app_db, ChatSession.message_count > 2)
    # what a click on its row does: the grid's frame tells the detail area, which reruns alone
    at = appdb.fire_trigger(at, LISTENER_KEY, "row", str(cs.id))
    assert appdb.chat_heading(at) == appdb.chat_title(cs.message_count)
    assert at.query_params["session"] == str(cs.id)
    # what the browser sends is checked: a row id that is not one is named, the open one stays
    at = appdb.fire_trigger(at, LISTENER_KEY, "row", "12x")
    assert "The picked row: '12x' is not an id" in appdb.shown(at.error)
    assert at.query_params["session"] == str(cs.id)
    assert appdb.chat_heading(at) == appdb.chat_title(cs.message_count)


def test_a_chat_with_nothing_to_click_in_it_is_one_element_and_reads_the_same(app_db):
    """Most sessions have no file, no cut text, no Copilot draft: their heading and whole
    conversation are one element, which a row click sends and the browser updates at once
    (bench/browser.py). A session with files is drawn with its widgets under the messages; both
    show every message, and the same heading."""

    def chats(at: AppTest) -> list[str]:
        return [h.proto.body for h in at.get("html") if 'class="sl-msg ' in h.proto.body]

    plain = appdb.find_session(  # an AI session: no Copilot drafts
        app_db,
        ChatSession.has_attachments.is_(False),
        ChatSession.mode == Mode.AI,
        ChatSession.message_count > 3,
    )
    at = _run({"session": str(plain.id)})
    (whole,) = chats(at)
    assert whole.startswith(f'<h3 class="sl-chat-title">{appdb.chat_title(plain.message_count)}')
    assert 'class="sl-chat-box"' in whole
    assert not [s for s in at.subheader if s.value.startswith("Chat")]
    with Session(app_db) as db:
        shown = db.scalars(
            select(Message.id).where(
                Message.session_id == plain.id, Message.author_kind != "system"
            )
        ).all()
    assert {int(i) for i in re.findall(r'data-msg="(\d+)"', whole)} == set(shown)

    showcase = appdb.showcase(app_db)  # pictures, a file, a Copilot draft
    at = _run({"session": str(showcase.id)})
    assert len(chats(at)) > 1 and not any("sl-chat-title" in c for c in chats(at))
    assert appdb.chat_heading(at) == appdb.chat_title(showcase.message_count)


def test_no_customer_no_parameters_no_results(app_db):
    cs = appdb.find_session(
        app_db,
        ChatSession.customer_id.is_(None),
        where=lambda r: not r.parameters and not r.results,
    )
    at = _run({"session": str(cs.id)})
    text = _texts(at)
    assert "No contact info found" in text
    assert "No parameters found" in text
    assert "No results found" in text


def test_contact_parameters_and_results_with_missing_fields(app_db):
    cs = appdb.find_session(
        app_db,
        ChatSession.customer_id.is_not(None),
        where=lambda r: (
            "utm_source" in r.parameters
            and 0 < len(r.results) < 8
            and "human_name" not in r.results
        ),
    )
    at = _run({"session": str(cs.id)})
    text = _texts(at)
    assert "Open in 360" in text and "Email:" in text and "LinkedIn:" in text
    assert f"utm_source: {cs.parameters['utm_source']}" in text  # plain text, not Markdown
    assert "Human Name: ---" in text  # a configured field the agent did not collect
    assert "Payment Date:" in text and "Topics:" in text


def test_active_ai_session_can_be_handed_over(app_db):
    at, cs = _open(
        app_db,
        ChatSession.finished_at.is_(None),
        ChatSession.mode == Mode.AI,
        ChatSession.channel != "intercom",  # handed over in Intercom (the next test)
    )
    button = at.button(key="hand_over")
    assert not button.disabled
    with Session(app_db) as db, db.begin():  # nobody has the Human Agents workspace open
        db.execute(update(User).values(workspace_seen_at=None))
    button.click().run()
    assert any("Session set to operator" in s.value for s in at.success)
    assert any("Transfer to human agent at" in h.body for h in at.get("html") if hasattr(h, "body"))
    assert at.button(key="hand_over").disabled
    assert at.button(key="hand_over").help == "Session is already handled by an operator"
    # Who will see it arrive: nobody, said as a warning
    assert "No human agent has the Human Agents workspace open just now" in " ".join(
        appdb.shown(at.warning)
    )


def test_handing_over_names_who_has_the_human_agents_workspace_open(app_db):
    """The spec: "Nobody picks up a transferred session ... make sure human agents are online in
    the Human Agents workspace". An operator's open workspace page checks them in; the lead who
    hands a session over reads who will see it arrive; the operator's page names who else is
    there, and the Assign picker marks them."""
    grace = _run(page="screens/human_agents.py", email="grace.kim@northwind.example")
    assert "No other human agent has this workspace open." in [c.value for c in grace.caption]
    at, cs = _open(
        app_db,
        ChatSession.finished_at.is_(None),
        ChatSession.mode == Mode.AI,
        ChatSession.channel != "intercom",
    )
    at.button(key="hand_over").click().run()
    assert "In the Human Agents workspace now: Grace Kim." in appdb.shown(at.info)
    with Session(app_db) as db, db.begin():  # the module's few live AI sessions: one back
        db.execute(update(ChatSession).where(ChatSession.id == cs.id).values(mode=Mode.AI))
    tobias = _run(page="screens/human_agents.py", email="tobias.brandt@northwind.example")
    assert any("Online here: Grace Kim" in c.value for c in tobias.caption)
    with Session(app_db) as db:  # a conversation open, for the Assign picker
        sid = db.scalar(
            select(ChatSession.id).where(
                ChatSession.mode != Mode.AI, ChatSession.finished_at.is_(None)
            )
        )
    tobias = _run(
        {"conversation": str(sid)}, "screens/human_agents.py", "tobias.brandt@northwind.example"
    )
    picker = tobias.selectbox(key="ha_assign_to").options
    assert "Grace Kim · online" in picker and "Kenji Sato" in picker


def test_an_active_intercom_session_says_it_is_handed_over_in_intercom(app_db):
    cs = appdb.find_session(app_db, ChatSession.finished_at.is_(None), ChatSession.mode == Mode.AI)
    with Session(app_db) as db, db.begin():  # the demo has no active Intercom session with the AI
        db.get(ChatSession, cs.id).channel = "intercom"
    try:
        at = _run({"session": str(cs.id)})
        assert at.button(key="hand_over").disabled
        assert at.button(key="hand_over").help == (
            "Intercom sessions are handed over in Intercom: assign the conversation to a person"
            " there"
        )
    finally:
        with Session(app_db) as db, db.begin():
            db.get(ChatSession, cs.id).channel = cs.channel


def test_finished_session_shows_why_handover_is_disabled(app_db):
    at, _ = _open(app_db, ChatSession.finished_at.is_not(None))
    assert at.button(key="hand_over").disabled
    assert at.button(key="hand_over").help == "Session is already finished"


def test_voice_session_offers_its_recording(app_db):
    recorded = select(Attachment.session_id).where(Attachment.is_recording)
    at, _ = _open(app_db, ChatSession.id.in_(recorded))
    body = "".join(h.proto.body for h in at.get("html"))
    assert ">Download recording</a>" in body and "<audio controls" in body
    at, _ = _open(app_db, ChatSession.id.not_in(recorded))
    body = "".join(h.proto.body for h in at.get("html"))
    assert "Download recording" not in body and "<audio" not in body


def test_bad_deep_link_is_a_clear_message(app_db):
    at = _run({"session": "abc"})
    # where its conversation would be, as long as the link is the page's (a rerun keeps it)
    for _ in range(2):
        chat = appdb.chat_column(at)
        assert appdb.shown(chat.error) == ["The link's session: 'abc' is not an id"]
        assert any("Select a session in the table" in i.value for i in chat.info)
        next(b for b in at.button if b.label == "Load More").click().run()
    cs = appdb.find_session(app_db, ChatSession.message_count > 2)
    at = appdb.fire_trigger(at, LISTENER_KEY, "row", str(cs.id))  # picking a row moves on
    assert not appdb.shown(at.error)
    assert appdb.chat_heading(at) == appdb.chat_title(cs.message_count)
    at = _run({"session": "99999999"})
    # where its conversation would be (the chat's column), with the hint to pick one instead
    chat = appdb.chat_column(at)
    assert any("Session 99999999 not found" in e for e in appdb.shown(chat.error))
    assert any("Select a session in the table" in i.value for i in chat.info)


def test_sort_by_last_message(app_db):
    at = _run({"sort": "last_message"})
    grid = at.get("component_instance")[0]
    assert at.session_state["sort_pick"] == "last_message"
    rows = at.session_state["list_last_message"].rows  # what the grid was given, in order
    stamps = [r.last_message_at for r in rows]
    assert len(rows) == get_settings().page_size and stamps == sorted(stamps, reverse=True)
    columns = {c["field"]: c for c in json.loads(grid.proto.json_args)["gridOptions"]["columnDefs"]}
    # The grid marks the sort in force (its icon highlighted) and offers the other.
    assert columns["last_message"]["sort"] == "desc"
    assert columns["last_message"]["headerClass"] == "sort-active"
    assert columns["started"].get("sort") is None and columns["started"]["sortable"]
    assert columns["started"]["headerClass"] == "sort-other"


def test_a_header_click_sorts_the_table_in_its_own_run(app_db):
    """A lead clicks the Last message header: the grid's value comes with the run it asks for
    (Streamlit keeps it under the grid's key), and that run draws the table sorted by Last
    message, with the switch and the link saying so, without asking for another run. The same
    click seen again (the value stays until the grid is drawn anew) changes nothing."""
    from components.grid import grid_key

    at = _run()
    assert at.session_state["sort_pick"] == "started"
    at.session_state[grid_key("started")] = {"sort": "last_message", "sortClick": 1_764_000_000_000}
    at.run()
    assert not at.exception
    assert at.session_state["sort_pick"] == "last_message"
    assert at.query_params.get("sort") == "last_message"
    (grid,) = at.get("component_instance")
    columns = {c["field"]: c for c in json.loads(grid.proto.json_args)["gridOptions"]["columnDefs"]}
    assert columns["last_message"]["sort"] == "desc" and columns["started"].get("sort") is None
    at.session_state["sort_pick"] = "started"  # the switch back to Start ...
    at.query_params["sort"] = "started"
    at.run()
    at.session_state[grid_key("started")] = {"sort": "last_message", "sortClick": 1_764_000_000_000}
    at.run()  # ... and the old click once more: acted on once
    assert at.query_params.get("sort") == "started"


def test_a_header_naming_another_column_changes_nothing(app_db):
    """The grid's value is the browser's word: a column that is not Start or Last message is
    ignored, and the table keeps its sort."""
    from components.grid import grid_key

    at = _run()
    at.session_state[grid_key("started")] = {"sort": "agent; drop", "sortClick": 5}
    at.run()
    assert not at.exception
    assert at.session_state["sort_pick"] == "started"
    assert at.query_params.get("sort") in (None, "", "started")


def test_customer_360_page(app_db):
    cs = appdb.find_session(app_db, ChatSession.customer_id.is_not(None))
    at = appdb.app_test()
    at.query_params["customer"] = str(cs.customer_id)
    at.switch_page("screens/customer.py").run()
    assert not at.exception
    assert any(line.startswith("Name: ") for line in appdb.contact_lines(at))
    at.query_params["customer"] = "424242"
    at.run()
    assert any("Customer 424242 not found" in e for e in appdb.shown(at.error))


def test_the_360_view_counts_all_of_a_customers_sessions_and_shows_earlier_ones(
    app_db, monkeypatch
):
    """A customer with more sessions than 360 View shows at once: the heading counts them all
    (it said "Sessions · 20" for a customer with 50), a caption says which are shown, "Show
    earlier" adds the next older ones above, and a link opens all of them on the Sessions page."""
    from sessionlens import customers

    with Session(app_db) as db:
        cid, total = busiest_customer(db, 1)
    assert total >= 5, "the test data must give a customer several sessions"
    monkeypatch.setattr(customers, "SESSIONS_SHOWN", 2)

    def opened(at: AppTest) -> list[str]:
        return [
            p.proto.query_string
            for p in at.main.get("page_link")
            if "session=" in p.proto.query_string
        ]

    at = _run({"customer": str(cid)}, "screens/customer.py")
    assert f"Sessions · {total}" in [h.value for h in at.subheader]
    assert f"The newest 2 of {total} sessions are shown, oldest first." in [
        c.value for c in at.caption
    ]
    assert len(opened(at)) == 2
    everything = [
        p.proto for p in at.main.get("page_link") if p.proto.query_string == f"user={cid}"
    ]
    assert [p.label for p in everything] == [f"All {total} on the Sessions page"]
    newest = opened(at)
    at.button(key=f"c360_earlier_{cid}").click().run()
    assert len(opened(at)) == 4 and opened(at)[2:] == newest  # the older two above
    while f"c360_earlier_{cid}" in [b.key for b in at.main.button]:
        at.button(key=f"c360_earlier_{cid}").click().run()
    assert len(opened(at)) == total and not [
        c for c in at.caption if c.value.startswith("The newest")
    ]


def test_an_admin_erases_a_customer_from_the_360_view(app_db):
    """A customer asked to be forgotten: the admin reads what will go, ticks, erases; the page
    goes back to the finder saying what went, and the customer and their session are gone. An
    operator has no such button (and the domain refuses them: test_erasure)."""
    from db.models import Agent

    with Session(app_db) as db, db.begin():
        erin = Customer(tenant_id=1, name="Erin <b>Erasable</b>", email="erin@example.com")
        db.add(erin)
        db.flush()
        agent = db.scalars(select(Agent).where(Agent.tenant_id == 1)).first()
        at_ = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
        cs = ChatSession(
            tenant_id=1,
            agent_id=agent.id,
            channel="web",
            customer_id=erin.id,
            status="open",
            started_at=at_,
            last_message_at=at_,
        )
        db.add(cs)
        db.flush()
        from sessionlens.messages import append_message

        append_message(db, cs, author_kind="customer", text="Please forget me", sent_at=at_)
        cid, sid = erin.id, cs.id

    operator = _run(
        {"customer": str(cid)}, "screens/customer.py", email="grace.kim@northwind.example"
    )
    assert not [b for b in operator.main.button if b.key == f"c360_erase_{cid}"]

    at = _run({"customer": str(cid)}, "screens/customer.py")
    said = [t.value for t in at.main.text if t.value.startswith("Erase ")]
    assert said == [
        "Erase Erin <b>Erasable</b> and everything of theirs here: 1 session, 1 message, 0 files, "
        "0 recordings, with their System Logs, traces and hand-overs. For a person who asked to "
        "be forgotten; it cannot be undone. The audit log keeps that they were erased, not who "
        "they were."
    ]
    assert at.button(key=f"c360_erase_{cid}").disabled  # not before the tick
    at.checkbox(key=f"c360_erase_sure_{cid}").check().run()
    at.button(key=f"c360_erase_{cid}").click().run()
    assert not at.exception
    assert f"Customer {cid} is erased: 1 session, 1 message, 0 files, 0 recordings." in (
        appdb.shown(at.success)
    )
    assert "customer" not in at.query_params and at.text_input(key="c360_find")
    with Session(app_db) as db:
        assert db.get(Customer, cid) is None and db.get(ChatSession, sid) is None


def test_parameters_panel_collapses_and_expands(app_db):
    at, _ = _open(app_db, ChatSession.customer_id.is_not(None))
    assert "Session parameters" in _texts(at)
    at.button(key="panel_toggle").click().run()
    assert "Session parameters" not in _texts(at)
    at.button(key="panel_toggle").click().run()
    assert "Session parameters" in _texts(at)


def _table_share(at: AppTest) -> float:
    """The table's share of the workspace row in percent (the page's first column; Streamlit
    keeps a row's weights as fractions of one)."""
    return round(100 * at.columns[0].weight, 1)


def test_the_dividers_width_sets_the_tables_share_and_outlives_other_pages(app_db):
    """The divider (dragged in the browser: test_browser) keeps its width in the browser
    session; the table takes that share of the row, also after a visit to another page."""
    at = _run()
    assert _table_share(at) == 60
    at.session_state[divider.WIDTH_KEY] = 40
    at.run()
    assert _table_share(at) == 40
    at.switch_page("screens/customer.py").run()
    at.switch_page("screens/sessions.py").run()
    assert _table_share(at) == 40


@pytest.mark.parametrize(
    ("raw", "kept"),
    [(45, 45), ("50", 50), (10, 30), (400, 75), ("-5", None), ("4e1", None), (None, None)],
)
def test_the_dividers_width_from_the_browser_is_a_whole_percentage_in_bounds(raw, kept):
    assert divider.clamped(raw) == kept


def _order(block) -> list[str]:  # type: ignore[no-untyped-def]
    """The page's elements from top to bottom, as "type label"."""
    return [f"{e.type} {getattr(e, 'label', None) or getattr(e, 'value', '')}" for e in block]


def test_the_header_is_above_the_table_and_the_menu_tops_the_sidebar(app_db):
    """The table is sent first and the header and saved views are drawn into their places
    afterwards; what a user sees keeps its order."""
    at = appdb.run_app()
    main, side = _order(at.main), _order(at.sidebar)
    header = next(i for i, e in enumerate(main) if e.startswith("header Sessions · "))
    grid = next(i for i, e in enumerate(main) if e.startswith("component_instance"))
    assert header < main.index("button Search") < grid < main.index("button Load More")
    links = [i for i, e in enumerate(side) if e.startswith("page_link")]
    assert links and side.index("expander Saved views") > max(links)
    assert side.index("caption Signed in as Dana Whitfield · Admin") > max(links)


def test_a_saved_view_is_deleted_from_the_sidebar(app_db):
    """Saved views could be saved and never deleted. Its owner deletes one behind a confirmation
    in the sidebar; the page opened from it keeps its filters and no longer names it. A viewer
    sees a shared view of someone else's without a way to delete it; an admin has one."""
    from sessionlens import identity, saved_views

    now = dt.datetime.now(dt.UTC)
    with Session(app_db) as db, db.begin():
        grace = identity.actor_for(
            db.scalars(select(User).where(User.email == "grace.kim@northwind.example")).one()
        )
        mine = saved_views.save_view(
            db, actor=grace, name="Mine <b>", query={"channel": "web"}, shared=False, now=now
        )
        theirs = saved_views.save_view(
            db, actor=grace, name="Team", query={"channel": "email"}, shared=True, now=now
        )
    at = _run({"view": str(mine.id)}, email="grace.kim@northwind.example")
    assert at.query_params["channel"] == "web"
    at.button(key=f"view_delete_{mine.id}").click().run()
    assert "view" not in at.query_params and at.query_params["channel"] == "web"
    assert "Deleted the saved view Mine <b>" in appdb.shown(at.toast)
    with Session(app_db) as db:
        assert [v.name for v in saved_views.list_views(db, actor=grace)] == ["Team"]
    at = _run(email="viewer.vic@northwind.example")
    assert "Team" in " ".join(m.value for m in at.sidebar.markdown)
    assert not [b for b in at.sidebar.button if b.key == f"view_delete_{theirs.id}"]
    at = _run()  # Dana, an admin
    at.button(key=f"view_delete_{theirs.id}").click().run()
    with Session(app_db) as db:
        assert saved_views.list_views(db, actor=grace) == []


def test_a_page_that_stops_early_keeps_its_menu(app_db):
    """The 360 View stops when no customer is named (st.stop); the menu is still there. It is
    drawn before the page runs: after a stop, Streamlit draws nothing more."""
    at = _run({}, "screens/customer.py")
    assert any(i.value.startswith("Open a customer") for i in at.info)
    links = [p.proto.label for p in at.sidebar.get("page_link")]
    assert "Sessions" in links and "360 View" in links


def test_the_360_view_from_the_menu_finds_a_customer(app_db):
    """Opened from the menu, the 360 View offers a search; a match links to its profile."""
    with Session(app_db) as db:
        c = db.scalars(
            select(Customer).where(Customer.tenant_id == 1, Customer.email.is_not(None))
        ).first()
    at = _run({}, "screens/customer.py")
    at.text_input(key="c360_find").input(c.email).run()
    picks = [b for b in at.main.button if b.key.startswith("c360_pick_")]
    assert any(md_escape(c.email) in b.label for b in picks), [b.label for b in picks]
    next(b for b in picks if b.key == f"c360_pick_{c.id}").click().run()
    assert at.query_params["customer"] == str(c.id)  # the address names the customer
    assert any(s.value == md_escape(c.name) for s in at.subheader)
    at.query_params.clear()
    at.run()
    at.text_input(key="c360_find").input("<b>nobody</b>").run()
    assert not [b for b in at.main.button if b.key.startswith("c360_pick_")]
    assert any("No customer matches '<b>nobody</b>'" in i for i in appdb.shown(at.info))
    # A word many share: as many as are listed, and a word that more may match
    at.text_input(key="c360_find").input("example").run()  # every address of the demo's
    assert len([b for b in at.main.button if b.key.startswith("c360_pick_")]) == 20
    assert "The first 20 matches are listed: type more to narrow them down." in [
        c.value for c in at.main.caption
    ]


def test_the_360_view_moves_on_from_a_customer_and_from_a_bad_link(app_db):
    """The menu brings back the customer last shown, so the search sits above a profile too:
    a user moves on to another customer from there, and past a link that shows nobody."""
    with Session(app_db) as db:
        first, other = db.scalars(
            select(Customer)
            .where(Customer.tenant_id == 1, Customer.email.is_not(None))
            .order_by(Customer.id)
            .limit(2)
        ).all()
    at = _run({"customer": str(first.id)}, "screens/customer.py")
    assert any(s.value == md_escape(first.name) for s in at.subheader)
    at.text_input(key="c360_find").input(other.email).run()
    at.button(key=f"c360_pick_{other.id}").click().run()
    assert at.query_params["customer"] == str(other.id)
    assert any(s.value == md_escape(other.name) for s in at.subheader)
    assert not any(s.value == md_escape(first.name) for s in at.subheader)
    # the search is done: its box empties and its matches go
    assert at.text_input(key="c360_find").value == ""
    assert not [b for b in at.main.button if b.key.startswith("c360_pick_")]

    for link, message in (("99999999", "Customer 99999999 not found"), ("x1", "'x1' is not an id")):
        at = _run({"customer": link}, "screens/customer.py")
        assert any(message in e for e in appdb.shown(at.error))
        assert not at.info  # the message says what is wrong; no hint beside it
        at.text_input(key="c360_find").input(other.email).run()
        at.button(key=f"c360_pick_{other.id}").click().run()
        assert any(s.value == md_escape(other.name) for s in at.subheader)


def test_first_start_creates_and_fills_the_embedded_database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh' / 'sessionlens.db'}"
    monkeypatch.setenv("SESSIONLENS_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        from streamlit.testing.v1 import AppTest

        first = AppTest.from_file(appdb.FRAME, default_timeout=60).run()  # nobody signed in yet
        assert "Sign in</a>" in "".join(h.proto.body for h in first.get("html"))
        assert (tmp_path / "fresh" / "sessionlens.db").is_file()
        at = _run()  # the demo's admin can sign in
        assert any(f"{get_settings().page_size} sessions loaded" in c.value for c in at.caption)
    finally:
        get_settings.cache_clear()


# --- Odd content and odd links (issue: nothing odd breaks it) ----------------------------------


def test_undecodable_images_and_odd_mime_types_leave_the_page_whole(app_db):
    sid = appdb.odd_session(app_db, "attachments")
    at = _run({"session": str(sid)})
    cards = "".join(h.proto.body for h in at.get("html") if 'class="sl-file"' in h.proto.body)
    for name, _, _ in appdb.ODD_FILES:  # every odd file is offered as a card, none inline
        assert html.escape(name) in cards, name
    assert cards.count('class="sl-file-dl"') >= len(appdb.ODD_FILES)
    metas = re.findall(r'<div class="sl-file-meta">([^<]*)</div>', cards)
    assert not any("\n" in c or "\x00" in c or "\u202e" in c for c in metas)
    assert any("application/octet" in c for c in metas)  # the broken MIME types, cleaned
    assert any(b.proto.label == "Hand over to the operator" for b in at.button)  # actions shown
    assert "Contact info" in appdb.panel_text(at)
    assert 'href="https://evil.example' not in cards  # the file name is text, not a live link


def test_remote_images_in_messages_are_links_naming_the_host(app_db):
    sid = appdb.odd_session(app_db, "attachments")
    at = _run({"session": str(sid)})
    html = "".join(h.proto.body for h in at.get("html"))
    assert "(127.0.0.1)" in html and not re.search(r"<img[^>]+src=\"(?!data:)", html)


def test_a_session_of_megabyte_messages_opens_cut_with_show_all(app_db):
    sid = appdb.odd_session(app_db, "long")
    at = _run({"session": str(sid)})
    shown_chars = sum(len(h.proto.body) for h in at.get("html"))
    assert shown_chars < 200_000  # five 1 MB messages are not sent to the browser whole
    cut = [c.value for c in at.caption if c.value.startswith("Showing the first")]
    assert len(cut) == 5 and "1,000,008 characters" in cut[0]
    show = [b for b in at.button if b.proto.label == "Show all"]
    assert len(show) == 5
    show[0].click().run()
    assert max(len(h.proto.body) for h in at.get("html")) > 1_000_000
    assert len([b for b in at.button if b.proto.label == "Show all"]) == 4


@pytest.mark.parametrize(
    "query, message",
    [
        ({"session": "²"}, "The link's session: '²' is not an id"),
        ({"session": "9" * 5000}, "The link's session: '999"),
        ({"session": str(2**63)}, "is not an id"),
        ({"session": "[Log in again](https://evil.example)"}, "'[Log in again](https://evil"),
        ({"agent": "²"}, "Agents filter: '²' is not an id"),
        ({"user": "9" * 5000}, "Users filter: '999"),
        ({"human": str(2**31)}, "Human Agent filter: '2147483648' is not an id"),
        ({"start_from": "0001-01-01T00:00"}, "is outside 1970–2099"),
        ({"last_to": "9999-12-31T23:59+00:00"}, "is outside 1970–2099"),
        ({"country": "\x00"}, "Country filter: unknown country code"),
        ({"view": "²"}, "The link's saved view: '²' is not an id"),
        ({"view": str(2**40)}, "The link's saved view"),
        ({"sort": "<b>x</b>"}, "The link's sort: unknown sort"),
    ],
)
def test_odd_url_parameters_are_named_in_a_message(app_db, query, message):
    at = _run(query)
    errors = appdb.shown(at.error)
    assert any(message in e for e in errors), errors
    raw = "".join(e.value for e in at.error)
    assert "](https://" not in raw  # a quoted URL is never a live link
    assert any(b.proto.label == "Import session" for b in at.button)


def test_a_parameter_given_twice_is_named_and_the_last_one_used(app_db):
    first, last = (appdb.find_session(app_db, ChatSession.message_count == n) for n in (2, 3))
    at = _run({"session": [str(first.id), str(last.id)]})
    warned = appdb.shown(at.warning)
    assert any(
        f"The link gives 'session' 2 times ('{first.id}', '{last.id}'); using the last, "
        f"'{last.id}'." in w
        for w in warned
    ), warned
    assert appdb.chat_heading(at) == appdb.chat_title(3)
    at = _run({"[Log in again](https://evil.example)": ["a", "9" * 5000]})
    (warned,) = appdb.shown(at.warning)
    assert warned.startswith("The link gives '[Log in again](https://evil.example)' 2 times")
    assert len(warned) < 300
    assert "](https://" not in at.warning[0].value  # a quoted URL is never a live link


def test_odd_customer_ids_on_the_360_view(app_db):
    for raw, message in [("²", "'²' is not an id"), (str(2**31), "is not an id")]:
        at = _run({"customer": raw}, "screens/customer.py")
        assert any(message in e for e in appdb.shown(at.error))


def _frame_on(monkeypatch, database_url: str) -> AppTest:
    """The app's first page run on ``database_url`` (no embedded worker), as a visitor gets it."""
    monkeypatch.setenv("SESSIONLENS_DATABASE_URL", database_url)
    monkeypatch.setenv("SESSIONLENS_EMBEDDED_WORKER", "false")
    get_settings.cache_clear()
    try:
        return AppTest.from_file(appdb.FRAME, default_timeout=60).run()
    finally:
        get_settings.cache_clear()


def test_a_failure_shows_a_plain_message_and_no_traceback(tmp_path, monkeypatch):
    """A database file that is not a database: the user reads a plain message, with no SQL, path
    or traceback; the details go to the server log."""
    from components.feedback import UNEXPECTED

    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a SQLite database" * 100)
    at = _frame_on(monkeypatch, f"sqlite:///{broken}")
    assert not at.exception
    assert [e.value for e in at.error] == [UNEXPECTED]
    everything = " ".join(str(e.proto) for e in at.main) + " ".join(
        str(e.proto) for e in at.sidebar
    )
    assert "Traceback" not in everything and "sqlite" not in everything.lower()
    assert str(broken) not in everything


def test_a_failure_while_opening_a_session_is_shown_in_its_place(app_db, monkeypatch):
    """The database goes away as a lead opens a session. A row click reruns the detail area alone,
    outside the page's own catch-all, so the detail area catches for itself: the chat's place
    says the database cannot be used just now, and the table and the header are still there
    (Streamlit's own message spoke of Streamlit Cloud and offered to ask a search engine)."""
    from sqlalchemy.exc import OperationalError

    from components import workspace

    def gone(*_args: object) -> None:
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(workspace, "_open", gone)
    cs = appdb.find_session(app_db)
    at = _run({"session": str(cs.id)})
    assert not at.exception
    assert [e.value for e in at.error] == [DATABASE_UNAVAILABLE]
    assert at.button(key="export_open") and [b for b in at.button if b.label == "Load More"]
    assert appdb.chat_heading(at) is None


def test_a_database_that_cannot_be_reached_is_named_as_such(monkeypatch):
    """Postgres answers but has no database by the configured name (or is down, or restarting):
    the page says the database cannot be used just now and to reload in a moment, without the
    server's message, which names the database, to people who may not be signed in."""

    at = _frame_on(monkeypatch, appdb.missing_database_url())
    assert not at.exception
    assert [e.value for e in at.error] == [DATABASE_UNAVAILABLE]
    everything = " ".join(str(e.proto) for e in at.main)
    assert appdb.MISSING_DB not in everything and "Traceback" not in everything


def test_error_details_are_hidden_by_the_server_config():
    import tomllib

    config = tomllib.loads((appdb.ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_a_customer_named_like_markdown_is_shown_as_a_name(app_db):
    from sqlalchemy import update

    from db.models import Customer

    sid = appdb.odd_session(app_db, "attachments")
    with app_db.begin() as conn:
        cid = conn.scalar(select(ChatSession.customer_id).where(ChatSession.id == sid))
        conn.execute(
            update(Customer)
            .where(Customer.id == cid)
            .values(name="[Verify](https://evil.example) ![x](https://evil.example/t.png)")
        )
    at = _run({"customer": str(cid)}, "screens/customer.py")
    heading = at.subheader[0].value
    assert "](https://" not in heading  # escaped: no link, no image
    assert appdb.shown([at.subheader[0]])[0].startswith("[Verify](https://evil.example)")


def test_opening_a_voice_session_reads_no_audio(app_db, monkeypatch):
    """The recording is read by the server's route when the player or the download asks for it
    (tests/test_media.py), never by a run of the page."""
    from sessionlens import blobs, chat

    reads = []
    real = chat.stored_file
    monkeypatch.setattr(chat, "stored_file", lambda *a, **k: reads.append(1) or real(*a, **k))
    monkeypatch.setattr(blobs.BlobStore, "chunks", lambda *a, **k: reads.append(1) or iter(()))
    recorded = select(Attachment.session_id).where(Attachment.is_recording)
    at, _ = _open(app_db, ChatSession.id.in_(recorded))
    assert "<audio" in "".join(h.proto.body for h in at.get("html")) and not at.get("audio")
    at.button(key="refresh_panel").click().run()  # another run: still nothing read
    assert not reads


# --- Roles (issue 11) --------------------------------------------------------------------------


def test_a_viewer_reads_the_chat_and_sees_hand_over_disabled_with_the_reason(app_db):
    cs = appdb.find_session(app_db, ChatSession.finished_at.is_(None), ChatSession.mode == "ai")
    at = _run({"session": str(cs.id)}, email="viewer.vic@northwind.example")
    hand = next(b for b in at.button if b.proto.label == "Hand over to the operator")
    assert hand.disabled and hand.proto.help == "You do not have permission to hand over sessions"
    assert 'class="sl-msg ' in "".join(h.proto.body for h in at.get("html"))  # the chat is readable


def test_a_user_without_a_role_sees_no_sessions_and_whom_to_ask(app_db):
    cs = appdb.showcase(app_db)
    at = _run({"session": str(cs.id)}, email="uma.newcomer@northwind.example")
    texts = " ".join(t.value for t in at.text)
    assert "You have no access to sessions yet" in [s.value for s in at.subheader]
    assert "Ask your administrator (Dana Whitfield)" in texts
    assert not at.get("html") or 'class="sl-msg ' not in "".join(
        h.proto.body for h in at.get("html")
    )
    assert not at.get("component_instance")  # no sessions table


def test_an_admin_invites_a_user_and_sees_the_password_once(app_db):
    at = _run(page="screens/settings.py")
    links = [p.proto.page for p in at.sidebar.get("page_link")]
    assert any("settings" in p for p in links) and any("audit" in p for p in links)
    at.text_input(key="invite_email").input("new.hire@northwind.example")
    at.text_input(key="invite_name").input("New Hire <b>")
    at.selectbox(key="invite_role").select("operator")
    at.button(key="FormSubmitter:settings_invite-Invite").click().run()
    assert any(
        "Invited new.hire@northwind.example as Operator" in s for s in appdb.shown(at.success)
    )
    password = at.code[0].value
    assert len(password) >= 12
    at.run()
    assert not at.code  # shown once
    from sessionlens import auth

    with Session(app_db) as db:
        who = auth.sign_in(
            db, "new.hire@northwind.example", password, address="t", now=dt.datetime.now(dt.UTC)
        )
        assert who.name == "New Hire <b>"  # kept literally
        db.rollback()


def test_an_admin_corrects_a_users_name_and_email_on_the_page(app_db):
    """Settings → Users → Change a user: the picked user's name and email, editable; a refused
    address is named and stays typed; a saved one shows in the table and the picker."""
    at = _run(page="screens/settings.py")
    vic_id = _user_id(app_db, "viewer.vic@northwind.example")
    at.selectbox(key="settings_user").select(vic_id).run()
    name = next(t for t in at.text_input if t.label == "Name" and t.value == "Viewer Vic")
    email = next(t for t in at.text_input if t.label == "Email" and t.value.startswith("viewer."))
    email.input("dana.whitfield@northwind.example")
    name.input("Victoria Viewer")
    at.button(key=f"FormSubmitter:settings_rename_{vic_id}-Save name and email").click().run()
    assert any("A user with the email dana.whitfield@" in e for e in appdb.shown(at.error))
    assert "Victoria Viewer" in [t.value for t in at.text_input]  # what was typed stays
    next(t for t in at.text_input if t.label == "Email" and t.value.startswith("dana.")).input(
        "victoria.viewer@northwind.example"
    )
    at.button(key=f"FormSubmitter:settings_rename_{vic_id}-Save name and email").click().run()
    assert "Saved: Victoria Viewer <victoria.viewer@northwind.example>" in appdb.shown(at.success)
    table = at.dataframe[0].value
    assert "victoria.viewer@northwind.example" in set(table["Email"])
    assert "Victoria Viewer" in set(table["Name"]) and "Viewer Vic" not in set(table["Name"])
    picker = at.selectbox(key="settings_user").options
    assert "Victoria Viewer <victoria.viewer@northwind.example>" in picker
    with Session(app_db) as db, db.begin():  # as it was, for the tests after this one
        user = db.get_one(User, vic_id)
        user.name, user.email = "Viewer Vic", "viewer.vic@northwind.example"


def _user_id(engine, email: str) -> int:
    with Session(engine) as db:
        return db.scalar(select(User.id).where(User.email == email))


def test_bad_tenant_settings_are_named_on_the_page(app_db):
    at = _run(page="screens/settings.py")
    at.text_area[0].input("")
    at.button(key="FormSubmitter:settings_tenant-Save").click().run()
    assert any("at least one session status" in e for e in appdb.shown(at.error))


def test_result_field_types_read_in_words(app_db):
    """An admin picks "Whole number" or "Yes or no", not the format's "int" or "bool"."""
    at = _run(page="screens/settings.py")
    editor = json.loads(next(d for d in at.dataframe if '"Type"' in d.proto.columns).proto.columns)
    labels = {o["value"]: o["label"] for o in editor["type"]["type_config"]["options"]}
    assert labels["int"] == "Whole number" and labels["bool"] == "Yes or no"
    assert labels["str"] == "Text" and set(labels) == set(admin.FIELD_TYPES)


def test_operators_have_no_settings_or_audit(app_db):
    at = _run(email="grace.kim@northwind.example")
    links = [p.proto.page for p in at.sidebar.get("page_link")]
    assert not any("settings" in p or "audit" in p for p in links)
    assert "Signed in as Grace Kim · Operator" in [c.value for c in at.sidebar.caption]


@pytest.mark.parametrize(
    "email, page, title, action",
    [
        ("grace.kim@northwind.example", "screens/settings.py", "Settings", "manage users"),
        ("luis.ortega@northwind.example", "screens/audit.py", "Audit", "manage users"),
        ("viewer.vic@northwind.example", "screens/handoffs.py", "Handoffs", "work conversations"),
    ],
)
def test_a_page_the_role_may_not_use_says_so_at_its_address(app_db, email, page, title, action):
    """An admin's link to /settings followed by an operator (or /handoffs by a viewer) names the
    page and what it needs, where Streamlit said "Page not found" and ran the Sessions page; the
    menu still lists only the pages the role may use, and nothing of the page is shown."""
    at = _run(page=page, email=email)
    assert [h.value for h in at.header][:1] == [title]
    assert any(f"You do not have permission to {action}" in e for e in appdb.shown(at.error))
    links = [p.proto.page for p in at.sidebar.get("page_link")]
    assert not any(page.removeprefix("screens/") in p for p in links)
    assert not at.dataframe and not at.text_input and not at.get("component_instance")


def test_audit_page_lists_sign_ins_and_filters(app_db):
    from sessionlens import auth
    from sessionlens.auth import DEMO_PASSWORD

    with Session(app_db) as db, db.begin():
        auth.sign_in(
            db,
            "grace.kim@northwind.example",
            DEMO_PASSWORD,
            address="t",
            now=dt.datetime.now(dt.UTC),
        )
    at = _run(page="screens/audit.py")
    assert at.dataframe and "sign in" in at.selectbox[1].options
    # Audit and Handoffs open on the same days: the last 30, today included (Audit took 31)
    with Session(app_db) as db:
        zone = db.get_one(Tenant, db.get_one(User, 1).tenant_id).timezone
    today = dt.datetime.now(ZoneInfo(zone)).date()  # the tenant's today, not the test machine's
    month = (today - dt.timedelta(days=29), today)
    assert at.date_input[0].value == month
    assert _run(page="screens/handoffs.py").date_input(key="ho_days").value == month
    at.selectbox[1].select("sign_in").run()
    table = at.dataframe[0].value
    assert set(table["Action"]) == {"sign in"} and "Grace Kim" in set(table["User"])
    # what it was about and what it recorded read as words, not "user 4" and JSON
    grace = table[table["User"] == "Grace Kim"].iloc[0]
    with Session(app_db) as db:
        gid = db.scalar(select(User.id).where(User.email == "grace.kim@northwind.example"))
    assert grace["Target"] == f"user Grace Kim ({gid})"
    assert grace["Details"] == "address: t"
    # The range with only its first day picked: from that day on (it showed every event ever)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    with Session(app_db) as db, db.begin():
        db.add(
            AuditEvent(
                tenant_id=db.get_one(User, gid).tenant_id,
                actor_user_id=gid,
                action="sign_in",
                target_type="user",
                target_id=str(gid),
                at=old,
                details={"address": "long ago"},
            )
        )
    at.date_input[0].set_value((dt.date.today() - dt.timedelta(days=1),)).run()
    table = at.dataframe[0].value
    assert "address: t" in set(table["Details"]) and "address: long ago" not in set(
        table["Details"]
    )
    assert any("pick the range's last day to end it" in c.value for c in at.main.caption)


def test_a_viewer_sees_every_action_disabled_with_the_reason(app_db):
    cs = appdb.showcase(app_db)
    at = _run({"session": str(cs.id)}, email="viewer.vic@northwind.example")
    reasons = {b.proto.label: b.proto.help for b in at.button if b.disabled}
    assert reasons["Import session"] == "You do not have permission to import sessions"
    at = _run(
        {"customer": str(cs.customer_id)},
        "screens/customer.py",
        email="viewer.vic@northwind.example",
    )
    edit = at.button(key="contact_edit")
    assert edit.disabled and edit.proto.help == "You do not have permission to edit customers"


def test_import_dialog_starts_at_the_agent_that_takes_calls(app_db):
    at = _run()
    at.button(key="import_open").click().run()
    agent = at.selectbox(key="import_agent")
    assert agent.value is not None and agent.format_func(agent.value) == "Echo (Voice)"
    assert at.selectbox(key="import_channel").value == "sip"


def test_export_dialog_offers_a_signed_download_link(app_db):
    at = _run()
    at.button(key="export_open").click().run()
    link = "".join(h.proto.body for h in at.get("html") if "sl-export" in h.proto.body)
    assert 'href="/export/sessions?ticket=' in link and "download" in link
    scope = at.radio(key="export_scope")
    assert any("no filters: all sessions" in o for o in scope.options)
    assert at.selectbox(key="export_agent").options  # the agents to choose from


def test_a_viewer_cannot_export(app_db):
    at = _run(email="viewer.vic@northwind.example")
    button = at.button(key="export_open")
    assert button.disabled and button.proto.help == "You do not have permission to export sessions"


def _live_ai_sessions(db: Session, who) -> list[int]:  # type: ignore[no-untyped-def]
    """The ids of ``who``'s tenant's sessions the AI still handles, oldest first."""
    return list(
        db.scalars(
            select(ChatSession.id)
            .where(
                ChatSession.tenant_id == who.tenant_id,
                ChatSession.mode == Mode.AI,
                ChatSession.finished_at.is_(None),
            )
            .order_by(ChatSession.id)
        )
    )


def test_a_refused_reply_or_note_stays_in_its_box_to_be_fixed(app_db):
    """The reply box empties itself when Enter sends, and the note's form did when it was sent:
    a reply or note the console refuses (a right-to-left override pasted in with the text) was
    lost with its message. It goes back into its box beside the message; fixed, it is sent, and
    the box empties."""
    from sessionlens import handover, human_agents, identity

    with Session(app_db) as db, db.begin():
        boss = identity.default_actor(db)
        sid, now = _live_ai_sessions(db, boss)[-1], dt.datetime.now(dt.UTC)
        handover.hand_over(db, actor=boss, session_id=sid, now=now)
        grace = db.scalar(select(User).where(User.email == "grace.kim@northwind.example"))
        human_agents.accept(db, actor=identity.actor_for(grace), session_id=sid, now=now)

    def bodies() -> list[str]:
        with Session(app_db) as db:
            return list(
                db.scalars(
                    select(Message.text).where(
                        Message.session_id == sid,
                        Message.author_kind.in_(("human", "private_note")),
                    )
                )
            )

    at = _run(
        {"conversation": str(sid)}, "screens/human_agents.py", email="grace.kim@northwind.example"
    )
    typed = "Your refund of \u202e42 EUR is on its way."
    at.chat_input(key="ha_reply").set_value(typed).run()
    assert "The reply contains a control character (U+202E)" in appdb.shown(at.error)[0]
    assert at.chat_input(key="ha_reply").value == typed  # still there, to be fixed
    assert bodies() == []
    long = "Dear customer, " + "x" * 10_000  # refused whole, never cut to fit
    at.chat_input(key="ha_reply").set_value(long).run()
    assert "The reply is at most 10,000 characters; this one has 10,015" in appdb.shown(at.error)
    assert at.chat_input(key="ha_reply").value == long
    at.chat_input(key="ha_reply").set_value(typed.replace("\u202e", "")).run()
    assert not at.error and bodies() == ["Your refund of 42 EUR is on its way."]

    at.text_area(key="ha_note").input("VIP \x07customer")
    next(b for b in at.button if b.label == "Add note").click().run()
    assert "The note contains a control character (U+0007)" in appdb.shown(at.error)[0]
    assert at.text_area(key="ha_note").value == "VIP \x07customer"
    at.text_area(key="ha_note").input("VIP customer")
    next(b for b in at.button if b.label == "Add note").click().run()
    assert not at.error and "VIP customer" in bodies()
    assert at.text_area(key="ha_note").value == ""  # sent: the box is empty again


def test_handoffs_and_human_agents_pages_show_a_handed_over_session(app_db):
    from sessionlens import handover, human_agents, identity

    with Session(app_db) as db, db.begin():
        boss = identity.default_actor(db)
        sid = _live_ai_sessions(db, boss)[0]
        handover.hand_over(db, actor=boss, session_id=sid, now=dt.datetime.now(dt.UTC))
    at = _run(page="screens/human_agents.py", email="grace.kim@northwind.example")
    links = [p.proto.label for p in at.sidebar.get("page_link")]
    assert any(name.startswith("Human Agents · ") for name in links), links
    assert any(b.key == f"ha_card_{sid}" for b in at.button)
    # none picked yet: the hint names the list, wherever a narrow window puts it
    assert [i.value for i in appdb.chat_column(at).info] == ["Pick a conversation in the list."]
    at = _run(
        {"conversation": str(sid)}, "screens/human_agents.py", email="grace.kim@northwind.example"
    )
    assert at.button(key="ha_accept")
    assert "Accept the conversation to reply to the customer." in appdb.shown(at.caption)
    # a teammate takes it: no Accept any more, and the caption names who has it and what to do
    with Session(app_db) as db, db.begin():
        amara = db.scalar(
            select(User).where(User.tenant_id == boss.tenant_id, User.name == "Amara Nwosu")
        )
        human_agents.accept(
            db, actor=identity.actor_for(amara), session_id=sid, now=dt.datetime.now(dt.UTC)
        )
    at = _run(
        {"conversation": str(sid)}, "screens/human_agents.py", email="grace.kim@northwind.example"
    )
    assert not [b for b in at.button if b.key == "ha_accept"]
    assert (
        "Amara Nwosu has this conversation: only they can reply. To take it over, assign it to "
        "yourself." in appdb.shown(at.caption)
    )
    at = _run(
        {"conversation": "99999999"}, "screens/human_agents.py", email="grace.kim@northwind.example"
    )
    chat = appdb.chat_column(at)
    assert appdb.shown(chat.error) == ["Session 99999999 not found"]  # where the chat would be
    at = _run({"conversation": "x"}, "screens/human_agents.py", email="grace.kim@northwind.example")
    chat = appdb.chat_column(at)
    assert appdb.shown(chat.error) == ["The link's conversation: 'x' is not an id"]
    at = _run(page="screens/handoffs.py", email="grace.kim@northwind.example")
    per_agent, per_day = (d.value for d in at.dataframe)
    # a figure not there yet (no handover accepted) reads ---, as empty values do everywhere
    assert [d.proto.placeholder for d in at.dataframe] == ["---", "---"]
    assert "(---: none was accepted yet)" in at.dataframe[0].proto.columns
    # minutes with one decimal each ("1.0" beside "1.3", not "1")
    minute_columns = json.loads(at.dataframe[0].proto.columns)
    assert minute_columns["Accept p50 (min)"]["type_config"]["format"] == "%.1f"
    assert per_agent["Handovers"].sum() >= 1
    assert per_agent["Handovers"].sum() == per_day["Handovers"].sum()
    assert sorted(per_agent["AI agent"]) == sorted(set(per_day["AI agent"]))
    assert [s.value for s in at.subheader] == [
        "Per AI agent, over these days",
        "Handovers per day",
        "Minutes to accept (median)",
        "Per day",
    ]
    # A range with its first day only (the picker left half-way): from that day on, said so
    # (the page went blank below the picker)
    first = dt.date.today() - dt.timedelta(days=40)
    at.date_input(key="ho_days").set_value((first,)).run()
    assert f"Since {first:%Y-%m-%d} (pick the range's last day to end it)" in [
        c.value for c in at.main.caption
    ]
    assert at.dataframe[0].value["Handovers"].sum() >= per_agent["Handovers"].sum()
    at = _run(page="screens/handoffs.py", email="grace.kim@northwind.example")
    # both charts name every agent in a legend of several lines (one line cut the last ones)
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert [c["mark"]["type"] for c in charts] == ["bar", "circle"]
    for chart in charts:
        assert chart["encoding"]["color"]["legend"]["columns"] == 3


def test_an_admin_sees_the_transcription_queue_and_retries_a_failed_job(app_db):
    from db.models import Job, JobStatus
    from sessionlens import identity

    with Session(app_db) as db, db.begin():
        me = identity.default_actor(db)
        mine, theirs = (
            db.scalar(select(ChatSession.id).where(ChatSession.tenant_id == t).limit(1))
            for t in (me.tenant_id, me.tenant_id + 1)
        )
        failed, waiting, other = appdb.transcription_jobs(
            db,
            (me.tenant_id, mine, JobStatus.FAILED, "Transcription failed: no <b>model</b>"),
            (me.tenant_id, mine, JobStatus.QUEUED, None),
            (me.tenant_id + 1, theirs, JobStatus.FAILED, "another tenant's job"),
        )
    at = _run(page="screens/settings.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Failed"] == "1" and metrics["Queued"] == "1"
    assert any("longest-waiting recording was queued" in c.value for c in at.caption)
    table = at.dataframe[-1].value
    assert set(table["Job"]) == {failed, waiting}  # not the other tenant's
    assert "Transcription failed: no <b>model</b>" in list(table["Worker or error"])
    at.selectbox(key="settings_job").select(failed).run()
    assert at.button(key="settings_job_cancel").disabled
    at.button(key="settings_job_retry").click().run()
    assert any(f"Job {failed} is queued again" in s for s in appdb.shown(at.success))
    at.selectbox(key="settings_job").select(waiting).run()
    assert at.button(key="settings_job_retry").disabled
    at.button(key="settings_job_cancel").click().run()
    with Session(app_db) as db:
        assert db.get(Job, failed).status == JobStatus.QUEUED
        assert db.get(Job, waiting).status == JobStatus.CANCELLED
        assert db.get(Job, waiting).error == "Cancelled by Dana Whitfield"
        assert db.get(Job, other).status == JobStatus.FAILED


def test_a_date_and_time_result_reads_in_the_tenants_zone(app_db):
    """A `datetime` result field shows as every other time on the page does (the tenant's zone,
    "2026-12-27 10:00"), not as the runtime's ISO text; a value that is not one shows as sent.
    The session is put back as it was: other tests read the same database."""
    cs = appdb.find_session(app_db)
    cases = [
        ("2026-12-27T09:00:00Z", "Callback At: 2026-12-27 10:00"),  # UTC, the tenant is Berlin
        ("2026-12-27T09:00", "Callback At: 2026-12-27 09:00"),  # no offset: the tenant's time
        ("after lunch", "Callback At: after lunch ⚠ not a date and time"),
    ]
    try:
        for sent, shown in cases:
            with Session(app_db) as db, db.begin():
                db.get_one(ChatSession, cs.id).results = {**(cs.results or {}), "callback_at": sent}
            assert shown in appdb.panel_text(_run({"session": str(cs.id)})).splitlines()
    finally:
        with Session(app_db) as db, db.begin():
            db.get_one(ChatSession, cs.id).results = cs.results


def test_a_result_that_does_not_fit_its_field_is_marked_beside_it(app_db):
    """The spec's lead checks results "for missing or wrong values": a value the agent collected
    that is not of its field's type is shown as sent, and says what is wrong with it (it read as
    if it were right). Values that fit carry no mark."""
    cs = appdb.find_session(app_db)
    sent = {
        "order_total": "lots",
        "newsletter": "maybe",
        "payment_date": "next Monday",
        "promise_to_pay": "never",
        "topics": "billing",
        "human_name": "Ada Lovelace",
    }
    try:
        with Session(app_db) as db, db.begin():
            db.get_one(ChatSession, cs.id).results = sent
        lines = appdb.panel_text(_run({"session": str(cs.id)})).splitlines()
        for shown in (
            "Order Total: lots ⚠ not a whole number",
            "Newsletter Opt-in: maybe ⚠ not yes or no",
            "Payment Date: next Monday ⚠ not a date (YYYY-MM-DD)",
            "Promise to Pay: never ⚠ not one of promised, refused, undecided",
            "Topics: billing ⚠ not a list",
            "Human Name: Ada Lovelace",
        ):
            assert shown in lines, lines
        fine = {"order_total": 120.0, "newsletter": False, "payment_date": "2026-12-01"}
        with Session(app_db) as db, db.begin():
            db.get_one(ChatSession, cs.id).results = {**fine, "promise_to_pay": "promised"}
        text = appdb.panel_text(_run({"session": str(cs.id)}))
        assert "Order Total: 120.0" in text.splitlines() and "⚠ not" not in text
    finally:
        with Session(app_db) as db, db.begin():
            db.get_one(ChatSession, cs.id).results = cs.results


@pytest.mark.parametrize(
    ("page", "param"), [(None, "session"), ("screens/human_agents.py", "conversation")]
)
def test_a_message_landing_while_the_page_draws_is_shown_at_the_next_poll(
    app_db, monkeypatch, page, param
):
    """An agent runtime's message that lands just after the page read the conversation is not on
    screen; what the page keeps as drawn for its poll was read no later than the chat, so the
    next poll sees the message and redraws. (The poll's reference used to be read after the
    drawing, and the message waited for some other change.)"""
    from sessionlens import live, sessions
    from tests.helpers import actor

    cs = appdb.find_session(app_db, ChatSession.finished_at.is_(None))
    read = sessions.get_session

    def read_then_a_message_lands(db, session_id, **kw):  # type: ignore[no-untyped-def]
        detail = read(db, session_id, **kw)
        if session_id == cs.id:
            appdb.message_lands(app_db, cs.id, "Is anyone there?")
        return detail

    monkeypatch.setattr(sessions, "get_session", read_then_a_message_lands)
    at = _run({param: str(cs.id)}, page, email="grace.kim@northwind.example")
    assert "Is anyone there?" not in _texts(at)
    with Session(app_db) as db:
        who = actor(db)
        if page is None:
            drawn = sessions_drawn(at.session_state)
            now = live.signature(db, actor=who, ids=[cs.id])
            now[("open", cs.id)] = now[cs.id]
        else:
            drawn = at.session_state["live_seen_human_agents"]
            now = human_agents.signature(db, actor=who, open_session=cs.id)
    assert live.changed(drawn, now)


def test_the_poll_compares_with_the_rows_as_the_table_read_them_not_with_a_later_run(app_db):
    """The table keeps its rows between runs; a run of the whole page that does not read them
    again (a dialog closed, a saved view) must not make a row that changed meanwhile look
    current to the poll."""
    from sessionlens import live
    from tests.helpers import actor

    at = _run()
    row = at.session_state["list_started"].rows[3]
    appdb.message_lands(app_db, row.id, "One more question")
    at.run()  # a run of the whole page: the table draws the rows it has
    drawn = sessions_drawn(at.session_state)
    with Session(app_db) as db:
        now = live.signature(db, actor=actor(db), ids=[k for k in drawn if isinstance(k, int)])
    assert [k for k in now if k in drawn and now[k] != drawn[k]] == [row.id]
