"""The Session Filters in the sidebar: one set of widgets with Apply and Reset, kept in the URL.

The URL is the source of truth. Widgets are re-seeded from it whenever it changed elsewhere (a shared
link, a saved view, the Reset button); Apply validates them in the domain and writes the URL.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components import feedback
from components.data import run_action
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
RESPONSIBLE = {"": "Any", "human": "Human Agent", "ai": "AI Agent"}
OPS = {"": "Any number", **{code: op.value for code, op in filter_query.OPS.items()}}


def current_query() -> dict[str, str]:
    return {k: st.query_params[k] for k in filter_query.FILTER_KEYS if k in st.query_params}


def current_filter(tz: str, result_fields: dict[str, str]) -> SessionFilter:
    """The filter in the URL; a value that cannot be used is reported and the filter dropped."""
    try:
        return filter_query.parse(current_query(), tz, list(result_fields))
    except BadInput as err:
        feedback.error(f"{err}. Showing all sessions instead.", icon=":material/filter_alt_off:")
        return SessionFilter()


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
    st.session_state.pop("filters_seeded", None)


def filter_sidebar(
    actor: Actor, tz: str, flt: SessionFilter, result_fields: dict[str, str]
) -> None:
    url = current_query()
    if st.session_state.get("filters_seeded") != url or "f_agent" not in st.session_state:
        _seed(flt, tz, actor)
        st.session_state["filters_seeded"] = url
    opts = run_action(
        lambda db: {
            "agents": filter_options.agents(db, actor=actor),
            "humans": filter_options.human_agents(db, actor=actor),
            "statuses": filter_options.statuses(db, actor=actor),
            "countries": filter_options.countries(db, actor=actor),
        }
    ) or {"agents": [], "humans": [], "statuses": [], "countries": []}
    labels = {f"agent:{c.id}": c.label for c in opts["agents"]}
    labels |= {f"human:{c.id}": c.label for c in opts["humans"]}
    labels |= {f"country:{c.id}": c.label for c in opts["countries"]}
    n = len(filter_query.active_labels(flt))
    with st.sidebar.expander(
        f"Session Filters{f' · {n} active' if n else ''}",
        expanded=True,
        icon=":material/filter_alt:",
    ):
        st.text_input(
            "Search what was said",
            key="f_q",
            placeholder='refund "cancel my subscription" refun* -voucher',
            help=SEARCH_HELP,
            max_chars=search.MAX_LENGTH,
        )
        st.checkbox("Also search customer names, emails and phones", key="f_people")
        st.multiselect(
            "Agents",
            [c.id for c in opts["agents"]],
            key="f_agent",
            format_func=lambda i: labels.get(f"agent:{i}", i),
            placeholder="Type to search agents",
        )
        st.multiselect(
            "Channel", list(CHANNELS), key="f_channel", format_func=lambda k: CHANNELS[k].name
        )
        st.selectbox(
            "Responsible", list(RESPONSIBLE), key="f_responsible", format_func=RESPONSIBLE.get
        )
        st.multiselect(
            "Human Agent",
            [c.id for c in opts["humans"]],
            key="f_human",
            format_func=lambda i: labels.get(f"human:{i}", i),
        )
        _users(actor)
        st.multiselect("Statuses", opts["statuses"], key="f_status")
        st.multiselect(
            "Country",
            [c.id for c in opts["countries"]],
            key="f_country",
            format_func=lambda i: labels.get(f"country:{i}", i),
        )
        st.text_input("IP", key="f_ip", placeholder="Exact address, e.g. 81.2.69.142")
        for prefix, (_, label) in filter_query.RANGES.items():
            st.caption(f"{label} ({tz}; from inclusive, to exclusive)")
            a, b = st.columns(2)
            a.datetime_input("From", key=f"f_{prefix}_from", format="YYYY-MM-DD")
            b.datetime_input("To", key=f"f_{prefix}_to", format="YYYY-MM-DD")
        a, b = st.columns([3, 2])
        a.selectbox("Messages", list(OPS), key="f_msg_op", format_func=OPS.get)
        b.number_input("Count", min_value=0, step=1, key="f_msg_n")
        st.checkbox("Has Attachments", key="f_attachments")
        missing = {"": "Any", filter_query.ANY_RESULT: "Any configured field", **result_fields}
        st.selectbox(
            "Results missing",
            list(missing),
            key="f_missing",
            format_func=missing.get,
            disabled=not result_fields,
            help="Sessions in which the agent did not collect a result you configured"
            if result_fields
            else "No result fields are configured for this tenant (Settings)",
        )
        apply, reset = st.columns(2)
        if apply.button("Apply", type="primary", key="filters_apply", use_container_width=True):
            _apply(actor, tz, list(result_fields))
        if reset.button("Reset", key="filters_reset", use_container_width=True):
            reset_filters()
            st.rerun()


def _users(actor: Actor) -> None:
    term = st.text_input("Users", key="f_user_search", placeholder="Type a name, email or id")
    chosen = [int(i) for i in st.session_state.get("f_user", [])]
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
    st.session_state.setdefault("f_user_names", {}).update(names)
    known = st.session_state["f_user_names"]
    st.multiselect(
        "Matching users",
        list(dict.fromkeys([*map(str, chosen), *names])),
        key="f_user",
        format_func=lambda i: known.get(i, i),
        label_visibility="collapsed",
        placeholder="Pick from the matches",
    )


def _seed(flt: SessionFilter, tz: str, actor: Actor) -> None:
    s = st.session_state
    s["f_q"] = flt.text.text if flt.text else ""
    s["f_people"] = bool(flt.text and flt.text.people)
    s["f_missing"] = (
        filter_query.ANY_RESULT
        if flt.missing_any
        else (flt.missing_results[0] if flt.missing_results else "")
    )
    s["f_agent"] = [str(i) for i in flt.agent_ids]
    s["f_channel"] = list(flt.channels)
    s["f_responsible"] = flt.responsible.value if flt.responsible else ""
    s["f_human"] = [str(i) for i in flt.human_agent_ids]
    s["f_user"] = [str(i) for i in flt.customer_ids]
    s["f_status"] = list(flt.statuses)
    s["f_country"] = list(flt.countries)
    s["f_ip"] = flt.ip or ""
    for prefix, (field, _) in filter_query.RANGES.items():
        for end in ("from", "to"):
            when = getattr(flt, f"{field}_{end}")
            s[f"f_{prefix}_{end}"] = filter_query.to_local(when, tz) if when else None
    s["f_msg_op"] = filter_query.OP_CODES[flt.messages_op] if flt.messages_op else ""
    s["f_msg_n"] = flt.messages_count or 0
    s["f_attachments"] = flt.has_attachments


def _apply(actor: Actor, tz: str, result_keys: list[str]) -> None:
    s = st.session_state
    params = {
        "q": s["f_q"],
        "people": "1" if s["f_people"] and s["f_q"].strip() else "",
        "missing": s["f_missing"],
        "agent": ",".join(s["f_agent"]),
        "channel": ",".join(s["f_channel"]),
        "responsible": s["f_responsible"],
        "human": ",".join(s["f_human"]),
        "user": ",".join(s["f_user"]),
        "status": ",".join(s["f_status"]),
        "country": ",".join(s["f_country"]),
        "ip": s["f_ip"].strip(),
        "msg_op": s["f_msg_op"],
        "msg_n": str(s["f_msg_n"]) if s["f_msg_op"] else "",
        "attachments": "1" if s["f_attachments"] else "",
    }
    for prefix in filter_query.RANGES:
        for end in ("from", "to"):
            value: dt.datetime | None = s.get(f"f_{prefix}_{end}")
            params[f"{prefix}_{end}"] = value.isoformat(timespec="minutes") if value else ""
    params = {k: v for k, v in params.items() if v}
    try:
        flt = filter_query.parse(params, tz, result_keys)
    except BadInput as err:
        feedback.error(str(err))
        return
    if run_action(lambda db: filter_options.check(db, flt, actor=actor) or True):
        clean = filter_query.encode(flt, tz)
        leave_view()
        write_query(clean)
        st.session_state["filters_seeded"] = clean
        st.rerun()
