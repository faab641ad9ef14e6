"""Sessionlens: what `streamlit run app.py` serves.

The Streamlit console (``frame.py`` and the screens it navigates to) and, beside it on the same
server, the HTTP routes of ``web/``: sign-in and sign-out.
"""

import streamlit as st

from web import auth

app = st.App("frame.py", routes=auth.routes())
