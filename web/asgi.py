"""The HTTP API on its own, for teams whose agent runtimes send more than one console process
should answer:

    sessionlens api --host 0.0.0.0 --port 8600 --workers 2

(``sessionlens api`` rather than ``uvicorn --workers``: see ``sessionlens.cli.api_server``.)

The same routes as ``streamlit run app.py`` serves beside the console (``/api/v1/…``, the export
download, ``/healthz``, ``/readyz``, ``/metrics``), with no Streamlit in the process. Each worker
is a process of its own, so requests no longer queue behind one another in one Python
interpreter; the load balancer sends ``/api/`` here and everything else to the app servers.
"""

from __future__ import annotations

import gc

from starlette.applications import Starlette
from starlette.middleware import Middleware

from sessionlens import logfmt
from sessionlens.settings import settings_or_exit
from web import api, proxy

_settings = settings_or_exit()
# No Streamlit here: a small request's transaction runs on the event loop (see the constant).
api.INLINE_BODY_BYTES = api.API_ONLY_INLINE_BODY_BYTES
logfmt.configure(_settings.log_format, _settings.log_level)

app = Starlette(routes=api.routes(), middleware=[Middleware(proxy.ProxyHeaderGate)])

# What is loaded by now lives as long as the process: freeze it out of the collector's way, so
# that a full collection walks only what requests leave behind (without this, one took 65-83 ms
# here every so often, holding up every request of the process).
gc.freeze()
