"""The door of the console: who is signed in, and what a visitor who is not sees instead.

The sign-in form itself is an HTTP route (``web/auth.py``): a password never passes through
Streamlit's session state. This module only sends a signed-out visitor there, with the address
they asked for, and shows a signed-in User without a role whom to ask for access.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

import streamlit as st

from components.data import run_action, signed_in_actor
from sessionlens import auth, identity
from sessionlens.kinds import Role
from sessionlens.permissions import Action, Actor, can


def require_sign_in() -> Actor:
    """The signed-in actor; otherwise the page sends the browser to the sign-in form and stops."""
    actor = signed_in_actor()
    if actor is None:
        _to_sign_in()
        st.stop()
    if not can(actor, Action.VIEW_SESSIONS):
        _no_access(actor)
        st.stop()
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
    st.html('<a href="/auth/sign-out" target="_self" class="sl-sign-out">Sign out</a>')
