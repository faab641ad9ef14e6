"""The `sessionlens` command a new user runs: migrate, demo data, location refresh."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from typer.testing import CliRunner

from db.engine import make_engine
from sessionlens.cli import app
from sessionlens.settings import get_settings
from tests import appdb
from tests.helpers import busiest_customer

runner = CliRunner()


def test_upgrade_demo_and_geo_refresh(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    res = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert res.exit_code == 0 and "up to date" in res.output
    res = runner.invoke(app, ["demo", "-n", "30", "--database-url", url])
    assert res.exit_code == 0 and "30 chat_sessions" in res.output
    res = runner.invoke(app, ["demo", "--if-empty", "--database-url", url])
    assert res.exit_code == 0 and "demo data not added" in res.output
    # A second copy would give every demo person two accounts (sign-in would take the first).
    res = runner.invoke(app, ["demo", "-n", "30", "--database-url", url])
    assert res.exit_code == 1 and "already holds the demo data" in res.output
    with make_engine(url).connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM tenants")) == 2
        assert conn.scalar(text("SELECT count(*) FROM chat_sessions")) == 30
    monkeypatch.setenv("SESSIONLENS_DATABASE_URL", url)
    get_settings.cache_clear()
    res = runner.invoke(app, ["geo", "refresh"])
    get_settings.cache_clear()
    assert res.exit_code == 0 and "Re-resolved" in res.output and "DBIP" in res.output


def test_unreadable_geo_database_is_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("SESSIONLENS_GEOIP_DB", str(tmp_path / "missing.mmdb"))
    get_settings.cache_clear()
    res = runner.invoke(app, ["geo", "refresh", "--database-url", f"sqlite:///{tmp_path}/x.db"])
    get_settings.cache_clear()
    assert res.exit_code != 0 and "No readable location database" in res.output


def test_users_add_sign_in_set_role_reset_and_deactivate(tmp_path):
    """The first admin of a real install comes from the CLI; the password comes on stdin."""
    import datetime as dt

    from db.engine import make_engine
    from sessionlens import auth

    url = f"sqlite:///{tmp_path / 'users.db'}"
    assert runner.invoke(app, ["demo", "-n", "10", "--database-url", url]).exit_code == 0
    add = ["users", "add", "ops@example.com", "--name", "Ops Lead", "--role", "admin"]
    res = runner.invoke(
        app, [*add, "--password-stdin", "--database-url", url], input="s3cret-pass-1\n"
    )
    assert res.exit_code == 0 and "Added ops@example.com (admin)" in res.output
    res = runner.invoke(
        app, [*add, "--password-stdin", "--database-url", url], input="s3cret-pass-1\n"
    )
    assert res.exit_code == 1 and "already exists" in res.output
    res = runner.invoke(
        app,
        [
            "users",
            "add",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "boss",
            "--password-stdin",
            "--database-url",
            url,
        ],
        input="long enough pw\n",
    )
    assert res.exit_code == 1 and "unknown role 'boss'" in res.output
    # A mistyped address is named before the password is asked for: nothing is read from stdin.
    typo = ["users", "add", "ops@example", "--name", "Ops", "--role", "viewer"]
    res = runner.invoke(app, [*typo, "--database-url", url], input="")
    assert res.exit_code == 1
    assert "The email 'ops@example' is not an email address" in res.output
    assert "Password" not in res.output
    res = runner.invoke(app, ["users", "list", "--database-url", url])
    assert "ops@example.com\tOps Lead\tadmin\tactive" in res.output

    from sqlalchemy.orm import Session

    now = dt.datetime.now(dt.UTC)
    with Session(make_engine(url)) as db:
        assert auth.sign_in(db, "ops@example.com", "s3cret-pass-1", address="a", now=now)
    assert (
        runner.invoke(
            app, ["users", "set-role", "ops@example.com", "viewer", "--database-url", url]
        ).exit_code
        == 0
    )
    res = runner.invoke(
        app,
        ["users", "reset-password", "ops@example.com", "--password-stdin", "--database-url", url],
        input="a new long password\n",
    )
    assert res.exit_code == 0
    assert (
        runner.invoke(
            app, ["users", "deactivate", "ops@example.com", "--database-url", url]
        ).exit_code
        == 0
    )
    with Session(make_engine(url)) as db:
        import pytest

        with pytest.raises(auth.SignInRefused, match="deactivated"):
            auth.sign_in(db, "ops@example.com", "a new long password", address="b", now=now)
    res = runner.invoke(app, ["users", "list", "--database-url", url])
    assert "ops@example.com\tOps Lead\tviewer\tdeactivated" in res.output


def test_deactivating_from_the_command_line_returns_their_conversations_to_the_queue(tmp_path):
    """As Settings does: an operator deactivated from the command line holds no conversation
    that nobody could answer any more; the command says how many went back."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from db.engine import make_engine
    from db.models import ChatSession, Mode, User

    url = f"sqlite:///{tmp_path / 'queue.db'}"
    assert runner.invoke(app, ["demo", "--database-url", url]).exit_code == 0  # 2,000 sessions
    open_ = (ChatSession.mode != Mode.AI, ChatSession.finished_at.is_(None))
    with Session(make_engine(url)) as db:
        holder, held = db.execute(
            select(User.email, func.count())
            .join(ChatSession, ChatSession.assigned_user_id == User.id)
            .where(*open_)
            .group_by(User.email)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    res = runner.invoke(app, ["users", "deactivate", holder, "--database-url", url])
    assert res.exit_code == 0
    noun = "conversation" if held == 1 else "conversations"
    assert f"{holder} is deactivated; {held} open {noun} of theirs went back to the queue" in (
        res.output
    )
    with Session(make_engine(url)) as db:
        still = db.scalar(
            select(func.count())
            .select_from(ChatSession)
            .join(User, User.id == ChatSession.assigned_user_id)
            .where(User.email == holder, *open_)
        )
    assert still == 0


def test_tenants_add_and_list_then_its_first_admin_with_an_audit_trail(tmp_path):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from db.engine import make_engine
    from db.models import AuditEvent

    url = f"sqlite:///{tmp_path / 'tenants.db'}"
    res = runner.invoke(
        app,
        [
            "tenants",
            "add",
            "Acme Support",
            "--timezone",
            "Europe/Paris",
            "--plan",
            "paid",
            "--database-url",
            url,
        ],
    )
    assert res.exit_code == 0 and "Acme Support (Europe/Paris, paid)" in res.output
    res = runner.invoke(
        app, ["tenants", "add", "Other", "--timezone", "Moon/Base", "--database-url", url]
    )
    assert res.exit_code == 1 and "'Moon/Base' is not an IANA zone" in res.output
    res = runner.invoke(app, ["tenants", "add", "acme support", "--database-url", url])
    assert res.exit_code == 1 and "already exists" in res.output
    res = runner.invoke(
        app,
        [
            "users",
            "add",
            "boss@acme.example",
            "--name",
            "Boss",
            "--role",
            "admin",
            "--tenant",
            "Acme Support",
            "--password-stdin",
            "--database-url",
            url,
        ],
        input="a long password\n",
    )
    assert res.exit_code == 0
    assert (
        "Acme Support\tEurope/Paris\tpaid"
        in runner.invoke(app, ["tenants", "list", "--database-url", url]).output
    )
    with Session(make_engine(url)) as db:
        rows = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(r.action, r.actor_user_id, r.details.get("via")) for r in rows] == [
            ("tenant_added", None, "command line"),
            ("user_added", None, "command line"),
        ]


def test_api_keys_import_sessions_and_export_from_the_command_line(tmp_path):
    import json

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from db.models import AuditEvent

    url = f"sqlite:///{tmp_path / 'io.db'}"
    assert runner.invoke(app, ["demo", "-n", "20", "--database-url", url]).exit_code == 0
    res = runner.invoke(app, ["api-keys", "create", "--name", "runtime", "--database-url", url])
    assert res.exit_code == 0 and res.output.strip().startswith("slk_")
    listed = runner.invoke(app, ["api-keys", "list", "--database-url", url]).output
    assert "runtime" in listed and res.output.strip() not in listed  # never shown again
    key_id = listed.split("\t")[0]
    assert runner.invoke(app, ["api-keys", "revoke", key_id, "--database-url", url]).exit_code == 0

    out = tmp_path / "all.jsonl"
    res = runner.invoke(app, ["export", "-o", str(out), "--database-url", url])
    assert res.exit_code == 0 and "sessions to" in res.output
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(docs) == int(res.output.split("Exported ")[1].split()[0])
    # The Audit page names nobody for what was typed at a shell (it said the tenant's first
    # admin had created the key, who had not), and says where it came from.
    with Session(make_engine(url)) as db:
        rows = db.execute(
            select(AuditEvent.action, AuditEvent.actor_user_id, AuditEvent.details).where(
                AuditEvent.action.in_(["api_key_created", "api_key_revoked", "sessions_exported"])
            )
        ).all()
    assert sorted(a for a, _, _ in rows) == [
        "api_key_created",
        "api_key_revoked",
        "sessions_exported",
    ]
    assert all(who is None and d["via"] == "command line" for _, who, d in rows), rows

    other = f"sqlite:///{tmp_path / 'copy.db'}"
    runner.invoke(app, ["tenants", "add", "Copy", "--plan", "paid", "--database-url", other])
    runner.invoke(
        app,
        [
            "users",
            "add",
            "a@copy.example",
            "--name",
            "A",
            "--role",
            "admin",
            "--no-password",
            "--database-url",
            other,
        ],
    )
    # The new workspace has the statuses open and closed; the file's others are added to its
    # list (the Statuses filter offers that list), said in the summary, once.
    used = sorted({d["status"] for d in docs} - {"open", "closed"})
    assert used
    res = runner.invoke(app, ["import-sessions", str(out), "--dry-run", "--database-url", other])
    assert res.exit_code == 0 and f"would create {len(docs)}" in res.output
    assert "would add the statuses" in res.output
    res = runner.invoke(app, ["import-sessions", str(out), "--database-url", other])
    assert res.exit_code == 0 and f"created {len(docs)}," in res.output
    assert "; added the statuses" in res.output
    added = res.output.split("added the statuses ")[1].strip()
    assert sorted(added.replace("'", "").split(", ")) == used
    res = runner.invoke(app, ["import-sessions", str(out), "--database-url", other])
    assert res.exit_code == 0 and f"unchanged {len(docs)}; 0 new messages" in res.output
    assert "statuses" not in res.output

    bad = tmp_path / "bad.jsonl"
    lines = out.read_text().splitlines()
    broken = json.loads(lines[1])
    broken["messages"][0]["sent_at"] = "later"
    bad.write_text(lines[0] + "\n" + json.dumps(broken) + "\n")
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    runner.invoke(app, ["tenants", "add", "Fresh", "--database-url", fresh])
    runner.invoke(
        app,
        [
            "users",
            "add",
            "f@fresh.example",
            "--name",
            "F",
            "--role",
            "admin",
            "--no-password",
            "--database-url",
            fresh,
        ],
    )
    res = runner.invoke(app, ["import-sessions", str(bad), "--database-url", fresh])
    assert res.exit_code == 1 and "line 2: $.messages[0].sent_at: not a datetime" in res.output
    res = runner.invoke(
        app, ["export", "-o", str(tmp_path / "none.jsonl"), "--database-url", fresh]
    )
    assert "Exported 0 sessions" in res.output  # the good first line was not written either


def test_a_file_saved_as_utf16_imports_and_one_in_latin1_is_named_not_a_traceback(tmp_path):
    """Windows PowerShell writes UTF-16 with a byte order mark (``Get-Content a.jsonl > b.jsonl``):
    such a file imports as its UTF-8 original does. A file in another encoding is refused in
    words, naming where it stops being UTF-8, and nothing is written (both were a
    UnicodeDecodeError)."""
    import json

    url = f"sqlite:///{tmp_path / 'io.db'}"
    assert runner.invoke(app, ["demo", "-n", "5", "--database-url", url]).exit_code == 0
    out = tmp_path / "all.jsonl"
    assert runner.invoke(app, ["export", "-o", str(out), "--database-url", url]).exit_code == 0
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    renamed = [dict(d, external_id=f"ps-{i}", agent="Zoë (Support)") for i, d in enumerate(docs)]
    text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in renamed)
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes(text.encode("latin-1", errors="replace"))
    res = runner.invoke(app, ["import-sessions", str(latin), "--database-url", url])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)  # no traceback
    assert "not UTF-8 text (byte " in res.output and "save it as UTF-8" in res.output
    wide = tmp_path / "powershell.jsonl"
    wide.write_bytes(text.encode("utf-16"))  # with its byte order mark, as PowerShell writes
    res = runner.invoke(app, ["import-sessions", str(wide), "--database-url", url])
    assert res.exit_code == 0 and f"created {len(docs)}," in res.output, res.output
    found = runner.invoke(app, ["export", "-o", str(tmp_path / "b.jsonl"), "--database-url", url])
    assert found.exit_code == 0
    agents = {json.loads(x)["agent"] for x in (tmp_path / "b.jsonl").read_text().splitlines()}
    assert "Zoë (Support)" in agents


def test_an_export_that_cannot_be_written_says_why_and_leaves_no_half_file(tmp_path, monkeypatch):
    """A folder that does not exist, or a disk that fills up halfway: a message naming the file
    and the reason, exit status 1, no traceback, and the file as it was before (here, an older
    export that is kept rather than replaced by half of a new one)."""
    from sessionlens import export

    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert runner.invoke(app, ["demo", "-n", "5", "--database-url", url]).exit_code == 0
    res = runner.invoke(
        app, ["export", "-o", str(tmp_path / "no" / "x.jsonl"), "--database-url", url]
    )
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"cannot write {tmp_path / 'no' / 'x.jsonl'}: No such file or directory" in res.output
    older = tmp_path / "sessions.jsonl"
    older.write_text("yesterday's export\n")

    def disk_full(*args, **kwargs):  # the file system is the boundary faked here: ENOSPC
        yield b'{"format": "sessionlens.session/v1"}\n'
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "stream", disk_full)
    res = runner.invoke(app, ["export", "-o", str(older), "--database-url", url])
    assert res.exit_code == 1 and "No space left on device" in res.output
    assert older.read_text() == "yesterday's export\n"
    assert not [p.name for p in tmp_path.iterdir() if "jsonl" in p.name and p != older]


def test_a_refused_setting_is_named_not_a_traceback(monkeypatch):
    monkeypatch.setenv("SESSIONLENS_BLOB_STORE", "nas")
    monkeypatch.setenv("SESSIONLENS_PAGE_SIZE", "0")
    get_settings.cache_clear()
    try:
        res = runner.invoke(app, ["jobs", "list"])
    finally:
        get_settings.cache_clear()
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "Error: SESSIONLENS_BLOB_STORE: Blob store 'nas' is not one of: local, database" in (
        res.output
    )
    assert "Error: SESSIONLENS_PAGE_SIZE: Input should be greater than or equal to 1" in res.output


USABLE = "use sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/database"


@pytest.mark.parametrize(
    "url, reason",
    [
        ("", "is empty"),  # `SESSIONLENS_DATABASE_URL=` in a compose file or .env
        ("sessionlens.db", "is not a database URL"),  # a file name where a URL goes
        ("mysql://root:hunter2@localhost/sessions", "mysql is not supported"),
        (
            "postgresql+asyncpg://me@db/sessions",
            "the driver of postgresql+asyncpg is not installed",
        ),
    ],
)
def test_a_database_url_sessionlens_cannot_use_is_named_not_a_traceback(monkeypatch, url, reason):
    """An admin's mistyped or unsupported database URL, from the environment or from
    --database-url, stops the command before it starts, saying what is wrong and what to write
    instead; a password in it is not repeated."""
    monkeypatch.setenv("SESSIONLENS_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        res = runner.invoke(app, ["users", "list"])
    finally:
        get_settings.cache_clear()
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert f"Error: SESSIONLENS_DATABASE_URL: {reason}; {USABLE}" in res.output
    assert "hunter2" not in res.output

    monkeypatch.delenv("SESSIONLENS_DATABASE_URL")
    res = runner.invoke(app, ["users", "list", "--database-url", url])
    said = " ".join(res.output.replace("│", " ").split())  # typer draws the message in a box
    assert res.exit_code == 2 and f"Invalid value for '--database-url': {reason}" in said
    assert "hunter2" not in said


def test_an_embedded_database_in_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    """`SESSIONLENS_DATABASE_URL=sqlite:///…` under a path that is a file (or unwritable): any
    command, `serve` included, stops with one line naming the folder, where it used to print a
    traceback (and `serve` started a console that failed on every page)."""
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    url = f"sqlite:///{tmp_path / 'notes.txt' / 'data' / 'sessionlens.db'}"
    env = {**os.environ, "SESSIONLENS_DATABASE_URL": url}
    for command in (["users", "list"], ["serve", "--server.port", "1"]):
        res = subprocess.run(
            [sys.executable, "-m", "sessionlens.cli", *command],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=env,
        )
        assert res.returncode == 1 and "Traceback" not in res.stderr, res.stdout + res.stderr
        first, second = res.stderr.strip().splitlines()
        assert first == (
            f"Database error: cannot make {tmp_path / 'notes.txt' / 'data'} for the SQLite "
            "database: Not a directory"
        )
        assert second == "(the database comes from --database-url or SESSIONLENS_DATABASE_URL)"


def test_db_upgrade_creates_a_missing_postgres_database_and_a_wrong_one_is_one_line():
    """A new admin points Sessionlens at a Postgres database that is not there yet: any command
    says so in the server's own words on one line (exit status 1, no traceback), and
    `db upgrade` ("create or migrate") creates it; the URL it prints hides the password."""
    from sqlalchemy import text

    from db.engine import make_engine
    from tests.conftest import PG_URL, pg_url

    url = make_url(pg_url("sessionlens_test_created_by_cli")).set(password="hunter2")
    name = url.database
    admin = make_engine(make_url(PG_URL).set(database="postgres").render_as_string(False))

    def drop() -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    try:
        args = ["users", "list", "--database-url", url.render_as_string(hide_password=False)]
        res = subprocess.run(
            [sys.executable, "-m", "sessionlens.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=appdb.ROOT,
        )
        assert res.returncode == 1, res.stdout + res.stderr
        assert "Traceback" not in res.stdout + res.stderr
        first, second = res.stderr.strip().splitlines()
        assert first.startswith("Database error: connection failed:")
        assert f'database "{name}" does not exist' in first
        assert second == "(the database comes from --database-url or SESSIONLENS_DATABASE_URL)"
        upgrade = ["db", "upgrade", "--database-url", url.render_as_string(hide_password=False)]
        res = runner.invoke(app, upgrade)
        assert res.exit_code == 0, res.output
        assert f"Created the database {name}" in res.output
        assert "hunter2" not in res.output and "Database is up to date" in res.output
        res = runner.invoke(app, upgrade)  # the second time there is nothing to create
        assert res.exit_code == 0 and "Created" not in res.output
    finally:
        drop()
        admin.dispose()


def test_a_worker_on_postgres_settles_live_sessions(monkeypatch):
    """`sessionlens worker` on Postgres starts the settler that puts quiet live sessions back into
    the search index (tests/test_search.py shows what it does), so that they are settled even when
    the API process that appended to them has gone; on SQLite there is nothing to settle."""
    from sessionlens import search, worker
    from tests.conftest import PG_URL

    settling: list[str] = []
    monkeypatch.setattr(
        search, "keep_settling", lambda engine: settling.append(engine.url.database)
    )
    monkeypatch.setattr(worker.Worker, "run", lambda self: None)  # return at once
    result = runner.invoke(app, ["worker", "--database-url", PG_URL])
    assert result.exit_code == 0, result.output
    assert settling == [make_url(PG_URL).database]
    result = runner.invoke(app, ["worker", "--database-url", "sqlite://"])
    assert result.exit_code == 0, result.output
    assert settling == [make_url(PG_URL).database]


@pytest.mark.parametrize(
    ("args", "health"),
    [
        (["serve", "--server.port", "{port}"], "/_stcore/health"),
        (["api", "--port", "{port}"], "/healthz"),
    ],
)
def test_ctrl_c_stops_a_server_quietly_with_status_zero(tmp_path, args, health):
    """Ctrl-C (SIGINT) on `sessionlens serve` (what `make run` starts) and `sessionlens api`: the
    server stops, says so in one line and exits 0, where `streamlit run app.py` alone says
    "Aborted!" and exits 1 (uvicorn raises the signal again after its graceful stop)."""
    port = appdb.free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("sessionlens")), *(a.format(port=port) for a in args)],
        cwd=tmp_path,  # serve finds app.py beside the package, not in the working directory
        env={**os.environ, "SESSIONLENS_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        appdb.wait_until_serving(proc, f"http://127.0.0.1:{port}{health}")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert out.rstrip().endswith("Stopped."), out
    assert "Aborted" not in out and "Traceback" not in out, out


@pytest.mark.parametrize(
    ("url", "handed"),
    [
        ("sqlite:///data/sessionlens.db", "sqlite:////srv/app/data/sessionlens.db"),
        ("sqlite:///data/s.db?timeout=30", "sqlite:////srv/app/data/s.db?timeout=30"),
        ("sqlite:////var/lib/s.db", "sqlite:////var/lib/s.db"),
        ("sqlite://", "sqlite://"),
        ("postgresql+psycopg://u:p@db/x", "postgresql+psycopg://u:p@db/x"),
    ],
)
def test_settings_handed_to_a_process_elsewhere_name_the_same_files(url, handed):
    from sessionlens.settings import Settings

    env = Settings(database_url=url, blob_dir="data/blobs", model_dir="/opt/m").as_environment(
        Path("/srv/app")
    )
    assert env["SESSIONLENS_DATABASE_URL"] == handed
    assert env["SESSIONLENS_BLOB_DIR"] == "/srv/app/data/blobs"
    assert env["SESSIONLENS_MODEL_DIR"] == "/opt/m"
    assert "SESSIONLENS_EMBEDDED_WORKER" not in env  # unset stays unset: decided by the URL


def test_serve_uses_the_settings_of_the_directory_it_is_started_in(tmp_path):
    """`sessionlens serve` runs Streamlit from the checkout (for its .streamlit/config.toml), yet
    an operator who runs `sessionlens db upgrade`, `demo` or `users add` in a directory must find
    the console on the same database: that directory's .env is read and its data/ holds the
    embedded database and the recordings (serve used to open the checkout's data/ instead)."""
    from sqlalchemy import create_engine, inspect

    (tmp_path / ".env").write_text("SESSIONLENS_DEMO_ON_FIRST_START=false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONLENS_")}
    port = appdb.free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("sessionlens")), "serve", "--server.port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        appdb.wait_until_serving(proc, f"http://127.0.0.1:{port}/_stcore/health")
        db = tmp_path / "data" / "sessionlens.db"
        assert db.is_file(), "the embedded database is created in the directory serve ran in"
        engine = create_engine(f"sqlite:///{db}")
        with engine.connect() as conn:
            assert "chat_sessions" in inspect(conn).get_table_names()
            assert conn.exec_driver_sql("select count(*) from chat_sessions").scalar() == 0
        engine.dispose()  # the .env's "no demo data" was read
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out


@pytest.mark.parametrize("stop_wait", ["10", "0"], ids=["worker-stops", "worker-outlives-the-wait"])
def test_the_embedded_server_transcribes_from_its_start_and_puts_a_job_back_when_stopped(
    tmp_path, stop_wait
):
    """`sessionlens serve` on the embedded default runs the transcription worker from the
    server's start: a call recording the agent runtime sends before anyone has opened the
    console is transcribed. Stopped while it transcribes a call, the server puts that job back in
    the queue (a restart takes it up at once, not after the lease runs out).

    With no wait for the worker (``SESSIONLENS_WORKER_STOP_SECONDS=0``) its thread is still inside
    the model when the server ends, as on a machine too busy to finish a 30-second window in the
    wait: the server still ends with status 0 and "Stopped." (it used to crash at exit, -11)."""
    import json

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from db.models import Job
    from tests.test_deploy import LONG_CALL
    from tests.test_import import SENTENCE, _espeak

    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert runner.invoke(app, ["demo", "-n", "20", "--database-url", url]).exit_code == 0
    key = runner.invoke(app, ["api-keys", "create", "--name", "rt", "--database-url", url])
    port = appdb.free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("sessionlens")), "serve", "--server.port", str(port)],
        cwd=tmp_path,
        env={
            **os.environ,
            "SESSIONLENS_DATABASE_URL": url,
            "SESSIONLENS_WORKER_STOP_SECONDS": stop_wait,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def call(path: str, data: bytes | None = None) -> dict:
        req = urllib.request.Request(
            base + path,
            data=data,
            method="POST" if data else "GET",
            headers={"Authorization": f"Bearer {key.output.strip()}"},
        )
        with urllib.request.urlopen(req, timeout=30) as res:
            return json.loads(res.read())

    def send(text: str, name: str) -> int:
        audio = _espeak(text, tmp_path / name).read_bytes()
        return call(f"/api/v1/recordings?agent=Aria%20(Support)&file_name={name}", audio)["job_id"]

    def wait_for(job_id: int, status: str) -> None:
        deadline = time.time() + 300
        while (now := call(f"/api/v1/jobs/{job_id}")["status"]) != status:
            assert now in ("queued", "running") and time.time() < deadline, now
            time.sleep(0.2)

    try:
        appdb.wait_until_serving(proc, f"{base}/healthz", timeout=90)
        wait_for(send(SENTENCE, "short.wav"), "done")  # no page was opened: no browser at all
        long_job = send(LONG_CALL, "long.wav")
        wait_for(long_job, "running")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0 and out.rstrip().endswith("Stopped."), out
    assert "ScriptRunContext" not in out and "Traceback" not in out, out
    if stop_wait == "0":
        assert "did not stop within 0 s; its job is queued again" in out, out
    with Session(create_engine(url)) as db:
        job = db.get_one(Job, long_job)
    assert (job.status, job.worker, job.attempts) == ("queued", None, 1)


@pytest.mark.parametrize("group", [[], ["users"], ["tenants"], ["api-keys"], ["jobs"], ["blobs"]])
def test_every_command_is_one_line_in_the_help_list(group):
    """`sessionlens --help` lists each command with the first sentence of what it does; a
    sentence broken over two lines of the list ("…(for" / "example --server.port 8502)…") read
    as two commands' worth of text, implementation notes included."""
    res = runner.invoke(app, [*group, "--help"], env={"COLUMNS": "240", "TERMINAL_WIDTH": "240"})
    assert res.exit_code == 0, res.output
    panel = res.output.split("Commands")[1].split("╰")[0].splitlines()[1:]
    assert panel, res.output
    continued = [line for line in panel if line.startswith("│  ")]  # no command name before it
    assert not continued, res.output


def test_a_customer_is_erased_from_the_command_line(tmp_path, monkeypatch):
    """`sessionlens customers erase ID` (a script serving erasure requests): it says what would
    go and asks, unless --yes; then the customer and their sessions are gone, recordings too, and
    the audit row names the command line."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from db.models import AuditEvent, ChatSession, Customer

    url = f"sqlite:///{tmp_path / 'erase.db'}"
    monkeypatch.setenv("SESSIONLENS_BLOB_DIR", str(tmp_path / "blobs"))
    get_settings.cache_clear()
    try:
        assert runner.invoke(app, ["demo", "-n", "40", "--database-url", url]).exit_code == 0
        with Session(make_engine(url)) as db:
            cid, n = busiest_customer(db, 1)
        args = ["customers", "erase", str(cid), "--database-url", url]
        res = runner.invoke(app, args, input="n\n")  # asked, and said no
        assert res.exit_code == 1 and f"Erase customer {cid} and {n} session" in res.output
        res = runner.invoke(app, [*args, "--yes"])
        assert res.exit_code == 0 and f"Erased customer {cid}: {n} session" in res.output
        res = runner.invoke(app, [*args, "--yes"])  # once is enough
        assert res.exit_code == 1 and f"Customer {cid} not found" in res.output
    finally:
        get_settings.cache_clear()
    with Session(make_engine(url)) as db:
        assert db.get(Customer, cid) is None
        assert not db.scalar(
            select(func.count()).select_from(ChatSession).where(ChatSession.customer_id == cid)
        )
        row = db.scalars(select(AuditEvent).where(AuditEvent.action == "customer_erased")).one()
        assert (row.actor_user_id, row.details["via"]) == (None, "command line")


def test_sessions_older_than_the_retention_period_are_purged_from_the_command_line(tmp_path):
    """A nightly `sessionlens sessions purge --older-than 30 --yes`: the old sessions go, the
    command says how many, and a second run finds nothing to do."""
    import datetime as dt

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from db.models import ChatSession

    url = f"sqlite:///{tmp_path / 'purge.db'}"
    assert runner.invoke(app, ["demo", "-n", "60", "--database-url", url]).exit_code == 0
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    with Session(make_engine(url)) as db:
        tenant_one = select(func.count()).where(ChatSession.tenant_id == 1)
        old = db.scalar(tenant_one.where(ChatSession.last_message_at < cutoff))
        young = db.scalar(tenant_one.where(ChatSession.last_message_at >= cutoff))
    assert old and young, "the demo data must hold sessions on both sides of 30 days"
    args = ["sessions", "purge", "--older-than", "30", "--database-url", url]
    res = runner.invoke(app, args, input="n\n")
    assert res.exit_code == 1 and f"Delete {old} sessions whose last message is older" in res.output
    res = runner.invoke(app, [*args, "--yes"])
    assert res.exit_code == 0 and res.output.startswith(f"Purged {old} sessions, "), res.output
    res = runner.invoke(app, [*args, "--yes"])
    assert res.exit_code == 0 and "No session's last message is older than" in res.output
    with Session(make_engine(url)) as db:
        assert db.scalar(tenant_one.where(ChatSession.last_message_at < cutoff)) == 0
        assert db.scalar(tenant_one) == young
