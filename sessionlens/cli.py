"""The ``sessionlens`` command: migrate, fill with demo data, refresh locations."""

from __future__ import annotations

import datetime as dt
import sys

import typer
from rich.progress import Progress
from sqlalchemy import func, select

from db.engine import make_engine
from db.migrate import upgrade
from db.models import ChatSession
from sessionlens import demo as demo_data
from sessionlens import geo
from sessionlens.settings import get_settings

app = typer.Typer(
    help="Sessionlens: the console for AI-agent customer sessions.", no_args_is_help=True
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
geo_app = typer.Typer(help="Customer locations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(geo_app, name="geo")

UrlOpt = typer.Option(None, "--database-url", help="Defaults to SESSIONLENS_DATABASE_URL.")


@db_app.command("upgrade")
def db_upgrade(database_url: str | None = UrlOpt) -> None:
    """Create or migrate the database to the newest schema."""
    url = database_url or get_settings().database_url
    upgrade(make_engine(url))
    typer.echo(f"Database is up to date: {url}")


@app.command()
def demo(
    sessions: int = typer.Option(2000, "--sessions", "-n", min=1, help="How many sessions."),
    seed: int = typer.Option(7, help="Random seed; the same seed gives the same data."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if sessions exist."),
    database_url: str | None = UrlOpt,
) -> None:
    """Fill the database with realistic demo tenants, agents, customers and sessions."""
    settings = get_settings()
    engine = make_engine(database_url or settings.database_url)
    upgrade(engine)
    with engine.begin() as conn:
        if if_empty and conn.scalar(select(func.count()).select_from(ChatSession)):
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

            summary = demo_data.generate(
                conn, locator=locator, sessions=sessions, seed=seed, progress=progress
            )
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
        f"Re-resolved {n} sessions with {locator.info.database_type} "
        f"built {locator.info.build_date}"
    )


if __name__ == "__main__":
    app()
