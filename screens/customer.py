"""360 View: a customer's profile and every session of theirs, opened from "Open in 360" or found
by name, email, phone or id when the page is opened from the menu."""

import datetime as dt
from functools import partial

import streamlit as st

from components import feedback, selection, url
from components.chat import message_window, render_conversation
from components.contact import contact_block
from components.data import current_actor, run_action
from components.markdown import md_escape
from components.session_actions import recording_line
from sessionlens import chat, customers, erasure, filter_options, identity, strict
from sessionlens.channels import channel_info
from sessionlens.permissions import Action, can
from sessionlens.timefmt import local
from sessionlens.wording import counted

selection.sync_from_url("customer")
actor = current_actor()
tenant = run_action(lambda db: identity.tenant_info(db, actor=actor))
tz = tenant.timezone if tenant else "UTC"
st.header("360 View")
if flash := st.session_state.pop("flash", None):
    feedback.success(flash)


def _open_customer(customer_id: int) -> None:
    """Show the picked customer; the search box empties, its matches go."""
    st.query_params["customer"] = str(customer_id)
    st.session_state["c360_find"] = ""


def find_customer(*, hint: bool) -> None:
    """Find a customer by name, email, phone or id. Above every state of the page: the menu
    brings back the customer last shown (``selection.sync_from_url``), so this box is how a user
    moves on to another one; after a link whose customer could not be shown (a message says why)
    it is the way on. With ``hint``, an empty box says how else to open a customer."""
    term = st.text_input(
        "Find a customer",
        key="c360_find",
        placeholder="Name, email, phone, id or external id",
        max_chars=200,
        width=480,
    ).strip()
    found = (
        (run_action(lambda db: filter_options.search_customers(db, term, actor=actor)) or [])
        if term
        else []
    )
    if not term and hint:
        st.info("Open a customer from a session's Contact info: “Open in 360”, or find one here.")
    elif term and not found:
        feedback.info(f"No customer matches {strict.quote(term)}.")
    elif len(found) >= filter_options.CUSTOMER_MATCHES:  # more may match than are listed
        st.caption(
            f"The first {filter_options.CUSTOMER_MATCHES} matches are listed: type more to "
            "narrow them down."
        )
    # Buttons, not page links: a link to the page it is on opens the customer but leaves their id
    # out of the address, so a reload or a shared link would lose them.
    matches = st.container(gap=None)
    for choice in found:
        matches.button(
            md_escape(choice.label),
            key=f"c360_pick_{choice.id}",
            icon=":material/person:",
            type="tertiary",
            on_click=_open_customer,
            args=(choice.id,),
        )


customer_id = url.id_param("customer", "The link's customer")
contact = (
    run_action(partial(customers.get_contact, customer_id=customer_id, actor=actor))
    if customer_id is not None
    else None
)
find_customer(hint=not st.query_params.get("customer"))
if contact is None:
    st.stop()


def _erase(customer_id: int) -> None:
    """Erase the customer (their recordings go from the store as the transaction commits); the
    page goes back to the finder and says what went."""
    done = run_action(
        lambda db: erasure.erase_customer(db, customer_id, actor=actor, now=dt.datetime.now(dt.UTC))
    )
    if done is None:
        return
    note = f"Customer {customer_id} is erased: {done.holdings.in_words()}."
    if done.unremoved:  # filled when run_action's transaction committed
        note += (
            f" {counted(len(done.unremoved), 'recording')} could not be removed from the recordings "
            "store (the server log names them); the console no longer links to them."
        )
    st.session_state["flash"] = note
    st.session_state.pop(f"c360_erase_sure_{customer_id}", None)
    del st.query_params["customer"]


def erase_customer(contact: customers.Contact) -> None:
    """Admins erase a customer who asked to be forgotten: what goes, said before; a tick, then
    the button."""
    held = run_action(lambda db: erasure.holdings(db, contact.id, actor=actor))
    if held is None:
        return
    with st.popover("Erase customer", icon=":material/delete_forever:"):
        who = contact.name or f"customer {contact.id}"
        st.text(  # the name is the customer's text, never Markdown
            f"Erase {who} and everything of theirs here: {held.in_words()}, with "
            "their System Logs, traces and hand-overs. For a person who asked to be "
            "forgotten; it cannot be undone. The audit log keeps that they were erased, not "
            "who they were."
        )
        sure = st.checkbox("Erase for good", key=f"c360_erase_sure_{contact.id}")
        st.button(
            "Erase",
            key=f"c360_erase_{contact.id}",
            type="primary",
            disabled=not sure,
            on_click=_erase,
            args=(contact.id,),
        )


profile, history = st.columns([1, 2.4])
with profile:
    st.subheader(md_escape(contact.name or "Unnamed customer"))
    st.markdown("**Contact info**")
    contact_block(contact, actor)
    if can(actor, Action.ADMINISTER):  # the domain refuses anyone else
        erase_customer(contact)


def _show_earlier(key: str) -> None:
    st.session_state[key] = st.session_state.get(key, customers.SESSIONS_SHOWN) + (
        customers.SESSIONS_SHOWN
    )


with history:
    shown_key = f"c360_shown_{contact.id}"
    sessions = run_action(
        partial(
            customers.customer_sessions,
            customer_id=contact.id,
            actor=actor,
            limit=st.session_state.get(shown_key, customers.SESSIONS_SHOWN),
        )
    )
    headers = sessions.shown if sessions else []
    total = sessions.total if sessions else 0
    st.subheader(f"Sessions · {total:,}")  # a count, nothing of anyone's text
    if not headers:
        st.info("This customer has no sessions yet.", icon=":material/forum:")
    elif total > len(headers):  # the oldest are left out, above the ones shown
        earlier = min(customers.SESSIONS_SHOWN, total - len(headers))
        st.caption(
            f"The newest {len(headers)} of {counted(total, 'session')} are shown, oldest first."
        )
        with st.container(horizontal=True):
            st.button(
                f"Show {counted(earlier, 'earlier session')}",
                key=f"c360_earlier_{contact.id}",
                icon=":material/expand_less:",
                on_click=_show_earlier,
                args=(shown_key,),
            )
            st.page_link(
                "screens/sessions.py",
                label=f"All {total:,} on the Sessions page",
                icon=":material/open_in_new:",
                query_params={"user": str(contact.id)},
                help="The Sessions table with the Users filter set to this customer",
            )
    chats = (
        run_action(
            lambda db: chat.conversations(
                db, {h.id: message_window(h.id) for h in headers}, actor=actor
            )
        )
        or {}
    )
    with st.container(height=700, border=False):
        for h in headers:
            label = md_escape(
                f"{local(h.started_at, tz)} · {channel_info(h.channel).name} · {h.agent_name}"
            )
            st.page_link(
                "screens/sessions.py",
                label=label,
                icon=":material/open_in_new:",
                query_params={"session": str(h.id)},
                help="Open this session on the Sessions page",
            )
            if (conv := chats.get(h.id)) is not None:
                render_conversation(conv, tz, actor=actor, session_id=h.id)
                if conv.recording is not None:  # a call: listen to it here too
                    recording_line(conv.recording, actor)
