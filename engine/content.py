"""The content-addressed blob store: ``blobs/sha256/<hex>``.

Every ingest streams into a temp file under ``tmp/`` while hashing, checks
size and digest, fsyncs, and only then renames the file to its final name, so
a partial blob is never visible under a digest.  A blob can also be *staged*:
verified and kept under ``tmp/`` until the operation that brought it commits
(``publish``), so that a failed load leaves the store as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from .digest import hex_of
from .errors import DigestMismatch, NotFound, StoreError

CHUNK = 1 << 20


def fsync_dir(path: Path) -> None:
    """fsync a directory so a rename inside it is durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# fsync of staged blobs runs here, so it overlaps with streaming the next member.
_SYNC = ThreadPoolExecutor(max_workers=2, thread_name_prefix="strata-fsync")


def _fsync_close(f) -> None:
    try:
        os.fsync(f.fileno())
    finally:
        f.close()


@dataclass
class StagedBlob:
    """A verified blob written to a temp file, not yet published under its digest."""

    digest: str
    size: int
    temp_path: Path | None  # None when the blob was already in the store
    synced: Future | None = None  # the fsync in flight; waited for before publishing

    def wait_synced(self) -> None:
        if self.synced is not None:
            self.synced.result()
            self.synced = None


class BlobWriter:
    """Streams one blob into the store, hashing as it goes.

    ``expected_digest``/``expected_size`` are checked on ``commit``; a mismatch
    removes the temp file and raises :class:`DigestMismatch`.
    """

    def __init__(self, blobs: "ContentStore", expected_digest: str | None = None,
                 expected_size: int | None = None, what: str = "blob") -> None:
        self._blobs = blobs
        self.expected_digest = expected_digest
        self.expected_size = expected_size
        self.what = what
        self._hash = hashlib.sha256()
        self.size = 0
        fd, name = tempfile.mkstemp(prefix="ingest-", dir=blobs.tmp_dir)
        self.temp_path = Path(name)
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._done = False

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self.size += len(data)
        if self.expected_size is not None and self.size > self.expected_size:
            self.abort()
            raise DigestMismatch(
                f"{self.what}: more data than the announced size {self.expected_size}"
            )
        self._file.write(data)

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    def stage(self) -> StagedBlob:
        """Verify and keep the temp file (fsynced in the background); the caller publishes it later."""
        self._file.flush()
        self._done = True
        digest = self.digest
        problem = None
        if self.expected_size is not None and self.size != self.expected_size:
            problem = f"size mismatch: expected {self.expected_size} bytes, got {self.size}"
        elif self.expected_digest is not None and digest != self.expected_digest:
            problem = f"digest mismatch: expected {self.expected_digest}, got {digest}"
        if problem is not None or self._blobs.has(digest):
            self._file.close()
            self.temp_path.unlink(missing_ok=True)
            if problem is not None:
                raise DigestMismatch(f"{self.what}: {problem}")
            return StagedBlob(digest, self.size, None)
        return StagedBlob(digest, self.size, self.temp_path, _SYNC.submit(_fsync_close, self._file))

    def commit(self) -> StagedBlob:
        """Verify and publish the blob under its digest."""
        staged = self.stage()
        self._blobs.publish(staged)
        return staged

    def abort(self) -> None:
        if not self._done:
            self._done = True
            self._file.close()
        self.temp_path.unlink(missing_ok=True)

    def __enter__(self) -> "BlobWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


class HashingWriter:
    """A :class:`BlobWriter` stand-in that verifies a stream but stores nothing.

    For passes that only need what the bytes say (remote exploring): the same
    size and digest checks, and ``stage`` returns a blob with no temp file.
    """

    def __init__(self, expected_digest: str | None = None, expected_size: int | None = None,
                 what: str = "blob") -> None:
        self.expected_digest = expected_digest
        self.expected_size = expected_size
        self.what = what
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self.size += len(data)
        if self.expected_size is not None and self.size > self.expected_size:
            raise DigestMismatch(f"{self.what}: more data than the announced size {self.expected_size}")

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    def stage(self) -> StagedBlob:
        digest = self.digest
        if self.expected_size is not None and self.size != self.expected_size:
            raise DigestMismatch(
                f"{self.what}: size mismatch: expected {self.expected_size} bytes, got {self.size}")
        if self.expected_digest is not None and digest != self.expected_digest:
            raise DigestMismatch(f"{self.what}: digest mismatch: expected {self.expected_digest}, got {digest}")
        return StagedBlob(digest, self.size, None)

    def abort(self) -> None:
        pass


class ContentStore:
    """Blobs on disk under *root*: ``blobs/sha256/<hex>`` plus a ``tmp/`` for ingests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blob_dir = root / "blobs" / "sha256"
        self.tmp_dir = root / "tmp"
        try:
            self.blob_dir.mkdir(parents=True, exist_ok=True)
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"creating store at {root}: {exc.strerror or exc}") from exc

    def path(self, digest: str) -> Path:
        return self.blob_dir / hex_of(digest)

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: str) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"blob {digest} is not in the store") from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise NotFound(f"blob {digest} is not in the store") from None

    def read(self, digest: str, limit: int = 64 << 20) -> bytes:
        """Read a small blob (manifest, config) whole; verifies its digest."""
        with self.open(digest) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise StoreError(f"blob {digest} is too large to read whole")
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise DigestMismatch(f"blob {digest} is corrupt in the store (hashes to {actual})")
        return data

    def writer(self, expected_digest: str | None = None, expected_size: int | None = None,
               what: str = "blob") -> BlobWriter:
        return BlobWriter(self, expected_digest, expected_size, what)

    def put(self, data: bytes, expected_digest: str | None = None) -> str:
        """Store a small blob from memory; returns its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if expected_digest is None and self.has(digest):
            return digest
        with self.writer(expected_digest, len(data)) as w:
            w.write(data)
            return w.commit().digest

    def ingest(self, stream: BinaryIO, expected_digest: str | None = None,
               expected_size: int | None = None,
               on_chunk: Callable[[bytes], None] | None = None) -> StagedBlob:
        """Copy *stream* into the store, verifying it; returns the published blob."""
        with self.writer(expected_digest, expected_size) as w:
            while chunk := stream.read(CHUNK):
                w.write(chunk)
                if on_chunk is not None:
                    on_chunk(chunk)
            return w.commit()

    def publish(self, staged: StagedBlob, sync_dir: bool = True) -> None:
        """Rename a staged blob to its final name once its data is on disk (no-op if it exists).

        With ``sync_dir=False`` the caller fsyncs ``blob_dir`` once after a batch.
        """
        if staged.temp_path is None:
            return
        staged.wait_synced()
        final = self.path(staged.digest)
        if final.exists():
            staged.temp_path.unlink(missing_ok=True)
        else:
            os.replace(staged.temp_path, final)
            if sync_dir:
                fsync_dir(self.blob_dir)
        staged.temp_path = None

    def discard(self, staged: StagedBlob) -> None:
        """Drop a staged blob that will not be published."""
        try:
            staged.wait_synced()
        except OSError:
            pass
        if staged.temp_path is not None:
            staged.temp_path.unlink(missing_ok=True)
            staged.temp_path = None

    def delete(self, digest: str) -> int:
        """Remove a blob; returns the bytes freed. Call only under the exclusive lock."""
        path = self.path(digest)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    def all_digests(self) -> list[str]:
        return ["sha256:" + p.name for p in self.blob_dir.iterdir() if len(p.name) == 64]

    def clean_tmp(self, older_than: float = 24 * 3600) -> None:
        """Remove temp files left by crashed ingests (call under the exclusive lock)."""
        now = time.time()
        for p in self.tmp_dir.iterdir():
            try:
                if now - p.stat().st_mtime > older_than or older_than == 0:
                    if p.is_dir():
                        shutil.rmtree(p, ignore_errors=True)
                    else:
                        p.unlink()
            except FileNotFoundError:
                pass
