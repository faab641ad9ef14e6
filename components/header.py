"""The Sessions page header: title, Search (highlighted while filters are active), Import, Export."""

from __future__ import annotations

import streamlit as st

from components.dialogs import Dialog
from components.markdown import md_escape
from sessionlens.wording import counted


def sessions_header(
    title: str, active_filters: list[str], *, can_import: bool = False, can_export: bool = False
) -> Dialog | None:
    """Render the header; "search", "import" or "export" when the user asked for that dialog."""
    # One row: the title takes the room the buttons leave; the buttons keep their whole labels
    # (in fixed columns they were cut to "Import sess…" at 1440 pixels) and go under the title
    # together on a narrow window, taking two lines where one is too narrow (a phone).
    row = st.container(horizontal=True, vertical_alignment="center")
    row.header(md_escape(title), width="stretch")
    buttons = row.container(horizontal=True, width="content", wrap=True, gap="small")
    n = len(active_filters)
    wants_search = buttons.button(
        f"Search · {n}" if n else "Search",
        icon=":material/search:",
        type="primary" if n else "secondary",
        key="search_button",
        help="Open the Session Filters" + (": " + ", ".join(active_filters) if n else ""),
    )
    wants_import = buttons.button(
        "Import session",
        icon=":material/upload_file:",
        key="import_open",
        disabled=not can_import,
        help=None if can_import else "You do not have permission to import sessions",
    )
    wants_export = buttons.button(
        "Export sessions",
        icon=":material/download:",
        key="export_open",
        disabled=not can_export,
        help=None if can_export else "You do not have permission to export sessions",
    )
    if n:
        st.caption(
            f":material/filter_alt: {counted(n, 'filter')} active: " + ", ".join(active_filters)
        )
    if wants_search:
        return "search"
    return "import" if wants_import else "export" if wants_export else None
