"""Where recordings are kept: a small interface, with a local directory as the default store."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Protocol


class BlobStore(Protocol):
    def put(self, data: bytes, *, suffix: str = "") -> str: ...
    def get(self, key: str) -> bytes: ...
    def path(self, key: str) -> Path: ...
    def delete(self, key: str) -> None: ...


class LocalBlobStore:
    """Blobs as files under one directory; keys are opaque and never contain user input."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def put(self, data: bytes, *, suffix: str = "") -> str:
        safe = "".join(c for c in suffix.lower() if c.isalnum() or c == ".")[:10]
        key = f"{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{safe}"
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, target)  # a reader never sees half a file
        return key

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if self.root.resolve() not in p.parents:
            raise ValueError(f"blob key {key!r} leaves the store")
        return p

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def default_store() -> LocalBlobStore:
    from sessionlens.settings import get_settings

    return LocalBlobStore(get_settings().blob_dir)
