"""A small OpenID Connect provider for the sign-in tests: it stands in for the real one (Google,
Entra ID, Keycloak...) that a team configures in .streamlit/secrets.toml.

It speaks the authorization-code flow that ``st.login`` (Authlib) uses: discovery, an authorize
page where the tester types the email to sign in as, a token endpoint that returns an RS256-signed
ID token carrying the request's nonce, the key set, and userinfo. It checks the client id, the
secret and the redirect URI; it does not check PKCE (Authlib sends a verifier; a real provider
checks it).
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from typing import Any

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID, CLIENT_SECRET = "sessionlens-test", "test-client-secret"


class Provider:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.codes: dict[str, dict[str, Any]] = {}
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize, methods=["GET", "POST"]),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
                Route("/userinfo", self.userinfo),
            ]
        )
        self.server: uvicorn.Server | None = None

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.base,
                "authorization_endpoint": f"{self.base}/authorize",
                "token_endpoint": f"{self.base}/token",
                "jwks_uri": f"{self.base}/jwks",
                "userinfo_endpoint": f"{self.base}/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def authorize(self, request: Request) -> Response:
        if request.method == "GET":
            q = request.query_params
            if q.get("client_id") != CLIENT_ID:
                return HTMLResponse("unknown client", status_code=400)
            hidden = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in q.items()
            )
            return HTMLResponse(
                f'<form method="post"><h1>Test provider</h1>{hidden}'
                '<label>Email <input name="login_email"></label>'
                '<button type="submit">Continue</button></form>'
            )
        form = await request.form()
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "email": form["login_email"],
            "nonce": form.get("nonce"),
            "redirect_uri": form["redirect_uri"],
        }
        return RedirectResponse(
            f"{form['redirect_uri']}?code={code}&state={form['state']}", status_code=303
        )

    async def token(self, request: Request) -> Response:
        form = await request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if request.headers.get("authorization", "").startswith("Basic "):
            import base64

            raw = base64.b64decode(request.headers["authorization"][6:]).decode()
            client_id, _, client_secret = raw.partition(":")
        grant = self.codes.pop(str(form.get("code")), None)
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET or grant is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": self.base,
            "sub": grant["email"],
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 600,
            "email": grant["email"],
            "email_verified": True,
            "name": grant["email"].split("@")[0],
        }
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 600,
                "id_token": id_token,
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def userinfo(self, request: Request) -> Response:
        return JSONResponse({})

    def start(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        threading.Thread(target=self.server.run, daemon=True).start()
        for _ in range(100):
            if self.server.started:
                return
            time.sleep(0.05)
        raise RuntimeError("the test OIDC provider did not start")

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
