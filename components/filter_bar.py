"""The Session Filters: the spec's dialog behind the header's Search button, kept in the URL.

The URL is the source of truth. The form is filled from it each time the dialog opens and whenever
it changed elsewhere (a shared link, a saved view); Apply validates it in the domain, writes the URL
and closes the dialog, Reset clears the URL and closes it.

The form is only on the page while the dialog is open. It used to sit open in the sidebar too:
its thirty widgets were two thirds of the page's DOM and made the first rows about 40 % and a row
click about 30 % slower in the browser (docs/engineering-notes.md).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components import feedback, url
from components.data import run_action, run_step
from components.dialogs import close_dialog, open_dialog
from components.markdown import md_escape
from sessionlens import filter_options, filter_query, search
from sessionlens.channels import CHANNELS
from sessionlens.errors import BadInput
from sessionlens.filters import SessionFilter
from sessionlens.permissions import Actor

SEARCH_HELP = (
    "Words anywhere in the session's messages (notes, drafts and call transcripts too), in any "
    'language, ignoring case and accents. "A phrase" in quotes, refun* for words that start so, '
    "refund OR return for either, -voucher to leave sessions with that word out."
)
P = "d_"  # the form's widget key prefix
RESPONSIBLE = {"": "Any", "human": "Human Agent", "ai": "AI Agent"}
OPS = {"": "Any number", **{code: op.value for code, op in filter_query.OPS.items()}}


def current_query() -> dict[str, str]:
    return {k: st.query_params[k] for k in filter_query.FILTER_KEYS if k in st.query_params}


def current_filter(actor: Actor, tz: str, result_fields: dict[str, str]) -> SessionFilter:
    """The filters in the URL. Each value that cannot be used is named in a message and its
    filter left out; the others apply (a shared link with one mistyped value still narrows the
    table by the rest, and the caption above it says which filters are active). So is an id or
    status this workspace does not have (an agent since deleted, another workspace's link)."""
    flt, problems = filter_query.parse_each(current_query(), tz, list(result_fields))
    known = run_action(lambda db: filter_options.known_only(db, flt, actor=actor))
    if known is not None:
        flt, unknown = known
        problems += unknown
    for err in problems:
        feedback.error(f"{err}. This filter is left out.", icon=":material/filter_alt_off:")
    return flt


def write_query(params: dict[str, str]) -> None:
    for key in filter_query.FILTER_KEYS:
        if key in st.query_params and key not in params:
            del st.query_params[key]
    for key, value in params.items():
        st.query_params[key] = value


def leave_view() -> None:
    """The filters were changed by hand: the URL no longer names a saved view."""
    if "view" in st.query_params:
        del st.query_params["view"]


def reset_filters() -> None:
    leave_view()
    write_query({})
    st.session_state.pop(P + "seeded", None)
    close_dialog()


def open_filters() -> None:
    """The Search button: open the dialog with what the URL holds now (not edits left in it
    unapplied the last time)."""
    st.session_state.pop(P + "seeded", None)
    open_dialog("search")


@st.dialog("Session Filters", width="large", on_dismiss=close_dialog)
@feedback.guarded
def filters_dialog(
    actor: Actor, tz: str, flt: SessionFilter, result_fields: dict[str, str]
) -> None:
    """Session Filters; the page draws it on every run while it is open (components/dialogs.py),
    a widget in it reruns only the dialog, and Apply, Reset or × closes it."""
    filter_form(actor, tz, flt, result_fields)


def filter_form(actor: Actor, tz: str, flt: SessionFilter, result_fields: dict[str, str]) -> None:
    """The search box, the thirteen filters, Results missing, Apply and Reset."""
    query = current_query()
    if st.session_state.get(P + "seeded") != query or P + "agent" not in st.session_state:
        _seed(flt, tz)
        st.session_state[P + "seeded"] = query
    agents, humans, statuses, countries = run_action(
        lambda db: (
            filter_options.agents(db, actor=actor),
            filter_options.human_agents(db, actor=actor),
            filter_options.statuses(db, actor=actor),
            filter_options.countries(db, actor=actor),
        )
    ) or ([], [], [], [])
    labels = {f"agent:{c.id}": c.label for c in agents}
    labels |= {f"human:{c.id}": c.label for c in humans}
    labels |= {f"country:{c.id}": c.label for c in countries}
    # Two columns: the form is half as long, and Apply is in view on a laptop screen.
    left, right = st.columns(2, gap="large")
    with left:
        st.text_input(
            "Search what was said",
            key=P + "q",
            placeholder='refund "cancel my subscription" refun* -voucher',
            help=SEARCH_HELP,
            max_chars=search.MAX_LENGTH,
        )
        st.checkbox("Also search customer names, emails and phones", key=P + "people")
        st.multiselect(
            "Agents",
            [c.id for c in agents],
            key=P + "agent",
            format_func=lambda i: labels.get(f"agent:{i}", i),
            placeholder="Type to search agents",
        )
        st.multiselect(
            "Channel", list(CHANNELS), key=P + "channel", format_func=lambda k: CHANNELS[k].name
        )
        st.selectbox(
            "Responsible",
            list(RESPONSIBLE),
            key=P + "responsible",
            format_func=RESPONSIBLE.__getitem__,
        )
        st.multiselect(
            "Human Agent",
            [c.id for c in humans],
            key=P + "human",
            format_func=lambda i: labels.get(f"human:{i}", i),
        )
        _users(actor)
        st.multiselect(
            "Country",
            [c.id for c in countries],
            key=P + "country",
            format_func=lambda i: labels.get(f"country:{i}", i),
        )
        st.text_input("IP", key=P + "ip", placeholder="Exact address, e.g. 81.2.69.142")
    with right:
        st.multiselect("Statuses", statuses, key=P + "status")
        for prefix, (_, label) in filter_query.RANGES.items():
            st.caption(md_escape(f"{label} ({tz}; from inclusive, to exclusive)"))
            a, b = st.columns(2)
            a.datetime_input("From", key=f"{P}{prefix}_from", format="YYYY-MM-DD")
            b.datetime_input("To", key=f"{P}{prefix}_to", format="YYYY-MM-DD")
        a, b = st.columns([3, 2])
        a.selectbox("Messages", list(OPS), key=P + "msg_op", format_func=OPS.__getitem__)
        b.number_input("Count", min_value=0, step=1, key=P + "msg_n")
        st.checkbox("Has Attachments", key=P + "attachments")
        missing = {"": "Any", filter_query.ANY_RESULT: "Any configured field", **result_fields}
        st.selectbox(
            "Results missing",
            list(missing),
            key=P + "missing",
            format_func=missing.__getitem__,
            disabled=not result_fields,
            help="Sessions in which the agent did not collect a result you configured"
            if result_fields
            else "No result fields are configured for this tenant (Settings)",
        )
    apply, reset = st.columns(2)
    if apply.button("Apply", type="primary", key=P + "apply", use_container_width=True):
        _apply(actor, tz, list(result_fields))
    if reset.button("Reset", key=P + "reset", use_container_width=True):
        reset_filters()
        url.rerun()  # the whole page: the table reloads and the dialog closes


def _users(actor: Actor) -> None:
    term = st.text_input(
        "Users", key=P + "user_search", placeholder="Type a name, email, phone or id"
    )
    chosen = [int(i) for i in st.session_state.get(P + "user", [])]
    found = (
        run_action(
            lambda db: (
                filter_options.customers_by_id(db, tuple(chosen), actor=actor)
                + filter_options.search_customers(db, term, actor=actor)
            )
        )
        or []
    )
    names = {c.id: c.label for c in found}
    st.session_state.setdefault(P + "user_names", {}).update(names)
    known = st.session_state[P + "user_names"]
    st.multiselect(
        "Matching users",
        list(dict.fromkeys([*map(str, chosen), *names])),
        key=P + "user",
        format_func=lambda i: known.get(i, i),
        label_visibility="collapsed",
        placeholder="Pick from the matches",
    )


def _seed(flt: SessionFilter, tz: str) -> None:
    s = st.session_state
    s[P + "q"] = flt.text.text if flt.text else ""
    s[P + "people"] = bool(flt.text and flt.text.people)
    s[P + "missing"] = (
        filter_query.ANY_RESULT
        if flt.missing_any
        else (flt.missing_results[0] if flt.missing_results else "")
    )
    s[P + "agent"] = [str(i) for i in flt.agent_ids]
    s[P + "channel"] = list(flt.channels)
    s[P + "responsible"] = flt.responsible.value if flt.responsible else ""
    s[P + "human"] = [str(i) for i in flt.human_agent_ids]
    s[P + "user"] = [str(i) for i in flt.customer_ids]
    s[P + "status"] = list(flt.statuses)
    s[P + "country"] = list(flt.countries)
    s[P + "ip"] = flt.ip or ""
    for prefix, (field, _) in filter_query.RANGES.items():
        for end in ("from", "to"):
            when = getattr(flt, f"{field}_{end}")
            s[f"{P}{prefix}_{end}"] = filter_query.to_local(when, tz) if when else None
    s[P + "msg_op"] = filter_query.OP_CODES[flt.messages_op] if flt.messages_op else ""
    s[P + "msg_n"] = flt.messages_count or 0
    s[P + "attachments"] = flt.has_attachments


def _apply(actor: Actor, tz: str, result_keys: list[str]) -> None:
    s = st.session_state
    params = {
        "q": s[P + "q"],
        "people": "1" if s[P + "people"] and s[P + "q"].strip() else "",
        "missing": s[P + "missing"],
        "agent": ",".join(s[P + "agent"]),
        "channel": ",".join(s[P + "channel"]),
        "responsible": s[P + "responsible"],
        "human": ",".join(s[P + "human"]),
        "user": ",".join(s[P + "user"]),
        "status": ",".join(s[P + "status"]),
        "country": ",".join(s[P + "country"]),
        "ip": s[P + "ip"].strip(),
        "msg_op": s[P + "msg_op"],
        "msg_n": str(s[P + "msg_n"]) if s[P + "msg_op"] else "",
        "attachments": "1" if s[P + "attachments"] else "",
    }
    for prefix in filter_query.RANGES:
        for end in ("from", "to"):
            value: dt.datetime | None = s.get(f"{P}{prefix}_{end}")
            params[f"{prefix}_{end}"] = value.isoformat(timespec="minutes") if value else ""
    params = {k: v for k, v in params.items() if v}
    try:
        flt = filter_query.parse(params, tz, result_keys)
    except BadInput as err:
        feedback.error(str(err))
        return
    if run_step(lambda db: filter_options.check(db, flt, actor=actor)):
        clean = filter_query.encode(flt, tz)
        leave_view()
        write_query(clean)
        st.session_state[P + "seeded"] = clean
        close_dialog()
        url.rerun()  # the whole page: the table reloads and the dialog closes
