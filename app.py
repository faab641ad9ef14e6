"""Sessionlens: what `streamlit run app.py` serves.

The Streamlit console (``frame.py`` and the screens it navigates to) and, beside it on the same
server, the HTTP routes of ``web/`` (sign-in and sign-out, the agent runtime's API, export,
health checks), behind the gate that lets a sign-in
proxy's header through only from that proxy.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

from components import fragment_finish
from components.data import start_with_server
from sessionlens import logfmt, shutdown
from sessionlens.settings import settings_or_exit
from web import api, assets, auth, proxy

_settings = settings_or_exit()
fragment_finish.install()  # before the first page is served
logfmt.configure(_settings.log_format, _settings.log_level)
log = logging.getLogger("sessionlens.app")


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    """On the embedded default the transcription worker lives in this process: it starts with
    the server, not with the first page view, and stops with it, putting back in the queue a job
    it was working on (another start picks it up at once instead of after the lease runs out)."""
    try:
        worker = await asyncio.to_thread(start_with_server)
    except Exception:  # noqa: BLE001 - the pages show what is wrong with the database
        log.exception("the database could not be prepared at start; the pages will say why")
        worker = None
    try:
        yield
    finally:
        wait = _settings.worker_stop_seconds
        if worker is not None and not await asyncio.to_thread(worker.stop_thread, wait):
            log.warning(
                "the transcription worker did not stop within %g s; its job is queued again", wait
            )
            if worker.thread is not None:
                shutdown.outlived(worker.thread)  # the process ends without finalization


app = st.App(
    "frame.py",
    lifespan=lifespan,
    routes=[*auth.routes(), *api.routes()],
    middleware=[Middleware(proxy.ProxyHeaderGate), Middleware(assets.ComponentAssets)],
)
