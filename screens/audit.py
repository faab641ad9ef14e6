"""Audit (Admin): who did what, when, to which row; filtered by user, action and time.

The rows are written by the domain in the same transaction as the change they record; this page
only reads them, and nothing in the console can change or delete one.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import streamlit as st

from components import feedback
from components.data import current_actor, run_action
from components.days import OPEN_END, picked_days, recent
from components.panel import plain_value
from sessionlens import admin, identity
from sessionlens.permissions import Action, can
from sessionlens.wording import counted

actor = current_actor()
st.header("Audit")
if not can(actor, Action.ADMINISTER):
    feedback.error(f"You do not have permission to {Action.ADMINISTER}")
    st.stop()

tenant = run_action(lambda db: identity.tenant_info(db, actor=actor))
tz = ZoneInfo(tenant.timezone if tenant else "UTC")
users = run_action(lambda db: admin.list_users(db, actor=actor)) or []
actions = run_action(lambda db: admin.audit_actions(db, actor=actor)) or []
names = {u.id: u.name for u in users}

who_col, what_col, when_col = st.columns([1, 1, 1.4])
who = who_col.selectbox(
    "User", [None, *names], format_func=lambda i: "Anyone" if i is None else names[i]
)
what = what_col.selectbox(
    "Action", [None, *actions], format_func=lambda a: "Any" if a is None else a.replace("_", " ")
)
today = dt.datetime.now(tz).date()
span = when_col.date_input(f"Between (dates in {tz.key})", recent(today), max_value=today)
days = picked_days(span, tz, today)
since, until = (days.since, days.until) if days else (None, None)
# The date is the picker's (a date, not text): nothing in it is read as Markdown.
open_end = f" since {days.open_from:%Y-%m-%d} ({OPEN_END})" if days and days.open_from else ""


def details(values: dict[str, object]) -> str:
    """``address: 127.0.0.1 · on: yes``: what the event recorded, read as text."""
    return " · ".join(f"{k.replace('_', ' ')}: {plain_value(v)}" for k, v in sorted(values.items()))


rows = (
    run_action(
        lambda db: admin.audit_log(
            db, actor=actor, user_id=who, action=what, since=since, until=until
        )
    )
    or []
)
st.caption(f"{counted(len(rows), 'event')}{open_end} (newest first, at most 500)")
if rows:
    st.dataframe(
        [
            {
                "At": r.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                "User": r.user,
                "Action": r.action.replace("_", " "),
                "Target": r.target,
                "Details": details(r.details),
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )
else:
    st.info("Nothing was found for the specified filters", icon=":material/filter_alt_off:")
