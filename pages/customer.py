"""360 View: the customer's profile, opened from a session's "Open in 360" link."""

import streamlit as st

from components.data import current_actor, run_action
from components.panel import CONTACT_FIELDS
from sessionlens import customers

st.session_state["page"] = "customer"
actor = current_actor()
st.header("360 View")
raw = st.query_params.get("customer", "")
if not raw.isdigit():
    st.info("Open a customer from a session's Contact info: “Open in 360”.")
    st.stop()
contact = run_action(lambda db: customers.get_contact(db, int(raw), actor=actor))
if contact:
    st.subheader(contact.name or "Unnamed customer")
    values = (
        contact.name,
        contact.email,
        contact.phone,
        contact.telegram,
        contact.whatsapp,
        contact.linkedin,
    )
    for label, value in zip(CONTACT_FIELDS, values, strict=True):
        st.text(f"{label}: {value or '---'}")
    st.caption(f"id {contact.id} · External id {contact.external_id or '---'}")
    st.caption("Sessions across channels and profile editing arrive with the full 360 View.")
