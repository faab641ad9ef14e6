"""The ``sessionlens`` command: migrate, fill with demo data, refresh locations."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.progress import Progress
from sqlalchemy import select

from db.engine import make_engine
from sessionlens import demo as demo_data
from sessionlens import geo, setup, shutdown
from sessionlens.errors import BadInput
from sessionlens.settings import get_settings, settings_or_exit
from sessionlens.wording import counted

if TYPE_CHECKING:  # types only: the commands import what they need when they run
    import socket
    from collections.abc import Callable

    from sqlalchemy.orm import Session, sessionmaker

    from sessionlens.blobs import BlobStore
    from sessionlens.permissions import Actor

app = typer.Typer(
    help="Sessionlens: the console for AI-agent customer sessions.", no_args_is_help=True
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
geo_app = typer.Typer(help="Customer locations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(geo_app, name="geo")
users_app = typer.Typer(help="Who may sign in, and with which role.", no_args_is_help=True)
app.add_typer(users_app, name="users")
tenants_app = typer.Typer(help="The teams that share this installation.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
keys_app = typer.Typer(help="API keys of a tenant's agent runtime.", no_args_is_help=True)
app.add_typer(keys_app, name="api-keys")
jobs_app = typer.Typer(help="The transcription queue.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
blobs_app = typer.Typer(help="Where recordings are kept.", no_args_is_help=True)
app.add_typer(blobs_app, name="blobs")
customers_app = typer.Typer(help="The people the agents talk to.", no_args_is_help=True)
app.add_typer(customers_app, name="customers")
sessions_app = typer.Typer(help="Keeping sessions no longer than needed.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")


@app.callback()
def _logging() -> None:
    """Sessionlens: the console for AI-agent customer sessions."""
    from sessionlens import logfmt

    settings = settings_or_exit()
    logfmt.configure(settings.log_format, settings.log_level)


TenantOpt = typer.Option(None, "--tenant", help="Tenant name or id (default: the first)")


def _usable_url(value: str | None) -> str | None:
    """``--database-url`` refused with what is wrong with it, before any command runs."""
    from db.engine import UnusableDatabase, checked_url

    try:
        return None if value is None else checked_url(value)
    except UnusableDatabase as err:
        raise typer.BadParameter(str(err)) from None


UrlOpt = typer.Option(
    None, "--database-url", help="Defaults to SESSIONLENS_DATABASE_URL.", callback=_usable_url
)


def _fail_if_unremoved(store: BlobStore, unremoved: list[str]) -> None:
    if unremoved:
        _fail(
            ValueError(
                f"could not remove these recordings from {store.label}: {', '.join(unremoved)}"
            )
        )


@db_app.command("upgrade")
def db_upgrade(database_url: str | None = UrlOpt) -> None:
    """Create or migrate the database to the newest schema."""
    from sqlalchemy.engine import make_url

    from db.engine import create_database_if_missing

    url = database_url or get_settings().database_url
    parsed = make_url(url)
    if create_database_if_missing(url):
        typer.echo(f"Created the database {parsed.database}")
    setup.migrated_engine(url)
    typer.echo(f"Database is up to date: {parsed.render_as_string(hide_password=True)}")


@app.command()
def demo(
    sessions: int = typer.Option(2000, "--sessions", "-n", min=1, help="How many sessions."),
    seed: int = typer.Option(7, help="Random seed; the same seed gives the same data."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if sessions exist."),
    database_url: str | None = UrlOpt,
) -> None:
    """Fill the database with realistic demo tenants, agents, customers and sessions."""
    settings = get_settings()
    engine = setup.migrated_engine(database_url or settings.database_url)
    with engine.begin() as conn:
        if if_empty and setup.has_sessions(conn):
            typer.echo("Database already has sessions; demo data not added.")
            return
        locator = geo.get_locator(str(settings.geoip_path) if settings.geoip_path else None)
        started = dt.datetime.now()
        with Progress(disable=not sys.stdout.isatty()) as bar:
            task = bar.add_task("Writing demo sessions", total=sessions)
            done = [0]

            def progress(k: int) -> None:
                if not k:
                    return
                bar.advance(task, k)
                done[0] += k
                if not sys.stdout.isatty() and done[0] % 100_000 == 0:
                    typer.echo(f"{done[0]:,} sessions written", err=True)

            try:
                summary = demo_data.generate(
                    conn, locator=locator, sessions=sessions, seed=seed, progress=progress
                )
            except BadInput as err:
                bar.stop()
                typer.echo(f"{err} (--if-empty skips this quietly)", err=True)
                raise typer.Exit(1) from None
    took = (dt.datetime.now() - started).total_seconds()
    typer.echo(", ".join(f"{n} {t}" for t, n in summary.counts.items()) + f" in {took:.1f} s")


@geo_app.command("refresh")
def geo_refresh(database_url: str | None = UrlOpt) -> None:
    """Re-resolve every stored session's country and city after the location database changed."""
    from db.engine import make_sessionmaker

    settings = get_settings()
    locator = geo.get_locator(str(settings.geoip_path) if settings.geoip_path else None)
    if locator.info is None:
        raise typer.BadParameter(f"No readable location database at {settings.geoip_path}")
    with make_sessionmaker(make_engine(database_url or settings.database_url)).begin() as db:
        n = geo.refresh(db, locator)
    typer.echo(
        f"Re-resolved {counted(n, 'session')} with {locator.info.database_type} "
        f"built {locator.info.build_date}"
    )


@app.command()
def worker(
    database_url: str | None = UrlOpt,
    metrics_port: int | None = typer.Option(
        None,
        "--metrics-port",
        min=1,
        max=65535,
        help="Serve this worker's Prometheus metrics (job wait and run times, real-time "
        "factor) on this port, at /metrics.",
    ),
) -> None:
    """Run a transcription worker until SIGTERM or Ctrl-C (which put its current job back)."""
    import signal

    from db.engine import make_sessionmaker
    from sessionlens import blobs, metrics, search
    from sessionlens.worker import Worker

    settings = get_settings()
    engine = make_engine(database_url or settings.database_url)
    maker = make_sessionmaker(engine)
    if engine.dialect.name == "postgresql":
        # Live sessions go back into the search index here too, not only in the processes that
        # append: after an API server restarts, nobody else may append to its sessions again.
        search.keep_settling(engine)
    w = Worker(maker, settings, blobs.default_store(database_url))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: w.stop.set())
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, registry=metrics.REGISTRY)
    typer.echo(f"Worker {w.name} waiting for transcription jobs")
    w.run()
    typer.echo("Worker stopped")


@app.command("serve", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def serve(ctx: typer.Context) -> None:
    """Serve the console, with any Streamlit option after it (e.g. --server.port 8502).

    It is `streamlit run app.py` from the checkout; Ctrl-C stops it with exit status 0.
    """
    # `streamlit run` itself prints "Aborted!" on Ctrl-C and exits 1 (sessionlens/shutdown.py).
    root = Path(__file__).resolve().parent.parent
    if not (root / "app.py").is_file():
        raise typer.BadParameter(f"{root / 'app.py'} is missing: serve runs from a checkout")
    # Streamlit reads .streamlit/config.toml in the directory it runs in, so the console runs
    # from the checkout; its settings stay those of the directory this command was started in,
    # as for every other command (that directory's .env, its data/ for the embedded database),
    # handed over as environment variables. It once opened the checkout's data/sessionlens.db
    # while `sessionlens db upgrade`, `demo` and `users add` run from elsewhere used another.
    settings = settings_or_exit()
    make_engine(settings.database_url).dispose()  # an embedded database's folder, made or refused
    os.environ.update(settings.as_environment(Path.cwd()))
    # The console is the web layer's (web/serve.py); this process becomes it.
    os.chdir(root)
    os.execv(sys.executable, [sys.executable, "-m", "web.serve", *ctx.args])


@app.command("api")
def api_server(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8600, min=1, max=65535),
    workers: int = typer.Option(1, min=1, max=64, help="Server processes (one per core)."),
) -> None:
    """Serve the HTTP API on its own: /api/v1/…, /healthz and /metrics.

    WORKERS processes share one listening socket, until SIGTERM or Ctrl-C.
    """
    # The application is web/asgi.py.
    import multiprocessing
    import signal
    import socket
    import tempfile

    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    # The socket names its protocol (IPPROTO_TCP), so that asyncio turns Nagle's algorithm off on
    # every accepted connection; `uvicorn --workers` binds one with protocol 0, which it skips,
    # and each small response then waits 40 ms for the client's delayed ACK.
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as err:
        raise typer.BadParameter(f"Cannot listen on {host}:{port}: {err.strerror}") from None
    sock.listen(2048)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # One set of counters for all the processes, whichever answers /metrics.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sessionlens-metrics-")
    typer.echo(
        f"Sessionlens API on http://{host}:{port} ({counted(workers, 'process', 'processes')})"
    )
    if workers == 1:
        _serve_api(sock)
        return
    ctx = multiprocessing.get_context("fork")
    children = [ctx.Process(target=_serve_api, args=(sock,)) for _ in range(workers)]
    for child in children:
        child.start()

    def stop(*_: object) -> None:
        for child in children:
            if child.is_alive() and child.pid:
                os.kill(child.pid, signal.SIGTERM)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    for child in children:
        child.join()


def _serve_api(sock: socket.socket) -> None:
    import uvicorn

    # No proxy_headers: nothing there reads the client's address, and uvicorn's middleware for it
    # costs every request a little. httptools and uvloop by name: without them uvicorn falls back
    # to its pure-Python parser and loop without a word, and each request costs more CPU.
    config = uvicorn.Config(
        "web.asgi:app",
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        http="httptools",
        loop="uvloop",
    )
    shutdown.quiet_ctrl_c()
    uvicorn.Server(config).run(sockets=[sock])


@jobs_app.command("list")
def jobs_list(
    status: str | None = typer.Option(
        None, "--status", help="queued, running, done, failed or cancelled"
    ),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
    database_url: str | None = UrlOpt,
) -> None:
    """The newest jobs: id, status, attempts, session, worker, age, and the error of a failed one."""
    from db.models import JobStatus
    from sessionlens import jobs, timefmt

    if status is not None and status not in set(JobStatus):
        raise typer.BadParameter(
            f"{status!r} is not one of: {', '.join(JobStatus)}", param_hint="--status"
        )
    with _users_db(database_url)() as db:
        rows = jobs.queue(db, status=status, limit=limit)
    if not rows:
        typer.echo("No jobs" + (f" {status}" if status else ""))
        return
    now = _now()
    typer.echo(
        f"{'job':>7}  {'status':<9}  {'tries':>5}  {'session':>8}  {'age':>8}  worker / error"
    )
    for job in rows:
        age = timefmt.age(job.created_at, now)
        about = job.error if job.error else (job.worker or "")
        # An error can quote what a file or a runtime supplied: no control characters reach
        # the terminal (nor escape sequences with them).
        about = "".join(c if c.isprintable() else "?" for c in about)[:200]
        typer.echo(
            f"{job.id:>7}  {job.status:<9}  {job.attempts:>5}  {job.session_id or '':>8}  "
            f"{age:>8}  {about}"
        )


@jobs_app.command("retry")
def jobs_retry(
    job_ids: list[int] = typer.Argument(..., help="Failed or cancelled jobs to queue again."),
    database_url: str | None = UrlOpt,
) -> None:
    """Queue failed or cancelled jobs again (their recordings were kept)."""
    from sessionlens import jobs

    _each_job(job_ids, database_url, lambda db, i: jobs.retry_job(db, i, now=_now()), "queued")


@jobs_app.command("cancel")
def jobs_cancel(
    job_ids: list[int] = typer.Argument(..., help="Queued or running jobs to take off the queue."),
    database_url: str | None = UrlOpt,
) -> None:
    """Take queued or running jobs off the queue; a running one stops at its next heartbeat."""
    from sessionlens import jobs

    _each_job(job_ids, database_url, lambda db, i: jobs.cancel_job(db, i, now=_now()), "cancelled")


def _each_job(
    job_ids: list[int],
    database_url: str | None,
    change: Callable[[Session, int], object],
    done: str,
) -> None:
    from sessionlens.errors import DomainError

    maker, failed = _users_db(database_url), 0
    for job_id in job_ids:
        try:
            with maker.begin() as db:
                change(db, job_id)
            typer.echo(f"job {job_id}: {done}")
        except DomainError as err:
            failed += 1
            typer.echo(f"job {job_id}: {err}", err=True)
    if failed:
        raise typer.Exit(1)


@blobs_app.command("migrate")
def blobs_migrate(
    to: str = typer.Option(..., "--to", help="local, database, or a URL (s3://bucket/prefix)"),
    source: str | None = typer.Option(
        None, "--from", help="The store they are in now (default: SESSIONLENS_BLOB_STORE)"
    ),
    delete_source: bool = typer.Option(
        False, "--delete-source", help="Remove each recording from the old store once verified"
    ),
    database_url: str | None = UrlOpt,
) -> None:
    """Copy every recording to another store, verified by SHA-256.

    Safe to interrupt and run again: recordings already copied intact are skipped. Then set
    SESSIONLENS_BLOB_STORE.
    """
    from sessionlens import blobs
    from sessionlens.blob_migration import migrate

    settings = get_settings()
    url = database_url or settings.database_url
    try:
        src = (
            blobs.default_store(database_url)
            if source is None
            else blobs.open_store(source, database_url=url, blob_dir=settings.blob_dir)
        )
        dst = blobs.open_store(to, database_url=url, blob_dir=settings.blob_dir)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    if src.label == dst.label:
        raise typer.BadParameter(f"The recordings are already in {dst.label}", param_hint="--to")
    typer.echo(f"Copying recordings from {src.label} to {dst.label}")
    report = migrate(
        _users_db(url), src, dst, delete_source=delete_source, echo=lambda m: typer.echo(m)
    )
    typer.echo(
        f"{report.copied} copied, {report.present} already there, {report.missing} missing "
        f"from {src.label}, {report.failed} failed"
    )
    if report.missing or report.failed:
        raise typer.Exit(1)
    typer.echo(f"Now set SESSIONLENS_BLOB_STORE={to} on every app server and worker.")


def _agent_option(db: Session, actor: Actor, name: str) -> int:
    """The ``--agent`` option's agent in the actor's tenant, or the option's error."""
    from sessionlens import access
    from sessionlens.errors import NotFound

    try:
        return access.agent_id(db, actor, name)
    except NotFound:
        raise typer.BadParameter(f"No AI agent named {name!r}", param_hint="--agent") from None


@app.command("import-audio")
def import_audio(
    files: list[Path] = typer.Argument(..., exists=False, help="Recordings to import."),
    agent: str = typer.Option(..., help="Name of the AI agent the calls belong to."),
    channel: str = typer.Option("sip", help="Channel of the sessions."),
    customer: int | None = typer.Option(None, help="Customer id to link every call to."),
    wait: bool = typer.Option(False, help="Return only when every transcription has finished."),
    database_url: str | None = UrlOpt,
) -> None:
    """Import call recordings as voice sessions (exit status 1 if any was refused or failed)."""

    from db.engine import make_sessionmaker
    from db.models import Job, JobStatus
    from sessionlens import blobs, identity, jobs
    from sessionlens.errors import DomainError
    from sessionlens.importer import import_recording
    from sessionlens.worker import Worker

    settings = get_settings()
    engine = setup.migrated_engine(database_url or settings.database_url)
    maker, store = make_sessionmaker(engine), blobs.default_store(database_url)
    with maker() as db:
        actor = identity.default_actor(db)
        agent_id = _agent_option(db, actor, agent)
    queued, refused = [], 0
    with Progress(disable=not sys.stdout.isatty()) as bar:
        task = bar.add_task("Importing", total=len(files))
        for path in files:
            try:
                data = path.read_bytes()
                with maker.begin() as db:
                    done = import_recording(
                        db,
                        actor=actor,
                        data=data,
                        filename=path.name,
                        agent_id=agent_id,
                        channel=channel,
                        store=store,
                        settings=settings,
                        now=dt.datetime.now(dt.UTC),
                        customer_id=customer,
                    )
                queued.append(done.job_id)
                typer.echo(
                    f"{path}: session {done.session_id} ({done.info.duration:.0f} s), "
                    "transcription queued"
                )
            except (DomainError, OSError) as err:
                refused += 1
                typer.echo(f"{path}: refused: {err}", err=True)
            bar.advance(task)
    failed = 0
    if wait and queued:
        w = Worker(maker, settings, store, name=f"cli-{os.getpid()}")
        while True:
            with maker() as db:
                states = dict(
                    db.execute(select(Job.id, Job.status).where(Job.id.in_(queued))).all()
                )
            if all(st not in jobs.IN_PROGRESS for st in states.values()):
                break
            if not w.run_once():  # another worker has it: wait for it
                time.sleep(1)
        with maker() as db:
            for job in db.scalars(select(Job).where(Job.id.in_(queued))):
                if job.status != JobStatus.DONE:
                    failed += 1
                    typer.echo(
                        f"session {job.session_id}: transcription {job.status}: {job.error}",
                        err=True,
                    )
                else:
                    typer.echo(
                        f"session {job.session_id}: transcribed"
                        + (f" ({job.error})" if job.error else "")
                    )
    if refused or failed:
        raise typer.Exit(1)


# --- users ---------------------------------------------------------------------------------------

ROLES_HELP = "admin, lead, operator, viewer or user"


def _users_db(database_url: str | None) -> sessionmaker[Session]:
    from db.engine import make_sessionmaker

    return make_sessionmaker(setup.migrated_engine(database_url or get_settings().database_url))


def _password(stdin: bool) -> str:
    """The password from stdin (one line) or typed twice at a hidden prompt; never an argument,
    so it stays out of the shell history and the process list."""
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _fail(err: Exception) -> NoReturn:
    typer.echo(f"Error: {err}", err=True)
    raise typer.Exit(1)


@users_app.command("add")
def users_add(
    email: str,
    name: str = typer.Option(..., "--name", help="The name shown in the console"),
    role: str = typer.Option(..., "--role", help=ROLES_HELP),
    tenant: str | None = typer.Option(
        None, "--tenant", help="Tenant name or id (default: the first)"
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin"
    ),
    no_password: bool = typer.Option(
        False, "--no-password", help="Signs in through OIDC or a proxy only"
    ),
    database_url: str | None = UrlOpt,
) -> None:
    """Add a user who signs in with EMAIL and a password.

    With --no-password they sign in through the identity provider or proxy of SESSIONLENS_AUTH.
    """
    from sessionlens import audit, auth, strict
    from sessionlens.errors import DomainError

    try:  # a mistyped address is named before a password is typed (twice) for nothing
        strict.email(email, "The email", required=True)
    except DomainError as err:
        _fail(err)
    password = None if no_password else _password(password_stdin)
    try:
        with _users_db(database_url).begin() as db:
            user = auth.add_user(
                db, email=email, name=name, role=role, password=password, tenant=tenant
            )
            audit.record_cli(
                db,
                user.tenant_id,
                "user_added",
                "user",
                user.id,
                now=_now(),
                email=user.email,
                role=user.role,
            )
            typer.echo(f"Added {user.email} ({user.role}) to tenant {user.tenant_id}")
    except DomainError as err:
        _fail(err)


@users_app.command("list")
def users_list(database_url: str | None = UrlOpt) -> None:
    """Every user: tenant, email, name, role, active."""
    from db.models import User

    with _users_db(database_url)() as db:
        for u in db.scalars(select(User).order_by(User.tenant_id, User.id)):
            state = "active" if u.is_active else "deactivated"
            typer.echo(f"{u.tenant_id}\t{u.email}\t{u.name}\t{u.role}\t{state}")


@users_app.command("set-role")
def users_set_role(
    email: str, role: str = typer.Argument(..., help=ROLES_HELP), database_url: str | None = UrlOpt
) -> None:
    """Give EMAIL another role (it applies at the user's next click)."""
    from sessionlens import audit, auth, strict
    from sessionlens.errors import DomainError
    from sessionlens.kinds import Role

    try:
        with _users_db(database_url).begin() as db:
            user = auth.find_user(db, email)
            new = strict.choice(role, "The role", {r.value for r in Role}, noun="role")
            audit.record_cli(
                db,
                user.tenant_id,
                "role_changed",
                "user",
                user.id,
                now=_now(),
                old=user.role,
                new=new,
            )
            user.role = new
            typer.echo(f"{user.email} is now {user.role}")
    except DomainError as err:
        _fail(err)


@users_app.command("deactivate")
def users_deactivate(email: str, database_url: str | None = UrlOpt) -> None:
    """Stop EMAIL from signing in and send their open conversations back to the queue.

    Their open browser sessions end at their next click; the conversations they hold go back to
    the Human Agents queue.
    """
    from sessionlens import admin, audit, auth
    from sessionlens.errors import DomainError

    try:
        with _users_db(database_url).begin() as db:
            user = auth.find_user(db, email)
            returned = admin.deactivate(db, user, by="the command line", now=_now())
            audit.record_cli(
                db,
                user.tenant_id,
                "user_deactivated",
                "user",
                user.id,
                now=_now(),
                **admin.returned_details(returned),
            )
            back = (
                f"; {counted(returned, 'open conversation')} of theirs went back to the queue"
                if returned
                else ""
            )
            typer.echo(f"{user.email} is deactivated{back}")
    except DomainError as err:
        _fail(err)


@users_app.command("reset-password")
def users_reset_password(
    email: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin"
    ),
    database_url: str | None = UrlOpt,
) -> None:
    """Set a new password for EMAIL and sign them out everywhere."""
    from sessionlens import audit, auth
    from sessionlens.errors import DomainError

    password = _password(password_stdin)
    try:
        with _users_db(database_url).begin() as db:
            user = auth.find_user(db, email)
            user.password_hash = auth.hash_password(password)
            user.auth_version += 1
            audit.record_cli(db, user.tenant_id, "password_reset", "user", user.id, now=_now())
            typer.echo(f"New password set for {user.email}")
    except DomainError as err:
        _fail(err)


@tenants_app.command("add")
def tenants_add(
    name: str,
    timezone: str = typer.Option("UTC", "--timezone", help="IANA zone, e.g. Europe/Berlin"),
    plan: str = typer.Option("free", "--plan", help="free or paid (paid shows Trace Logs)"),
    database_url: str | None = UrlOpt,
) -> None:
    """Add a tenant; add its first admin with `users add --tenant NAME`."""
    from sessionlens import admin
    from sessionlens.errors import DomainError

    try:
        with _users_db(database_url).begin() as db:
            t = admin.add_tenant(db, name=name, timezone=timezone, plan=plan, now=_now())
            typer.echo(f"Added tenant {t.id}: {t.name} ({t.timezone}, {t.plan})")
    except DomainError as err:
        _fail(err)


@tenants_app.command("list")
def tenants_list(database_url: str | None = UrlOpt) -> None:
    """Every tenant: id, name, time zone, plan."""
    from db.models import Tenant

    with _users_db(database_url)() as db:
        for t in db.scalars(select(Tenant).order_by(Tenant.id)):
            typer.echo(f"{t.id}\t{t.name}\t{t.timezone}\t{t.plan}")


# --- API keys, JSON import, export ----------------------------------------------------------------


def _tenant_admin(db: Session, tenant: str | None) -> Actor:
    """The first active admin of ``tenant``: whose rights a command-line change acts with."""
    import dataclasses

    from sessionlens import audit, auth, identity

    admin = identity.first_admin(db, auth.tenant_by_ref(db, tenant).id)
    return dataclasses.replace(admin, via=audit.COMMAND_LINE)  # audited as the command line's


@keys_app.command("create")
def api_keys_create(
    name: str = typer.Option(..., "--name", help="What the key is for, e.g. production runtime"),
    tenant: str | None = TenantOpt,
    database_url: str | None = UrlOpt,
) -> None:
    """Create an API key and print it: the only time it is shown."""
    from sessionlens import admin
    from sessionlens.errors import DomainError

    try:
        with _users_db(database_url).begin() as db:
            key = admin.create_api_key(db, actor=_tenant_admin(db, tenant), name=name, now=_now())
    except DomainError as err:
        _fail(err)
    typer.echo(key)


@keys_app.command("list")
def api_keys_list(tenant: str | None = TenantOpt, database_url: str | None = UrlOpt) -> None:
    """The tenant's keys: id, name, how they start, created, revoked."""
    from sessionlens import admin

    with _users_db(database_url)() as db:
        for k in admin.list_api_keys(db, actor=_tenant_admin(db, tenant)):
            revoked = k.revoked_at.isoformat() if k.revoked_at else "active"
            typer.echo(f"{k.id}\t{k.name}\t{k.prefix}…\t{k.created_at.isoformat()}\t{revoked}")


@keys_app.command("revoke")
def api_keys_revoke(
    key_id: int, tenant: str | None = TenantOpt, database_url: str | None = UrlOpt
) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from sessionlens import admin
    from sessionlens.errors import DomainError

    try:
        with _users_db(database_url).begin() as db:
            admin.revoke_api_key(db, actor=_tenant_admin(db, tenant), key_id=key_id, now=_now())
    except DomainError as err:
        _fail(err)
    typer.echo(f"Revoked key {key_id}")


@customers_app.command("erase")
def customers_erase(
    customer_id: int,
    yes: bool = typer.Option(False, "--yes", help="Do not ask; for a script"),
    tenant: str | None = TenantOpt,
    database_url: str | None = UrlOpt,
) -> None:
    """Erase a customer who asked to be forgotten, with all their sessions.

    Their profile, sessions, messages, files, recordings, logs, traces and hand-overs go, in one
    transaction; the audit log keeps that it happened and how much went, not who it was.
    """
    from sessionlens import blobs, erasure
    from sessionlens.errors import DomainError

    maker, store = _users_db(database_url), blobs.default_store(database_url)
    try:
        with maker() as db:
            held = erasure.holdings(db, customer_id, actor=_tenant_admin(db, tenant))
        if not yes:
            typer.confirm(
                f"Erase customer {customer_id} and {held.in_words()}? It cannot be undone",
                abort=True,
            )
        with maker.begin() as db:
            done = erasure.erase_customer(
                db, customer_id, actor=_tenant_admin(db, tenant), now=_now(), store=store
            )
    except DomainError as err:
        _fail(err)
    typer.echo(f"Erased customer {customer_id}: {done.holdings.in_words()}")
    _fail_if_unremoved(store, done.unremoved)


@sessions_app.command("purge")
def sessions_purge(
    older_than: int = typer.Option(
        ..., "--older-than", min=1, help="Days since a session's last message"
    ),
    yes: bool = typer.Option(False, "--yes", help="Do not ask; for a scheduled job"),
    tenant: str | None = TenantOpt,
    database_url: str | None = UrlOpt,
) -> None:
    """Delete sessions whose last message is older than a retention period, with all of theirs.

    Messages, files, recordings, logs, traces and hand-overs go with them, a few hundred sessions
    per transaction, oldest first (safe to interrupt and run again); customer profiles stay.
    """
    from sessionlens import blobs, erasure
    from sessionlens.errors import DomainError

    before = _now() - dt.timedelta(days=older_than)
    when = before.strftime("%Y-%m-%d %H:%M UTC")
    maker, store = _users_db(database_url), blobs.default_store(database_url)
    purged = erasure.Holdings(0, 0, 0, 0)
    unremoved: list[str] = []
    try:
        with maker() as db:
            due = erasure.purge_due(db, actor=_tenant_admin(db, tenant), before=before)
        if not due:
            typer.echo(f"No session's last message is older than {when}")
            return
        if not yes:
            typer.confirm(
                f"Delete {counted(due, 'session')} whose last message is older than {when}, "
                "with everything of theirs? It cannot be undone",
                abort=True,
            )
        while True:
            with maker.begin() as db:
                done = erasure.purge_sessions(
                    db, actor=_tenant_admin(db, tenant), before=before, now=_now(), store=store
                )
            if not done.holdings.sessions:
                break
            purged, unremoved = purged + done.holdings, unremoved + done.unremoved
    except DomainError as err:
        _fail(err)
    typer.echo(f"Purged {purged.in_words()} (last message before {when})")
    _fail_if_unremoved(store, unremoved)


@app.command("import-sessions")
def import_sessions(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".json or .jsonl"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report; write nothing"),
    tenant: str | None = TenantOpt,
    database_url: str | None = UrlOpt,
) -> None:
    """Import sessions in the session-v1 format, all or nothing per file.

    Idempotent by the runtime's ids: importing a file twice changes nothing.
    """
    from sessionlens import exchange, ingest
    from sessionlens.errors import DomainError

    settings = get_settings()
    locate = geo.get_locator(settings.geoip_path).locate
    try:
        docs = ingest.read_file(file.read_bytes(), file.name)
        with _users_db(database_url)() as db:
            with db.begin() as tx:
                report = ingest.import_documents(
                    db,
                    docs,
                    actor=_tenant_admin(db, tenant),
                    now=_now(),
                    locate=locate,
                    dry_run=dry_run,
                )
                if dry_run:
                    tx.rollback()
    except exchange.Invalid as err:
        typer.echo(f"{file.name}: nothing imported, {counted(len(err.errors), 'error')}:", err=True)
        for e in err.errors[:50]:
            typer.echo(f"  {e}", err=True)
        raise typer.Exit(1) from None
    except DomainError as err:
        _fail(err)
    typer.echo(f"{file.name}: {report.summary(dry_run=dry_run)}")


@app.command("export")
def export_cmd(
    output: Path = typer.Option(..., "-o", "--output", help="The file to write"),
    fmt: str = typer.Option("jsonl", "--format", help="json, jsonl or csv"),
    agent: str | None = typer.Option(None, "--agent", help="Only this AI agent's sessions"),
    tenant: str | None = TenantOpt,
    database_url: str | None = UrlOpt,
) -> None:
    """Export sessions as JSON, JSONL or CSV, streamed to the file with a progress bar.

    The file appears whole or not at all: it is written beside OUTPUT under a temporary name and
    renamed when complete.
    """
    from sqlalchemy import func

    from sessionlens import export
    from sessionlens.blobs import write_whole
    from sessionlens.errors import DomainError

    chosen = next((f for f in export.FORMATS if f == fmt), None)
    if chosen is None:
        raise typer.BadParameter(f"not one of {', '.join(export.FORMATS)}", param_hint="--format")
    maker = _users_db(database_url)
    try:
        with maker() as db:
            who = _tenant_admin(db, tenant)
            agent_id = _agent_option(db, who, agent) if agent else None
            total = db.scalar(
                select(func.count()).select_from(export.statement(who, None, agent_id).subquery())
            )
            with Progress(disable=not sys.stdout.isatty()) as bar:
                task = bar.add_task("Exporting", total=total)
                chunks = export.stream(
                    db,
                    chosen,
                    actor=who,
                    agent_id=agent_id,
                    now=_now(),
                    describe=f"agent {agent}" if agent else "all sessions",
                    progress=lambda n: bar.advance(task, n),
                )
                try:
                    written = write_whole(output, chunks)
                except OSError as err:  # the disk filled up, OUTPUT is a folder or in none
                    _fail(ValueError(f"cannot write {output}: {err.strerror}"))
    except DomainError as err:
        _fail(err)
    typer.echo(f"Exported {counted(total or 0, 'session')} to {output} ({written:,} bytes)")


def main() -> None:
    """The ``sessionlens`` command. A database that cannot be reached or refuses a statement
    ends the command with the database's own message on one line, not a traceback; so does an
    embedded database whose folder cannot be made."""
    from sqlalchemy.exc import OperationalError

    from db.engine import UnusableDatabase

    try:
        app()
    except (OperationalError, UnusableDatabase) as err:
        orig = err.orig if isinstance(err, OperationalError) else None
        reason = " ".join(str(orig or err).split())
        typer.echo(
            f"Database error: {reason}\n"
            "(the database comes from --database-url or SESSIONLENS_DATABASE_URL)",
            err=True,
        )
        raise SystemExit(1) from None


# Last, so that `python -m sessionlens.cli` has every command defined above.
if __name__ == "__main__":
    main()
