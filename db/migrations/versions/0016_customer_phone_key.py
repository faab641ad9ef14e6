"""customer phone key: find a customer by the end of their number, typed any way

360 View's "Find a customer" matched a phone only when it was typed exactly as stored
("+49 151 1912563"); "0151 1912563" or "1912563" found nobody. ``phone_key`` holds the phone's
digits (else the WhatsApp number's), leading zeros dropped, reversed, so the end of a typed number
is a prefix of it: an index range (``sessionlens.search_tokens.phone_key``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _key(*numbers: str | None) -> str | None:
    """``search_tokens.phone_key`` as of this revision (a migration keeps its own copy)."""
    for number in numbers:
        digits = "".join(ch for ch in number or "" if "0" <= ch <= "9").lstrip("0")
        if digits:
            return digits[::-1]
    return None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "phone_key",
                sa.String(length=64).with_variant(
                    sa.String(length=64, collation="C"), "postgresql"
                ),
                nullable=True,
            )
        )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, phone, whatsapp FROM customers"
            " WHERE phone IS NOT NULL OR whatsapp IS NOT NULL ORDER BY id"
        )
    ).all()
    update = sa.text("UPDATE customers SET phone_key = :k WHERE id = :i")
    keyed = [{"i": i, "k": k} for i, phone, whatsapp in rows if (k := _key(phone, whatsapp))]
    for start in range(0, len(keyed), BATCH):
        conn.execute(update, keyed[start : start + BATCH])
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customers_tenant_id_phone_key"), ["tenant_id", "phone_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_tenant_id_phone_key"))
        batch_op.drop_column("phone_key")
