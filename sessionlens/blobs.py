"""Where recordings are kept: one interface, three stores, chosen by ``SESSIONLENS_BLOB_STORE``.

- ``local``: files under ``SESSIONLENS_BLOB_DIR`` (the embedded default, one machine).
- ``database``: chunked rows in the application database itself (the default on Postgres), so
  app servers and workers on any machine need nothing but the database URL.
- an fsspec URL (``s3://bucket/prefix``, ``gs://…``, ``file:///srv/blobs``): an object store.

Keys are opaque (``ab/<uuid><suffix>``), never contain user input, and are the same in every
store, so moving recordings between stores (``sessionlens blobs migrate``) changes no row that
points at them. Every store reads and writes in chunks: a two-hour recording is never held in
memory whole by the store.
"""

from __future__ import annotations

import abc
import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine, delete, func, insert, select, update

from db.engine import is_postgres, make_engine
from db.models import Blob, BlobChunk
from sessionlens.errors import NotFound

#: Bytes per read and per database row.
CHUNK = 1024 * 1024
log = logging.getLogger("sessionlens.blobs")


class Missing(NotFound, FileNotFoundError):
    """A blob a row points at is not in the store (it is in another store, or was lost). What the
    user reads; the server log names the key and the store."""

    def __init__(self, store: BlobStore, key: str) -> None:
        log.warning("blob %s is not in %s", key, store.label)
        super().__init__(
            "The recording is missing from the blob store; an administrator can move "
            "recordings there with `sessionlens blobs migrate`"
        )


class BlobStore(abc.ABC):
    """Blobs by key. Writing is all or nothing: a reader never sees half a blob."""

    #: How the store is named to people ("local directory data/blobs", "database", a URL).
    label: str

    @abc.abstractmethod
    def write(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store ``chunks`` under ``key`` (replacing any blob there); the number of bytes."""

    @abc.abstractmethod
    def _read(self, key: str, start: int = 0) -> Iterator[bytes]:
        """The blob's bytes from byte ``start`` on, a chunk at a time; FileNotFoundError when
        there is none."""

    @abc.abstractmethod
    def _size(self, key: str) -> int:
        """The blob's length in bytes; FileNotFoundError when there is none."""

    def chunks(self, key: str, start: int = 0) -> Iterator[bytes]:
        """The blob's bytes from byte ``start`` on (a player seeking in a recording), a chunk at
        a time; ``Missing`` when there is none."""
        try:
            yield from self._read(key, start)
        except Missing:
            raise
        except FileNotFoundError:
            raise Missing(self, key) from None

    def size(self, key: str) -> int:
        """The blob's length in bytes; ``Missing`` when there is none."""
        try:
            return self._size(key)
        except FileNotFoundError:
            raise Missing(self, key) from None

    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the blob; nothing happens when there is none."""

    @abc.abstractmethod
    def keys(self) -> Iterator[str]: ...

    def put(self, data: bytes, *, suffix: str = "") -> str:
        key = new_key(suffix)
        self.write(key, [data])
        return key

    def put_file(self, f: BinaryIO, *, suffix: str = "") -> str:
        key = new_key(suffix)
        self.write(key, iter(lambda: f.read(CHUNK), b""))
        return key

    def get(self, key: str) -> bytes:
        return b"".join(self.chunks(key))

    def download(self, key: str, path: Path) -> int:
        """Copy the blob into a local file (what a decoder reads); the number of bytes."""
        n = 0
        with open(path, "wb") as out:
            for chunk in self.chunks(key):
                out.write(chunk)
                n += len(chunk)
        return n

    def sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        for chunk in self.chunks(key):
            digest.update(chunk)
        return digest.hexdigest()


def new_key(suffix: str = "") -> str:
    safe = "".join(c for c in suffix.lower() if c.isalnum() or c == ".")[:10]
    return f"{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{safe}"


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"blob key {key!r} leaves the store")
    return key


def _rechunk(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Chunks of CHUNK bytes (the last may be shorter) from chunks of any size."""
    buf = bytearray()
    for chunk in chunks:
        buf += chunk
        while len(buf) >= CHUNK:
            yield bytes(buf[:CHUNK])
            del buf[:CHUNK]
    if buf:
        yield bytes(buf)


def write_whole(target: Path, chunks: Iterable[bytes]) -> int:
    """Write ``chunks`` to ``target`` so that no reader ever sees half of it, and return how many
    bytes: into a file beside it, flushed to disk, then renamed over it. When anything fails
    (the disk fills up, the folder is missing) the partial file goes and ``target`` is as it was;
    the OSError is the caller's to report."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    n = 0
    try:
        with open(tmp, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                n += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return n


class LocalBlobStore(BlobStore):
    """Blobs as files under one directory."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.label = f"local directory {self.root}"

    def path(self, key: str) -> Path:
        p = (self.root / _check_key(key)).resolve()
        if self.root.resolve() not in p.parents:
            raise ValueError(f"blob key {key!r} leaves the store")
        return p

    def write(self, key: str, chunks: Iterable[bytes]) -> int:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        return write_whole(target, chunks)

    def _read(self, key: str, start: int = 0) -> Iterator[bytes]:
        with open(self.path(key), "rb") as f:
            f.seek(start)
            yield from iter(lambda: f.read(CHUNK), b"")

    def _size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def download(self, key: str, path: Path) -> int:
        try:
            shutil.copyfile(self.path(key), path)
        except FileNotFoundError:
            raise Missing(self, key) from None
        return path.stat().st_size

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        if self.root.is_dir():
            for p in sorted(self.root.rglob("*")):
                if p.is_file() and not p.name.endswith(".part"):
                    yield p.relative_to(self.root).as_posix()


class DatabaseBlobStore(BlobStore):
    """Blobs as rows of ``blob_chunks`` (1 MiB each) under a ``blobs`` row, in the app's database.

    A blob is written in one transaction of its own (the blob row, its chunks, then its size and
    checksum), so it is there whole or not at all, and read one chunk per query, so neither side
    holds the whole file."""

    label = "database"

    def __init__(self, engine: Engine):
        self.engine = engine

    def write(self, key: str, chunks: Iterable[bytes]) -> int:
        _check_key(key)
        digest, n, seq = hashlib.sha256(), 0, 0
        with self.engine.begin() as conn:
            conn.execute(delete(BlobChunk).where(BlobChunk.key == key))
            conn.execute(delete(Blob).where(Blob.key == key))
            conn.execute(
                insert(Blob).values(
                    key=key, size=0, chunks=0, sha256="", created_at=dt.datetime.now(dt.UTC)
                )
            )
            for chunk in _rechunk(chunks):
                conn.execute(insert(BlobChunk).values(key=key, seq=seq, data=chunk))
                digest.update(chunk)
                n += len(chunk)
                seq += 1
            conn.execute(
                update(Blob)
                .where(Blob.key == key)
                .values(size=n, chunks=seq, sha256=digest.hexdigest())
            )
        return n

    def _read(self, key: str, start: int = 0) -> Iterator[bytes]:
        with self.engine.connect() as conn:
            count = conn.scalar(select(Blob.chunks).where(Blob.key == key))
        if count is None:
            raise FileNotFoundError(f"no blob {key!r} in the database")
        skip = start % CHUNK  # every chunk but the last is CHUNK bytes (_rechunk)
        for seq in range(start // CHUNK, count):
            with self.engine.connect() as conn:  # not held between chunks
                data = conn.scalar(
                    select(BlobChunk.data).where(BlobChunk.key == key, BlobChunk.seq == seq)
                )
            if data is None:  # deleted while being read
                raise FileNotFoundError(f"blob {key!r} was deleted while it was read")
            yield data[skip:] if skip else data
            skip = 0

    def _size(self, key: str) -> int:
        with self.engine.connect() as conn:
            size = conn.scalar(select(Blob.size).where(Blob.key == key))
        if size is None:
            raise FileNotFoundError(f"no blob {key!r} in the database")
        return size

    def sha256(self, key: str) -> str:
        with self.engine.connect() as conn:
            known = conn.scalar(select(Blob.sha256).where(Blob.key == key))
        if known is None:
            raise Missing(self, key)
        return known

    def exists(self, key: str) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.scalar(select(func.count()).where(Blob.key == key)))

    def delete(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(BlobChunk).where(BlobChunk.key == key))
            conn.execute(delete(Blob).where(Blob.key == key))

    def keys(self) -> Iterator[str]:
        with self.engine.connect() as conn:
            yield from conn.scalars(select(Blob.key).order_by(Blob.key)).all()


class FsspecBlobStore(BlobStore):
    """Blobs in any file system fsspec knows (``s3://``, ``gs://``, ``file://``, ``memory://``).

    Credentials come from the file system's own configuration (for S3: the usual AWS variables or
    ``~/.aws``; see the README's Deploy section)."""

    def __init__(self, url: str):
        import fsspec

        self.fs, root = fsspec.core.url_to_fs(url)
        self.root = root.rstrip("/")
        # Named without any user:password@ the URL may carry.
        self.label = re.sub(r"//[^/@]*@", "//", url)

    def _path(self, key: str) -> str:
        return f"{self.root}/{_check_key(key)}"

    def write(self, key: str, chunks: Iterable[bytes]) -> int:
        target = self._path(key)
        tmp = f"{target}.{uuid.uuid4().hex[:8]}.part"
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        n = 0
        try:
            with self.fs.open(tmp, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    n += len(chunk)
            self.fs.mv(tmp, target)  # an object store's put is atomic; a file system's rename is
        finally:
            if self.fs.exists(tmp):
                self.fs.rm(tmp)
        return n

    def _read(self, key: str, start: int = 0) -> Iterator[bytes]:
        with self.fs.open(self._path(key), "rb") as f:
            f.seek(start)
            yield from iter(lambda: f.read(CHUNK), b"")

    def _size(self, key: str) -> int:
        return int(self.fs.size(self._path(key)))

    def exists(self, key: str) -> bool:
        return bool(self.fs.isfile(self._path(key)))

    def delete(self, key: str) -> None:
        path = self._path(key)
        if self.fs.exists(path):
            self.fs.rm(path)

    def keys(self) -> Iterator[str]:
        if not self.fs.exists(self.root):
            return
        for path in sorted(self.fs.find(self.root)):
            rel = path[len(self.fs._strip_protocol(self.root)) :].lstrip("/")
            if rel and not rel.endswith(".part"):
                yield rel


def kind_of(spec: str, database_url: str) -> str:
    """What ``spec`` (the setting's value) names: "local", "database" or "url"."""
    spec = spec.strip()
    if not spec:
        return "database" if is_postgres(database_url) else "local"
    if spec in ("local", "database"):
        return spec
    if "://" in spec:
        return "url"
    raise ValueError(
        f"Blob store {spec!r} is not one of: local, database, or a URL such as s3://bucket/prefix"
    )


def open_store(spec: str, *, database_url: str, blob_dir: str) -> BlobStore:
    """The store that ``spec`` names (empty: the default for ``database_url``)."""
    kind = kind_of(spec, database_url)
    if kind == "local":
        return LocalBlobStore(blob_dir)
    if kind == "database":
        if not is_postgres(database_url):
            raise ValueError(
                "The database blob store needs PostgreSQL; with SQLite (one machine) keep "
                "recordings in the local directory (SESSIONLENS_BLOB_STORE=local)"
            )
        return DatabaseBlobStore(_engine(database_url))
    return FsspecBlobStore(spec.strip())


@cache
def _engine(url: str) -> Engine:
    return make_engine(url)


def default_store(database_url: str | None = None) -> BlobStore:
    """The configured recordings store (SESSIONLENS_BLOB_STORE); the "database" one lives in
    ``database_url`` when given (a command's ``--database-url``), else SESSIONLENS_DATABASE_URL's."""
    from sessionlens.settings import get_settings

    s = get_settings()
    return open_store(
        s.blob_store, database_url=database_url or s.database_url, blob_dir=s.blob_dir
    )
