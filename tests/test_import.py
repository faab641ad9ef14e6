"""Importing recordings end to end: real speech (espeak-ng), the real tiny.en model, the worker.

Speech is synthesised at test time with espeak-ng (installed by .ci/run); nothing is faked.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, update

from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from db.models import Agent, Attachment, ChatSession, Job, JobStatus, Message, SessionLog
from sessionlens import chat, demo, geo, identity, jobs
from sessionlens.blobs import DatabaseBlobStore, LocalBlobStore
from sessionlens.errors import BadInput
from sessionlens.importer import NewCustomer, import_recording
from sessionlens.settings import Settings
from sessionlens.transcription.engine import ModelError, WhisperEngine, resolve_model
from sessionlens.worker import Worker
from tests.conftest import NOW, _postgres_engine, pg_url, unavailable

SENTENCE = "Please reset my router password before Friday."
OTHER = "Your parcel will arrive on Monday morning."


def _espeak(text: str, out: Path) -> Path:
    if not shutil.which("espeak-ng"):
        unavailable("espeak-ng is not installed: apt-get install espeak-ng")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(out), text], check=True)
    return out


def _read(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16), w.getframerate()


def _stereo(left: Path, right: Path, out: Path) -> Path:
    a, rate = _read(left)
    b, _ = _read(right)
    silence = np.zeros(rate, np.int16)
    left_track = np.concatenate([a, silence, np.zeros(len(b), np.int16)])
    right_track = np.concatenate([np.zeros(len(a), np.int16), silence, b])
    with wave.open(str(out), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.stack([left_track, right_track], axis=1).tobytes())
    return out


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    d = tmp_path_factory.mktemp("speech")
    mono = _espeak(SENTENCE, d / "call.wav")
    other = _espeak(OTHER, d / "other.wav")
    return {"mono": mono, "stereo": _stereo(mono, other, d / "stereo.wav"), "dir": d}


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    # The pipeline tests run the fastest shipped model, tiny.en; the default (base) has its own
    # test below and runs through the app in the browser test of an import.
    return Settings(
        blob_dir=str(tmp_path_factory.mktemp("blobs")), whisper_beam_size=1, whisper_model="tiny.en"
    )


@pytest.fixture(scope="module")
def engine_model(settings):
    return WhisperEngine(settings)


@pytest.fixture
def world(tmp_path, settings):
    return _world(make_engine(f"sqlite:///{tmp_path / 'import.db'}"), settings)


@pytest.fixture(params=["sqlite", "postgres"])
def queue_world(request, tmp_path, settings):
    """A world on each backend, for the job queue's claims and leases (committed, so that two
    workers' connections see each other's writes). On Postgres the recordings are kept in the
    database blob store, its default."""
    if request.param == "sqlite":
        return _world(make_engine(f"sqlite:///{tmp_path / 'queue.db'}"), settings)
    url = pg_url("sessionlens_queue")
    return _world(_postgres_engine(url), settings)


def _world(eng, settings):
    upgrade(eng)
    with eng.begin() as conn:
        demo.generate(conn, locator=geo.Locator(None), sessions=20, seed=2, now=NOW)
    maker = make_sessionmaker(eng)
    with maker() as db:
        actor = identity.default_actor(db)
        agent = db.scalar(
            select(ChatSession.agent_id).where(ChatSession.tenant_id == actor.tenant_id).limit(1)
        )
    in_db = eng.dialect.name == "postgresql"
    store = DatabaseBlobStore(eng) if in_db else LocalBlobStore(settings.blob_dir)
    return maker, actor, agent, store


def _import(world, settings, path: Path, **kw):
    maker, actor, agent, store = world
    with maker.begin() as db:
        return import_recording(
            db,
            actor=actor,
            data=path.read_bytes(),
            filename=path.name,
            channel="sip",
            store=store,
            settings=settings,
            now=NOW,
            **{"agent_id": agent, **kw},
        )


def _counts(maker):
    with maker() as db:
        return (
            db.scalar(select(func.count()).select_from(ChatSession)),
            db.scalar(select(func.count()).select_from(Job)),
        )


def test_mono_call_becomes_a_transcribed_voice_session(world, settings, speech, engine_model):
    maker, actor, _, store = world
    done = _import(
        world, settings, speech["mono"], new_customer=NewCustomer("Ada Caller", "+44 20 7946 0000")
    )
    with maker() as db:
        conv = chat.conversation(db, done.session_id, actor=actor)
        assert conv.transcribing and conv.recording is not None
    worker = Worker(maker, settings, store, engine_factory=lambda s: engine_model)
    assert worker.run_once()
    with maker() as db:
        conv = chat.conversation(db, done.session_id, actor=actor)
        cs = db.get(ChatSession, done.session_id)
        job = db.get(Job, done.job_id)
        said = [m for m in conv.messages if m.author_kind == "customer"]
        words = " ".join(m.text for m in said).lower()
        assert {"reset", "router", "password", "friday"} <= set(words.replace(".", "").split())
        assert all(m.event_data.get("speaker") == "unknown" for m in said)
        assert not conv.transcribing and job.status == JobStatus.DONE and job.progress == 1.0
        assert cs.message_count == len(said) and cs.finished_at > cs.started_at
        assert cs.last_message_at == said[-1].sent_at
        logs = db.scalars(select(SessionLog.text).where(SessionLog.session_id == cs.id)).all()
        # The System Logs lines read as sentences: "1 channel", "3 segments" (not "1 channel(s)",
        # nor "1 segments" for a call that is one sentence)
        n = len(said)
        assert any(
            t.startswith("Recording imported") and t.endswith(" s, 1 channel; transcription queued")
            for t in logs
        )
        segments = f"{n} segment{'' if n == 1 else 's'}"
        assert f"Transcription finished: {segments} from " in " ".join(logs)
        got = chat.stored_file(db, conv.recording.id, actor=actor, recording=True, store=store)
        assert b"".join(got.chunks()) == speech["mono"].read_bytes() and got.file_name == "call.wav"


def test_the_transcript_keeps_the_chats_markers_on_both_databases(
    queue_world, settings, speech, engine_model
):
    """Writing the transcript replaces an earlier attempt's lines only. On SQLite its DELETE
    matched every message of the session (a JSON path that is absent reads there as the text
    'null', not NULL), so a call's chat lost "Client started the session at …" and a hand-over
    marker written while the worker was busy."""
    from sessionlens import handover
    from sessionlens.kinds import SystemEvent

    maker, actor, _, store = queue_world
    done = _import(queue_world, settings, speech["mono"])
    with maker.begin() as db:
        handover.hand_over(db, actor=actor, session_id=done.session_id, now=NOW)
    worker = Worker(maker, settings, store, engine_factory=lambda s: engine_model)
    assert worker.run_once()
    with maker() as db:
        conv = chat.conversation(db, done.session_id, actor=actor)
        events = [m.system_event for m in conv.messages if m.author_kind == "system"]
        said = [m for m in conv.messages if m.author_kind == "customer"]
    assert events == [SystemEvent.STARTED, SystemEvent.TRANSFER] and said


def test_a_worker_waits_out_database_trouble_and_then_transcribes(
    world, settings, speech, engine_model
):
    """The database is away for the worker's first two looks at the queue (Postgres restarting,
    SQLite busy past its timeout): the worker keeps going and transcribes the call once it is
    back. It used to end on the first error, and the embedded worker with it, leaving every
    later recording untranscribed until the app was restarted."""
    import threading

    from sqlalchemy.exc import OperationalError

    maker, actor, _, store = world
    done = _import(world, settings, speech["mono"])
    refusals = [OperationalError("SELECT", {}, Exception("the database system is starting up"))]
    refusals *= 2

    class Flaky:  # the worker's sessionmaker: refuses twice, then is the real one
        def _ready(self) -> None:
            if refusals:
                raise refusals.pop()

        def __call__(self):  # type: ignore[no-untyped-def]
            self._ready()
            return maker()

        def begin(self):  # type: ignore[no-untyped-def]
            self._ready()
            return maker.begin()

    worker = Worker(
        Flaky(),  # type: ignore[arg-type]
        settings,
        store,
        engine_factory=lambda s: engine_model,
        poll_seconds=0.05,
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        for _ in range(600):
            with maker() as db:
                if db.get(Job, done.job_id).status == JobStatus.DONE:
                    break
            threading.Event().wait(0.1)
    finally:
        worker.stop.set()
        thread.join(30)
    assert not refusals and not thread.is_alive()
    with maker() as db:
        assert db.get(Job, done.job_id).status == JobStatus.DONE
        assert chat.conversation(db, done.session_id, actor=actor).messages


def test_stereo_channels_get_their_own_authors(world, settings, speech, engine_model):
    maker, actor, _, store = world
    done = _import(world, settings, speech["stereo"])
    Worker(maker, settings, store, engine_factory=lambda s: engine_model).run_once()
    with maker() as db:
        msgs = [
            m
            for m in chat.conversation(db, done.session_id, actor=actor).messages
            if m.author_kind != "system"
        ]
    by_author = {m.author_kind: m.text.lower() for m in msgs}
    assert "router" in by_author["customer"] and "parcel" in by_author["ai"]
    assert [m.author_kind for m in msgs][0] == "customer"  # left channel spoke first


@pytest.mark.parametrize(
    "name, make, message",
    [
        ("empty.wav", lambda d: b"", "The file is empty"),
        (
            "notes.wav",
            lambda d: b"this is a text file, not audio\n" * 50,
            "not an audio file the importer can read: its contents are in no audio format it",
        ),
        ("header.wav", lambda d: b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 200, "not an audio"),
        ("blip.wav", lambda d: _silence(d, 0.05), "contains no audio"),
        ("silence.wav", lambda d: _silence(d, 1.5), "The recording is silent"),
        ("long.wav", lambda d: _tone(d, 3.0), "longer than the 2 s limit"),
        ("beep.wav", lambda d: _tone(d, 0.1), "0.1 s long, shorter than the 1 s minimum"),
        ("short.wav", lambda d: _tone(d, 0.6), "0.6 s long, shorter than the 1 s minimum"),
        ("half.wav", lambda d: _truncated_wav(d), "damaged or truncated: only 1 of its 2 s"),
        ("notes.txt", lambda d: b"hello", "not a supported audio file"),
    ],
)
def test_bad_files_are_refused_and_create_nothing(world, settings, speech, name, make, message):
    maker, *_ = world
    path = speech["dir"] / name
    path.write_bytes(make(speech["dir"]))
    strict = settings.model_copy(update={"max_audio_seconds": 2})
    before = _counts(maker)
    blobs = sorted(Path(settings.blob_dir).rglob("*"))
    with pytest.raises(BadInput, match=message) as refused:
        _import(world, strict, path)
    assert _counts(maker) == before and sorted(Path(settings.blob_dir).rglob("*")) == blobs
    assert "Error" not in str(refused.value)  # the decoder's exception class is not for users


def test_a_new_customers_phone_is_refused_in_the_contact_edits_words(world, settings, speech):
    maker, *_ = world
    before = _counts(maker)
    with pytest.raises(
        BadInput,
        match=r"The new customer's phone 'call me' is not a phone number \(digits, spaces, \+",
    ):
        _import(world, settings, speech["mono"], new_customer=NewCustomer("Ada", "call me"))
    assert _counts(maker) == before


def test_a_call_can_be_imported_for_a_new_ai_agent(world, settings, speech):
    """A new workspace has no AI agents until its runtime sends a session, and a call belongs to
    one: the import names a new one, made once the file passed every check (a refused file makes
    no agent), and found again by that name next time."""
    maker, actor, *_ = world

    def agents() -> list[str]:
        with maker() as db:
            return list(db.scalars(select(Agent.name).where(Agent.tenant_id == actor.tenant_id)))

    def send(path: Path, **kw):
        return _import(world, settings, path, **kw)

    before = agents()
    bad = speech["dir"] / "notes.wav"
    bad.write_bytes(b"this is a text file, not audio\n" * 50)
    with pytest.raises(BadInput, match="not an audio file"):
        send(bad, agent_id=None, new_agent="Vox (Calls)")
    assert agents() == before  # a refused file makes no agent
    for kw, message in (
        ({"agent_id": None}, "Pick the AI agent that took the call, or name a new one"),
        ({"agent_id": None, "new_agent": "  "}, "The new AI agent's name is required"),
        ({"agent_id": None, "new_agent": "Vox\x07"}, "contains a control character"),
    ):
        with pytest.raises(BadInput, match=message):
            send(speech["mono"], **kw)
    first = send(speech["mono"], agent_id=None, new_agent=" Vox  (Calls) ")
    again = send(speech["mono"], agent_id=None, new_agent="Vox (Calls)")
    assert agents() == [*before, "Vox (Calls)"]  # made once, tidied, then found by its name
    with maker() as db:
        made = db.scalar(select(Agent.id).where(Agent.name == "Vox (Calls)"))
        assert {
            db.get_one(ChatSession, i).agent_id for i in (first.session_id, again.session_id)
        } == {made}


def test_over_the_size_limit_is_refused(world, settings, speech):
    tiny = settings.model_copy(update={"max_upload_mb": 0})
    with pytest.raises(BadInput, match="larger than the 0 MB limit"):
        _import(world, tiny, speech["mono"])


def test_truncated_mp3_is_refused_with_what_was_readable(world, settings, speech):
    import av

    mp3 = speech["dir"] / "call.mp3"
    with av.open(str(speech["mono"])) as src, av.open(str(mp3), "w") as dst:
        out = dst.add_stream("mp3", rate=22050)
        for frame in src.decode(audio=0):
            frame.pts = None
            for packet in out.encode(frame):
                dst.mux(packet)
        for packet in out.encode(None):
            dst.mux(packet)
    cut = speech["dir"] / "cut.mp3"
    cut.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 3])
    maker, *_ = world
    before = _counts(maker)
    with pytest.raises(BadInput, match="damaged or truncated|not an audio file"):
        _import(world, settings, cut)
    assert _counts(maker) == before


def test_a_dead_workers_job_is_finished_by_the_next(queue_world, settings, speech, engine_model):
    maker, actor, _, store = queue_world
    done = _import(queue_world, settings, speech["mono"])
    with maker.begin() as db:  # worker A claims, then dies: it never heartbeats again
        assert jobs.claim(db, worker="A", now=NOW).id == done.job_id
    with maker.begin() as db:
        assert jobs.claim(db, worker="B", now=NOW + dt.timedelta(seconds=30)) is None
    later = NOW + jobs.STALE_AFTER + dt.timedelta(seconds=1)
    with maker.begin() as db:
        job = jobs.claim(db, worker="B", now=later)
        assert job.id == done.job_id and job.attempts == 2
        jobs.release(db, job.id, worker="B", attempt=job.attempts)
    Worker(maker, settings, store, engine_factory=lambda s: engine_model).run_once()
    with maker() as db:
        assert db.get(Job, done.job_id).status == JobStatus.DONE
        assert db.scalar(
            select(func.count()).where(
                Message.session_id == done.session_id, Message.author_kind == "customer"
            )
        )


def test_a_stalled_worker_that_resumes_writes_nothing(queue_world, settings, speech, engine_model):
    """Worker A transcribes, then stalls before writing (a paused VM, a long GC) past the reclaim
    interval; B reclaims and finishes the job; A resumes and must discard its work, not write the
    transcript a second time."""
    maker, actor, _, store = queue_world
    done = _import(queue_world, settings, speech["mono"])
    resume, stalled = threading.Event(), threading.Event()

    class Stalling:  # the real model; only the moment after the last segment is held back
        settings = engine_model.settings

        def transcribe(self, audio, stop):
            yield from engine_model.transcribe(audio, stop)
            stalled.set()
            resume.wait(60)

    a = Worker(maker, settings, store, engine_factory=lambda s: Stalling(), name="A")
    a.heartbeat_seconds = 3600  # A's pulse stalls with it
    thread = threading.Thread(target=a.run_once)
    thread.start()
    assert stalled.wait(120)
    with maker.begin() as db:  # A's heartbeats stopped long ago: its job is stale
        db.execute(update(Job).where(Job.id == done.job_id).values(heartbeat_at=NOW))
    b = Worker(maker, settings, store, engine_factory=lambda s: engine_model, name="B")
    assert b.run_once()
    with maker() as db:
        job = db.get(Job, done.job_id)
        assert (job.status, job.worker, job.attempts) == (JobStatus.DONE, "B", 2)
        written = _transcript(db, done.session_id)
    assert written
    resume.set()
    thread.join(120)
    with maker() as db:
        assert _transcript(db, done.session_id) == written  # once, not twice
        finished = db.scalar(
            select(func.count()).where(
                SessionLog.session_id == done.session_id,
                SessionLog.text.like("Transcription finished%"),
            )
        )
        assert finished == 1  # the System Logs say it was transcribed once
        cs = db.get(ChatSession, done.session_id)
        assert cs.message_count == len(written)
        assert db.get(Job, done.job_id).worker == "B"


def _transcript(db, session_id):
    """The transcript rows with their ids: a rewrite, even with the same words, shows."""
    return db.execute(
        select(Message.id, Message.seq, Message.text)
        .where(Message.session_id == session_id, Message.author_kind != "system")
        .order_by(Message.seq)
    ).all()


def test_stopping_a_worker_puts_its_job_back(queue_world, settings, speech, engine_model):
    maker, actor, _, store = queue_world
    done = _import(queue_world, settings, speech["mono"])
    worker = Worker(maker, settings, store, engine_factory=lambda s: engine_model)
    worker.stop.set()  # SIGTERM arrived while the job was starting
    worker.run_once()
    with maker() as db:
        job = db.get(Job, done.job_id)
        assert job.status == JobStatus.QUEUED and job.worker is None


def test_failed_job_keeps_audio_and_can_be_retried(world, settings, speech, engine_model):
    maker, actor, _, store = world
    done = _import(world, settings, speech["mono"])

    def broken(_settings):
        raise ModelError("Model directory /nope does not exist")

    Worker(maker, settings, store, engine_factory=broken).run_once()
    with maker() as db:
        job = db.get(Job, done.job_id)
        assert job.status == JobStatus.FAILED and "does not exist" in job.error
        key = db.scalar(
            select(Attachment.storage_key).where(Attachment.session_id == done.session_id)
        )
        assert store.path(key).is_file()
    with maker.begin() as db:
        jobs.retry(db, actor=actor, session_id=done.session_id, now=NOW)
    Worker(maker, settings, store, engine_factory=lambda s: engine_model).run_once()
    with maker() as db:
        assert db.get(Job, done.job_id).status == JobStatus.DONE


def test_model_settings_fail_with_a_clear_message(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(str(tmp_path / "missing-model"))
    with pytest.raises(ModelError, match="not available offline"):
        resolve_model("large-v3")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="lacks model.bin"):
        resolve_model(str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="English-only"):
        WhisperEngine(Settings(whisper_model="tiny.en", whisper_language="de"))
    with pytest.raises(ModelError, match="COMPUTE_TYPE"):
        WhisperEngine(Settings(whisper_compute_type="float16"))


def _tone(d: Path, seconds: float) -> bytes:
    out = d / f"tone-{seconds}.wav"
    t = np.arange(int(16000 * seconds)) / 16000
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((3000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16).tobytes())
    return out.read_bytes()


def _truncated_wav(d: Path) -> bytes:
    """A WAV whose header declares 2 s but which holds only the first second."""
    whole = _tone(d, 2.0)
    return whole[: 44 + 32000]


def _silence(d: Path, seconds: float) -> bytes:
    out = d / f"silence-{seconds}.wav"
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * int(16000 * seconds))
    return out.read_bytes()


def test_worker_thread_loop_stops_cleanly(world, settings, engine_model):
    maker, _, _, store = world
    worker = Worker(
        maker, settings, store, engine_factory=lambda s: engine_model, poll_seconds=0.05
    )
    t = threading.Thread(target=worker.run)
    t.start()
    worker.stop.set()
    t.join(5)
    assert not t.is_alive()


def test_cli_imports_many_files_and_waits(tmp_path, settings, speech, monkeypatch):
    from typer.testing import CliRunner

    from sessionlens.cli import app
    from sessionlens.settings import get_settings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    eng = make_engine(url)
    upgrade(eng)
    with eng.begin() as conn:
        demo.generate(conn, locator=geo.Locator(None), sessions=10, seed=4, now=NOW)
    monkeypatch.setenv("SESSIONLENS_BLOB_DIR", settings.blob_dir)
    monkeypatch.setenv("SESSIONLENS_WHISPER_BEAM_SIZE", "1")
    get_settings.cache_clear()
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    try:
        res = CliRunner().invoke(
            app,
            [
                "import-audio",
                str(speech["mono"]),
                str(bad),
                "--agent",
                "Aria (Support)",
                "--wait",
                "--database-url",
                url,
            ],
        )
    finally:
        get_settings.cache_clear()
    assert res.exit_code == 1  # one file was refused
    assert "bad.wav: refused: This is not an audio file" in res.output
    assert "transcribed" in res.output
    with make_sessionmaker(eng)() as db:
        text = " ".join(
            db.scalars(
                select(Message.text).where(
                    Message.author_kind == "customer", Message.event_data.is_not(None)
                )
            )
        )
    assert "router" in text.lower()


def test_speech_the_first_pass_left_without_text_is_transcribed_again(speech, engine_model):
    """The coverage check: a stretch of detected speech with no segment is decoded on its own."""
    from sessionlens.transcription.audio import decode
    from sessionlens.transcription.engine import speech_stretches, uncovered

    audio = decode(speech["mono"], stereo=False).channels[0]
    stretches = speech_stretches(audio)
    assert stretches and uncovered(stretches, []) == [(a, b) for a, b in stretches if b - a >= 2.0]
    refilled = engine_model._fill_gaps(audio, [])  # as if the first pass had dropped it all
    words = " ".join(g.text for g in refilled).lower()
    assert "router" in words or "password" in words, words
    assert not uncovered(stretches, refilled)


def test_the_same_recording_gives_the_same_transcript(speech, engine_model):
    from sessionlens.transcription.audio import decode

    audio = decode(speech["mono"], stereo=False).channels[0]
    assert list(engine_model.transcribe(audio)) == list(engine_model.transcribe(audio))


def test_a_stop_ends_a_long_transcription_at_the_next_decoding_window(
    tmp_path, engine_model, monkeypatch
):
    """A call longer than one of the model's 30-second decoding windows, and the worker is told to
    stop (the server is shutting down) while the first window is decoded: no further window is
    decoded, so the shutdown waits for one window, not for the whole five-minute chunk."""
    from sessionlens.transcription.audio import decode
    from sessionlens.transcription.engine import Stopped

    text = " ".join([SENTENCE, OTHER] * 7)  # about 40 seconds of speech
    audio = decode(_espeak(text, tmp_path / "long.wav"), stereo=False).channels[0]
    stop, windows = threading.Event(), []
    decode_window = engine_model.model.generate_with_fallback

    def counted(*args, **kwargs):
        windows.append(len(windows))
        return decode_window(*args, **kwargs)

    monkeypatch.setattr(engine_model.model, "generate_with_fallback", counted)
    assert list(engine_model.transcribe(audio, stop)) and len(windows) >= 2  # not stopped

    windows.clear()

    def stopping(*args, **kwargs):
        stop.set()  # SIGTERM while the model is at work on the first window
        return counted(*args, **kwargs)

    monkeypatch.setattr(engine_model.model, "generate_with_fallback", stopping)
    with pytest.raises(Stopped):
        list(engine_model.transcribe(audio, stop))
    assert windows == [0]


def test_a_worker_thread_that_outlasts_the_stop_wait_has_its_job_put_back(
    queue_world, settings, speech, engine_model, monkeypatch
):
    """The server stops while the model decodes a window that takes longer than the server's
    wait (a slow machine; held here until the test lets it go). The job is put back in the
    queue at once, not after its lease runs out, and what the thread writes once the window is
    done is refused: the job is no longer its."""
    maker, _, _, store = queue_world
    done = _import(queue_world, settings, speech["mono"])
    decoding, finish = threading.Event(), threading.Event()
    decode_window = engine_model.model.generate_with_fallback

    def slow_window(*args, **kwargs):
        decoding.set()
        finish.wait(60)
        return decode_window(*args, **kwargs)

    monkeypatch.setattr(engine_model.model, "generate_with_fallback", slow_window)
    worker = Worker(
        maker, settings, store, engine_factory=lambda s: engine_model, poll_seconds=0.05
    )
    worker.start_thread()
    assert decoding.wait(60)
    assert worker.stop_thread(0.2) is False
    with maker() as db:
        job = db.get(Job, done.job_id)
        assert (job.status, job.worker, job.attempts) == (JobStatus.QUEUED, None, 1)
    finish.set()
    assert worker.stop_thread(60) is True
    with maker() as db:
        job = db.get(Job, done.job_id, populate_existing=True)
        assert (job.status, job.worker) == (JobStatus.QUEUED, None)
        assert not _transcript(db, done.session_id)


def test_uncovered_finds_only_long_stretches_without_text():
    from sessionlens.transcription.engine import Segment, uncovered

    segs = [Segment(0.5, 3.0, "hello"), Segment(8.5, 10.0, "bye"), Segment(20.0, 21.0, "")]
    assert uncovered([(0.0, 10.0)], segs) == [(4.0, 7.5)]
    assert uncovered([(0.0, 10.0), (15.0, 16.5), (18.0, 25.0)], segs) == [(4.0, 7.5), (18.0, 25.0)]


def test_inaudible_stretches_are_named_with_their_times():
    from sessionlens.transcription.engine import Segment
    from sessionlens.transcription.pipeline import inaudible_text

    seg = Segment(65.2, 100.9, "", inaudible=True)
    assert inaudible_text(seg, "customer") == "Inaudible from 1:05 to 1:40 (customer)"
    assert (
        inaudible_text(Segment(3725, 3790, "", True), None) == "Inaudible from 1:02:05 to 1:03:10"
    )


def test_the_shipped_base_model_is_joined_once_and_checked(tmp_path):
    from sessionlens.transcription.models import BASE_SHA256, bundled

    path = Path(bundled("base", str(tmp_path)))
    weights = path / "model.bin"
    assert {"model.bin", "config.json", "tokenizer.json"} <= {p.name for p in path.iterdir()}
    first = weights.stat().st_mtime_ns
    assert Path(bundled("base", str(tmp_path))) == path
    assert weights.stat().st_mtime_ns == first  # reused, not joined again
    with weights.open("r+b") as f:  # a copy torn by a crash is joined again
        f.truncate(1000)
    bundled("base", str(tmp_path))
    import hashlib

    assert hashlib.sha256(weights.read_bytes()).hexdigest() == BASE_SHA256
    assert not list(path.glob("*.partial"))


def test_the_default_model_transcribes_both_sides_of_a_call(speech):
    from sessionlens.transcription.audio import decode

    engine = WhisperEngine(Settings(whisper_beam_size=1))  # the default model: base
    audio = decode(speech["stereo"], stereo=True)
    heard = [
        " ".join(g.text for g in engine.transcribe(channel)).lower() for channel in audio.channels
    ]
    assert "router password before friday" in heard[0]
    assert "parcel will arrive on monday morning" in heard[1]


def test_a_cancelled_running_job_stops_writes_nothing_and_can_be_retried(
    queue_world, settings, speech, engine_model
):
    """`sessionlens jobs cancel` on a running job: its worker finds the lease gone at the next
    heartbeat and stops without a transcript; the recording is kept and Retry transcribes it."""
    maker, actor, _, store = queue_world
    done = _import(queue_world, settings, speech["mono"])
    heard, cancelled = threading.Event(), threading.Event()

    class Paused:  # the real model, held after its first segment until the job is cancelled
        settings = engine_model.settings

        def transcribe(self, audio, stop):
            for seg in engine_model.transcribe(audio, stop):
                heard.set()
                cancelled.wait(60)
                yield seg

    w = Worker(maker, settings, store, engine_factory=lambda s: Paused(), name="A")
    thread = threading.Thread(target=w.run_once)
    thread.start()
    assert heard.wait(120)
    with maker.begin() as db:
        jobs.cancel_job(db, done.job_id, now=NOW)
    cancelled.set()
    thread.join(120)
    with maker() as db:
        job = db.get(Job, done.job_id)
        assert job.status == JobStatus.CANCELLED and not _transcript(db, done.session_id)
    with maker.begin() as db:
        jobs.retry(db, actor=actor, session_id=done.session_id, now=NOW)
    assert Worker(maker, settings, store, engine_factory=lambda s: engine_model).run_once()
    with maker() as db:
        assert db.get(Job, done.job_id).status == JobStatus.DONE
        assert _transcript(db, done.session_id)
