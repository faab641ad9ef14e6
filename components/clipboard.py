"""A Copy button that puts text on the clipboard, in the browser, without a rerun."""

from __future__ import annotations

import html

import streamlit as st

# Binds every copy button on the page once; the text travels escaped in a data attribute.
_BIND = (
    "<script>document.querySelectorAll('button[data-copy]:not([data-bound])').forEach(b => {"
    "b.dataset.bound = '1'; b.addEventListener('click', () => navigator.clipboard"
    ".writeText(b.dataset.copy).then(() => { b.textContent = 'Copied'; }));});</script>"
)


def copy_button(
    label: str, text: str, *, css_class: str = "sl-copy", title: str = "", before: str = ""
) -> None:
    """``before`` is trusted HTML shown ahead of the button (a label); ``text`` may be anything."""
    st.html(
        f'{before}<button type="button" class="{css_class}" title="{html.escape(title)}" '
        f'data-copy="{html.escape(text, quote=True)}">{html.escape(label)}</button>{_BIND}',
        unsafe_allow_javascript=True,
    )
