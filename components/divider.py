"""The divider between the Sessions table and the chat: drag it to give either more room.

The spec's "Drag the divider between the table and the chat to resize them". Streamlit's columns
have no divider of their own, so a small ``st.components.v2`` element draws one in the gap on the
chat column's left edge. While it is dragged, a line follows the pointer over a cover that keeps
the grid's frame from taking the pointer; on release the new width goes to the script as the
element's state and the workspace fragment reruns with it (the sidebar and the header do not).
The divider takes the keyboard too: focus it with Tab, then ← and → move it by 5 %, Home and End
to the ends; a double-click puts it back where it started.

The width is the browser's word, so it is read as a whole number and kept within MIN..MAX; it is
kept in the browser session (``WIDTH_KEY``), so it survives a visit to another page.
"""

from __future__ import annotations

import streamlit as st

from components.element_js import REWIRE_JS
from sessionlens import strict
from sessionlens.errors import BadInput

MIN, MAX, DEFAULT, STEP = 30, 75, 60, 5
KEY = "table_divider"
WIDTH_KEY = "table_width"

_JS = (
    REWIRE_JS
    + """
export default function({ data, parentElement, setStateValue }) {
  return slRewire(parentElement, () => wire(data, parentElement, setStateValue));
}
function wire(data, parentElement, setStateValue) {
  const { width, min, max, step, initial } = data;
  let bar = parentElement.querySelector('.sl-divider');
  if (!bar) {
    bar = document.createElement('div');
    bar.className = 'sl-divider';
    bar.setAttribute('role', 'separator');
    bar.setAttribute('tabindex', '0');
    bar.setAttribute('aria-orientation', 'vertical');
    bar.setAttribute('aria-label', 'Table width');
    parentElement.appendChild(bar);
  }
  bar.setAttribute('aria-valuemin', String(min));
  bar.setAttribute('aria-valuemax', String(max));
  bar.setAttribute('aria-valuenow', String(width));
  bar.setAttribute('aria-valuetext', `Table ${width} % of the page`);
  bar.title = `Drag to give the table or the chat more room (the table has ${width} %). `
    + `Arrow keys move it too; a double-click puts it back to ${initial} %.`;
  const commit = (v) => {
    v = Math.max(min, Math.min(max, Math.round(v)));
    if (v !== width) setStateValue('width', v);
  };
  let cover = null;
  let pct = width;
  let startX = 0;
  const row = () => bar.closest('[data-testid="stHorizontalBlock"]');
  const follow = (e) => {
    if (!cover || !row()) return;  // the page was drawn anew under the pointer
    const r = row().getBoundingClientRect();
    pct = Math.max(min, Math.min(max, ((e.clientX - r.left) / r.width) * 100));
    const line = cover.firstChild;
    line.style.left = `${r.left + (r.width * pct) / 100}px`;
    line.style.top = `${Math.max(r.top, 0)}px`;
    line.style.height = `${Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0)}px`;
  };
  const drop = (e) => {
    if (!cover) return;
    follow(e);
    cover.remove();
    cover = null;
    if (Math.abs(e.clientX - startX) > 3) commit(pct);  // a click is not a drag
  };
  const down = (e) => {
    if (e.button !== 0 || !row()) return;
    e.preventDefault();
    bar.focus();
    // A second press soon after the first, in the same place, is a double-click (the browser's
    // dblclick goes to the page: the cover took the first release).
    const last = bar.slLastPress;
    bar.slLastPress = { t: e.timeStamp, x: e.clientX };
    if (last && e.timeStamp - last.t < 500 && Math.abs(e.clientX - last.x) < 4) {
      bar.slLastPress = null;
      commit(initial);
      return;
    }
    startX = e.clientX;
    // A cover over the whole page: the grid's frame would otherwise take the pointer.
    cover = document.createElement('div');
    cover.className = 'sl-divider-cover';
    cover.appendChild(document.createElement('div'));
    document.body.appendChild(cover);
    cover.addEventListener('pointermove', follow);
    cover.addEventListener('pointerup', drop);
    follow(e);
  };
  const keys = { ArrowLeft: width - step, ArrowRight: width + step, Home: min, End: max };
  const key = (e) => {
    if (!(e.key in keys)) return;
    e.preventDefault();
    commit(keys[e.key]);
  };
  bar.addEventListener('pointerdown', down);
  bar.addEventListener('keydown', key);
  return () => {
    bar.removeEventListener('pointerdown', down);
    bar.removeEventListener('keydown', key);
    if (cover) cover.remove();
  };
}
"""
)
# The element sits in the 16-pixel gap left of the chat column, as tall as the column; the
# column is its reference box. The line shows on hover, focus and drag.
CSS = f"""
[data-testid="stColumn"]:has(.st-key-{KEY}) {{ position: relative; }}
.st-key-{KEY} {{ position: absolute; top: 0; bottom: 0; left: -16px; width: 16px; z-index: 3; }}
.sl-divider {{ position: absolute; inset: 0; cursor: col-resize; outline: none;
  touch-action: none; }}
.sl-divider::after {{ content: ""; position: absolute; top: 0; bottom: 0; left: 7px; width: 2px;
  border-radius: 1px; background: transparent; transition: background 0.15s; }}
.sl-divider:hover::after, .sl-divider:focus-visible::after {{ background: #94a3b8; }}
.sl-divider-cover {{ position: fixed; inset: 0; z-index: 1000; cursor: col-resize; }}
.sl-divider-cover > div {{ position: fixed; width: 2px; margin-left: -1px; background: #64748b; }}
@media (max-width: 640px) {{ .st-key-{KEY} {{ display: none; }} }}  /* columns stack there */
"""
_divider = st.components.v2.component(
    "sessionlens_table_divider", js=_JS, css=CSS, isolate_styles=False
)


def table_width() -> int:
    """How much of the page the table takes, in percent (the rest is the chat and the panel)."""
    return st.session_state.get(WIDTH_KEY, DEFAULT)


def clamped(raw: object) -> int | None:
    """The browser's width as a whole percentage within MIN..MAX, or None when it is not a whole
    number (a tampered page; the width then stays as it was)."""
    try:
        value = strict.count(str(raw), "The table's width", limit=10**6)
    except BadInput:
        return None
    return max(MIN, min(MAX, value))


def _keep_width() -> None:
    value = clamped(st.session_state[KEY].get("width"))
    if value is not None:
        st.session_state[WIDTH_KEY] = value


def divider() -> None:
    """Draw the divider; call it first in the detail area's column of the workspace fragment."""
    _divider(
        key=KEY,
        data={"width": table_width(), "min": MIN, "max": MAX, "step": STEP, "initial": DEFAULT},
        on_width_change=_keep_width,
    )
