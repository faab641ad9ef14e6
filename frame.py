"""Sessionlens: the frame. Page config, the signed-in user, navigation; nothing else.

Streamlit runs this script whatever URL a browser opens first (the screens live in ``screens/``,
not ``pages/``: a ``pages/`` folder would make Streamlit run a deep-linked page on its own, without
this frame, until the first run of this script).
"""

import streamlit as st

from components import chat, feedback, panel
from components.data import keep_imports_out_of_gc, prepare_database, start_embedded_worker
from components.frame import navigation
from components.signin import require_sign_in
from components.url import restore, warn_repeated
from sessionlens.settings import get_settings

# An emoji icon: Streamlit draws it as a data: URL, where a Material icon is an SVG fetched from
# fonts.gstatic.com on every run of the page (a self-hosted console calls no third party).
st.set_page_config(page_title="Sessionlens", page_icon="💬", layout="wide")
# Wide tables need the room Streamlit's default page padding takes; the chat's and the panel's CSS
# for every page.
# Below 768 pixels Streamlit's top bar is opaque (60 pixels, the sidebar's toggle): the page starts
# under it there, or it would hide the first line of the title.
# Captions (who is signed in, "50 sessions loaded", a customer's ids), Streamlit's text at 60 %
# opacity, are 3.8:1 on the sidebar, below WCAG AA's 4.5:1: a grey of 5.5:1 there, 5.8:1 on white.
st.html(
    "<style>.block-container{padding:1.5rem 1.5rem 1rem 1.5rem; max-width:none}"
    " @media (max-width:767.98px){.block-container{padding-top:4.25rem}}"
    ' [data-testid="stCaptionContainer"]{color:#666564;opacity:1}'
    f" {chat.PAGE_CSS} {panel.PANEL_CSS}</style>"
)
restore()  # the link a rerun carried, should the browser's older one have come in with it
chat.image_listener()
try:
    prepare_database()
    require_sign_in()
    start_embedded_worker(get_settings().database_url)
    warn_repeated()
    page = navigation()
    page.run()
    keep_imports_out_of_gc()
except Exception as exc:  # noqa: BLE001 - st.rerun/st.stop are BaseExceptions and pass through
    feedback.unexpected(exc)
