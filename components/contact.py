"""Contact info of a customer: shown as the spec's six fields, editable where the role allows."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components.data import run_step
from components.markdown import md_escape
from components.panel import render_contact
from sessionlens import customers
from sessionlens.customers import Contact
from sessionlens.permissions import Action, Actor, can
from sessionlens.timefmt import EMPTY


def contact_block(contact: Contact, actor: Actor) -> None:
    values = {k: getattr(contact, k) for k in customers.EDITABLE}
    editing = st.session_state.get("contact_editing") == contact.id
    if not editing:
        render_contact(contact)
        st.caption(md_escape(f"id {contact.id} · External id {contact.external_id or EMPTY}"))
        allowed = can(actor, Action.EDIT_CUSTOMER)
        if st.button(
            "Edit",
            icon=":material/edit:",
            key="contact_edit",
            disabled=not allowed,
            help=None if allowed else f"You do not have permission to {Action.EDIT_CUSTOMER}",
        ):
            st.session_state["contact_editing"] = contact.id
            st.rerun()
        return
    with st.form("contact_form"):
        new = {
            k: st.text_input(label, value=values[k] or "", key=f"contact_{k}")
            for k, label in customers.LABELS.items()
        }
        save, cancel = st.columns(2)
        saved = save.form_submit_button("Save", type="primary")
        cancelled = cancel.form_submit_button("Cancel")
    if cancelled:
        st.session_state.pop("contact_editing", None)
        st.rerun()
    if saved and run_step(
        lambda db: customers.update_contact(
            db, actor=actor, customer_id=contact.id, fields=new, now=dt.datetime.now(dt.UTC)
        )
    ):
        st.session_state.pop("contact_editing", None)
        st.session_state["flash"] = "Contact info saved"
        st.rerun()
