"""Handoffs: per day and per AI agent, handovers and how fast people accepted and answered them."""

import datetime as dt
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd
import streamlit as st

from components import feedback
from components.data import current_actor, run_action
from components.days import OPEN_END, picked_days, recent
from sessionlens import handoffs, identity
from sessionlens.permissions import Action, can
from sessionlens.timefmt import EMPTY

actor = current_actor()
st.header("Handoffs")
if not can(actor, Action.WORK_CONVERSATIONS):
    feedback.error(f"You do not have permission to {Action.WORK_CONVERSATIONS}")
    st.stop()
tenant = run_action(lambda db: identity.tenant_info(db, actor=actor))
zone = ZoneInfo(tenant.timezone if tenant else "UTC")
today = dt.datetime.now(zone).date()
span = st.date_input(
    f"Days ({zone.key})",
    recent(today),
    max_value=today,
    key="ho_days",
    width=320,
)
days = picked_days(span, zone, today)
if days is None:
    st.stop()
if days.open_from:  # a date of the picker's, not text: nothing in it is read as Markdown
    st.caption(f"Since {days.open_from:%Y-%m-%d} ({OPEN_END})")
since, until = days.since, days.until
rows = run_action(lambda db: handoffs.figures(db, actor=actor, since=since, until=until)) or []
if not rows:
    st.info("No handovers in these days.", icon=":material/support_agent:")
    st.stop()
per_agent = run_action(lambda db: handoffs.totals(db, actor=actor, since=since, until=until)) or []


def minutes(s: float | None) -> float | None:
    return round(s / 60, 1) if s is not None else None


def figures_row(r: handoffs.Figures) -> dict[str, object]:
    return {
        "AI agent": r.agent,
        "Handovers": r.handovers,
        "Accepted": r.accepted,
        "Resolved": r.resolved,
        "Accept p50 (min)": minutes(r.accept_p50_s),
        "Accept p90 (min)": minutes(r.accept_p90_s),
        "First reply p50 (min)": minutes(r.reply_p50_s),
        "First reply p90 (min)": minutes(r.reply_p90_s),
        "Reassignments": r.reassignments,
    }


# An empty minute figure (---, as empty values are everywhere in the console) means no handover
# of that day (or agent) was accepted or answered yet.
HELP = {
    "Accept p50 (min)": "Median minutes from the request to a person accepting it"
    " (---: none was accepted yet)",
    "Accept p90 (min)": "9 of 10 handovers were accepted within this many minutes"
    " (---: none was accepted yet)",
    "First reply p50 (min)": "Median minutes from the request to a person's first reply"
    " (---: none was answered yet)",
    "First reply p90 (min)": "9 of 10 handovers had a person's first reply within this many"
    " minutes (---: none was answered yet)",
}
# One decimal for every figure: a column read "1" beside "1.3" and "0.6".
config = {
    name: st.column_config.NumberColumn(help=text, format="%.1f") for name, text in HELP.items()
}
st.subheader("Per AI agent, over these days")
st.dataframe(
    pd.DataFrame([figures_row(r) for r in per_agent]),
    hide_index=True,
    width="stretch",
    column_config=config,
    placeholder=EMPTY,
)
table = pd.DataFrame([{"Day": r.day.isoformat(), **figures_row(r)} for r in rows])


def by_agent(mark: alt.Chart, figure: str, axis: str) -> alt.Chart:
    """``figure`` per day, a colour per AI agent. The legend takes as many lines as the agents
    need: in one line (Streamlit's charts) the last agents were cut at the chart's edge. The
    height is the whole chart's, the days' labels and the legend included."""
    return mark.encode(
        x=alt.X("Day:N", title=None),
        y=alt.Y(f"{figure}:Q", title=axis),
        color=alt.Color(
            "AI agent:N", legend=alt.Legend(orient="bottom", columns=3, labelLimit=180)
        ),
        tooltip=["Day:N", "AI agent:N", f"{figure}:Q"],
    ).properties(height=380)


left, right = st.columns(2)
with left:
    st.subheader("Handovers per day")
    st.altair_chart(
        by_agent(alt.Chart(table).mark_bar(), "Handovers", "Handovers"), width="stretch"
    )
with right:
    st.subheader("Minutes to accept (median)")
    # Points, not lines: a day without an accepted handover has no figure, and a line through
    # the gaps read as a trend that was not there.
    points = alt.Chart(table).mark_circle(size=60)
    st.altair_chart(by_agent(points, "Accept p50 (min)", "Minutes"), width="stretch")
st.subheader("Per day")
st.dataframe(table, hide_index=True, width="stretch", column_config=config, placeholder=EMPTY)
