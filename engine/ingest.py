"""Layer ingest: one pass that stores, hashes, decompresses and indexes a layer.

The compressed bytes go to a staged blob (digest), the decompressed bytes are
hashed (diff_id), counted (uncompressed size) and fed to the tar indexer — all
while the data streams through once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

from .compression import Decompressor, detect
from .content import BlobWriter, ContentStore, StagedBlob
from .errors import ArchiveError, StrataError
from .tarindex import LayerIndex, TarIndexer




@dataclass
class StagedLayer:
    """A layer blob written and verified, with what one pass learnt about it."""

    blob: StagedBlob
    diff_id: str
    uncompressed_size: int
    compression: str | None
    index: LayerIndex | None
    index_error: StrataError | None

    @property
    def digest(self) -> str:
        return self.blob.digest

    @property
    def size(self) -> int:
        return self.blob.size

    def check_tar(self, what: str) -> None:
        """Raise the indexer's error if this blob, used as a layer, is not a valid tar."""
        if self.index_error is not None:
            err = self.index_error
            raise type(err)(f"{what}: {err.message}") from err


class LayerIngest:
    """Push the bytes of a (possibly compressed) layer blob through ``write``."""

    def __init__(self, blobs: ContentStore, expected_digest: str | None = None,
                 expected_size: int | None = None, index: bool = True, what: str = "layer",
                 on_progress: Callable[[int], None] | None = None,
                 writer: BlobWriter | None = None) -> None:
        # *writer*: a prepared writer (e.g. a resumable download) instead of a new temp file
        self.writer: BlobWriter = writer or blobs.writer(expected_digest, expected_size, what)
        self._head = b""
        self._dec: Decompressor | None = None
        self._diff = hashlib.sha256()
        self._usize = 0
        self._indexer = TarIndexer() if index else None
        self._index_error: StrataError | None = None
        self._on_progress = on_progress
        self._broken = False
        self.what = what

    def write(self, data: bytes) -> None:
        self.writer.write(data)
        if self._dec is None:
            self._head += data
            if len(self._head) < 4:
                return
            self._dec = Decompressor(detect(self._head))
            data, self._head = self._head, b""
        if not self._broken:
            try:
                self._uncompressed(self._dec.feed(data))
            except ArchiveError as exc:
                # Corrupt bytes usually break the decompressor before the digest can be
                # checked: keep hashing the blob so that stage() reports a digest mismatch
                # when that is what happened, and this error otherwise.
                self._index_error = exc
                self._broken = True
        if self._on_progress is not None:
            self._on_progress(len(data))

    def _uncompressed(self, data: bytes) -> None:
        if not data or self._broken:
            return
        if self._dec.compression is not None:
            self._diff.update(data)  # for an uncompressed layer the blob digest is the diff_id
        self._usize += len(data)
        if self._indexer is not None and self._index_error is None:
            try:
                self._indexer.feed(data)
            except StrataError as exc:
                self._index_error = exc

    def stage(self) -> StagedLayer:
        """Finish the pass: verify the blob and return what was learnt."""
        try:
            if self._dec is None:
                self._dec = Decompressor(detect(self._head))
                self._uncompressed(self._dec.feed(self._head))
            if not self._broken:
                self._uncompressed(self._dec.finish())
        except ArchiveError as exc:
            if self._index_error is None:
                self._index_error = exc
        index = None
        if self._indexer is not None and self._index_error is None:
            try:
                index = self._indexer.finish()
            except StrataError as exc:
                self._index_error = exc
        blob = self.writer.stage()
        diff_id = blob.digest if self._dec.compression is None else "sha256:" + self._diff.hexdigest()
        return StagedLayer(blob, diff_id, self._usize, self._dec.compression, index, self._index_error)

    def abort(self) -> None:
        self.writer.abort()
