"""The Alembic revisions build exactly the schema the models describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db.models import Base


def test_migrated_schema_matches_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_plain_alembic_reads_the_same_settings_as_the_app(tmp_path):
    """`alembic upgrade head` run by hand migrates the database the app would use (here named in
    a .env file, as an operator might configure it), not one it guesses."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    (tmp_path / ".env").write_text(f"SESSIONLENS_DATABASE_URL=sqlite:///{tmp_path / 'ops.db'}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONLENS_")}
    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(root / "alembic.ini"), "upgrade", "head"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "ops.db").stat().st_size > 0
