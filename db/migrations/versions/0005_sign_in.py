"""sign-in: password hashes, active flag and auth version on users; sign-in attempts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: on SQLite a batch rebuild drops and recreates `users`,
    # which every session, message and audit row refers to (foreign keys are on).
    op.add_column("users", sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.add_column(
        "users", sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column(
        "users", sa.Column("auth_version", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index(
        "ix_sign_in_attempts_email_key_at", "sign_in_attempts", ["email_key", "at"], unique=False
    )
    op.create_index(
        "ix_sign_in_attempts_address_at", "sign_in_attempts", ["address", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_sign_in_attempts_address_at", table_name="sign_in_attempts")
    op.drop_index("ix_sign_in_attempts_email_key_at", table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("auth_version")
        batch_op.drop_column("is_active")
        batch_op.drop_column("password_hash")
