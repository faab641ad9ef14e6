"""What every screen sits in: the navigation, and the sidebar lines under it.

Streamlit serves the default page only at the root URL, so ``/sessions?session=…`` (a link from
an older version, or typed by hand) would otherwise show "Page not found" before falling back. A
small redirect page keeps those links working; Streamlit's own menu is hidden so that the redirect
does not show as a second "Sessions" entry, and the sidebar draws the two real entries instead.
"""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from components.data import current_actor, locator, run_read
from components.markdown import md_escape
from components.signin import sign_out_link
from sessionlens import human_agents
from sessionlens.kinds import Role
from sessionlens.permissions import Action, can


def navigation() -> StreamlitPage:
    """The page to run for this URL, with the menu and the location-data credit in the sidebar.

    The pages are built on every run: Streamlit marks the objects it is given, so they are not
    shared between browser sessions."""
    sessions = st.Page(
        "screens/sessions.py",
        title="Sessions",
        icon=":material/forum:",
        url_path="home",  # reserved only: the default page is served at "/"
        default=True,
    )
    customer = st.Page(
        "screens/customer.py", title="360 View", icon=":material/person:", url_path="customer"
    )
    actor = current_actor()
    waiting = run_read(lambda db: human_agents.waiting(db, actor=actor)) or 0
    agents_page = st.Page(
        "screens/human_agents.py",
        title=f"Human Agents · {waiting}" if waiting else "Human Agents",
        icon=":material/support_agent:",
        url_path="human_agents",
    )

    def sessions_alias() -> None:
        """``/sessions?…`` opens the Sessions page with the same query."""
        st.switch_page(sessions, query_params=st.query_params.to_dict())

    # Every page is an address for everyone: a viewer who follows an admin's link to /settings
    # reads that it is for admins (each screen checks, and the domain refuses anyone else), where
    # Streamlit would say "Page not found" and run the Sessions page. The menu lists only the
    # pages the user's role may use.
    work_pages = [
        st.Page(
            "screens/handoffs.py",
            title="Handoffs",
            icon=":material/monitoring:",
            url_path="handoffs",
        )
    ]
    admin_pages = [
        st.Page(
            "screens/settings.py",
            title="Settings",
            icon=":material/settings:",
            url_path="settings",
        ),
        st.Page("screens/audit.py", title="Audit", icon=":material/policy:", url_path="audit"),
    ]
    page = st.navigation(
        [
            sessions,
            st.Page(sessions_alias, title="Sessions", url_path="sessions"),
            agents_page,
            customer,
            *work_pages,
            *admin_pages,
        ],
        position="hidden",
    )
    # The browser's tab names the screen (a lead keeps Sessions and a customer's 360 View open side
    # by side; an operator sees the waiting count in a tab in the background).
    st.set_page_config(page_title=f"{page.title} · Sessionlens")
    with st.sidebar:
        st.page_link(sessions)
        st.page_link(agents_page)
        st.page_link(customer)
        for p in [
            *(work_pages if can(actor, Action.WORK_CONVERSATIONS) else []),
            *(admin_pages if can(actor, Action.ADMINISTER) else []),
        ]:
            st.page_link(p)
        st.divider()
        st.caption(f"Signed in as {md_escape(actor.name)} · {Role(actor.role).value.title()}")
        sign_out_link()
        info = locator().info
        if info:
            credit = f"{info.credit} · " if info.credit else ""
            st.caption(f"{credit}location data built {info.build_date.isoformat()}")
    return page
