"""Importing a call recording as a voice session: check, store, create, queue; all or nothing."""

from __future__ import annotations

import datetime as dt
import mimetypes
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import (
    Agent,
    Attachment,
    ChatSession,
    Customer,
    Initiator,
    Job,
    Mode,
    SystemEvent,
)
from sessionlens import access, audit, jobs, logs, metrics, statuses, strict
from sessionlens.blobs import BlobStore
from sessionlens.channels import CHANNELS
from sessionlens.customers import customer_name_key, phone_problem
from sessionlens.errors import BadInput, RuleViolation
from sessionlens.messages import append_marker
from sessionlens.permissions import Action, Actor, require
from sessionlens.settings import Settings
from sessionlens.transcription.audio import ACCEPTED, AudioInfo, probe
from sessionlens.wording import counted


def recorded(db: Session, *, actor: Actor, external_id: str) -> tuple[int, Job | None] | None:
    """(session id, its newest transcription job) of the tenant's session with the sender's
    ``external_id``; None when there is none."""
    require(actor, Action.VIEW_SESSIONS)
    sid = db.scalar(
        select(ChatSession.id).where(
            ChatSession.tenant_id == actor.tenant_id, ChatSession.external_id == external_id
        )
    )
    if sid is None:
        return None
    return sid, jobs.latest_for_session(db, sid, actor=actor)


def _taken(external_id: str) -> RuleViolation:
    return RuleViolation(f"A session with external id {strict.quote(external_id)} exists")


@dataclass(frozen=True)
class NewCustomer:
    name: str
    phone: str | None = None


@dataclass(frozen=True)
class Imported:
    session_id: int
    job_id: int
    info: AudioInfo


def import_recording(
    db: Session,
    *,
    actor: Actor,
    data: bytes,
    filename: str,
    agent_id: int | None,
    channel: str,
    store: BlobStore,
    settings: Settings,
    now: dt.datetime,
    customer_id: int | None = None,
    new_customer: NewCustomer | None = None,
    started_at: dt.datetime | None = None,
    external_id: str | None = None,
    new_agent: str | None = None,
) -> Imported:
    """Create a voice session whose transcript a worker will write. Every check runs before
    anything is written; a refused file leaves no session, no job, no stored audio and no agent.
    The call's AI agent is ``agent_id``, or ``new_agent``, a name: that agent, made if the
    workspace has none of that name (a new workspace has no agents until its runtime sends a
    session).
    ``external_id`` is the sender's own id for the call (the HTTP API's idempotency key); a
    session of the tenant that has it already is a RuleViolation."""
    require(actor, Action.IMPORT)
    if external_id is not None:
        external_id = strict.text(
            external_id,
            "The call's external id",
            max_len=strict.limit(ChatSession.external_id),
            required=True,
        )
        if recorded(db, actor=actor, external_id=external_id) is not None:
            raise _taken(external_id)
    filename = Path(
        strict.text(
            filename, "File name", max_len=strict.limit(Attachment.file_name), required=True
        )
    ).name
    suffix = Path(filename).suffix.lower()
    if suffix not in ACCEPTED:
        raise BadInput(
            f"{strict.quote(filename)} is not a supported audio file ({', '.join(ACCEPTED)})"
        )
    if (agent_id is None) == (new_agent is None):
        raise BadInput("Pick the AI agent that took the call, or name a new one")
    if new_agent is not None:
        new_agent = strict.text(
            new_agent,
            "The new AI agent's name",
            max_len=strict.limit(Agent.name),
            required=True,
        )
    elif not db.scalar(
        select(Agent.id).where(Agent.tenant_id == actor.tenant_id, Agent.id == agent_id)
    ):
        raise BadInput(f"No AI agent with id {agent_id}")
    if channel not in CHANNELS:
        raise BadInput(f"Unknown channel {strict.quote(channel)} (one of: {', '.join(CHANNELS)})")
    if customer_id is not None and not db.scalar(
        select(Customer.id).where(Customer.tenant_id == actor.tenant_id, Customer.id == customer_id)
    ):
        raise BadInput(f"No customer with id {customer_id}")
    if new_customer is not None:
        name = strict.text(
            new_customer.name, "The new customer's name", max_len=strict.limit(Customer.name)
        )
        if not name:
            raise BadInput("Give the new customer a name")
        phone = strict.text(
            new_customer.phone or "",
            "The new customer's phone",
            max_len=strict.limit(Customer.phone),
        )
        if phone and (why := phone_problem(phone)):
            raise BadInput(f"The new customer's phone {why}")  # the contact edit's own words
        new_customer = NewCustomer(name, phone)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        info = probe(
            path,
            max_seconds=settings.max_audio_seconds,
            min_seconds=settings.min_audio_seconds,
            max_bytes=settings.max_upload_mb * 1_000_000,
        )
    key = store.put(data, suffix=suffix)
    try:
        if agent_id is None:  # every check passed: now the new agent may be made
            agent_id = access.agent_or_new(db, actor, new_agent or "")
        return _create(
            db,
            actor,
            filename,
            agent_id,
            channel,
            customer_id,
            new_customer,
            started_at or info.created_at or now,
            info,
            key,
            len(data),
            now,
            external_id,
        )
    except BaseException:
        store.delete(key)  # the transaction will not commit: keep no orphan audio
        raise


def _create(
    db: Session,
    actor: Actor,
    filename: str,
    agent_id: int,
    channel: str,
    customer_id: int | None,
    new_customer: NewCustomer | None,
    started: dt.datetime,
    info: AudioInfo,
    key: str,
    size: int,
    now: dt.datetime,
    external_id: str | None,
) -> Imported:
    if new_customer is not None:
        c = Customer(
            tenant_id=actor.tenant_id,
            name=new_customer.name.strip(),
            name_key=customer_name_key(new_customer.name),
            phone=(new_customer.phone or "").strip() or None,
            custom_fields={},
        )
        db.add(c)
        db.flush()
        customer_id = c.id
    cs = ChatSession(
        tenant_id=actor.tenant_id,
        external_id=external_id,
        agent_id=agent_id,
        channel=channel,
        customer_id=customer_id,
        mode=Mode.AI,
        status=statuses.opening(statuses.of_tenant(db, actor.tenant_id)),
        initiator=Initiator.CLIENT,
        started_at=started,
        last_message_at=started,
        message_count=0,
        has_attachments=False,
        parameters={"source": "import", "file": filename},
        results={},
        geo_note="No IP address",
    )
    db.add(cs)
    try:
        with db.begin_nested():  # the same call sent twice at once: one of them gets this
            db.flush()
    except IntegrityError:
        raise _taken(external_id or "") from None
    append_marker(db, cs, SystemEvent.STARTED, {"initiator": "Client"}, at=started)
    mime = mimetypes.guess_type(filename)[0] or "audio/" + Path(filename).suffix.lstrip(".")
    db.add(
        Attachment(
            tenant_id=actor.tenant_id,
            session_id=cs.id,
            is_recording=True,
            file_name=Path(filename).name,
            mime_type=mime,
            size_bytes=size,
            storage_key=key,
            created_at=now,
        )
    )
    job = jobs.enqueue(
        db, tenant_id=actor.tenant_id, session_id=cs.id, kind=jobs.TRANSCRIPTION, now=now
    )
    logs.append_system(
        db,
        tenant_id=actor.tenant_id,
        session_id=cs.id,
        at=now,
        text=f"Recording imported by {actor.name}: {Path(filename).name}, "
        f"{info.duration:.1f} s, {counted(info.channels, 'channel')}; transcription queued",
    )
    audit.record(db, actor, "import_recording", "chat_session", cs.id, now=now, file=filename)
    metrics.count_on_commit(db, metrics.SESSIONS_INGESTED.labels("recording"))
    db.flush()
    return Imported(cs.id, job.id, info)
