"""The Import session dialog: a call recording in, a voice session (transcribed in the background)
out; or a sessions file in the session-v1 format (JSON or JSONL). Every check runs in the domain
before anything is stored, and a file is written whole or not at all."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components import feedback, selection, url
from components.data import locator, run_action
from components.dialogs import close_dialog
from components.feedback import guarded
from components.markdown import md_escape
from components.session_list import refresh_lists
from sessionlens import exchange, filter_options, importer, ingest
from sessionlens.blobs import default_store
from sessionlens.channels import CHANNELS
from sessionlens.filter_query import local_to_utc
from sessionlens.permissions import Actor
from sessionlens.settings import get_settings
from sessionlens.transcription.audio import ACCEPTED
from sessionlens.wording import counted

NEW_AGENT = "new"  # the AI agent picker's choice for an agent the workspace has not yet


@st.dialog("Import session", width="large", on_dismiss=close_dialog)
@guarded
def import_dialog(actor: Actor, tz: str) -> None:
    kind = st.segmented_control(
        "What to import",
        ["Call recording", "Sessions file (JSON)"],
        default="Call recording",
        key="import_kind",
    )
    if kind == "Sessions file (JSON)":
        _sessions_file(actor)
        return
    settings = get_settings()
    upload = st.file_uploader(
        "Call recording",
        type=[s.lstrip(".") for s in ACCEPTED],
        key="import_file",
        max_upload_size=settings.max_upload_mb,
    )
    agents, voice = run_action(
        lambda db: (
            filter_options.agents(db, actor=actor),
            filter_options.voice_agent(db, actor=actor),
        )
    ) or ([], None)
    # The agents there are, and a new one: a new workspace has none until its runtime sends a
    # session, and a call must belong to one.
    names = {c.id: c.label for c in agents} | {NEW_AGENT: "New AI agent…"}
    agent = st.selectbox(
        "AI agent",
        list(names),
        index=list(names).index(voice) if voice in names else 0,  # the agent that takes calls
        format_func=names.__getitem__,
        key="import_agent",
    )
    new_agent = (
        st.text_input(
            "Name of the new AI agent",
            key="import_new_agent",
            max_chars=200,
            placeholder="As your agent runtime names it, e.g. Echo (Voice)",
        )
        if agent == NEW_AGENT
        else None
    )
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
        term = st.text_input(
            "Search customers", key="import_customer_q", placeholder="Name, email, phone or id"
        )
        found = run_action(lambda db: filter_options.search_customers(db, term, actor=actor)) or []
        labels = {c.id: c.label for c in found}
        picked = st.selectbox(
            "Customer",
            list(labels),
            format_func=labels.__getitem__,
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
    clicked = st.button(
        "Import", type="primary", key="import_go", disabled=upload is None or agent is None
    )
    if clicked and upload is not None and agent is not None:
        started = local_to_utc(when, tz) if when else None
        done = run_action(
            lambda db: importer.import_recording(
                db,
                actor=actor,
                data=upload.getvalue(),
                filename=upload.name,
                agent_id=None if agent == NEW_AGENT else int(agent),
                new_agent=new_agent,
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
            selection.show(done.session_id)
            refresh_lists()  # the new session heads the table
            close_dialog()
            st.session_state["flash"] = f"Imported {upload.name}: transcription started"
            url.rerun()


def _refused(headline: str, errors: list[str]) -> None:
    """Why a sessions file cannot be imported: how many errors, and the first 50 of them."""
    feedback.error(f"{headline}, {counted(len(errors), 'error')}")
    st.text("\n".join(errors[:50]) + ("\n…" if len(errors) > 50 else ""))


def _sessions_file(actor: Actor) -> None:
    """Sessions exported from Sessionlens or written by an agent runtime (docs/schema)."""
    settings = get_settings()
    upload = st.file_uploader(
        "Sessions file (.json or .jsonl, format session-v1)",
        type=["json", "jsonl"],
        key="import_json_file",
        max_upload_size=settings.max_upload_mb,
    )
    if upload is None:
        st.caption(
            "Importing the same file twice changes nothing: sessions and messages are matched by "
            "their external ids."
        )
        return
    locate = locator().locate
    try:
        docs = ingest.read_file(upload.getvalue(), upload.name)
    except exchange.Invalid as err:
        _refused(f"{upload.name}: nothing imported", err.errors)
        return
    checked = run_action(lambda db: ingest.new_statuses(db, docs, actor=actor))
    if checked is None:
        return
    added, refused = checked
    if refused:  # statuses the workspace lacks, and no right to add them
        _refused(f"{upload.name}: nothing can be imported", refused)
        return
    n = len(docs)
    st.caption(md_escape(f"{counted(n, 'session')} in {upload.name}, all valid."))
    if added:
        st.caption(
            md_escape(
                "Importing adds the statuses "
                + ", ".join(repr(s) for s in added)
                + " to this workspace's list."
            )
        )
    if st.button("Import", type="primary", key="import_json_go"):
        report = run_action(
            lambda db: ingest.import_documents(
                db, docs, actor=actor, now=dt.datetime.now(dt.UTC), locate=locate
            )
        )
        if report is not None:
            refresh_lists()
            close_dialog()
            st.session_state["flash"] = f"{upload.name}: {report.summary(dry_run=False)}"
            st.rerun()
