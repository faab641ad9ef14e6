"""The Import session dialog: a call recording in, a voice session (transcribed in the background)
out. Every check runs in the domain before anything is stored."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components.data import run_action
from components.session_list import reload_lists
from sessionlens import filter_options, importer
from sessionlens.blobs import default_store
from sessionlens.channels import CHANNELS
from sessionlens.filter_query import local_to_utc
from sessionlens.permissions import Actor
from sessionlens.settings import get_settings
from sessionlens.transcription.audio import ACCEPTED


@st.dialog("Import session", width="large")
def import_dialog(actor: Actor, tz: str) -> None:
    settings = get_settings()
    upload = st.file_uploader(
        "Call recording",
        type=[s.lstrip(".") for s in ACCEPTED],
        key="import_file",
        max_upload_size=settings.max_upload_mb,
    )
    agents = run_action(lambda db: filter_options.agents(db, actor=actor)) or []
    names = {c.id: c.label for c in agents}
    agent = st.selectbox("AI agent", list(names), format_func=names.get, key="import_agent")
    channel = st.selectbox(
        "Channel",
        list(CHANNELS),
        index=list(CHANNELS).index("sip"),
        format_func=lambda k: CHANNELS[k].name,
        key="import_channel",
    )
    who = st.radio(
        "Customer", ["None", "Existing customer", "New customer"], horizontal=True, key="import_who"
    )
    customer_id, new = None, None
    if who == "Existing customer":
        term = st.text_input("Search customers", key="import_customer_q")
        found = run_action(lambda db: filter_options.search_customers(db, term, actor=actor)) or []
        labels = {c.id: c.label for c in found}
        picked = st.selectbox(
            "Customer",
            list(labels),
            format_func=labels.get,
            key="import_customer",
            index=None,
            placeholder="Pick a match",
        )
        customer_id = int(picked) if picked else None
    elif who == "New customer":
        a, b = st.columns(2)
        new = importer.NewCustomer(
            a.text_input("Name", key="import_new_name"),
            b.text_input("Phone", key="import_new_phone") or None,
        )
    when = st.datetime_input(
        f"Call started ({tz})",
        value=None,
        key="import_started",
        help="Empty: the time stored in the file, if any, else now",
    )
    if st.button(
        "Import", type="primary", key="import_go", disabled=upload is None or agent is None
    ):
        started = local_to_utc(when, tz) if when else None
        done = run_action(
            lambda db: importer.import_recording(
                db,
                actor=actor,
                data=upload.getvalue(),
                filename=upload.name,
                agent_id=int(agent),
                channel=channel,
                store=default_store(),
                settings=settings,
                now=dt.datetime.now(dt.UTC),
                customer_id=customer_id,
                new_customer=new,
                started_at=started,
            )
        )
        if done:
            st.session_state["selected"] = done.session_id
            st.session_state["grid_initial"] = [str(done.session_id)]
            st.query_params["session"] = str(done.session_id)
            reload_lists()  # the new session heads the table
            st.session_state["flash"] = f"Imported {upload.name}: transcription started"
            st.rerun()
