"""The edge of "header" sign-in: a reverse proxy's user header is believed only from the proxy.

Every HTTP request and WebSocket handshake passes through here before Streamlit sees it. Unless
``SESSIONLENS_AUTH`` is "header" and the connection comes from one of
``SESSIONLENS_TRUSTED_PROXIES``, the header named by ``SESSIONLENS_AUTH_HEADER`` is removed, so a
browser that sends it itself signs nobody in. The address checked is the TCP peer's, not a
forwarded-for header a client could write.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from sessionlens import auth
from sessionlens.settings import get_settings


class ProxyHeaderGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            settings = get_settings()
            client = scope.get("client")
            believed = (
                settings.auth == "header"
                and client is not None
                and auth.trusted(client[0], settings.trusted_proxies)
            )
            if not believed:
                name = settings.auth_header.lower().encode("latin-1")
                headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != name]
                scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)
