"""Human Agents: where a handed-over conversation is accepted, answered and resolved.

Conversations on the left (grouped by AI agent or by human agent), the chat in the centre (the
same chat as Sessions), the Parameters & results panel on the right. The URL carries the open
conversation (``?conversation=123``). The page redraws by itself when a conversation arrives,
changes hands or gets a message (a cheap signature polled every SESSIONLENS_LIVE_SECONDS).
"""

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Callable
from functools import partial

import streamlit as st

from components import feedback, live, url
from components.chat import (
    DETAIL_KEY,
    follow_the_end,
    message_window,
    no_chat,
    render_conversation,
    scroll_here_on_a_phone,
)
from components.data import current_actor, refusal, run_action, run_read, run_step
from components.markdown import md_escape
from components.panel import render_panel
from sessionlens import human_agents, identity, sessions
from sessionlens.channels import channel_info
from sessionlens.customers import ANONYMOUS
from sessionlens.permissions import Action, can

actor = current_actor()
tenant = run_action(lambda db: identity.tenant_info(db, actor=actor))
tz = tenant.timezone if tenant else "UTC"
may_work = can(actor, Action.WORK_CONVERSATIONS)
st.header("Human Agents")
if flash := st.session_state.pop("ha_flash", None):
    feedback.success(flash)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _send(box: str, write: Callable[..., object], session_id: int) -> None:
    """The callback of the reply box (``human_agents.reply``) and of the private note's
    (``human_agents.note``): the box is empty once its text went in; a text the domain refuses
    (a control character pasted in, say) stays in it, to be fixed and sent, with the refusal
    beside it (``<box>_refused``). The reply box empties itself when Enter sends, hence the
    text is put back, not merely kept."""
    text = st.session_state.get(box) or ""
    why = refusal(lambda db: write(db, actor=actor, session_id=session_id, text=text, now=_now()))
    st.session_state[box] = "" if why is None else text
    if why is not None:
        st.session_state[f"{box}_refused"] = why


def _open(conversation_id: int) -> None:
    st.query_params["conversation"] = str(conversation_id)
    # The run that follows scrolls a phone to the chat; a token of its own for each pick.
    st.session_state["ha_scroll"] = secrets.token_hex(4)


@st.fragment(run_every=human_agents.CHECK_IN_EVERY.total_seconds())
def presence() -> set[int]:
    """Who has the workspace open: this page checks its user in (an operator's open page is what
    "online" means, for the Sessions page's hand-over and for teammates here) and names the
    others, every ``CHECK_IN_EVERY`` on its own. Their ids, for the page run that calls it (a
    fragment's own reruns drop what it returns)."""
    if may_work:
        run_action(lambda db: human_agents.check_in(db, actor=actor, now=_now()))
    here = run_read(lambda db: human_agents.online(db, actor=actor, now=_now())) or []
    names = [m.name for m in here if m.id != actor.user_id]
    st.caption(
        f":material/groups: Online here: {md_escape(', '.join(names))}"
        if names
        else "No other human agent has this workspace open."
    )
    return {m.id for m in here}


here_now = presence()
mates = run_read(lambda db: human_agents.teammates(db, actor=actor)) or []
mate_names = {m.id: m.name for m in mates}
# The Assign picker says who has the workspace open: a conversation given to them is seen now.
assign_labels = {i: n + (" · online" if i in here_now else "") for i, n in mate_names.items()}
group_col, show_col = st.columns(2)
by = (
    group_col.segmented_control(
        "Group by", ["AI agent", "Human agent"], default="AI agent", key="ha_group"
    )
    or "AI agent"
)
SHOW_LABELS: dict[human_agents.Show, str] = {
    "all": "All",
    "mine": "Assigned to me",
    "unassigned": "Unassigned",
}
SHOW_LABELS.update(mate_names.items())
show: human_agents.Show = (
    show_col.selectbox(
        "Show", list(SHOW_LABELS), format_func=SHOW_LABELS.__getitem__, key="ha_show"
    )
    or "all"
)
chosen, link_problem = url.parse_id("conversation", "The link's conversation")
watched = partial(human_agents.signature, actor=actor, open_session=chosen)
seen = live.seen_now("human_agents", watched)  # before the list and the conversation are read
cards = run_read(lambda db: human_agents.conversations(db, actor=actor, show=show)) or []
counts = (
    run_read(
        lambda db: human_agents.group_counts(
            db,
            actor=actor,
            by="agent" if by == "AI agent" else "human",
            show=show,
        )
    )
    or {}
)

list_col, chat_col, panel_col = st.container(key=DETAIL_KEY).columns([1.1, 2, 1])

with list_col:
    if not cards and show == "all":
        st.info(
            "No conversation is with a person just now. A session handed over, from the Sessions "
            "page or by its AI agent, waits here for someone to accept it.",
            icon=":material/support_agent:",
        )
    elif not cards:
        st.info("Nothing was found for the specified filters", icon=":material/filter_alt_off:")
    elif len(cards) >= human_agents.LIST_LIMIT:
        st.caption(f"The {human_agents.LIST_LIMIT} most recently active conversations are listed.")
    groups: dict[str, list[human_agents.Card]] = defaultdict(list)
    for c in cards:
        key = c.agent if by == "AI agent" else (c.assignee or "Unassigned")
        groups[key].append(c)
    order = sorted(groups, key=lambda g: (g != "Unassigned", g.lower()))
    for g in order:
        # Names come from the agent runtime and from people: labels are Markdown, so escape them.
        with st.expander(f"{md_escape(g)} · {counts.get(g, len(groups[g]))}", expanded=True):
            for c in groups[g]:
                icon = channel_info(c.channel).icon
                badge = f" · {c.unread} new" if c.unread else ""
                who = md_escape(f"{c.agent} · {c.assignee or 'Unassigned'}")
                st.button(
                    f"{icon} {md_escape(c.customer)}{badge}",
                    key=f"ha_card_{c.id}",
                    help=who,
                    type="primary" if c.id == chosen else "secondary",
                    use_container_width=True,
                    on_click=_open,
                    args=(c.id,),
                )
                st.caption(who)


def _read(session_id: int) -> sessions.SessionDetail | None:
    return run_action(
        lambda db: sessions.get_session(
            db, session_id, actor=actor, last_messages=message_window(session_id)
        )
    )


with chat_col:
    if pick := st.session_state.pop("ha_scroll", None):  # on a phone the chat is under the list
        scroll_here_on_a_phone(pick)
    detail = _read(chosen) if chosen else None  # "not found" shows here, where the chat would be
    if detail is None:
        no_chat("Pick a conversation in the list.", ":material/support_agent:", link_problem)
    else:
        row = detail.row
        st.subheader(f"Chat · {md_escape(row.customer_name or ANONYMOUS)}")
        assignee = run_read(lambda db: human_agents.holder(db, actor=actor, session_id=row.id))
        drafts_usable = may_work and assignee == actor.user_id and row.finished_at is None

        def use_draft(text: str) -> None:
            st.session_state["ha_reply"] = text  # the reply box shows it, to edit and send

        with st.container(height=520, border=False):
            render_conversation(
                detail.conversation,
                tz,
                actor=actor,
                session_id=row.id,
                use_draft=use_draft if drafts_usable else None,
            )
            follow_the_end(row.id)  # an operator answers the newest message
        waiting = row.finished_at is None and row.mode != "ai"
        mine = waiting and assignee == actor.user_id
        if not waiting:
            st.caption("This conversation is finished or back with the AI: nothing to do here.")
        elif may_work:
            # Accept only while nobody has the conversation; without it the row starts with
            # Assign instead of an empty column.
            if assignee is None:
                accept_col, assign_col, resolve_col = st.columns(
                    [1, 1.6, 1], vertical_alignment="bottom"
                )
                if accept_col.button("Accept", type="primary", key="ha_accept") and run_step(
                    lambda db: human_agents.accept(db, actor=actor, session_id=row.id, now=_now())
                ):
                    st.session_state["ha_flash"] = "You have this conversation now"
                    st.rerun()
            else:
                assign_col, resolve_col = st.columns([1.6, 1], vertical_alignment="bottom")
            target = assign_col.selectbox(
                "Assign to",
                list(assign_labels),
                format_func=assign_labels.__getitem__,
                key="ha_assign_to",
                index=None,
                placeholder="A teammate",
            )
            if (
                assign_col.button("Assign", key="ha_assign", disabled=target is None)
                and target is not None
            ):
                if run_step(
                    partial(
                        human_agents.assign,
                        actor=actor,
                        session_id=row.id,
                        user_id=target,
                        now=_now(),
                    )
                ):
                    st.session_state["ha_flash"] = f"Assigned to {mate_names[target]}"
                    st.rerun()
            if assignee is not None and resolve_col.button("Resolve", key="ha_resolve"):
                st.session_state["ha_confirm"] = row.id
            if st.session_state.get("ha_confirm") == row.id:
                st.warning("Resolve this conversation? The session finishes.")
                yes, no = st.columns(2)
                if yes.button("Yes, resolve", type="primary", key="ha_resolve_yes"):
                    st.session_state.pop("ha_confirm", None)
                    if run_step(
                        lambda db: human_agents.resolve(
                            db, actor=actor, session_id=row.id, now=_now()
                        )
                    ):
                        st.session_state["ha_flash"] = "Resolved"
                        st.rerun()
                if no.button("Cancel", key="ha_resolve_no"):
                    st.session_state.pop("ha_confirm", None)
                    st.rerun()
            if mine:
                st.toggle(
                    "Copilot",
                    value=row.mode == "copilot",
                    key=f"ha_copilot_{row.id}",
                    help="While on, the agent runtime suggests drafts; you edit and send them",
                    on_change=lambda: run_action(
                        lambda db: human_agents.set_copilot(
                            db,
                            actor=actor,
                            session_id=row.id,
                            on=bool(st.session_state.get(f"ha_copilot_{row.id}")),
                            now=_now(),
                        )
                    ),
                )
            with st.expander("Private note"):
                # Sent by the button's callback, which empties the box only when the note went
                # in: a refused note stays to be fixed (a form that clears itself lost it).
                if why := st.session_state.pop("ha_note_refused", None):
                    feedback.error(why)
                with st.form("ha_note_form"):
                    st.text_area("Note for colleagues (never sent to the customer)", key="ha_note")
                    st.form_submit_button(
                        "Add note", on_click=_send, args=("ha_note", human_agents.note, row.id)
                    )
            if mine:
                if why := st.session_state.pop("ha_reply_refused", None):
                    feedback.error(why)
                # No ``max_chars``: Streamlit would cut a longer reply there without a word;
                # the console refuses it, naming its length, and it stays in the box.
                st.chat_input(
                    "Reply to the customer (Enter sends, Shift+Enter: new line)",
                    key="ha_reply",
                    on_submit=_send,
                    args=("ha_reply", human_agents.reply, row.id),
                )
            elif assignee is None:
                st.caption("Accept the conversation to reply to the customer.")
            else:
                holder_name = md_escape(mate_names.get(assignee, "A teammate"))
                st.caption(
                    f"{holder_name} has this conversation: only they can reply. "
                    "To take it over, assign it to yourself."
                )
        else:
            st.caption(f"You do not have permission to {Action.WORK_CONVERSATIONS}")

with panel_col:
    if detail is not None:
        render_panel(detail)


live.watch("human_agents", watched, seen)
