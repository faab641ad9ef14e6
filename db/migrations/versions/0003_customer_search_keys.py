"""customer search keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 19:57:51.359610
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "name_key",
                sa.String(length=200).with_variant(
                    sa.String(length=200, collation="C"), "postgresql"
                ),
                nullable=True,
            )
        )
    # Existing customers get their search key (SQLite's lower() folds ASCII only; the app writes
    # Python's str.lower() for new and edited customers).
    op.execute("UPDATE customers SET name_key = lower(name)")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customers_tenant_id_email"), ["tenant_id", "email"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_customers_tenant_id_external_id"),
            ["tenant_id", "external_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_customers_tenant_id_name_key"), ["tenant_id", "name_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_customers_tenant_id_phone"), ["tenant_id", "phone"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_tenant_id_phone"))
        batch_op.drop_index(batch_op.f("ix_customers_tenant_id_name_key"))
        batch_op.drop_index(batch_op.f("ix_customers_tenant_id_external_id"))
        batch_op.drop_index(batch_op.f("ix_customers_tenant_id_email"))
        batch_op.drop_column("name_key")
