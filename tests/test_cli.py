"""The `sessionlens` command a new user runs: migrate, demo data, location refresh."""

from typer.testing import CliRunner

from sessionlens.cli import app
from sessionlens.settings import get_settings

runner = CliRunner()


def test_upgrade_demo_and_geo_refresh(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    res = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert res.exit_code == 0 and "up to date" in res.output
    res = runner.invoke(app, ["demo", "-n", "30", "--database-url", url])
    assert res.exit_code == 0 and "30 chat_sessions" in res.output
    res = runner.invoke(app, ["demo", "--if-empty", "--database-url", url])
    assert res.exit_code == 0 and "demo data not added" in res.output
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
