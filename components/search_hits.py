"""Reading the hits of a search in the open session: "n of m" with previous and next above the
chat, the current match scrolled into view (the Logs search works the same way)."""

from __future__ import annotations

import json

import streamlit as st

from components.markdown import Highlight, md_escape
from sessionlens.search import TextQuery
from sessionlens.wording import counted


def _key(session_id: int, query: TextQuery) -> str:
    return f"hit_{session_id}_{query.text}"


def highlight_for(session_id: int, query: TextQuery | None) -> Highlight | None:
    """The highlight of ``query`` in this session's chat, at the match the user stepped to."""
    if query is None:
        return None
    return Highlight(query, current=st.session_state.get(_key(session_id, query), 0))


def hits_bar(session_id: int, light: Highlight, *, earlier: int) -> None:
    """The counter and the arrows, once the chat has been rendered (and its marks counted)."""
    key = _key(session_id, light.query)
    if not light.count:
        note = (
            f"No match of {json.dumps(light.query.text, ensure_ascii=False)} in the messages shown"
        )
        if earlier:
            note += (
                f": {counted(earlier, 'earlier message')} "
                f"{'is' if earlier == 1 else 'are'} not loaded (Show earlier)"
            )
        elif light.query.people:
            note += ": the search matched the customer's name, email or phone"
        st.caption(md_escape(note + "."))  # the query is the user's (or a link's) text
        return
    light.current %= light.count
    text, up, down = st.columns([5, 1, 1], vertical_alignment="center")
    matches = "match" if light.count == 1 else "matches"
    if earlier:  # the count is of the loaded window, not of the whole conversation
        matches += f" in the messages shown ({earlier:,} earlier not loaded: Show earlier)"
    text.markdown(f":material/search: **{light.current + 1} of {light.count}** {matches}")
    up.button(
        "",
        icon=":material/keyboard_arrow_up:",
        key=f"hit_prev_{session_id}",
        help="Previous match",
        on_click=step,
        args=(key, light.current - 1, light.count),
    )
    down.button(
        "",
        icon=":material/keyboard_arrow_down:",
        key=f"hit_next_{session_id}",
        help="Next match",
        on_click=step,
        args=(key, light.current + 1, light.count),
    )
    st.html(
        _TO_CURRENT.replace("{at}", f"{session_id}:{light.current}"), unsafe_allow_javascript=True
    )


# Bring the current match into view by scrolling the chat's own box (the middle of the part of it
# the window shows), and again once images above it have loaded and pushed it down. The page
# scrolls only when the box leaves the match no room in the window: ``scrollIntoView`` alone
# scrolled the page too whenever the box ran below the window's edge (a laptop screen), moving
# the arrows from under the pointer between two clicks (the Logs drawer had the same fault, see
# docs/engineering-notes.md). ``{at}`` names the session and the match, so that the script is a
# new one, and runs again, at each step.
_TO_CURRENT = """<script>/* {at} */ for (const ms of [150, 700, 1600]) setTimeout(() => {
  const mark = document.querySelector('mark.sl-hit.sl-now');
  if (!mark) return;
  let box = mark.parentElement;
  while (box && !(box.scrollHeight > box.clientHeight
      && /auto|scroll/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
  const seen = m => { const r = m.getBoundingClientRect(), b = box.getBoundingClientRect();
    return r.top >= Math.max(b.top, 0) && r.bottom <= Math.min(b.bottom, innerHeight); };
  if (box && !seen(mark)) {
    const r = mark.getBoundingClientRect(), b = box.getBoundingClientRect();
    const top = Math.max(b.top, 0), bottom = Math.min(b.bottom, innerHeight);
    box.scrollTop += r.top - (top + bottom - r.height) / 2;
  }
  if (!box || !seen(mark)) mark.scrollIntoView({block: 'nearest'});
}, ms);</script>"""


def step(key: str, to: int, count: int) -> None:
    """An arrow's callback: the match at ``to`` of ``count``, round the ends (the Logs drawer's
    arrows too)."""
    st.session_state[key] = to % count
