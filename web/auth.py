"""Sign-in and sign-out over plain HTTP: ``/auth/sign-in`` (a form, and its POST) and
``/auth/sign-out``.

The password travels only in the POST body of the sign-in form; the route checks it with the domain
(``sessionlens.auth``), sets the signed sign-in cookie (HttpOnly, SameSite=Lax, with an expiry) and
sends the browser on. The Streamlit frame reads the cookie on every run; a page loads anew after
signing in or out, because Streamlit reads cookies when a browser session starts.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from urllib.parse import parse_qs

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from streamlit import config

from sessionlens import auth
from sessionlens.errors import DATABASE_UNAVAILABLE
from sessionlens.settings import get_settings
from web.db import RETRY_AFTER_SECONDS, sessions

log = logging.getLogger("sessionlens.auth")

COOKIE = auth.COOKIE
MAX_FORM = 16 * 1024


def page(*, error: str = "", email: str = "", next_path: str = "/", demo: str | None = None) -> str:
    """The sign-in page; every value in it is escaped. ``demo``: the demo admin to name, while
    the demo's accounts still have the demo's password."""
    e = html.escape
    # the theme's accent (.streamlit/config.toml), as the console's buttons have it
    accent = config.get_option("theme.primaryColor") or "#ff4b4b"
    message = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    if demo:
        message += (
            f'<p class="hint">Demo data: sign in as <b>{e(demo)}</b> with the password '
            f"<b>{e(auth.DEMO_PASSWORD)}</b> (the README lists an account for each role).</p>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign in · Sessionlens</title>
<style>
body {{ font-family: system-ui, sans-serif; background:#f8fafc; display:flex; min-height:100vh;
  align-items:center; justify-content:center; margin:0; color:#111827; }}
form {{ background:white; border:1px solid #e5e7eb; border-radius:12px; padding:2rem;
  width:20rem; display:flex; flex-direction:column; gap:0.8rem; }}
h1 {{ font-size:1.4rem; margin:0 0 0.5rem; }}
label {{ display:flex; flex-direction:column; gap:0.3rem; font-size:0.9rem; }}
input {{ font-size:1rem; padding:0.45rem 0.6rem; border:1px solid #d1d5db; border-radius:8px; }}
button {{ font-size:1rem; padding:0.5rem; border:0; border-radius:8px; background:{accent};
  color:white; cursor:pointer; }}
.error {{ color:#b91c1c; background:#fef2f2; border-radius:8px; padding:0.5rem; margin:0; }}
.hint {{ color:#1e3a8a; background:#eff6ff; border-radius:8px; padding:0.5rem; margin:0;
  font-size:0.85rem; overflow-wrap:anywhere; }}
</style></head>
<body><main><form method="post" action="/auth/sign-in">
<h1>Sign in to Sessionlens</h1>{message}
<label>Email <input name="email" type="email" autocomplete="username" required autofocus
  value="{e(email)}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"
  required></label>
<input type="hidden" name="next" value="{e(next_path)}">
<button type="submit">Sign in</button>
</form></main></body></html>"""


def _password_off() -> Response | None:
    if get_settings().auth == "local":
        return None
    return HTMLResponse(
        "<!doctype html><title>Sessionlens</title><p>Password sign-in is turned off here. "
        '<a href="/">Open Sessionlens</a> to sign in.</p>',
        status_code=404,
    )


def _demo_admin() -> str | None:
    with sessions()() as db:
        return auth.demo_admin(db)


def _no_database(next_path: str, email: str = "") -> HTMLResponse:
    """The sign-in form with the reason nobody can sign in just now (the database is down,
    restarting or misconfigured), logged with its details; 503 tells a proxy it is passing."""
    log.exception("sign-in: the database is unavailable")
    return HTMLResponse(
        page(error=DATABASE_UNAVAILABLE, email=email[:320], next_path=next_path),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def sign_in_form(request: Request) -> Response:
    if off := _password_off():
        return off
    next_path = auth.safe_next(request.query_params.get("next"))
    try:
        demo = await run_in_threadpool(_demo_admin)
    except OperationalError:
        return _no_database(next_path)
    return HTMLResponse(page(next_path=next_path, demo=demo))


async def sign_in(request: Request) -> Response:
    if off := _password_off():
        return off
    body = await request.body()
    if len(body) > MAX_FORM:
        return HTMLResponse(page(error="The form is too large"), status_code=413)
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    email, password = form.get("email", ""), form.get("password", "")
    next_path = auth.safe_next(form.get("next"))
    address = request.client.host if request.client else "unknown"
    settings = get_settings()
    now = dt.datetime.now(dt.UTC)

    def check() -> str:
        refused: auth.SignInRefused | None = None
        with sessions()() as db, db.begin():  # a refusal is kept too
            try:
                actor = auth.sign_in(db, email, password, address=address, now=now)
            except auth.SignInRefused as err:
                refused = err
            else:
                token = auth.issue_token(
                    actor, db, secret=auth.app_secret(), now=now, days=settings.sign_in_days
                )
        if refused is not None:
            raise refused
        return token

    try:
        token = await run_in_threadpool(check)
    except OperationalError:
        return _no_database(next_path, email)
    except auth.SignInRefused as err:
        status = 429 if str(err).startswith("Too many") else 401
        demo = await run_in_threadpool(_demo_admin)
        return HTMLResponse(
            page(error=str(err), email=email[:320], next_path=next_path, demo=demo),
            status_code=status,
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.sign_in_days * 86400),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


async def sign_out(request: Request) -> Response:
    token = request.cookies.get(COOKIE, "")
    now = dt.datetime.now(dt.UTC)

    def end() -> None:
        with sessions()() as db, db.begin():
            actor = auth.actor_from_token(db, token, secret=auth.app_secret(), now=now)
            if actor is not None:
                auth.sign_out(db, actor=actor, now=now)

    if token:
        await run_in_threadpool(end)
    response = RedirectResponse("/auth/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def routes() -> list[BaseRoute]:
    return [
        Route("/auth/sign-in", sign_in_form, methods=["GET"]),
        Route("/auth/sign-in", sign_in, methods=["POST"]),
        Route("/auth/sign-out", sign_out, methods=["GET", "POST"]),
    ]
