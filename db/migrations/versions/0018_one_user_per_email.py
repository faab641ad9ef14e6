"""one user per email address, whatever its case, enforced by the database

A user signs in with their email, matched without case; the console checked that no other user
had it before adding or renaming one, but two admins doing so at once could both pass the check.
A unique index on ``lower(email)`` makes the second one fail (``sessionlens.admin`` names the
address taken). A database that already holds two users of one address stops here, naming them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    twice = op.get_bind().execute(
        sa.text("SELECT lower(email) FROM users GROUP BY lower(email) HAVING count(*) > 1")
    )
    taken = [row[0] for row in twice]
    if taken:
        raise RuntimeError(
            "Several users share the email address "
            + ", ".join(taken)
            + ": give each their own (sessionlens users list; Settings → Users) and upgrade again"
        )
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_users_email_lower", table_name="users")
