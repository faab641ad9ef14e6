"""vacuum the sessions table sooner: after 1 % of its rows changed or arrived, not 20 %

Postgres only. The Human Agents list and its refresh poll, and the table's count of what waits
for an operator, are index-only scans over ``chat_sessions``; such a scan reads the table page of
every row whose page the visibility map does not mark all-visible, and only VACUUM marks pages.
Autovacuum's defaults wait for 20 % of a table's rows to change (and for 20 % more rows to be
inserted) before vacuuming it: at a million sessions that is 200,000 writes, while a busy day of
handovers, live appends and new sessions touches far fewer, so the pages they touch stay unmarked
for days. ``bench/human_agents.py`` measured the poll at 5.5–9.2 ms before a VACUUM of the
table and 4.6–4.9 ms after it (the target is 5 ms), on the same database.

The table's own settings start autovacuum after 1 % of its rows changed or were inserted and
analyse it after 2 %. A vacuum of a table this size that finds few dead rows takes seconds.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 00:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SETTINGS = {
    "autovacuum_vacuum_scale_factor": "0.01",
    "autovacuum_vacuum_insert_scale_factor": "0.01",
    "autovacuum_analyze_scale_factor": "0.02",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    pairs = ", ".join(f"{k} = {v}" for k, v in _SETTINGS.items())
    op.execute(f"ALTER TABLE chat_sessions SET ({pairs})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE chat_sessions RESET ({', '.join(_SETTINGS)})")
