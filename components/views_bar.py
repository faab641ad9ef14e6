"""Saved views in the sidebar: open one with a click, save the current filters under a name."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components import url
from components.data import run_action
from components.filter_bar import current_query, write_query
from components.markdown import md_escape
from sessionlens import saved_views
from sessionlens.permissions import Actor


def open_view_from_url(actor: Actor) -> None:
    """``?view=<id>`` puts the view's filters and sort into the URL, once per new view id."""
    raw = st.query_params.get("view")
    if not raw or st.session_state.get("view_applied") == raw:
        return
    st.session_state["view_applied"] = raw
    view_id = url.id_param("view", "The link's saved view")
    if view_id is None:
        return
    view = run_action(lambda db: saved_views.get_view(db, view_id, actor=actor))
    if view is not None:
        query = dict(view.query)
        sort = query.pop("sort", None)
        write_query(query)
        if sort:
            st.query_params["sort"] = sort
        elif "sort" in st.query_params:
            del st.query_params["sort"]


def views_sidebar(actor: Actor) -> None:
    """The Saved views expander, where it is called (the Sessions page: its sidebar place)."""
    views = run_action(lambda db: saved_views.list_views(db, actor=actor)) or []
    current = st.query_params.get("view")
    with st.expander("Saved views", expanded=bool(views), icon=":material/bookmark:"):
        if not views:
            st.caption("No saved views yet.")
        for v in views:
            badge = " · shared" if v.shared else ""
            owner = "" if v.mine else f" ({md_escape(v.owner_name)})"
            mark = "**" if current == str(v.id) else ""
            line = f"{mark}[{md_escape(v.name)}](?view={v.id}){mark}{owner}{badge}"
            if not saved_views.may_delete(v, actor):
                st.markdown(line)
                continue
            link, remove = st.columns([1, 0.18], vertical_alignment="center", gap="small")
            link.markdown(line)
            # Behind a confirmation: a shared view may be what the whole team opens each day.
            with remove.popover("", icon=":material/delete:", help=f"Delete {md_escape(v.name)}"):
                st.text(f"Delete the saved view {v.name}?")  # the name is text, never Markdown
                st.button(
                    "Delete",
                    key=f"view_delete_{v.id}",
                    type="primary",
                    on_click=_delete,
                    args=(actor, v.id, v.name),
                )
        with st.popover("Save current view", icon=":material/bookmark_add:"):
            if st.session_state.pop("view_saved", False):  # empty for the next one (a refused
                st.session_state["view_name"] = ""  # name stays, to be fixed)
                st.session_state["view_shared"] = False
            name = st.text_input("Name", key="view_name", max_chars=saved_views.MAX_NAME)
            shared = st.checkbox("Share with my workspace", key="view_shared")
            if st.button("Save", key="view_save", type="primary"):
                query = current_query()
                if "sort" in st.query_params:
                    query["sort"] = st.query_params["sort"]
                saved = run_action(
                    lambda db: saved_views.save_view(
                        db,
                        actor=actor,
                        name=name,
                        query=query,
                        shared=shared,
                        now=dt.datetime.now(dt.UTC),
                    )
                )
                if saved:
                    st.session_state["view_saved"] = True
                    st.query_params["view"] = str(saved.id)
                    st.session_state["view_applied"] = str(saved.id)
                    url.rerun()


def _delete(actor: Actor, view_id: int, name: str) -> None:
    """Delete the view; a page opened from it keeps its filters, no longer naming the view."""
    deleted = run_action(
        lambda db: saved_views.delete_view(
            db, actor=actor, view_id=view_id, now=dt.datetime.now(dt.UTC)
        ),
        success=f"Deleted the saved view {name}",
    )
    if deleted is not None and st.query_params.get("view") == str(view_id):
        del st.query_params["view"]
