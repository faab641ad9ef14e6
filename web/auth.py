"""Sign-in, sign-out and a new password over plain HTTP: ``/auth/sign-in`` (a form, and its
POST), ``/auth/sign-out`` and ``/auth/password`` (a signed-in user's own new password: a form,
and its POST).

A password travels only in the POST body of these forms, never through Streamlit; the route
checks it with the domain (``sessionlens.auth``), sets the signed sign-in cookie (HttpOnly,
SameSite=Lax, with an expiry) and sends the browser on. The Streamlit frame reads the cookie on every run; a page loads anew after
signing in or out, because Streamlit reads cookies when a browser session starts.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from streamlit import config

from sessionlens import auth
from sessionlens.errors import DATABASE_UNAVAILABLE, BadInput
from sessionlens.settings import get_settings
from web.db import RETRY_AFTER_SECONDS, sessions

log = logging.getLogger("sessionlens.auth")

COOKIE = auth.COOKIE
PASSWORD_PATH = "/auth/password"
MAX_FORM = 16 * 1024


def _shell(title: str, body: str) -> str:
    """A page of its own beside the console (sign-in, a new password): the console's accent, a
    card in the middle; ``body`` is already escaped."""
    # the theme's accent (.streamlit/config.toml), as the console's buttons have it
    accent = config.get_option("theme.primaryColor") or "#ff4b4b"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{html.escape(title)} · Sessionlens</title>
<style>
body {{ font-family: system-ui, sans-serif; background:#f8fafc; display:flex; min-height:100vh;
  align-items:center; justify-content:center; margin:0; color:#111827; }}
form, .card {{ background:white; border:1px solid #e5e7eb; border-radius:12px; padding:2rem;
  width:20rem; display:flex; flex-direction:column; gap:0.8rem; }}
h1 {{ font-size:1.4rem; margin:0 0 0.5rem; }}
label {{ display:flex; flex-direction:column; gap:0.3rem; font-size:0.9rem; }}
input {{ font-size:1rem; padding:0.45rem 0.6rem; border:1px solid #d1d5db; border-radius:8px; }}
button {{ font-size:1rem; padding:0.5rem; border:0; border-radius:8px; background:{accent};
  color:white; cursor:pointer; }}
a {{ color:#1d4ed8; }}
.error {{ color:#b91c1c; background:#fef2f2; border-radius:8px; padding:0.5rem; margin:0; }}
.hint {{ color:#1e3a8a; background:#eff6ff; border-radius:8px; padding:0.5rem; margin:0;
  font-size:0.85rem; overflow-wrap:anywhere; }}
.note {{ color:#4b5563; font-size:0.85rem; margin:0; }}
</style></head>
<body><main>{body}</main></body></html>"""


def page(*, error: str = "", email: str = "", next_path: str = "/", demo: str | None = None) -> str:
    """The sign-in page; every value in it is escaped. ``demo``: the demo admin to name, while
    the demo's accounts still have the demo's password."""
    e = html.escape
    message = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    if demo:
        message += (
            f'<p class="hint">Demo data: sign in as <b>{e(demo)}</b> with the password '
            f"<b>{e(auth.DEMO_PASSWORD)}</b> (the README lists an account for each role).</p>"
        )
    return _shell(
        "Sign in",
        f"""<form method="post" action="/auth/sign-in">
<h1>Sign in to Sessionlens</h1>{message}
<label>Email <input name="email" type="email" autocomplete="username" required autofocus
  value="{e(email)}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"
  required></label>
<input type="hidden" name="next" value="{e(next_path)}">
<button type="submit">Sign in</button>
<p class="note">Forgot your password? An administrator of your workspace resets it for you
(Settings, Users).</p>
</form>""",
    )


def password_page(*, name: str, email: str, error: str = "") -> str:
    """The form for a signed-in user's own new password; every value in it is escaped."""
    e = html.escape
    message = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    return _shell(
        "Change your password",
        f"""<form method="post" action="{PASSWORD_PATH}">
<h1>Change your password</h1>
<p class="note">Signed in as {e(name)} ({e(email)})</p>{message}
<input type="hidden" name="username" autocomplete="username" value="{e(email)}">
<label>Current password <input name="current" type="password" autocomplete="current-password"
  required autofocus></label>
<label>New password <input name="new" type="password" autocomplete="new-password" required
  minlength="{auth.MIN_PASSWORD}" maxlength="{auth.MAX_PASSWORD}"></label>
<label>New password again <input name="repeated" type="password" autocomplete="new-password"
  required></label>
<p class="note">At least {auth.MIN_PASSWORD} characters. Your other browsers and devices are
signed out; this one stays signed in.</p>
<button type="submit">Change password</button>
<a href="/" class="note">Back to Sessionlens</a>
</form>""",
    )


def _password_changed() -> str:
    return _shell(
        "Password changed",
        """<div class="card" role="status"><h1>Your password is changed</h1>
<p class="note">Every other browser or device signed in as you is signed out; this one stays
signed in.</p><a href="/">Back to Sessionlens</a></div>""",
    )


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
    form = await _form(request)
    if form is None:
        return HTMLResponse(page(error="The form is too large"), status_code=413)
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
    _keep_signed_in(response, request, token)
    return response


def _keep_signed_in(response: Response, request: Request, token: str) -> None:
    """The sign-in cookie: signed, HttpOnly, SameSite=Lax, for ``SESSIONLENS_SIGN_IN_DAYS``."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(get_settings().sign_in_days * 86400),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


async def _form(request: Request) -> dict[str, str] | None:
    """A posted form's fields (the first value of each), or None when it is too large."""
    body = await request.body()
    if len(body) > MAX_FORM:
        return None
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def _signed_in(token: str) -> tuple[str, str] | None:
    """The name and email of whom the sign-in cookie names, or None."""
    with sessions()() as db:
        actor = auth.actor_from_token(
            db, token, secret=auth.app_secret(), now=dt.datetime.now(dt.UTC)
        )
        return (actor.name, auth.email_of(db, actor)) if actor else None


async def password_form(request: Request) -> Response:
    """A signed-in user's own new password (local sign-in only); anyone else signs in first."""
    if off := _password_off():
        return off
    try:
        who = await run_in_threadpool(_signed_in, request.cookies.get(COOKIE, ""))
    except OperationalError:
        return _no_database(PASSWORD_PATH)
    if who is None:
        return RedirectResponse(auth.sign_in_url(PASSWORD_PATH), status_code=303)
    return HTMLResponse(password_page(name=who[0], email=who[1]))


@dataclass(frozen=True)
class _Changed:
    """What a POST of the new-password form came to, for the page to answer with."""

    name: str
    email: str
    token: str = ""  # the new sign-in, when the password changed
    refusal: str = ""  # else why not


async def change_password(request: Request) -> Response:
    if off := _password_off():
        return off
    form = await _form(request)
    token = request.cookies.get(COOKIE, "")
    address = request.client.host if request.client else "unknown"
    now = dt.datetime.now(dt.UTC)

    def change() -> _Changed | None:
        """None when nobody is signed in (or no longer)."""
        with sessions()() as db, db.begin():  # a wrong current password is kept as an attempt
            actor = auth.actor_from_token(db, token, secret=auth.app_secret(), now=now)
            if actor is None:
                return None
            who = {"name": actor.name, "email": auth.email_of(db, actor)}
            if form is None:
                return _Changed(**who, refusal="The form is too large")
            try:
                auth.change_password(
                    db,
                    actor=actor,
                    current=form.get("current", ""),
                    new=form.get("new", ""),
                    repeated=form.get("repeated", ""),
                    address=address,
                    now=now,
                )
            except (auth.SignInRefused, BadInput) as err:
                return _Changed(**who, refusal=str(err))
            days = get_settings().sign_in_days
            new = auth.issue_token(actor, db, secret=auth.app_secret(), now=now, days=days)
            return _Changed(**who, token=new)

    try:
        done = await run_in_threadpool(change)
    except OperationalError:
        return _no_database(PASSWORD_PATH)
    if done is None:
        return RedirectResponse(auth.sign_in_url(PASSWORD_PATH), status_code=303)
    if done.refusal:
        status = 413 if form is None else 429 if done.refusal.startswith("Too many") else 422
        again = password_page(name=done.name, email=done.email, error=done.refusal)
        return HTMLResponse(again, status_code=status)
    response = HTMLResponse(_password_changed())
    _keep_signed_in(response, request, done.token)
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
        Route(PASSWORD_PATH, password_form, methods=["GET"]),
        Route(PASSWORD_PATH, change_password, methods=["POST"]),
    ]
