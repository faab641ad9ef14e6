"""The Session Filters on the page: URL in, widgets, Apply, Reset, empty result, saved views."""

from __future__ import annotations

from components import dialogs
from sessionlens.settings import get_settings
from tests import appdb

APP = appdb.FRAME
# The table loads this many sessions at a time (SESSIONLENS_PAGE_SIZE; the tests run the default).
PAGE = get_settings().page_size


_run = appdb.run_app


def _captions(at):
    return [c.value for c in at.caption]


def test_a_shared_url_opens_filtered_and_says_which_filters(app_db):
    at = _run({"channel": "web", "responsible": "ai"})
    assert any("2 filters active: Channel, Responsible" in c for c in _captions(at))
    assert at.button(key="search_button").label == "Search · 2"
    assert not at.multiselect, "the form is only on the page while the dialog is open"
    at.button(key="search_button").click().run()
    assert at.multiselect(key="d_channel").value == ["web"]
    assert at.selectbox(key="d_responsible").value == "ai"


def test_apply_writes_the_url_and_reset_clears_it(app_db):
    at = _run()
    at.button(key="search_button").click().run()
    at.multiselect(key="d_channel").select("email").run()
    at.selectbox(key="d_msg_op").select("ge").run()  # the dialog stays open while editing
    at.number_input(key="d_msg_n").set_value(4).run()
    at.button(key="d_apply").click().run()
    assert at.query_params["channel"] == "email"
    assert at.query_params["msg_op"] == "ge" and at.query_params["msg_n"] == "4"
    assert any("2 filters active: Channel, Messages" in c for c in _captions(at))
    assert not at.multiselect, "Apply closes the dialog"
    at.button(key="search_button").click().run()
    assert at.multiselect(key="d_channel").value == ["email"]
    at.button(key="d_reset").click().run()
    assert "channel" not in at.query_params and not any("active" in c for c in _captions(at))
    assert not at.multiselect, "Reset closes the dialog"
    at.button(key="search_button").click().run()
    assert at.multiselect(key="d_channel").value == []


def test_applied_filters_hold_when_the_poll_brings_the_older_link(app_db, monkeypatch):
    """Apply writes the filters into the link and reruns the page; the live poll's request, sent
    a moment before, carries the link without them and is merged with that rerun. The table is
    filtered all the same, and the link keeps the filters."""
    at = _run()
    at.button(key="search_button").click().run()
    at.multiselect(key="d_channel").select("email").run()
    appdb.rerun_from_older_link(monkeypatch)
    at.button(key="d_apply").click().run()
    assert not at.exception
    assert at.query_params.get("channel") == "email"
    assert any("1 filter active: Channel" in c for c in _captions(at))
    rows = at.session_state["list_started"].rows
    assert rows and {r.channel for r in rows} == {"email"}
    at.query_params.pop("channel")  # then the user's own link, without it, is taken as it comes
    at.run()
    assert not any("active" in c for c in _captions(at))


def test_the_dialog_opens_with_the_url_not_with_edits_left_unapplied(app_db):
    at = _run({"channel": "web"})
    at.button(key="search_button").click().run()
    at.multiselect(key="d_channel").select("email").run()
    assert at.multiselect(key="d_channel").value == ["web", "email"]
    at.session_state[dialogs.OPEN] = None  # what closing it with X does (on_dismiss)
    at.run()
    assert not at.multiselect
    at.button(key="search_button").click().run()
    assert at.multiselect(key="d_channel").value == ["web"]
    assert at.query_params["channel"] == "web"


def test_a_dialog_left_open_for_another_page_is_closed_on_the_way_back(app_db):
    cs = appdb.find_session(app_db)
    at = _run({"channel": "web", "session": str(cs.id)})
    at.button(key="search_button").click().run()
    assert at.multiselect(key="d_channel").value == ["web"]
    at.switch_page("screens/customer.py").run()  # the browser's Back button, say
    at.switch_page("screens/sessions.py").run()
    assert not at.multiselect and at.query_params["channel"] == "web"
    at.button(key="logs_open").click().run()
    drawer = {m.proto.label for m in at.get("button_group")}
    at.switch_page("screens/customer.py").run()
    at.switch_page("screens/sessions.py").run()
    assert at.query_params["session"] == str(cs.id)
    assert "logs_for" not in at.session_state, "the Logs drawer stays closed"
    assert {m.proto.label for m in at.get("button_group")} < drawer


def test_invalid_ip_is_a_message_and_changes_nothing(app_db):
    at = _run({"channel": "web"})
    at.button(key="search_button").click().run()
    at.text_input(key="d_ip").input("300.1.1.1").run()
    at.button(key="d_apply").click().run()
    assert any(
        "IP filter: '300.1.1.1' is not a valid IP address" in e for e in appdb.shown(at.error)
    )
    assert "ip" not in at.query_params and at.query_params["channel"] == "web"
    assert at.text_input(key="d_ip").value == "300.1.1.1", "the dialog stays open to correct it"


def test_bad_url_value_is_named_and_all_sessions_shown(app_db):
    at = _run({"start_from": "2026-03-02T00:00", "start_to": "2026-03-01T00:00"})
    assert appdb.shown(at.error) == [
        "Start time filter: the range ends before it starts. This filter is left out."
    ]
    assert any(f"{PAGE} sessions loaded" in c for c in _captions(at))
    assert not any("active" in c for c in _captions(at))


def test_a_link_with_bad_values_keeps_its_good_filters_and_names_each_bad_one(app_db):
    """A shared link with two mistyped values: each is named, and the table is still narrowed by
    the filter that can be used, which the caption names."""
    at = _run({"channel": "email", "country": "XX", "msg_op": "ge", "msg_n": "-3"})
    errors = appdb.shown(at.error)
    assert len(errors) == 2 and all(e.endswith("This filter is left out.") for e in errors)
    assert errors[0].startswith("Country filter: ") and "'XX'" in errors[0]
    assert errors[1].startswith("Messages filter: ") and "'-3'" in errors[1]
    assert any("1 filter active: Channel" in c for c in _captions(at))
    rows = at.session_state["list_started"].rows
    assert rows and {r.channel for r in rows} == {"email"}


def test_a_link_naming_what_this_workspace_lacks_leaves_that_filter_out(app_db):
    """An agent since deleted or another workspace's ids in a link, a status not in this
    workspace: each filter is named and left out, and the table shows what the rest match
    (it used to be empty, with AG Grid's own "No Rows To Show")."""
    at = _run({"channel": "email", "agent": "999999", "status": "nope", "user": "888888"})
    errors = appdb.shown(at.error)
    assert errors == [
        "Agents filter: no such agent with id 999999. This filter is left out.",
        "Users filter: no such user with id 888888. This filter is left out.",
        "Statuses filter: 'nope' is not a status of this workspace. This filter is left out.",
    ]
    assert any("1 filter active: Channel" in c for c in _captions(at))
    rows = at.session_state["list_started"].rows
    assert rows and {r.channel for r in rows} == {"email"}


def test_empty_result_says_so_and_offers_reset(app_db):
    at = _run({"ip": "203.0.113.250"})
    assert any("No sessions match these filters." in i.value for i in at.info)
    at.button(key="empty_reset").click().run()
    assert "ip" not in at.query_params
    assert any(f"{PAGE} sessions loaded" in c for c in _captions(at))


def test_users_filter_searches_customers(app_db):
    at = _run()
    at.button(key="search_button").click().run()
    at.text_input(key="d_user_search").input("mia").run()
    options = at.multiselect(key="d_user").options
    assert options and all(o.lower().startswith("mia") for o in options)


def test_save_a_view_and_open_it_from_its_url(app_db):
    at = _run({"channel": "web", "sort": "last_message"})
    at.sidebar.text_input(key="view_name").input("Web by last message").run()
    at.sidebar.checkbox(key="view_shared").check().run()
    at.sidebar.button(key="view_save").click().run()
    view_id = at.query_params["view"]
    assert any("Web by last message" in m.value for m in at.sidebar.markdown)
    # the box is empty for the next view (it kept the saved name)
    assert at.sidebar.text_input(key="view_name").value == ""
    assert not at.sidebar.checkbox(key="view_shared").value
    fresh = _run({"view": view_id})
    assert fresh.query_params["channel"] == "web" and fresh.query_params["sort"] == "last_message"
    assert any("1 filter active: Channel" in c for c in _captions(fresh))


def test_filters_survive_a_page_switch(app_db):
    at = _run({"channel": "web", "sort": "last_message"})
    at.switch_page("screens/customer.py").run()
    at.query_params.clear()  # what the browser does when the user follows the sidebar link
    at.switch_page("screens/sessions.py").run()
    assert at.query_params["channel"] == "web" and at.query_params["sort"] == "last_message"
    assert any("1 filter active: Channel" in c for c in _captions(at))
