"""Resumable downloads: a pulled blob grows in ``tmp/pull-<hex>`` until it verifies.

The file is named by the digest it should have, so a pull that was killed
finds the bytes it already had and asks the registry only for the rest (HTTP
``Range``).  It lives under ``tmp/``, never under ``blobs/``: only a complete,
verified file is renamed into place (by :meth:`Store.commit`).

A lock (``flock`` on a second descriptor, held until the pull commits or
gives up) keeps two pulls from appending to the same file; a pull that finds
it locked downloads into a private temp file instead.  After locking, the
inode is compared with the path, so a file renamed into ``blobs/`` meanwhile
is never written again.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

from ..content import BlobWriter, ContentStore
from ..digest import hex_of
from ..errors import DigestMismatch, StoreError

PREFIX = "pull-"


class PartialWriter(BlobWriter):
    """A :class:`BlobWriter` over ``tmp/pull-<hex>`` that keeps its file when stopped.

    Bytes already in the file from an earlier attempt must be fed again (read
    back from disk) so that the digest, and the decompression and indexing that
    :class:`LayerIngest` does on top, see the whole blob; they are hashed but not
    written twice.  ``abort`` keeps the file for a later resume; ``discard``
    removes it.
    """

    def __init__(self, blobs: ContentStore, path: Path, expected_digest: str, expected_size: int | None,
                 what: str) -> None:
        # BlobWriter.__init__ would create a randomly named temp file: set its fields here.
        self._blobs = blobs
        self.expected_digest = expected_digest
        self.expected_size = expected_size
        self.what = what
        self._hash = hashlib.sha256()
        self.size = 0
        self.temp_path = path
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - closed by stage/abort
        self.on_disk = self._file.tell()
        self._done = False

    def write(self, data: bytes) -> None:
        if self.expected_size is not None and self.size + len(data) > self.expected_size:
            self.discard()
            raise DigestMismatch(f"{self.what}: more data than the announced size {self.expected_size}")
        already = max(0, min(len(data), self.on_disk - self.size))
        self._hash.update(data)
        self.size += len(data)
        if already < len(data):
            self._file.write(data[already:] if already else data)

    def abort(self) -> None:
        """Stop writing and keep the bytes so far for a later resume."""
        if not self._done:
            self._done = True
            self._file.close()

    def discard(self) -> None:
        """Stop writing and remove the file (its content is known to be bad)."""
        self.abort()
        self.temp_path.unlink(missing_ok=True)


class PartialDownload:
    """The lock and path of one blob's resumable download."""

    def __init__(self, blobs: ContentStore, digest: str) -> None:
        self.blobs = blobs
        self.digest = digest
        self.path = blobs.tmp_dir / (PREFIX + hex_of(digest))
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Lock the partial file (creating it); False if another pull holds it."""
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StoreError(f"creating {self.path}: {exc.strerror or exc}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._fd = fd
                return True
            os.close(fd)  # renamed into blobs/ or removed meanwhile: open the path again
        return False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def writer(self, size: int | None, what: str) -> PartialWriter:
        """A writer appending to the partial file (call after :meth:`acquire`)."""
        writer = PartialWriter(self.blobs, self.path, self.digest, size, what)
        if size is not None and writer.on_disk > size:
            writer.discard()
            writer = PartialWriter(self.blobs, self.path, self.digest, size, what)
        return writer
