"""The door of the console: who is signed in, and what a visitor who is not sees instead.

Three ways in (setting ``SESSIONLENS_AUTH``):

- ``local``: the sign-in form is an HTTP route (``web/auth.py``), so a password never passes
  through Streamlit's session state; a signed-out visitor is sent there with the address they
  asked for.
- ``oidc``: Streamlit's ``st.login`` against the OpenID Connect provider of
  ``.streamlit/secrets.toml``; the identity's email must belong to a user an admin made.
- ``header``: a reverse proxy (oauth2-proxy and the like) names the user in a header, believed
  only when the request comes from one of ``SESSIONLENS_TRUSTED_PROXIES``.

Every way ends in the same check on every run: an active users row, else no access.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.data import run_action, signed_in_actor
from sessionlens import auth, identity
from sessionlens.kinds import Role
from sessionlens.permissions import Action, Actor, can
from sessionlens.settings import get_settings


def require_sign_in() -> Actor:
    """The signed-in actor; otherwise the page shows the way in (or why not) and stops."""
    mode = get_settings().auth
    if mode == "header":
        actor = _from_proxy()
    elif mode == "oidc":
        actor = _from_oidc()
    else:
        actor = signed_in_actor()
        if actor is None:
            _to_sign_in()
            st.stop()
    if actor is None:
        st.stop()
    st.session_state["actor"] = actor
    if not can(actor, Action.VIEW_SESSIONS):
        _no_access(actor)
        st.stop()
    return actor


def _who() -> Actor | None:
    """Who this browser is signed in as now, by the way in of ``SESSIONLENS_AUTH``, checked
    against the users table; draws nothing."""
    settings = get_settings()
    if settings.auth == "local":
        return signed_in_actor()
    if settings.auth == "oidc":
        if not st.user.is_logged_in:
            return None
        email = st.user.get("email")
    else:
        # web/proxy.py removes the header from any request that did not come from a trusted proxy.
        headers = st.context.headers
        email = headers.get(settings.auth_header) if headers else None
    return run_action(lambda db: auth.actor_for_email(db, str(email) if email else None))


def recheck_sign_in() -> None:
    """For a fragment or dialog that runs alone (a row click, the live poll, a button in a
    dialog): check the sign-in again, as every full run does. ``require_sign_in`` runs only in a
    full run, so a page left open went on answering clicks in its detail area for a user who had
    signed out in another tab, been deactivated or had their role changed. When who is signed in
    has changed in any way, the whole page runs again, and the frame shows the way in, or the
    page as the new role may see it. A full run is not checked twice."""
    ctx = get_script_run_ctx()
    if ctx is None or not ctx.fragment_ids_this_run:
        return
    if _who() != st.session_state.get("actor"):
        st.rerun()


def _from_proxy() -> Actor | None:
    actor = _who()
    if actor is None:
        st.title("Sessionlens")
        st.subheader("Ask your administrator for access")
        st.text(
            "Sessionlens signs you in through your organisation's sign-in proxy. This request "
            "did not come through it, or the account it names has no access here."
        )
    return actor


def _from_oidc() -> Actor | None:
    if not st.user.is_logged_in:
        st.title("Sessionlens")
        st.button("Sign in", icon=":material/login:", type="primary", on_click=st.login)
        return None
    actor = _who()
    if actor is None:
        email = st.user.get("email")
        st.title("Sessionlens")
        st.subheader("Ask your administrator for access")
        st.text(
            f"You are signed in as {email or 'an account without an email'}, which has no "
            "access to Sessionlens. An administrator can add you."
        )
        sign_out_link()
    return actor


def _here() -> str:
    path = "/" + (st.context.url or "").split("://", 1)[-1].partition("/")[2].split("?")[0]
    query = urlencode(st.query_params.to_dict())
    return path + ("?" + query if query else "")


def _to_sign_in() -> None:
    url = html.escape(auth.sign_in_url(_here()))
    st.title("Sessionlens")
    st.html(
        f'<p>You are signed out. <a href="{url}" target="_self">Sign in</a> to continue.</p>'
        f'<script>window.location.replace("{url}")</script>',
        unsafe_allow_javascript=True,
    )


def _no_access(actor: Actor) -> None:
    admins = run_action(lambda db: identity.admin_names(db, actor=actor)) or []
    st.title("Sessionlens")
    st.subheader("You have no access to sessions yet")
    ask = f"Ask your administrator ({', '.join(admins)})" if admins else "Ask your administrator"
    st.text(
        f"You are signed in as {actor.name}, with the role {Role(actor.role).value}. "
        f"{ask} to give you the Operator or Viewer role."
    )
    sign_out_link()


def sign_out_link() -> None:
    """Sign out: through the route (local), the provider's session (oidc); a proxy signs you out
    itself (header). With local sign-in, also the way to a password of one's own (the routes in
    web/auth.py: the password never passes through Streamlit)."""
    mode = get_settings().auth
    if mode == "oidc":
        st.button("Sign out", key="sign_out", type="tertiary", on_click=st.logout)
    elif mode == "local":
        st.html(
            '<a href="/auth/sign-out" target="_self" class="sl-sign-out">Sign out</a>'
            '<br><a href="/auth/password" target="_self" class="sl-password">Change password</a>'
        )
