"""Several machines, one Postgres, proved with processes: two app servers (`streamlit run app.py`
on two ports) and two `sessionlens worker` processes, each in its own working directory, so no
file is shared between them; recordings travel through the database blob store, the default on
Postgres. Speech comes from espeak-ng and is transcribed by the real tiny.en model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Agent, Job, JobStatus, Message, SessionLog
from sessionlens import admin, identity
from tests import appdb
from tests.conftest import NOW, pg_database, pg_url, seeded
from tests.test_import import SENTENCE, _espeak

DEPLOY_DB = "sessionlens_deploy"
DEPLOY_PG = pg_url(DEPLOY_DB)
RECLAIM = 6
LONG_CALL = (
    "Hello, I am calling about my internet connection at home. Since Monday the router keeps "
    "dropping the signal every few minutes, and the lights on the front blink orange. I have "
    "already restarted it three times and moved it closer to the window. My contract number is "
    "four five six seven, and the account is in the name of my husband. Could you please send "
    "a technician on Thursday or Friday morning, because we both work from home and need a "
    "stable line for our video calls. Thank you very much for your help."
)


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SESSIONLENS_DATABASE_URL": DEPLOY_PG,
        "SESSIONLENS_DEMO_ON_FIRST_START": "false",
        "SESSIONLENS_SECRET_KEY": "one-key-for-every-app-server",
        "SESSIONLENS_WHISPER_MODEL": "tiny.en",
        "SESSIONLENS_WHISPER_BEAM_SIZE": "1",
        "SESSIONLENS_WHISPER_THREADS": "1",
        "SESSIONLENS_JOB_RECLAIM_SECONDS": str(RECLAIM),
        "SESSIONLENS_LOG_FORMAT": "json",
        **extra,
    }


def _get(url: str, key: str | None = None, timeout: float = 5) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except OSError:  # not listening yet
        return 0, b""


def _wait_until(check, what: str, timeout: float = 120):  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


class Cluster:
    def __init__(self, tmp: Path):
        self.tmp, self.procs, self.workers = tmp, [], []

    def app_server(self, name: str) -> str:
        port = appdb.free_port()
        home = self.tmp / name
        home.mkdir()
        log = open(home / "app.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            appdb.streamlit_command(port),
            cwd=appdb.ROOT,
            # A blob directory of its own that must stay unused: recordings go to the database.
            env=_env(SESSIONLENS_BLOB_DIR=str(home / "blobs")),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        _wait_until(lambda: _get(base + "/readyz")[0] == 200, f"app server {name}", 60)
        return base

    def worker(self, name: str) -> tuple[subprocess.Popen, int]:
        home = self.tmp / name
        home.mkdir(exist_ok=True)
        port = appdb.free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "sessionlens.cli", "worker", "--metrics-port", str(port)],
            cwd=home,  # nothing of the repository's data/ directory is at hand
            env=_env(SESSIONLENS_BLOB_DIR=str(home / "blobs")),
            stdout=open(home / f"worker-{len(self.workers)}.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        self.workers.append(proc)
        _wait_until(lambda: _get(f"http://127.0.0.1:{port}/metrics")[0] == 200, "a worker", 60)
        return proc, port

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def db():
    eng = seeded(pg_database(DEPLOY_DB), sessions=5, seed=4)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def key(db):
    with Session(db) as s, s.begin():
        actor = identity.default_actor(s)
        agent = s.scalar(select(Agent.name).where(Agent.tenant_id == actor.tenant_id).limit(1))
        return admin.create_api_key(s, actor=actor, name="telephony", now=NOW), agent


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    d = tmp_path_factory.mktemp("calls")
    return {
        "short": _espeak(SENTENCE, d / "short.wav").read_bytes(),
        "long": _espeak(LONG_CALL, d / "long.wav").read_bytes(),
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, db):
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield c
    finally:
        c.stop()


def _import(base: str, key, data: bytes, name: str) -> dict:
    req = urllib.request.Request(
        f"{base}/api/v1/recordings?agent={urllib.request.quote(key[1])}&file_name={name}",
        data=data,
        method="POST",
        headers={"Authorization": f"Bearer {key[0]}", "Content-Type": "audio/wav"},
    )
    with urllib.request.urlopen(req, timeout=30) as res:
        assert res.status == 201
        return json.loads(res.read())


def _job(db, job_id: int) -> Job:
    with Session(db) as s:
        return s.get_one(Job, job_id)


def _transcribed_once(db, session_id: int) -> list[str]:
    """The transcript's lines; asserts it was written by exactly one attempt."""
    with Session(db) as s:
        finished = s.scalar(
            select(func.count()).where(
                SessionLog.session_id == session_id,
                SessionLog.text.like("Transcription finished%"),
            )
        )
        lines = s.scalars(
            select(Message.text)
            .where(Message.session_id == session_id, Message.event_data["transcript"].is_not(None))
            .order_by(Message.seq)
        ).all()
    assert finished == 1 and lines
    return list(lines)


def _pid(worker_name: str) -> int:
    return int(worker_name.split(":")[1])  # host:pid:thread


def test_two_app_servers_and_two_workers_share_one_postgres(cluster, db, key, calls):
    a, b = cluster.app_server("app-a"), cluster.app_server("app-b")
    (w1, port1), (w2, port2) = cluster.worker("worker-1"), cluster.worker("worker-2")

    # A recording imported through server A is transcribed once, by one of the workers, and its
    # session shows on server B.
    got = _import(a, key, calls["short"], "short.wav")
    state = _wait_until(
        lambda: (
            (s := json.loads(_get(f"{b}/api/v1/jobs/{got['job_id']}", key[0])[1]))["status"]
            == "done"
            and s
        ),
        "the first transcription",
    )
    assert state["attempts"] == 1 and state["session_id"] == got["session_id"]
    assert _pid(_job(db, got["job_id"]).worker) in (w1.pid, w2.pid)
    words = " ".join(_transcribed_once(db, got["session_id"])).lower()
    assert "router" in words and "friday" in words
    status, body = _get(f"{b}/api/v1/sessions/export?format=jsonl", key[0], timeout=30)
    exported = [json.loads(line) for line in body.splitlines()]
    ours = next(d for d in exported if d["external_id"] == f"sl-{got['session_id']}")
    assert status == 200 and "router" in " ".join(m["text"] for m in ours["messages"]).lower()
    # No app server wrote a file: both blob directories are still absent.
    assert not (cluster.tmp / "app-a" / "blobs").exists()
    assert not (cluster.tmp / "app-b" / "blobs").exists()

    # A worker killed with SIGKILL mid-job: the other finishes the job after the reclaim
    # interval, and the transcript is written once.
    got = _import(b, key, calls["long"], "long.wav")
    running = _wait_until(
        lambda: (j := _job(db, got["job_id"])).status == JobStatus.RUNNING and j, "a running job"
    )
    victim = _pid(running.worker)
    survivor = w2 if victim == w1.pid else w1
    os.kill(victim, signal.SIGKILL)
    killed_at = time.time()
    done = _wait_until(
        lambda: (j := _job(db, got["job_id"])).status == JobStatus.DONE and j,
        "the reclaimed job",
        timeout=RECLAIM + 120,
    )
    assert time.time() - killed_at >= RECLAIM - 1  # not before its lease ran out
    assert done.attempts == 2 and _pid(done.worker) == survivor.pid
    assert "technician" in " ".join(_transcribed_once(db, got["session_id"])).lower()

    # The queue as Prometheus sees it, from either app server, and the workers' own histograms.
    status, text = _get(f"{a}/metrics")
    assert status == 200
    assert b'sessionlens_jobs{kind="transcription",status="done"} 2.0' in text
    runs = _get(f"http://127.0.0.1:{port2 if survivor is w2 else port1}/metrics")[1]
    assert b'sessionlens_job_run_seconds_count{kind="transcription",outcome="done"}' in runs

    # Stopping every worker puts its job back; starting them again loses none.
    jobs = [_import(a, key, calls["short"], f"batch-{i}.wav")["job_id"] for i in range(3)]
    _wait_until(lambda: _job(db, jobs[0]).status != JobStatus.QUEUED, "the batch to start", 60)
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(60) == 0
    with Session(db) as s:
        states = s.scalars(select(Job.status).where(Job.id.in_(jobs))).all()
    assert set(states) <= {JobStatus.QUEUED, JobStatus.DONE} and len(states) == 3
    cluster.worker("worker-3")
    cluster.worker("worker-4")
    for job_id in jobs:
        _wait_until(lambda j=job_id: _job(db, j).status == JobStatus.DONE, f"job {job_id}")
        _transcribed_once(db, _job(db, job_id).session_id)

    # Every worker line is one JSON object; those about a job name it and its session.
    lines = [
        json.loads(line)
        for path in cluster.tmp.glob("worker-*/*.log")
        for line in path.read_text().splitlines()
        if line.startswith("{")
    ]
    about = [x for x in lines if x.get("job_id") in jobs]
    assert about and all(x["session_id"] for x in about)
