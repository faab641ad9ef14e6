"""The one safe path for untrusted text on a page.

- Message bodies are Markdown written by customers, agents and agent runtimes. ``message_html``
  renders them on the server with markdown-it (CommonMark, raw HTML off: any tag is shown as text),
  keeps only http(s), mailto and tel links, and never loads a remote image: an image whose host is
  not on the ``SESSIONLENS_IMAGE_HOSTS`` allow-list becomes a link that names the host, so a customer
  cannot learn when an operator reads the chat.
- Every other untrusted string inside Markdown we build (names, captions, errors that quote input)
  goes through ``md_escape`` (or ``st.text``), so it shows literally.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from sessionlens.search import TextQuery, hits

SPECIAL = set("\\`*_{}[]()#+-.!|<>~:$")
LINK_SCHEMES = ("http", "https", "mailto", "tel")


def md_escape(text: str) -> str:
    """``text`` shown literally by st.markdown: no emphasis, links, directives or math."""
    return "".join("\\" + c if c in SPECIAL else c for c in text)


def _safe_link(url: str) -> bool:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in LINK_SCHEMES:
        return False
    return parts.scheme.lower() in ("mailto", "tel") or bool(parts.hostname)


@lru_cache(maxsize=8)
def _renderer(image_hosts: frozenset[str]) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    # markdown-it's documented way to change which links it keeps is to set this on the instance;
    # anything _safe_link refuses stays literal text.
    md.validateLink = _safe_link  # type: ignore[method-assign]

    def image(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        tok = tokens[idx]
        src = str(tok.attrGet("src") or "")
        alt = self.renderInlineAsText(tok.children or [], options, env)
        host = (urlsplit(src).hostname or "").lower()
        if host and host in image_hosts:
            return (
                f'<img src="{html.escape(src)}" alt="{html.escape(alt)}" '
                'referrerpolicy="no-referrer" loading="lazy" style="max-width:100%">'
            )
        label = html.escape(alt or "image")
        return (
            f'<a href="{html.escape(src)}" class="sl-remote-image" '
            f'title="Remote image, not loaded">🖼 {label} ({html.escape(host)})</a>'
        )

    md.add_render_rule("image", image)
    md.core.ruler.push("sl_highlight", _highlight)
    return md


@dataclass
class Highlight:
    """Marks the words of a search in the messages rendered with it, numbering the marks across
    them in order; mark number ``current`` is the one the chat scrolls to."""

    query: TextQuery
    current: int = 0
    count: int = 0

    def mark(self) -> Token:
        tok = Token("html_inline", "", 0)
        now = " sl-now" if self.count == self.current else ""
        tok.content = f'<mark class="sl-hit{now}" data-hit="{self.count}">'
        self.count += 1
        return tok


def _highlight(state: StateCore) -> None:
    """Wrap the search's matches in the text of the message (not in link targets, code or our own
    HTML) in <mark>; the text itself stays a text token, so it is still escaped."""
    light: Highlight | None = state.env.get("highlight")
    if light is None:
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        out: list[Token] = []
        for child in block.children:
            spans = hits(child.content, light.query) if child.type == "text" else []
            at = 0
            for a, b in spans:
                out.append(_text(child.content[at:a]))
                out.append(light.mark())
                out.append(_text(child.content[a:b]))
                end = Token("html_inline", "", 0)
                end.content = "</mark>"
                out.append(end)
                at = b
            out.append(_text(child.content[at:]) if spans else child)
        block.children = out


def _text(content: str) -> Token:
    tok = Token("text", "", 0)
    tok.content = content
    return tok


def message_html(
    text: str, *, image_hosts: frozenset[str] = frozenset(), highlight: Highlight | None = None
) -> str:
    """Untrusted Markdown as HTML, safe for st.html and st.markdown(unsafe_allow_html=True).

    The result is one line (newlines become ``&#10;``, which HTML reads the same way), so that
    Streamlit's own Markdown pass sees a single HTML block and cannot re-read any of it as Markdown.
    """
    body = _renderer(image_hosts).render(text, {"highlight": highlight} if highlight else None)
    return '<div class="sl-md">' + body.strip().replace("\n", "&#10;") + "</div>"
