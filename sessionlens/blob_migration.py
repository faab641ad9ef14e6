"""Moving recordings from one blob store to another (``sessionlens blobs migrate``).

Every recording a session points at is copied under the same key, then read back from the new
store and compared by SHA-256 with the old one. Nothing is removed from the old store unless asked,
and then only after the copy was verified; a run that is interrupted (Ctrl-C, a lost connection, a
killed process) leaves whole blobs or none in the new store, and running it again skips the
recordings already copied intact. Rows are not changed: keys are the same in every store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Attachment
from sessionlens.blobs import BlobStore


@dataclass
class Report:
    copied: int = 0
    present: int = 0
    missing: int = 0
    failed: int = 0


def migrate(
    maker: sessionmaker[Session],
    source: BlobStore,
    target: BlobStore,
    *,
    delete_source: bool = False,
    echo: Callable[[str], None] = lambda _: None,
) -> Report:
    with maker() as db:
        keys = db.scalars(
            select(Attachment.storage_key)
            .where(Attachment.storage_key.is_not(None))
            .order_by(Attachment.id)
        ).all()
    report = Report()
    for key in dict.fromkeys(keys):  # in order, once each
        assert key is not None
        if not source.exists(key):
            if target.exists(key):
                report.present += 1  # moved by an earlier run that deleted its source
            else:
                report.missing += 1
                echo(f"{key}: missing from {source.label}")
            continue
        want = source.sha256(key)
        if target.exists(key) and target.sha256(key) == want:
            report.present += 1
        else:
            target.write(key, source.chunks(key))
            if target.sha256(key) != want:
                target.delete(key)
                report.failed += 1
                echo(f"{key}: the copy in {target.label} does not match; removed, source kept")
                continue
            report.copied += 1
        if delete_source:
            source.delete(key)
    return report
