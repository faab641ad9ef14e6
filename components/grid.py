"""The sessions table: AgGrid with the spec's ten columns, custom cells and stable selection.

Follows docs/engineering-notes.md ("The sessions grid"): a fixed ``key`` and ``getRowId`` so Load More appends
without remounting or losing the selection; gridOptions identical across reruns; class renderers
(the grid is React, so string renderers would be escaped); a CUSTOM return carrying only the
column a header click sorted by. A picked row is not returned: it goes to the detail area's
listener as a page event (``ROW_PICKED``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from st_aggrid import AgGrid, GridOptionsBuilder, JsCode

from sessionlens.channels import WEB_CHANNELS, channel_info
from sessionlens.customers import ANONYMOUS
from sessionlens.sessions import SessionRow
from sessionlens.timefmt import EMPTY, compact

COLUMNS = [
    "id",
    "agent",
    "active",
    "channel",
    "channel_name",
    "responsible",
    "avatar",
    "user",
    "user_id",
    "external_id",
    "is_mobile",
    "started",
    "last_message",
    "messages",
    "country",
    "location",
    "ip",
    "finished",
    "started_whole",
    "last_message_whole",
    "finished_whole",
]

AGENT = JsCode("""class {
  init(p) { this.e = document.createElement('span'); this.e.className = 'agent';
    if (!window.slPulse) { const mq = matchMedia('(prefers-reduced-motion: reduce)');
      const root = document.documentElement; let i = 0;
      window.slPulse = setInterval(() => {
        if (mq.matches || document.hidden) { root.removeAttribute('data-pulse'); return; }
        i = (i + 1) % 8; root.setAttribute('data-pulse', String(i)); }, 175); }
    if (p.data.active) { const d = document.createElement('span'); d.className = 'dot dot-active';
      d.title = 'Active: no finish time yet'; this.e.appendChild(d); }
    this.e.appendChild(document.createTextNode(p.value)); }
  getGui() { return this.e; } refresh() { return false; } }""")

CHANNEL = JsCode("""class {
  init(p) { this.e = document.createElement('span'); this.e.className = 'channel-icon';
    this.e.textContent = p.value; this.e.title = p.data.channel_name;
    this.e.setAttribute('aria-label', p.data.channel_name); }
  getGui() { return this.e; } refresh() { return false; } }""")

RESPONSIBLE = JsCode("""class {
  init(p) { const e = document.createElement('span'); this.e = e;
    if (p.value === 'AI') { e.className = 'resp-ai'; e.textContent = 'AI'; }
    else if (p.value === 'Unassigned') { e.className = 'resp-none'; e.textContent = 'Unassigned'; }
    else { e.className = 'avatar'; e.textContent = p.data.avatar || p.value.slice(0, 2);
      e.title = p.value; e.setAttribute('aria-label', p.value); } }
  getGui() { return this.e; } refresh() { return false; } }""")

USER_POPOVER = JsCode("""class {
  init(p) { const d = p.data; const e = document.createElement('div'); e.className = 'user-popover';
    const rows = [['Name', d.user], ['id', d.user_id], ['External id', d.external_id]];
    if (d.is_mobile !== '') rows.push(['isMobile', d.is_mobile]);
    for (const [k, v] of rows) { const r = document.createElement('div');
      const b = document.createElement('b'); b.textContent = k + ': '; r.appendChild(b);
      r.appendChild(document.createTextNode(v === null || v === '' ? '---' : String(v)));
      e.appendChild(r); }
    this.e = e; }
  getGui() { return this.e; } }""")

LOCATION = JsCode("""class {
  init(p) { const e = document.createElement('span'); this.e = e; const c = p.data.country;
    if (c && c.length === 2) { e.className = 'flag';
      e.textContent = String.fromCodePoint(...[...c.toUpperCase()].map(x => 127397 + x.charCodeAt(0))); }
    else if (p.data.location) { e.className = 'no-location'; e.textContent = '—'; }
    if (p.data.location) { e.title = p.data.location; } }
  getGui() { return this.e; } refresh() { return false; } }""")

CSS = """
.dot { display:inline-block; width:8px; height:8px; border-radius:50%; margin-right:6px;
  background:#22c55e; vertical-align:middle; }
/* The pulse: a halo that grows and fades in eight steps, 175 ms apart, stepped by one timer in
   the AGENT renderer that sets data-pulse on the grid's <html>. Not a CSS animation: each
   animated dot became a composited layer of its own, and twenty of them made every row click
   build the page's layers anew (docs/engineering-notes.md). Off with reduced motion. */
[data-pulse="0"] .dot-active { box-shadow:0 0 0 1px rgba(34,197,94,.6); }
[data-pulse="1"] .dot-active { box-shadow:0 0 0 2px rgba(34,197,94,.5); }
[data-pulse="2"] .dot-active { box-shadow:0 0 0 3.5px rgba(34,197,94,.38); }
[data-pulse="3"] .dot-active { box-shadow:0 0 0 5px rgba(34,197,94,.26); }
[data-pulse="4"] .dot-active { box-shadow:0 0 0 6px rgba(34,197,94,.15); }
[data-pulse="5"] .dot-active { box-shadow:0 0 0 7px rgba(34,197,94,.06); }
@media (prefers-reduced-motion: reduce) { .dot-active { box-shadow:none !important; } }
.resp-ai { font-weight:600; color:#6d28d9; }
.resp-none { color:#6b7280; font-style:italic; font-size:12px; }
.avatar { display:inline-block; min-width:22px; text-align:center; border-radius:11px;
  background:#e0e7ff; padding:0 4px; }
.flag, .channel-icon { font-size:16px; }
.ag-cell.narrow, .ag-header-cell.narrow { padding-left:6px; padding-right:6px; }
.ag-cell-focus:not(:focus-visible) { border-color:transparent !important; }  /* a click: no frame */
.user-popover { background:#fff; border:1px solid #d1d5db; border-radius:8px; padding:8px 10px;
  box-shadow:0 4px 14px rgba(0,0,0,.15); font-size:12px; line-height:1.6; }
"""


def rows_frame(rows: list[SessionRow], tz: str, now: dt.datetime | None = None) -> pd.DataFrame:
    """The grid's data: one plain-typed row per session, times already in the tenant's zone."""
    now = now or dt.datetime.now(dt.UTC)
    records = []
    for r in rows:
        started, started_whole = compact(r.started_at, tz, now)
        last, last_whole = compact(r.last_message_at, tz, now) if r.message_count else (EMPTY, None)
        finished, finished_whole = compact(r.finished_at, tz, now)
        info = channel_info(r.channel)
        web = r.channel in WEB_CHANNELS
        place = ", ".join(x for x in (r.country_name, r.city) if x) if r.country else r.geo_note
        records.append(
            {
                "id": str(r.id),
                "agent": r.agent_name,
                "active": r.active,
                "channel": info.icon,
                "channel_name": info.name,
                "responsible": r.responsible,
                "avatar": r.responsible_avatar or "",
                "user": r.customer_name or ANONYMOUS,
                "user_id": "" if r.customer_id is None else str(r.customer_id),
                "external_id": r.customer_external_id or "",
                "is_mobile": ""
                if r.channel != "web" or r.is_mobile is None
                else str(r.is_mobile).lower(),
                "started": started,
                "last_message": last,
                "messages": r.message_count,
                "country": r.country or "",
                "location": (place or "") if web else "",
                "ip": (r.ip or "") if web else "",
                "finished": finished,
                # The whole time, to hover, where the cell shows only the date (another year).
                "started_whole": started_whole,
                "last_message_whole": last_whole,
                "finished_whole": finished_whole,
            }
        )
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def _options(sort_key: str, initial_selection: list[str]) -> dict:
    gb = GridOptionsBuilder.from_dataframe(rows_frame([], "UTC"))
    gb.configure_grid_options(
        getRowId=JsCode("function(p){ return String(p.data.id); }"),
        rowSelection={"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
        tooltipShowDelay=150,
        tooltipInteraction=True,
        animateRows=False,
        # The keyboard moves through the sessions as a click does: a focused row is the open one
        # (Tab into the table, then Up and Down).
        onCellFocused=JsCode("""function(e) {
            if (e.rowIndex == null || e.rowPinned) return;
            const node = e.api.getDisplayedRowAtIndex(e.rowIndex);
            if (node && !node.isSelected()) node.setSelected(true, true);
        }"""),
        # A picked row goes to the page as an event (the grid's frame is the page's origin); the
        # detail area's listener (chat.detail_listener) hands it to the script, so a row click
        # reruns the detail area alone and the table is not sent again.
        onSelectionChanged=ROW_PICKED,
        onRowSelected=ROW_LEFT,
        suppressColumnVirtualisation=True,
        suppressMultiSort=True,
        autoSizeStrategy={"type": "fitGridWidth"},
    )
    if initial_selection:
        gb.configure_grid_options(
            initialState={"rowSelection": initial_selection},
            # A link to a session further down the page, or another sort's grid: the open
            # session's row is scrolled into the middle of the table once, when the grid first
            # shows its rows (not on Load More or a redraw, which keep the reader's place).
            onFirstDataRendered=JsCode("""function(e) {
                const node = e.api.getSelectedNodes()[0];
                if (node) e.api.ensureNodeVisible(node, 'middle');
            }"""),
        )
    gb.configure_default_column(
        sortable=False,
        resizable=True,
        filter=False,
        type=[],
        suppressHeaderMenuButton=True,
        minWidth=40,
    )
    for hidden in (
        "id",
        "active",
        "channel_name",
        "avatar",
        "user_id",
        "external_id",
        "is_mobile",
        "country",
        "started_whole",
        "last_message_whole",
        "finished_whole",
    ):
        gb.configure_column(hidden, hide=True)
    sorted_by = {"started": "Start", "last_message": "🕒 Last message"}
    gb.configure_column("agent", header_name="Agent", cellRenderer=AGENT, width=130, minWidth=120)
    # Wide enough for its name: at 46 pixels the header read "C…".
    gb.configure_column(
        "channel", header_name="Channel", cellRenderer=CHANNEL, width=80, minWidth=78
    )
    gb.configure_column(
        "responsible",
        header_name="🎧",
        headerTooltip="Responsible",
        cellRenderer=RESPONSIBLE,
        cellClass="narrow",  # less padding: "Unassigned" shows whole, not "U…"
        headerClass="narrow",
        width=80,
        minWidth=80,
    )
    gb.configure_column(
        "user",
        header_name="User",
        tooltipField="user",
        tooltipComponent=USER_POPOVER,
        width=110,
        minWidth=96,
    )
    for col, label in sorted_by.items():
        active = col == sort_key
        # A click on the header (or its sort icon) switches the sort key: the grid marks the
        # column sorted and reports it (``sessions_grid``), and the server loads the sessions in
        # that order. The grid never reorders rows itself (KEEP_ORDER): the loaded rows are one
        # page of the whole list. Always newest first, so a click on the active column keeps it.
        gb.configure_column(
            col,
            header_name=label,
            headerClass="sort-active" if active else "sort-other",
            headerTooltip=f"Sort by {label.removeprefix('🕒 ').lower()}, newest first",
            sortable=True,
            unSortIcon=True,
            sortingOrder=["desc"],
            sort="desc" if active else None,
            comparator=KEEP_ORDER,
            tooltipField=f"{col}_whole",
            width=104,
            minWidth=98,
            # "🕒 Last message" and its sort icon do not fit the width of a time: two lines.
            wrapHeaderText=True,
            autoHeaderHeight=True,
        )
    gb.configure_column(
        "messages",
        header_name="💬",
        headerTooltip="Messages",
        cellClass="narrow",  # less padding: five digits fit where two used to
        headerClass="narrow",
        width=56,
        minWidth=54,
    )
    gb.configure_column(
        "location", header_name="📍", headerTooltip="Location", cellRenderer=LOCATION, width=44
    )
    gb.configure_column("ip", header_name="IP", width=108, minWidth=96)
    gb.configure_column(
        "finished",
        header_name="🕒 Finish time",
        tooltipField="finished_whole",
        width=104,
        minWidth=98,
        wrapHeaderText=True,
        autoHeaderHeight=True,
    )
    return gb.build()


ROW_PICKED = JsCode("""function(e) {
    const row = e.api.getSelectedRows()[0];
    if (!row) {
        // Space or Ctrl+click on the open session's row unselects it (AG Grid toggles); the
        // session stays open in the chat, so its row stays highlighted (ROW_LEFT names it).
        const user = e.source === 'spaceKey' || e.source === 'rowClicked';
        const node = user && e.api.slLeft != null && e.api.getRowNode(e.api.slLeft);
        if (node) node.setSelected(true, true, 'slKept');
        return;
    }
    if (e.source === 'slKept') return;  // the open session already
    try {
        window.parent.document.dispatchEvent(
            new CustomEvent('sl-row-picked', {detail: String(row.id)}));
    } catch (err) { console.error('Sessionlens: the row could not be opened', err); }
}""")
# The row last unselected, for ROW_PICKED to select again when nothing else was picked.
ROW_LEFT = JsCode("""function(e) {
    if (!e.node.isSelected()) e.api.slLeft = e.node.id;
}""")
# The loaded rows stay in the server's order whichever column is marked sorted.
KEEP_ORDER = JsCode("function() { return 0; }")
# The active sort's icon in the accent colour, the other column's faint until hovered.
SORT_CSS = """
.sort-active .ag-sort-indicator-icon, .sort-active .ag-header-cell-text { color:#2563eb; }
.sort-active .ag-header-cell-text { font-weight:700; }
.sort-other .ag-sort-indicator-icon { opacity:0.45; }
.sort-other:hover .ag-sort-indicator-icon { opacity:1; }
"""


@dataclass(frozen=True)
class GridEvent:
    """A header click in the grid in this run: the column the user sorted by (``click`` tells
    one header click from the next)."""

    sort: str | None = None
    click: float | None = None


def grid_key(sort_key: str, generation: int = 0) -> str:
    """The grid's widget key: each sort has its own grid, and a new generation mounts it anew."""
    return f"sessions_grid_{sort_key}" + (f"_{generation}" if generation else "")


def header_click(sort_key: str, generation: int = 0) -> GridEvent:
    """The header click the browser sent with this run (unchecked), read before the grid is
    drawn: the grid's value waits in the session state under its key (a dict), so the run can
    draw the table in the new sort at once instead of asking for another run."""
    value = st.session_state.get(grid_key(sort_key, generation))
    if not isinstance(value, dict):
        return GridEvent()
    sort, stamp = value.get("sort"), value.get("sortClick")
    return GridEvent(
        sort=sort if isinstance(sort, str) else None,
        click=stamp if isinstance(stamp, int | float) else None,
    )


def _grid_inputs(
    rows: list[SessionRow], tz: str, sort_key: str, initial_selection: list[str]
) -> tuple[pd.DataFrame, dict]:
    """The grid's data and options, built again only when they change (Load More, a sort, a
    reload); building them was about 9 ms of a script run.

    The loaded rows are a new list whenever they change (Load More, a reload, a live update), so
    the list itself is the key; times are shown relative to today, so a new minute builds anew.
    """
    now = dt.datetime.now(dt.UTC)
    key = (tz, sort_key, tuple(initial_selection), now.replace(second=0, microsecond=0))
    held = st.session_state.get("grid_inputs")
    if held is not None and held[0] is rows and held[1] == key:
        return held[2], held[3]
    frame, options = rows_frame(rows, tz, now), _options(sort_key, initial_selection)
    st.session_state["grid_inputs"] = (rows, key, frame, options)
    return frame, options


def sessions_grid(
    rows: list[SessionRow],
    tz: str,
    *,
    sort_key: str,
    initial_selection: list[str],
    generation: int = 0,
    height: int = 560,
) -> None:
    """Show the rows. A header click comes back as the grid's value, read by ``header_click``
    in the next run before the grid is drawn. A new ``generation`` mounts the grid anew, so that
    it shows ``initial_selection`` selected."""
    frame, options = _grid_inputs(rows, tz, sort_key, initial_selection)
    AgGrid(
        frame,
        gridOptions=options,
        key=grid_key(sort_key, generation),
        update_on=["sortChanged"],  # a picked row goes to the detail area (ROW_PICKED)
        allow_unsafe_jscode=True,
        height=height,
        theme="streamlit",
        show_toolbar=False,
        data_return_mode="CUSTOM",
        custom_jscode_for_grid_return=JsCode("""function({eventData}) {
            const api = eventData.api;
            const out = {};
            if (eventData.type === 'sortChanged' && eventData.source === 'uiColumnSorted') {
                const col = api.getColumnState().find(c => c.sort);
                if (col) { out.sort = col.colId; out.sortClick = Date.now(); }
            }
            return out; }"""),
        pro_assets=[{"css": CSS + SORT_CSS}],
    )
