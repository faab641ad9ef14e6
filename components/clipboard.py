"""A Copy button that puts text on the clipboard, in the browser, without a rerun."""

from __future__ import annotations

import html

import streamlit as st

# Binds every copy button on the page once; the text travels escaped in a data attribute. The
# Clipboard API exists only in a secure context (HTTPS or localhost): a console opened over plain
# HTTP on a team's network (http://10.0.0.5:8501) has none, so the text is then copied from a
# selected, hidden text area beside the button (inside an open dialog, whose focus trap would
# pull the focus back from one elsewhere). A refusal says so instead of doing nothing.
_BIND = """<script>document.querySelectorAll('button[data-copy]:not([data-bound])').forEach(b => {
b.dataset.bound = '1';
b.addEventListener('click', () => {
  const done = ok => { b.textContent = ok ? 'Copied' : 'Copy failed: select the text and copy it'; };
  const fallback = () => {
    const t = document.createElement('textarea');
    t.value = b.dataset.copy; t.readOnly = true;
    t.style.cssText = 'position:fixed;top:0;left:0;width:1px;height:1px;opacity:0';
    b.parentNode.appendChild(t); t.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    t.remove(); b.focus(); done(ok);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(b.dataset.copy).then(() => done(true), fallback);
  } else { fallback(); }
});});</script>"""


def copy_button(
    label: str, text: str, *, css_class: str = "sl-copy", title: str = "", before: str = ""
) -> None:
    """``before`` is trusted HTML shown ahead of the button (a label); ``text`` may be anything."""
    st.html(
        f'{before}<button type="button" class="{css_class}" title="{html.escape(title)}" '
        f'data-copy="{html.escape(text, quote=True)}">{html.escape(label)}</button>{_BIND}',
        unsafe_allow_javascript=True,
    )
