"""workspace presence: when a human agent's Human Agents page last checked in

The spec's answer to "nobody picks up a transferred session" is to make sure human agents are
online in the Human Agents workspace; ``users.workspace_seen_at`` is what "online" is read from
(``sessionlens.human_agents.check_in`` and ``online``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workspace_seen_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("workspace_seen_at")
