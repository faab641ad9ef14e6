"""The theme's accent for the HTML the console draws itself (hover and focus of its links and
buttons, the export's Download): Streamlit's ``theme.primaryColor`` from .streamlit/config.toml,
so that one setting colours Streamlit's widgets and ours alike."""

from __future__ import annotations

from streamlit import config

#: Streamlit's own red where no config names a colour, as its widgets then are.
ACCENT: str = config.get_option("theme.primaryColor") or "#ff4b4b"
