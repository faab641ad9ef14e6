"""Operating a deployment: call recordings sent in over HTTP, the queue from the command line,
Prometheus metrics, and JSON logs (the real routes on a real demo database; speech from
espeak-ng)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from typer.testing import CliRunner

from db.engine import make_sessionmaker
from db.models import Agent, ChatSession, Job, JobStatus
from sessionlens import admin, identity, jobs, logfmt, metrics
from sessionlens.cli import app as cli
from sessionlens.errors import NotFound, PermissionDenied
from sessionlens.settings import Settings, get_settings
from sessionlens.worker import Worker
from tests import appdb
from tests.conftest import ROOT
from tests.helpers import actor
from tests.test_api import api_client
from tests.test_import import SENTENCE, _espeak
from web import api
from web import db as web_db

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def keys(app_db):

    with Session(app_db) as db, db.begin():
        first = identity.default_actor(db)
        mine = admin.create_api_key(db, actor=first, name="telephony", now=NOW)
        theirs = admin.create_api_key(db, actor=actor(db, 1), name="other", now=NOW)
        agent = db.scalar(
            select(Agent.name).where(Agent.tenant_id == first.tenant_id).order_by(Agent.id)
        )
    return {"mine": mine, "theirs": theirs, "agent": agent}


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    return _espeak(SENTENCE, tmp_path_factory.mktemp("speech") / "call.wav").read_bytes()


@pytest.fixture
def client(app_db, tmp_path, monkeypatch):
    monkeypatch.setenv("SESSIONLENS_BLOB_DIR", str(tmp_path / "blobs"))
    yield from api_client()


def h(key):
    return {"Authorization": f"Bearer {key}"}


def _sessions(app_db) -> int:
    with Session(app_db) as db:
        return db.scalar(select(func.count()).select_from(ChatSession))


def _record(client, keys, wav, **params):
    q = {"agent": keys["agent"], "file_name": "call.wav", **params}
    return client.post("/api/v1/recordings", params=q, content=wav, headers=h(keys["mine"]))


def test_a_recording_sent_over_http_becomes_a_queued_voice_session(client, keys, wav, app_db):
    res = _record(client, keys, wav)
    assert res.status_code == 201, res.text
    got = res.json()
    assert got["status"] == "queued" and got["duration_seconds"] > 1
    state = client.get(f"/api/v1/jobs/{got['job_id']}", headers=h(keys["mine"])).json()
    assert state["status"] == "queued" and state["session_id"] == got["session_id"]
    with Session(app_db) as db:
        cs = db.get(ChatSession, got["session_id"])
        assert cs.channel == "sip" and cs.parameters["file"] == "call.wav"
    # Another tenant's key cannot see the job.
    assert client.get(f"/api/v1/jobs/{got['job_id']}", headers=h(keys["theirs"])).status_code == 404


def test_a_refused_recording_says_why_and_creates_nothing(client, keys, wav, app_db):
    before = _sessions(app_db)
    res = client.post("/api/v1/recordings", params={"agent": keys["agent"]}, content=wav)
    assert res.status_code == 422 and res.json()["error"] == "Query parameters needed: file_name"
    res = client.post(
        "/api/v1/recordings", params={"agent": "x", "file_name": "a.wav"}, content=wav
    )
    assert res.status_code == 401
    res = _record(client, keys, b"RIFF this is not audio", file_name="fake.wav")
    assert res.status_code == 422 and "not an audio file" in res.json()["error"]
    res = _record(client, keys, wav, file_name="notes.txt")
    assert res.status_code == 422 and "not a supported audio file" in res.json()["error"]
    res = _record(client, keys, wav, agent="Nobody")
    assert res.status_code == 404 and res.json()["error"] == "Agent 'Nobody' not found"
    res = _record(client, keys, wav, channel="pigeon")
    assert (
        res.status_code == 422 and "Unknown channel 'pigeon' (one of: web, " in res.json()["error"]
    )
    assert client.get("/api/v1/jobs/abc", headers=h(keys["mine"])).status_code == 404
    assert _sessions(app_db) == before


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        found = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if found:
            got = dict(re.findall(r'(\w+)="([^"]*)"', found[1] or ""))
            if all(got.get(k) == v for k, v in labels.items()):
                return float(found[2])
    raise AssertionError(f"no {name} {labels} in\n{text}")


def _metric_or_0(text: str, name: str, **labels: str) -> float:
    try:
        return _metric(text, name, **labels)
    except AssertionError:
        return 0


def test_metrics_count_requests_ingest_and_the_queue(client, keys, wav, app_db, monkeypatch):
    labels = {"method": "POST", "route": "/api/v1/recordings"}
    before = client.get("/metrics").text
    # Counters live as long as the process: other tests may have counted already.
    posted = _metric_or_0(before, "sessionlens_api_requests_total", **labels, status="201")
    ingested = _metric_or_0(before, "sessionlens_sessions_ingested_total", via="recording")
    assert _record(client, keys, wav).status_code == 201
    assert _record(client, keys, wav, agent="Nobody").status_code == 404
    text = client.get("/metrics").text
    assert _metric(text, "sessionlens_api_requests_total", **labels, status="201") == posted + 1
    assert _metric(text, "sessionlens_api_requests_total", **labels, status="404") >= 1
    # One session ingested: the refused recording is not counted.
    assert _metric(text, "sessionlens_sessions_ingested_total", via="recording") == ingested + 1
    with Session(app_db) as db:
        queued = db.scalar(
            select(func.count()).select_from(Job).where(Job.status == JobStatus.QUEUED)
        )
    assert _metric(text, "sessionlens_jobs", kind="transcription", status="queued") == queued
    assert _metric(text, "sessionlens_jobs", kind="transcription", status="cancelled") == 0
    assert "sessionlens_job_oldest_queued_timestamp_seconds" in text
    monkeypatch.setenv("SESSIONLENS_METRICS_TOKEN", "s3cret")
    get_settings.cache_clear()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=h("wrong")).status_code == 401
    assert client.get("/metrics", headers=h("s3cret")).status_code == 200


def test_jobs_from_the_command_line(client, keys, wav, app_db, monkeypatch):
    job_id = _record(client, keys, wav).json()["job_id"]
    monkeypatch.setenv("SESSIONLENS_DATABASE_URL", str(app_db.url))
    get_settings.cache_clear()
    run = CliRunner().invoke
    res = run(cli, ["jobs", "list", "--status", "queued"])
    assert res.exit_code == 0 and re.search(rf"^\s*{job_id}\s+queued\s+0\s", res.output, re.M)
    res = run(cli, ["jobs", "cancel", str(job_id)])
    assert res.exit_code == 0 and f"job {job_id}: cancelled" in res.output
    res = run(cli, ["jobs", "cancel", str(job_id), "999999"])
    assert res.exit_code == 1
    assert "only a queued or running job can be cancelled" in res.output
    assert "No job 999999" in res.output
    with Session(app_db) as db:
        job = db.get(Job, job_id)
        assert job.status == JobStatus.CANCELLED
        session_id = job.session_id
    res = run(cli, ["jobs", "list", "--status", "cancelled"])
    assert re.search(
        rf"^\s*{job_id}\s+cancelled.*Cancelled from the command line", res.output, re.M
    )
    res = run(cli, ["jobs", "retry", str(job_id)])
    assert res.exit_code == 0 and f"job {job_id}: queued" in res.output
    res = run(cli, ["jobs", "list", "--status", "sleeping"])
    assert res.exit_code == 2 and "'sleeping' is not one of" in res.output
    state = client.get(f"/api/v1/jobs/{job_id}", headers=h(keys["mine"])).json()
    assert state["status"] == "queued" and state["session_id"] == session_id


def test_logs_are_one_json_object_per_line_with_the_ids(client, keys, wav, app_db, capsys):
    """SESSIONLENS_LOG_FORMAT=json: an API request names its session; a worker's lines name the
    job and its session."""
    logfmt.configure("json", "INFO")
    try:
        capsys.readouterr()
        client.post(
            "/api/v1/sessions/no-such-session/messages",
            json={"author": "customer", "text": "hi", "sent_at": "2026-11-26T09:00:00Z"},
            headers=h(keys["mine"]),
        )
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        request = next(x for x in lines if x["logger"] == "sessionlens.api")
        assert request["session_id"] == "no-such-session" and request["status"] == 404
        assert request["level"] == "INFO" and dt.datetime.fromisoformat(request["time"])

        job_id = _record(client, keys, wav).json()["job_id"]

        def broken(settings):
            raise RuntimeError("no model on this machine")

        settings = Settings(blob_dir=get_settings().blob_dir)
        maker = make_sessionmaker(app_db)
        with maker() as db:  # the oldest queued job may be another test's: run until ours
            ahead = db.scalar(
                select(func.count()).where(Job.status == JobStatus.QUEUED, Job.id < job_id)
            )
        worker = Worker(maker, settings, api.default_store(), engine_factory=broken, name="w")
        for _ in range(ahead + 1):
            assert worker.run_once()
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        ours = [x for x in lines if x.get("job_id") == job_id]
        assert {x["logger"] for x in ours} == {"sessionlens.worker"}
        assert all(x["session_id"] for x in ours)
        failed = next(x for x in ours if x["level"] == "ERROR")
        assert "no model on this machine" in failed["exc_info"]
    finally:
        logfmt.configure("text", "INFO")
    logging.getLogger("sessionlens.api").info("back to text")
    assert "INFO sessionlens.api: back to text" in capsys.readouterr().err


def test_the_api_runs_on_its_own_without_streamlit(app_db, keys, monkeypatch):
    """`uvicorn web.asgi:app`: the API, health and metrics, with no Streamlit in the process."""
    code = "import sys, web.asgi; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr

    from web import asgi  # here: importing it configures the process's logging

    get_settings.cache_clear()
    web_db.sessionmaker_for.cache_clear()
    with TestClient(asgi.app, base_url="http://127.0.0.1") as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/readyz").json()["status"] == "ready"
        res = c.get(f"/api/v1/jobs/{10**9}", headers=h(keys["mine"]))
        assert res.status_code == 404 and res.json()["error"] == f"Job {10**9} not found"
        assert "sessionlens_api_requests_total" in c.get("/metrics").text


def test_metrics_add_up_across_the_processes_of_one_api_server(tmp_path):
    """uvicorn --workers 2 with PROMETHEUS_MULTIPROC_DIR: either process reports both counts."""

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = (
        "from sessionlens import metrics; "
        "metrics.API_REQUESTS.labels('POST', '/api/v1/sessions', '201').inc()"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], cwd=ROOT, env=env, check=True)
    show = "from sessionlens import metrics; print(metrics.exposition().decode())"
    out = subprocess.run(
        [sys.executable, "-c", show], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    labels = {"method": "POST", "route": "/api/v1/sessions", "status": "201"}
    assert _metric(out, "sessionlens_api_requests_total", **labels) == 2


def test_what_a_rolled_back_transaction_wrote_is_not_counted(app_db):

    counter = metrics.SESSIONS_INGESTED.labels("import")
    before = counter._value.get()
    maker = make_sessionmaker(app_db)
    with pytest.raises(RuntimeError), maker.begin() as db:
        metrics.count_on_commit(db, counter, 5)
        raise RuntimeError("the import failed half-way")
    assert counter._value.get() == before
    with maker.begin() as db:
        metrics.count_on_commit(db, counter, 5)
    assert counter._value.get() == before + 5


def test_sessionlens_api_serves_from_several_processes_and_stops_them_all(app_db, keys):

    port = appdb.free_port()
    env = {**os.environ, "SESSIONLENS_DATABASE_URL": str(app_db.url)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "sessionlens.cli", "api", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def get(path: str, key: str | None = None) -> tuple[int, str]:
        req = urllib.request.Request(base + path, headers=h(key) if key else {})
        try:
            with urllib.request.urlopen(req, timeout=5) as res:  # a new connection each time
                return res.status, res.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    try:
        for _ in range(100):
            try:
                if get("/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        for _ in range(6):
            status, body = get("/api/v1/jobs/123456789", keys["mine"])
            assert status == 404 and json.loads(body)["error"] == "Job 123456789 not found"
        text = get("/metrics")[1]
        labels = {"method": "GET", "route": "/api/v1/jobs/{job_id}", "status": "404"}
        assert _metric(text, "sessionlens_api_requests_total", **labels) == 6  # both processes
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    with pytest.raises(OSError):
        get("/healthz")  # no process is left listening
    assert server.stdout is not None
    said = server.stdout.read()
    assert f"Sessionlens API on http://127.0.0.1:{port} (2 processes)" in said


def test_the_queue_is_an_admins_and_stays_in_the_tenant(app_db):

    with Session(app_db) as db:
        admin_a, admin_b = actor(db, 0), actor(db, 1)
        operator = actor(db, 0, role="operator")
        sid = db.scalar(
            select(ChatSession.id).where(ChatSession.tenant_id == admin_a.tenant_id).limit(1)
        )
        job = jobs.enqueue(
            db, tenant_id=admin_a.tenant_id, session_id=sid, kind="transcription", now=NOW
        )
        with pytest.raises(NotFound):
            jobs.cancel_job(db, job.id, now=NOW, actor=admin_b)
        with pytest.raises(PermissionDenied):
            jobs.cancel_job(db, job.id, now=NOW, actor=operator)
        with pytest.raises(PermissionDenied):
            jobs.queue_state(db, actor=operator)
        assert job.id not in [j.id for j in jobs.queue(db, actor=admin_b)]
        assert jobs.queue_state(db, actor=admin_a).counts["queued"] >= 1
        jobs.cancel_job(db, job.id, now=NOW, actor=admin_a)
        assert db.get(Job, job.id).status == JobStatus.CANCELLED
        db.rollback()  # nothing of this test stays in the module's database


@pytest.mark.parametrize("raw", ["²", "١٢", "9" * 30, "-1", "0", "1e3"])
def test_ids_in_the_path_that_cannot_exist_are_not_found(client, keys, raw):
    """Only ASCII digits within a bigint are ids: anything else is a 404 naming it, never a 500."""
    res = client.get(f"/api/v1/jobs/{raw}", headers=h(keys["mine"]))
    assert res.status_code == 404 and res.json()["error"].startswith("Job ")
    res = client.post(
        f"/api/v1/messages/{raw}/delivery", json={"status": "sent"}, headers=h(keys["mine"])
    )
    assert res.status_code == 404 and res.json()["error"].startswith("Message ")


def test_the_outbox_paging_numbers_are_checked(client, keys):
    for query, message in (
        ("after=²", "after: '²' is not a whole number"),
        ("limit=5000", "limit: '5000' is larger than 1,000"),
        ("limit=100000", "limit: '100000' is larger than 1,000"),
        ("limit=0", "limit: '0' is smaller than 1"),  # a poller would get nothing, for ever
        ("after=" + "9" * 40, "is larger than 9,223,372,036,854,775,807"),
        ("after=-1", "after: '-1' is not a whole number"),
    ):
        res = client.get(f"/api/v1/outbox?{query}", headers=h(keys["mine"]))
        assert res.status_code == 422 and message in res.json()["error"], res.json()
    assert client.get("/api/v1/outbox?after=0&limit=5", headers=h(keys["mine"])).status_code == 200


def test_a_recording_sent_twice_with_its_id_is_one_session(client, keys, wav, app_db):
    """A runtime that retries after a timeout sends the same call again: with its external_id the
    second request answers with the session already there and imports nothing."""
    before = _sessions(app_db)
    first = _record(client, keys, wav, external_id="call-77")
    assert first.status_code == 201 and first.json()["created"] is True
    again = _record(client, keys, wav, external_id="call-77")
    assert again.status_code == 200 and again.json() == {
        "session_id": first.json()["session_id"],
        "job_id": first.json()["job_id"],
        "status": "queued",
        "created": False,
    }
    assert _sessions(app_db) == before + 1
    # Ids belong to a tenant: another tenant's call with the same id is its own session.
    theirs = client.post(
        "/api/v1/recordings",
        params={"agent": _their_agent(app_db), "file_name": "call.wav", "external_id": "call-77"},
        content=wav,
        headers=h(keys["theirs"]),
    )
    assert theirs.status_code == 201 and theirs.json()["session_id"] != first.json()["session_id"]
    res = _record(client, keys, wav, external_id="x" * 201)
    assert res.status_code == 422 and "The call's external id" in res.json()["error"]
    with Session(app_db) as db:
        assert db.get(ChatSession, first.json()["session_id"]).external_id == "call-77"


def _their_agent(app_db) -> str:

    with Session(app_db) as db:
        other = actor(db, 1)
        return db.scalar(select(Agent.name).where(Agent.tenant_id == other.tenant_id).limit(1))


def test_after_postgres_drops_its_connections_the_next_call_gets_a_new_one(monkeypatch):
    """Postgres restarting (an upgrade, a failover) leaves every pooled connection dead. One that
    has been idle a while is checked before it is handed out, so the first page or API call after
    the restart works instead of saying the database cannot be used."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    import db.engine
    from tests.conftest import pg_database

    eng = pg_database("sessionlens_reconnect")

    def backend() -> int:
        with eng.connect() as conn:
            return conn.scalar(text("SELECT pg_backend_pid()"))

    def terminate(pid: int) -> None:  # what a restart does to each connection
        other = db.engine.make_engine(eng.url.render_as_string(hide_password=False))
        with other.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        other.dispose()

    first = backend()
    assert backend() == first  # the pool hands the same connection out again
    terminate(first)
    monkeypatch.setattr(db.engine, "PING_AFTER_IDLE_SECONDS", 0.0)
    second = backend()  # not an error: the dead connection was replaced
    assert second != first
    # Without the check (a connection in steady use) the dead one is what the caller gets.
    monkeypatch.setattr(db.engine, "PING_AFTER_IDLE_SECONDS", 1e9)
    terminate(second)
    with pytest.raises(OperationalError):
        backend()
    eng.dispose()
