"""The Logs drawer: Trace Logs and System Logs of the open session, searchable and paged.

A dialog (a fragment): typing a search or stepping through matches reruns only the drawer. Entries
are paged (20 on screen); search runs in the database and returns per-entry counts, so stepping
fetches only the entry that holds the current match.
"""

from __future__ import annotations

import html

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.clipboard import copy_button
from components.data import read_session, run_action
from components.dialogs import close_dialog, open_dialog, open_one
from components.feedback import guarded
from components.search_hits import step
from components.theme import ACCENT
from sessionlens import logs
from sessionlens.kinds import LogKind, Plan
from sessionlens.logs import LogEntry
from sessionlens.permissions import Actor
from sessionlens.sessions import SessionDetail
from sessionlens.timefmt import local
from sessionlens.trace_text import find_all

PAGE = 20
COPY_LIMIT = 2_000_000  # characters; a longer tab offers a download instead
TABS = {"Trace Logs": LogKind.TRACE, "System Logs": LogKind.SYSTEM}
CSS = (
    """<style>
.sl-log pre { white-space:pre-wrap; word-break:break-word; font-size:0.8rem; margin:0; }
.sl-log mark { background:#fde68a; } .sl-log mark.sl-now { background:#f97316; color:white; }
.sl-log details summary { cursor:pointer; color:#4b5563; font-size:0.8rem; }
/* Looks like the Streamlit buttons beside it (Refresh): their label size and border colour. */
button.sl-copy-all { font:inherit; font-size:0.875rem; line-height:1.6; min-height:2.5rem;
  padding:0.25rem 0.75rem; border:1px solid rgba(47,45,43,0.2); border-radius:0.5rem;
  background:white; color:inherit; cursor:pointer; white-space:nowrap; }
.sl-call { border:1px solid #e5e7eb; border-radius:8px; padding:6px 10px; margin:6px 0; }
.sl-call.sl-focus { border-color:#2563eb; box-shadow:0 0 0 2px #bfdbfe; }
.st-key-logs_counter { min-height:2.5rem; justify-content:center; }  /* level with the buttons */
/* as tall as the window leaves below the drawer's title, tabs, toolbar and pager */
.st-key-logs_entries { max-height:max(12rem, calc(100vh - 26rem)); overflow-y:auto; }
"""
    + f"button.sl-copy-all:hover {{ border-color:{ACCENT}; color:{ACCENT}; }}\n</style>"
)
# The current match (or the entry a chat message's "View trace" opened) to the middle of the
# entries' box, once drawn (and again while the drawer's new lines are laid out); the box alone
# scrolls. ``{at}`` names the match, so that the script is
# a new one, and runs again, at each step.
_TO_CURRENT = """<script>/* {at} */ for (const ms of [80, 300, 900]) setTimeout(() => {
  const box = document.querySelector('.st-key-logs_entries');
  const el = box && (box.querySelector('.sl-now') || box.querySelector('.sl-focus'));
  if (!el) return;
  const at = el.getBoundingClientRect(), frame = box.getBoundingClientRect();
  box.scrollTop += at.top - frame.top - (box.clientHeight - Math.min(at.height, box.clientHeight)) / 2;
}, ms);</script>"""


def open_logs(session_id: int, *, tab: str = "System Logs", focus: int | None = None) -> None:
    """Open the drawer on ``tab``; ``focus`` is a trace entry to show (from a chat message)."""
    open_dialog("logs")
    st.session_state["logs_for"] = session_id
    st.session_state["logs_tab"] = tab
    st.session_state["logs_focus"] = focus
    st.session_state.pop("logs_q", None)
    st.session_state["logs_pos"] = 0


def show_logs_if_open(detail: SessionDetail, actor: Actor) -> None:
    if st.session_state.get("logs_for") == detail.row.id:
        _drawer(detail, actor)


def close_logs() -> None:
    st.session_state.pop("logs_for", None)
    if open_one() == "logs":
        close_dialog()


@st.dialog("Logs", width="large", on_dismiss=close_logs)
@guarded
def _drawer(detail: SessionDetail, actor: Actor) -> None:
    st.html(CSS)
    default = "Trace Logs" if detail.plan == Plan.PAID else "System Logs"
    tab = (
        st.segmented_control("Tab", list(TABS), key="logs_tab", label_visibility="collapsed")
        or default
    )
    if TABS[tab] == LogKind.TRACE and detail.plan != Plan.PAID:
        st.info(
            f"{logs.TRACES_PAID_ONLY}. On the Free plan the drawer shows System Logs only.",
            icon=":material/lock:",
        )
        return
    kind, sid = TABS[tab], detail.row.id
    ids = run_action(lambda db: logs.entry_ids(db, sid, kind, actor=actor)) or []
    # One toolbar row: the search field takes the room the buttons leave.
    bar = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
    search = bar.container(width="stretch")
    counter = bar.container(width="content", key="logs_counter")
    prev, nxt, copy, refresh = (bar.container(width="content") for _ in range(4))
    term = search.text_input(
        "Search",
        key="logs_q",
        placeholder="Search this tab",
        on_change=lambda: st.session_state.update(logs_pos=0),  # a new search: its first match
    )
    # A click reruns the drawer, and every run reads the logs afresh.
    refresh.button(
        "Refresh",
        icon=":material/refresh:",
        key="logs_refresh",
        help="Reload the logs (a running session keeps writing them)",
    )
    if not ids:
        st.caption("No logs found")
        return
    matches = run_action(lambda db: logs.search(db, sid, kind, term, actor=actor)) or []
    spots = [(m.entry_id, k) for m in matches for k in range(m.count)]
    pos = min(st.session_state.get("logs_pos", 0), max(len(spots) - 1, 0))
    st.session_state["logs_pos"] = pos
    # Callbacks, not the buttons' values: a step is taken before the run, so a run that another
    # request cuts short (the requests are merged) cannot lose it.
    prev.button(
        "",
        icon=":material/keyboard_arrow_up:",
        key="logs_prev",
        disabled=not spots,
        help="Previous match",
        on_click=step,
        args=("logs_pos", pos - 1, len(spots)),
    )
    nxt.button(
        "",
        icon=":material/keyboard_arrow_down:",
        key="logs_next",
        disabled=not spots,
        help="Next match",
        on_click=step,
        args=("logs_pos", pos + 1, len(spots)),
    )
    counter.markdown(
        f"**{pos + 1} of {len(spots)}**" if spots else ("No matches" if term else "&nbsp;")
    )
    _copy(copy, sid, kind, actor)
    current = spots[pos] if spots else None
    focus = current[0] if current else st.session_state.get("logs_focus")
    page = _page_of(ids, focus, st.session_state.get("logs_page", 0))
    numbers = {i: n for n, i in enumerate(ids, 1)}
    shown = ids[page * PAGE : (page + 1) * PAGE]
    items = (
        run_action(lambda db: logs.entries(db, sid, kind, shown, actor=actor, numbers=numbers))
        or []
    )
    _pager(page, len(ids), tab)
    # The entries scroll in a box of their own, and only that box is scrolled to bring the current
    # match to its middle: the search field and the arrows above stay where the reader's pointer
    # is (scrolling the whole drawer moved them up under it, and a quick second click on the
    # arrow landed on a log line instead).
    with st.container(key="logs_entries"):
        for e in items:
            _entry(e, kind, detail.timezone, term, current, focus)
    if current or focus:
        at = f"{sid}:{kind}:{current or focus}"
        st.html(_TO_CURRENT.replace("{at}", at), unsafe_allow_javascript=True)


def _page_of(ids: list[int], entry: int | None, fallback: int) -> int:
    if entry in ids:
        return ids.index(entry) // PAGE
    return min(fallback, max(len(ids) - 1, 0) // PAGE)


def _pager(page: int, total: int, tab: str) -> None:
    last = (total - 1) // PAGE
    # Earlier at the left edge, Later at the right, where the calls are counted between them.
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(
        "Earlier", key="logs_page_prev", disabled=page == 0, on_click=_turn, args=(page - 1,)
    )
    what = "Calls" if tab == "Trace Logs" else "Lines"
    row.caption(
        f"{what} {page * PAGE + 1}–{min(total, (page + 1) * PAGE)} of {total}",
        width="stretch",
        text_alignment="center",
    )
    row.button(
        "Later", key="logs_page_next", disabled=page >= last, on_click=_turn, args=(page + 1,)
    )


def _turn(page: int) -> None:
    st.session_state["logs_page"] = page
    st.session_state["logs_focus"] = None
    st.session_state.pop("logs_q", None)  # a page turn leaves the search


def _copy(col: DeltaGenerator, sid: int, kind: LogKind, actor: Actor) -> None:
    text = run_action(lambda db: logs.full_text(db, sid, kind, actor=actor, max_chars=COPY_LIMIT))
    if text is None:
        col.download_button(
            "Download",
            lambda: _all_text(sid, kind, actor),
            file_name=f"session-{sid}-{kind}-logs.txt",
            icon=":material/download:",
            on_click="ignore",
            key="logs_download",
            help="This tab is too long to copy; download it instead",
        )
        return
    with col:
        copy_button(
            "Copy to clipboard",
            text,
            css_class="sl-copy-all",
            title="Copy the full text of this tab",
        )


def _all_text(sid: int, kind: LogKind, actor: Actor) -> str:
    # Runs when the download is clicked, outside the script run: no st.* calls here.
    with read_session() as db:
        return logs.full_text(db, sid, kind, actor=actor) or ""


def _entry(
    e: LogEntry,
    kind: LogKind,
    tz: str,
    term: str,
    current: tuple[int, int] | None,
    focus: int | None,
) -> None:
    text = e.as_text()
    now_k = current[1] if current and current[0] == e.id else None
    marked = _highlight(text, term, now_k)
    if kind == LogKind.SYSTEM:
        when = local(e.at, tz, "%Y-%m-%d %H:%M:%S")
        st.html(
            f'<div class="sl-log"><pre>{html.escape(when)} {html.escape(e.level)} '
            f"{marked}</pre></div>"
        )
        return
    call = e.calls[0] if e.calls else None
    title = (
        f"#{e.number} · {call.agent_name or 'unknown agent'} · Action: {call.action}"
        if call and call.parsed
        else f"#{e.number} · raw trace"
    )
    cls = "sl-call sl-focus" if e.id == focus else "sl-call"
    prompt_open = " open" if now_k is not None else ""
    st.html(
        f'<div class="sl-log {cls}"><b>{html.escape(title)}</b> '
        f'<span style="color:#6b7280">{html.escape(local(e.at, tz, "%H:%M:%S"))}</span>'
        f"<details{prompt_open}><summary>Prompt and full call ({len(text):,} characters)"
        "</summary>"
        f"<pre>{marked}</pre></details>"
        + (
            f"<pre><b>Action:</b> {html.escape(call.action or '')}\n<b>Action Input:</b> "
            f"{html.escape(call.action_input or '')}</pre>"
            if call and call.parsed
            else ""
        )
        + "</div>"
    )


def _highlight(text: str, term: str, current: int | None) -> str:
    """``text`` escaped, every match of ``term`` in <mark>, the current one marked sl-now."""
    spots = find_all(text, term)
    if not spots:
        return html.escape(text)
    out, last = [], 0
    for k, start in enumerate(spots):
        end = start + len(term)
        cls = ' class="sl-now"' if k == current else ""
        out.append(html.escape(text[last:start]))
        out.append(f"<mark{cls}>{html.escape(text[start:end])}</mark>")
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)
