"""Sessionlens: what `streamlit run app.py` serves.

The Streamlit console (``frame.py`` and the screens it navigates to) and, beside it on the same
server, the HTTP routes of ``web/`` (sign-in and sign-out, the agent runtime's API, export,
health checks), behind the gate that lets a sign-in
proxy's header through only from that proxy.
"""

import streamlit as st
from starlette.middleware import Middleware

from sessionlens import logfmt
from sessionlens.settings import settings_or_exit
from web import api, auth, proxy

_settings = settings_or_exit()
logfmt.configure(_settings.log_format, _settings.log_level)

app = st.App(
    "frame.py",
    routes=[*auth.routes(), *api.routes()],
    middleware=[Middleware(proxy.ProxyHeaderGate)],
)
