"""Settings (Admin): the tenant's users, the tenant itself, its API keys, and its transcription
queue.

A password an admin gives out is made here, shown once and never typed into a widget: an invite and
a reset each show a new random password to pass on. An API key is shown once as well; only its hash
is kept.
"""

import datetime as dt
import secrets
import zoneinfo
from functools import partial

import streamlit as st

from components import feedback
from components.data import current_actor, run_action, run_step
from sessionlens import admin, jobs, timefmt
from sessionlens.kinds import JobStatus, Plan, Role
from sessionlens.permissions import Action, can
from sessionlens.wording import counted

actor = current_actor()
st.header("Settings")
if not can(actor, Action.ADMINISTER):
    feedback.error(f"You do not have permission to {Action.ADMINISTER}")
    st.stop()

ROLE_LABELS = {r.value: r.value.title() for r in Role}
#: What an admin reads for a result field's type (the stored values are the format's names).
FIELD_TYPE_LABELS = {
    "str": "Text",
    "int": "Whole number",
    "bool": "Yes or no",
    "date": "Date",
    "datetime": "Date and time",
    "list": "List",
    "choice": "Choice",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _show_once(title: str, secret: str, note: str) -> None:
    st.session_state["settings_once"] = (title, secret, note)


# A form is emptied after it went through, not when it is sent (``clear_on_submit``): a refused
# invite or key name stays to be fixed. Done at the top of the next run, before the boxes exist.
for emptied in st.session_state.pop("settings_empty", ()):
    st.session_state[emptied] = ""

if once := st.session_state.pop("settings_once", None):
    title, secret, note = once
    feedback.success(title)
    st.code(secret, language=None)
    st.caption(note)

if flash := st.session_state.pop("settings_flash", None):
    feedback.success(flash)

users_tab, tenant_tab, keys_tab, queue_tab = st.tabs(
    ["Users", "Tenant", "API keys", "Transcription queue"]
)

with users_tab:
    users = run_action(lambda db: admin.list_users(db, actor=actor)) or []
    st.dataframe(
        [
            {
                "Name": u.name,
                "Email": u.email,
                "Role": ROLE_LABELS.get(u.role, u.role),
                "Active": u.is_active,
                "Password set": u.can_sign_in,
            }
            for u in users
        ],
        hide_index=True,
        width="stretch",
    )
    by_id = {u.id: u for u in users}
    st.subheader("Change a user")
    pick = st.selectbox(
        "User",
        list(by_id),
        format_func=lambda i: f"{by_id[i].name} <{by_id[i].email}>",
        key="settings_user",
    )
    if pick is not None:
        u = by_id[pick]
        role_col, act_col, pw_col = st.columns([2, 1, 1], vertical_alignment="bottom")
        new_role = role_col.selectbox(
            "Role",
            list(ROLE_LABELS),
            index=list(ROLE_LABELS).index(u.role),
            format_func=ROLE_LABELS.__getitem__,
            key=f"settings_role_{u.id}",
        )
        if role_col.button("Change role", key="settings_set_role", disabled=new_role == u.role):
            if run_step(
                lambda db: admin.set_role(db, actor=actor, user_id=u.id, role=new_role, now=_now())
            ):
                st.session_state["settings_flash"] = f"{u.name} is now {ROLE_LABELS[new_role]}"
                st.rerun()
        label = "Deactivate" if u.is_active else "Reactivate"
        if act_col.button(label, key="settings_active", width="stretch"):
            returned = run_action(
                lambda db: admin.set_active(
                    db, actor=actor, user_id=u.id, active=not u.is_active, now=_now()
                )
            )
            if returned is not None:
                back = (
                    f"; {counted(returned, 'open conversation')} of theirs went back to the "
                    "Human Agents queue"
                    if returned
                    else ""
                )
                st.session_state["settings_flash"] = f"{u.name}: {label.lower()}d{back}"
                st.rerun()
        if pw_col.button("Reset password", key="settings_reset", width="stretch"):
            new_password = secrets.token_urlsafe(12)
            if run_step(
                lambda db: admin.reset_password(
                    db, actor=actor, user_id=u.id, password=new_password, now=_now()
                )
            ):
                _show_once(
                    f"New password for {u.email}",
                    new_password,
                    "Shown once. Pass it on to them (Change password, in the sidebar, sets one of "
                    "their own); their open sessions have ended.",
                )
                st.rerun()
        # A typo in an invite, a new surname or address. Keyed by user, so that another pick
        # shows that user's values and a refused edit keeps what was typed.
        with st.form(f"settings_rename_{u.id}", border=False):
            name_col, email_col, save_col = st.columns([1, 1, 0.5], vertical_alignment="bottom")
            new_name = name_col.text_input("Name", value=u.name, max_chars=200)
            new_email = email_col.text_input("Email", value=u.email, max_chars=320)
            if save_col.form_submit_button("Save name and email", width="stretch"):
                row = run_action(
                    lambda db: admin.rename_user(
                        db, actor=actor, user_id=u.id, name=new_name, email=new_email, now=_now()
                    )
                )
                if row is not None:
                    st.session_state["settings_flash"] = f"Saved: {row.name} <{row.email}>"
                    st.rerun()

    st.subheader("Invite a user")
    with st.form("settings_invite"):
        email = st.text_input("Email", max_chars=320, key="invite_email")
        name = st.text_input("Name", max_chars=200, key="invite_name")
        role = st.selectbox(
            "Role",
            list(ROLE_LABELS),
            format_func=ROLE_LABELS.__getitem__,
            index=list(ROLE_LABELS).index(Role.VIEWER),
            key="invite_role",
        )
        if st.form_submit_button("Invite"):
            password = secrets.token_urlsafe(12)
            row = run_action(
                lambda db: admin.invite_user(
                    db,
                    actor=actor,
                    email=email,
                    name=name,
                    role=role,
                    password=password,
                    now=_now(),
                )
            )
            if row is not None:
                _show_once(
                    f"Invited {row.email} as {ROLE_LABELS[row.role]}",
                    password,
                    "Their first password, shown once: pass it on to them (Change password, in the sidebar, "
                    "sets one of their own).",
                )
                st.session_state["settings_empty"] = ("invite_email", "invite_name")
                st.rerun()

with tenant_tab:
    current = run_action(lambda db: admin.tenant_settings(db, actor=actor))
    if current is not None:
        zones = sorted(zoneinfo.available_timezones())
        with st.form("settings_tenant"):
            name = st.text_input("Tenant name", current.name, max_chars=200)
            tz = st.selectbox(
                "Time zone",
                zones,
                index=zones.index(current.timezone) if current.timezone in zones else 0,
            )
            plan = st.radio(
                "Plan",
                [p.value for p in Plan],
                index=[p.value for p in Plan].index(current.plan),
                format_func=str.title,
                horizontal=True,
                help="Trace Logs are shown on the Paid plan only",
            )
            statuses = st.text_area(
                "Session statuses, one per line, in display order",
                "\n".join(current.statuses),
                # every status in sight and a line to add one (the label included; least 96 px)
                height=max(96, 26 * (len(current.statuses) + 1) + 16),
            )
            st.markdown("**Session result fields**")
            fields = st.data_editor(
                [
                    {
                        "label": f["label"],
                        "key": f["key"],
                        "type": f["type"],
                        "choices": ", ".join(f.get("choices") or []),
                    }
                    for f in current.result_fields
                ],
                num_rows="dynamic",
                column_config={
                    "label": st.column_config.TextColumn("Name", required=True),
                    "key": st.column_config.TextColumn("Key", help="Empty: made from the name"),
                    "type": st.column_config.SelectboxColumn(
                        "Type",
                        options=list(admin.FIELD_TYPES),
                        format_func=lambda t: FIELD_TYPE_LABELS.get(str(t), str(t)),
                        default="str",
                        required=True,
                    ),
                    "choices": st.column_config.TextColumn(
                        "Choices", help="For the choice type: comma-separated"
                    ),
                },
                hide_index=True,
                width="stretch",
                key="settings_fields",
            )
            if st.form_submit_button("Save"):
                changed = run_action(
                    lambda db: admin.update_tenant(
                        db,
                        actor=actor,
                        settings=admin.TenantSettings(
                            name, tz, plan, statuses.splitlines(), list(fields)
                        ),
                        now=_now(),
                    )
                )
                if changed is not None:
                    feedback.success(
                        "Saved: " + ", ".join(c.replace("_", " ") for c in changed)
                        if changed
                        else "Nothing changed"
                    )

with keys_tab:
    st.caption(
        "Your agent runtime sends sessions in with a key: `Authorization: Bearer <key>`. "
        "A key is shown once when it is made; only its hash is kept."
    )
    keys = run_action(lambda db: admin.list_api_keys(db, actor=actor)) or []
    if keys:
        st.dataframe(
            [
                {
                    "Name": k.name,
                    "Key starts with": k.prefix + "…",
                    "Created (UTC)": k.created_at.strftime("%Y-%m-%d %H:%M"),
                    "Revoked (UTC)": k.revoked_at.strftime("%Y-%m-%d %H:%M")
                    if k.revoked_at
                    else "",
                }
                for k in keys
            ],
            hide_index=True,
            width="stretch",
        )
    else:
        st.info("No API keys yet.", icon=":material/key:")
    with st.form("settings_new_key"):
        key_name = st.text_input(
            "Name of the new key",
            max_chars=100,
            placeholder="production runtime",
            key="new_key_name",
        )
        if st.form_submit_button("Create key"):
            key = run_action(
                lambda db: admin.create_api_key(db, actor=actor, name=key_name, now=_now())
            )
            if key is not None:
                _show_once(
                    f"Created the key {key_name!r}",
                    key,
                    "Copy it now: it is not shown again.",
                )
                st.session_state["settings_empty"] = ("new_key_name",)
                st.rerun()
    live = [k for k in keys if k.revoked_at is None]
    if live:
        by_key = {k.id: k for k in live}
        revoke = st.selectbox(
            "Revoke a key",
            list(by_key),
            format_func=lambda i: f"{by_key[i].name} ({by_key[i].prefix}…)",
            key="settings_revoke_pick",
        )
        if st.button("Revoke", key="settings_revoke"):
            if run_step(
                lambda db: admin.revoke_api_key(db, actor=actor, key_id=revoke, now=_now())
            ):
                st.session_state["settings_flash"] = f"Revoked {by_key[revoke].name}"
                st.rerun()


with queue_tab:
    state = run_action(lambda db: jobs.queue_state(db, actor=actor))
    if state is not None:
        cols = st.columns(len(JobStatus))
        for col, status in zip(cols, JobStatus, strict=True):
            col.metric(status.value.title(), state.counts.get(status, 0))
        if state.oldest_queued is not None:
            st.caption(
                f"The longest-waiting recording was queued {timefmt.age(state.oldest_queued, _now())} ago. "
                "On Postgres, transcription runs in `sessionlens worker` processes: if jobs wait "
                "and none runs, start one."
            )
    recent = run_action(lambda db: jobs.queue(db, actor=actor, limit=100)) or []
    if recent:
        st.dataframe(
            [
                {
                    "Job": j.id,
                    "Session": j.session_id,
                    "Status": j.status,
                    "Tries": j.attempts,
                    "Progress": f"{j.progress:.0%}",
                    "Queued": timefmt.age(j.created_at, _now()) + " ago",
                    "Worker or error": j.error or j.worker or "",
                }
                for j in recent
            ],
            hide_index=True,
            width="stretch",
        )
        actionable = {j.id: j for j in recent if j.status != JobStatus.DONE}
        if actionable:
            pick = st.selectbox(
                "Job",
                list(actionable),
                format_func=lambda i: (
                    f"Job {i} · session {actionable[i].session_id} · {actionable[i].status}"
                ),
                key="settings_job",
            )
            job = actionable.get(pick) if pick is not None else None
            # (label, key, icon, the statuses it applies to, the domain call, what it did, help)
            actions = (
                ("Retry", "retry", ":material/replay:", jobs.RETRYABLE, jobs.retry_job,
                 "is queued again", None),
                ("Cancel", "cancel", ":material/cancel:", jobs.IN_PROGRESS, jobs.cancel_job,
                 "is cancelled", "A running job stops at its next heartbeat; its recording is kept"),
            )  # fmt: skip
            for col, (label, name, icon, applies, act, did, hint) in zip(
                st.columns(len(actions)), actions, strict=True
            ):
                if (
                    col.button(
                        label,
                        key=f"settings_job_{name}",
                        icon=icon,
                        disabled=job is None or job.status not in applies,
                        help=hint,
                        width="stretch",
                    )
                    and job is not None
                    and run_step(partial(act, job_id=job.id, now=_now(), actor=actor))
                ):
                    st.session_state["settings_flash"] = f"Job {job.id} {did}"
                    st.rerun()
    else:
        st.info(
            "No transcription jobs yet. Call recordings imported with Import session or sent"
            " through the API wait here for a worker.",
            icon=":material/graphic_eq:",
        )
