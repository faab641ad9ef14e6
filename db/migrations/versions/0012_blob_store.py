"""blobs, blob_chunks: the database blob store, so recordings need no shared disk

With several app servers and workers on several machines, a recording written to one machine's
directory cannot be read by a worker on another. The database store keeps each recording as 1 MiB
chunks beside the data that points at it (sessionlens.blobs.DatabaseBlobStore); on Postgres it is
the default. Existing recordings stay where they are until `sessionlens blobs migrate` moves them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_blobs")),
    )
    op.create_table(
        "blob_chunks",
        sa.Column(
            "key",
            sa.String(300),
            sa.ForeignKey("blobs.key", name="fk_blob_chunks_key_blobs", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key", "seq", name=op.f("pk_blob_chunks")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Recordings are already compressed audio or PCM that TOAST's compression cannot shrink;
        # storing chunks uncompressed saves the CPU of trying on every write.
        op.execute("ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("blob_chunks")
    op.drop_table("blobs")
