"""The Alembic revisions build exactly the schema the models describe, on both backends."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from db.migrate import include_name, include_object_for
from db.models import Base


def _old_database(tmp_path, revision: str, *rows: str):
    """A SQLite database at an earlier ``revision`` holding ``rows`` (INSERT statements), as an
    install of that version would have it; upgrade it with ``db.migrate.upgrade``."""
    from alembic import command
    from sqlalchemy import text

    from db.engine import make_engine
    from db.migrate import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        for sql in rows:
            conn.execute(text(sql))
    return engine


# SQLite's reflection cannot read an index on an expression (users' lower(email), migration
# 0018), so the comparison skips it there with these two warnings; the test checks it by name.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrated_schema_matches_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_name": include_name,
                "include_object": include_object_for(conn.dialect.name),
            },
        )
        diff = compare_metadata(context, Base.metadata)
        indexes = {i["name"]: i for i in inspect(conn).get_indexes("users")}
        if conn.dialect.name == "sqlite":
            names = {r[1]: r[2] for r in conn.exec_driver_sql("PRAGMA index_list(users)")}
            assert names.get("uq_users_email_lower") == 1  # there, and unique
        else:
            assert indexes["uq_users_email_lower"]["unique"]
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


def test_upgrading_a_database_with_data_keeps_it(tmp_path):
    """An install of an earlier version, with tenants, users and sessions in it, upgrades to the
    newest schema in place (SQLite rebuilds of referenced tables would fail here)."""
    from sqlalchemy import text

    from db.migrate import upgrade
    from sessionlens import auth

    engine = _old_database(
        tmp_path,
        "0004",
        "INSERT INTO tenants (id, name, timezone, plan, statuses, result_fields, created_at) "
        "VALUES (1, 'T', 'UTC', 'paid', '[]', '[]', '2026-01-01 00:00:00')",
        "INSERT INTO users (id, tenant_id, name, email, role, is_human_agent) "
        "VALUES (1, 1, 'Ann', 'ann@example.com', 'admin', 0)",
        "INSERT INTO audit_events (tenant_id, actor_user_id, action, target_type, target_id, at, details) "
        "VALUES (1, 1, 'x', 'user', '1', '2026-01-01 00:00:00', '{}')",
    )
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT name, is_active, auth_version, password_hash FROM users")
        ).one()
        assert tuple(row) == ("Ann", 1, 0, None)  # active, never signed in with a password yet
        assert conn.scalar(text("SELECT count(*) FROM audit_events")) == 1
    from sqlalchemy.orm import Session

    with Session(engine) as db:
        assert auth.actor_for_email(db, "ann@example.com").name == "Ann"


def test_upgrading_a_database_with_messages_makes_them_searchable(tmp_path):
    """Sessions, messages and customers written before search existed are found after the upgrade,
    and SQLite's FTS5 indexes pass their own integrity check."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from db.migrate import upgrade
    from sessionlens import search, sessions
    from sessionlens.filters import SessionFilter
    from sessionlens.identity import default_actor

    rows = [
        "INSERT INTO tenants (id, name, timezone, plan, statuses, result_fields, created_at) "
        "VALUES (1, 'T', 'UTC', 'paid', '[]', '[]', '2026-01-01 00:00:00')",
        "INSERT INTO users (id, tenant_id, name, email, role, is_human_agent, is_active, "
        "auth_version) VALUES (1, 1, 'Ann', 'ann@example.com', 'admin', 0, 1, 0)",
        "INSERT INTO agents (id, tenant_id, name) VALUES (1, 1, 'Max')",
        "INSERT INTO customers (id, tenant_id, name, custom_fields) VALUES (1, 1, 'Jürgen', '{}')",
        "INSERT INTO chat_sessions (id, tenant_id, agent_id, channel, customer_id, mode, status, "
        "initiator, started_at, last_message_at, message_count, has_attachments, parameters, "
        "results) VALUES (1, 1, 1, 'web', 1, 'ai', 'open', 'client', '2026-01-01 00:00:00', "
        "'2026-01-01 00:00:00', 2, 0, '{}', '{}')",
        "INSERT INTO messages (id, tenant_id, session_id, seq, author_kind, text, sent_at, "
        "is_template) VALUES (1, 1, 1, 1, 'customer', 'Die Rückerstattung bitte', "
        "'2026-01-01 00:00:00', 0), (2, 1, 1, 2, 'ai', 'Gern, erledigt', '2026-01-01 00:00:00', 0)",
    ]
    engine = _old_database(tmp_path, "0009", *rows)
    upgrade(engine)
    with Session(engine) as db:
        who = default_actor(db)
        for q, people in (("ruckerstattung", False), ('"bitte gern"', False), ("jurgen", True)):
            flt = SessionFilter(text=search.parse(q, people=people))
            found = [r.id for r in sessions.list_page(db, flt, actor=who).rows]
            assert found == ([] if q == '"bitte gern"' else [1]), q  # no phrase across messages
    with engine.begin() as conn:
        for fts in ("chat_sessions_fts", "customers_fts"):
            conn.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('integrity-check')"))


def test_customers_of_an_earlier_version_are_found_by_phone_after_the_upgrade(tmp_path):
    """Migration 0016 gives the customers already there their phone key (else their WhatsApp
    number's), so 360 View finds them by the end of their number."""
    from sqlalchemy.orm import Session

    from db.migrate import upgrade
    from sessionlens import filter_options
    from sessionlens.identity import default_actor

    engine = _old_database(
        tmp_path,
        "0015",
        "INSERT INTO tenants (id, name, timezone, plan, statuses, result_fields, created_at) "
        "VALUES (1, 'T', 'UTC', 'paid', '[]', '[]', '2026-01-01 00:00:00')",
        "INSERT INTO users (id, tenant_id, name, email, role, is_human_agent, is_active, "
        "auth_version) VALUES (1, 1, 'Ann', 'ann@example.com', 'admin', 0, 1, 0)",
        "INSERT INTO customers (id, tenant_id, name, phone, whatsapp, custom_fields) VALUES"
        " (1, 1, 'Pia', '+49 151 1912563', NULL, '{}'),"
        " (2, 1, 'Ole', NULL, '+45 20 12 34 56', '{}'), (3, 1, 'Eva', NULL, NULL, '{}')",
    )
    upgrade(engine)
    with Session(engine) as db:
        who = default_actor(db)
        for typed, name in (("0151 1912563", "Pia"), ("20123456", "Ole")):
            found = filter_options.search_customers(db, typed, actor=who)
            assert [c.label.split(" ·")[0] for c in found] == [name], typed


def test_an_upgrade_stops_at_two_users_of_one_address_and_names_it(tmp_path):
    """Migration 0018 makes an address one user's, whatever its case. A database that somehow
    holds two (written before the console checked, or by hand) stops with the address named and
    what to do, instead of a bare unique-index error; once they differ, the upgrade goes on."""
    import pytest
    from sqlalchemy import text

    from db.migrate import upgrade

    engine = _old_database(
        tmp_path,
        "0017",
        "INSERT INTO tenants (id, name, timezone, plan, statuses, result_fields, created_at) "
        "VALUES (1, 'T', 'UTC', 'paid', '[]', '[]', '2026-01-01 00:00:00')",
        "INSERT INTO users (id, tenant_id, name, email, role, is_human_agent, is_active, "
        "auth_version) VALUES (1, 1, 'Ann', 'ann@example.com', 'admin', 0, 1, 0),"
        " (2, 1, 'Ann Again', 'Ann@Example.com', 'viewer', 0, 1, 0)",
    )
    with pytest.raises(RuntimeError, match="share the email address ann@example.com: give each"):
        upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET email = 'ann.again@example.com' WHERE id = 2"))
    upgrade(engine)


def test_postgres_vacuums_the_sessions_table_after_one_percent_of_it_changed():
    """The Human Agents poll is an index-only scan, fast only over pages a VACUUM has marked;
    autovacuum's default waits for 20 % of a million sessions to change. The migration sets the
    sessions table's own thresholds, and downgrading takes them away again."""
    from alembic import command
    from sqlalchemy import text

    from db.migrate import alembic_config
    from tests.conftest import pg_database

    eng = pg_database("sessionlens_vacuum")

    def options() -> set[str]:
        with eng.connect() as conn:
            found = conn.scalar(
                text("SELECT reloptions FROM pg_class WHERE oid = 'chat_sessions'::regclass")
            )
        return set(found or [])

    def migrate(step, revision: str) -> None:
        config = alembic_config()
        with eng.begin() as conn:
            config.attributes["connection"] = conn
            step(config, revision)

    migrate(command.upgrade, "head")
    assert options() == {
        "autovacuum_vacuum_scale_factor=0.01",
        "autovacuum_vacuum_insert_scale_factor=0.01",
        "autovacuum_analyze_scale_factor=0.02",
    }
    migrate(command.downgrade, "0014")
    assert options() == set()
    eng.dispose()
