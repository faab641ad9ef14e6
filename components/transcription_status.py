"""A voice session's transcription on the page: progress while it runs, its error and Retry."""

from __future__ import annotations

import datetime as dt

import streamlit as st
from sqlalchemy.orm import Session

from components import feedback
from components.data import run_action
from sessionlens import chat, jobs
from sessionlens.chat import Transcription
from sessionlens.kinds import JobStatus
from sessionlens.permissions import Action, Actor, can


def transcription_status(session_id: int, job: Transcription | None, actor: Actor) -> None:
    """Where the transcription of this session stands (``job``, as read with its chat):
    nothing once done, progress while it runs (polled), the error and Retry when it failed."""
    if job is None:
        return
    status, _, error = job
    if status in jobs.IN_PROGRESS:
        _progress(session_id, actor)
    elif status in jobs.RETRYABLE:
        if status == JobStatus.FAILED:
            feedback.error(f"Transcription failed: {error}. The recording is kept.")
        else:
            feedback.warning(f"Transcription cancelled: {error}. The recording is kept.")
        if can(actor, Action.IMPORT) and st.button(
            "Retry", key=f"retry_{session_id}", icon=":material/replay:"
        ):
            if run_action(
                lambda db: (
                    jobs.retry(db, actor=actor, session_id=session_id, now=dt.datetime.now(dt.UTC))
                    and True
                )
            ):
                st.rerun()
    elif error:
        feedback.warning(error)


def shows_status(job: Transcription | None) -> bool:
    """Whether ``transcription_status`` draws anything for ``job``: not for a session never
    transcribed, nor for a transcription done without a note."""
    return job is not None and (job.status != JobStatus.DONE or bool(job.error))


def _state(db: Session, session_id: int, actor: Actor) -> Transcription | None:
    return chat.transcriptions(db, [session_id], actor=actor).get(session_id)


@st.fragment(run_every=2)
@feedback.guarded
def _progress(session_id: int, actor: Actor) -> None:
    """Polls the job every 2 s; when it ends, the whole page reruns to show the transcript."""
    job = run_action(lambda db: _state(db, session_id, actor))
    if job is None or job[0] not in jobs.IN_PROGRESS:
        st.rerun(scope="app")
    status, progress, _ = job
    label = (
        "Waiting for a transcription worker…"
        if status == JobStatus.QUEUED
        else (f"Transcribing the call… {progress:.0%}")
    )
    st.progress(progress, text=label)
