"""Putting untrusted text inside Markdown that we build (labels, names, values)."""

SPECIAL = set("\\`*_{}[]()#+-.!|<>~:$")


def md_escape(text: str) -> str:
    """``text`` shown literally by st.markdown: no emphasis, links, directives or math."""
    return "".join("\\" + c if c in SPECIAL else c for c in text)
