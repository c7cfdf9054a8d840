"""The store: blobs, layer indexes and metadata under one directory.

Layout::

    STORE/
      blobs/sha256/<hex>     content-addressed blobs (manifests, configs, layers)
      indexes/sha256/<hex>   layer file indexes, keyed by diff_id
      tmp/                   ingests in progress (never read as content)
      meta.db                sqlite metadata (images, tags, references)
      lock                   the cross-process lock (see ``locking.py``)
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from .content import ContentStore, StagedBlob, fsync_dir
from .errors import Conflict, InvalidReference, NotFound, StoreError
from .image import Image
from .ingest import StagedLayer
from .locking import store_lock
from .metadata import ImageRecord, LayerRecord, Metadata
from .tarindex import LayerIndex, index_stream
from .reference import IDENTIFIER_RE, Reference, parse_reference

_HEX_PREFIX = re.compile(r"^[a-f0-9]{1,64}$")


def default_store_path() -> Path:
    """``$STRATA_HOME``, else the platform's user data directory."""
    env = os.environ.get("STRATA_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("strata", appauthor=False))


@dataclass
class NewImage:
    """An image ready to be recorded: its raw bytes and the names to give it."""

    manifest_bytes: bytes
    config_bytes: bytes
    media_type: str
    layers: list[StagedLayer | LayerRecord]
    tags: list[Reference] = field(default_factory=list)
    repo_digests: list[tuple[str, str]] = field(default_factory=list)  # (repo name, digest)
    extra_blobs: set[str] = field(default_factory=set)  # e.g. the index a pull came from
    intermediate: bool = False
    parent: str | None = None


@dataclass
class CommitResult:
    image_id: str
    tags: list[Reference]
    replaced: dict[str, str]  # tag -> image id it pointed at before


class Store:
    """A Strata store on disk.  Thread-safe for reads; writers coordinate via the lock."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_store_path()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"creating store at {self.root}: {exc.strerror or exc}") from exc
        self.blobs = ContentStore(self.root)
        self.index_dir = self.root / "indexes" / "sha256"
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.meta = Metadata(self.root / "meta.db")
        self._lock_path = self.root / "lock"

    # -- locking -----------------------------------------------------------------

    def adding(self):
        """Lock held while adding content (shared: many adders run together)."""
        return store_lock(self._lock_path, exclusive=False)

    def deleting(self):
        """Lock held while deleting blobs (exclusive)."""
        return store_lock(self._lock_path, exclusive=True)

    # -- lookups -----------------------------------------------------------------

    def resolve(self, text: str) -> str:
        """Resolve an image reference, ID or short ID to an image ID, like docker."""
        text = text.strip()
        candidate = text[7:] if text.startswith("sha256:") else text
        if IDENTIFIER_RE.match(candidate):
            image_id = "sha256:" + candidate
            if self.meta.image(image_id) is not None:
                return image_id
            raise NotFound(f"No such image: {text}")
        ref_error = None
        try:
            ref = parse_reference(text)
        except InvalidReference as exc:  # may still be a short ID
            ref, ref_error = None, exc
        if ref is not None:
            image_id = self.resolve_reference(ref)
            if image_id is not None:
                return image_id
        if _HEX_PREFIX.match(candidate):
            prefix = "sha256:" + candidate
            matches = [i for i in self.meta.image_ids() if i.startswith(prefix)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise Conflict(f"ambiguous image ID prefix {text!r}: matches {len(matches)} images")
        if ref_error is not None:
            raise ref_error
        raise NotFound(f"No such image: {text}")

    def resolve_reference(self, ref: Reference) -> str | None:
        if ref.digest is not None:
            return self.meta.repo_digest_target(ref.name, ref.digest)
        return self.meta.tag_target(str(ref.tagged_or_latest()))

    def record(self, image_id: str) -> ImageRecord:
        rec = self.meta.image(image_id)
        if rec is None:
            raise NotFound(f"No such image: {image_id}")
        return rec

    def image(self, image_id: str) -> Image:
        """The Image for an ID, its blobs read from the store."""
        rec = self.record(image_id)
        manifest = self.blobs.read(rec.manifest_digest)
        config = self.blobs.read(image_id)
        img = Image(manifest, config, self.blobs.open, rec.manifest_media_type)
        for layer in img.layers:
            lr = self.meta.layer(layer.digest)
            if lr is not None:
                layer.uncompressed_size = lr.uncompressed_size
        return img

    def image_by_name(self, text: str) -> Image:
        return self.image(self.resolve(text))

    # -- layer indexes -------------------------------------------------------------

    def index_path(self, diff_id: str) -> Path:
        return self.index_dir / diff_id.partition(":")[2]

    def layer_index(self, layer) -> LayerIndex:
        """The file index of a layer (built now if the store has none yet)."""
        path = self.index_path(layer.diff_id)
        if path.exists():
            return LayerIndex.read(path)
        with layer.uncompressed() as stream:
            index = index_stream(stream)
        index.write(path)
        return index

    # -- commits ---------------------------------------------------------------------

    def commit(self, blobs: list[StagedBlob], layers: list[StagedLayer],
               images: list[NewImage]) -> list[CommitResult]:
        """Publish staged content and record *images* in one metadata transaction.

        The caller holds ``adding()``.  Blobs are renamed into place (each
        fsynced) before the transaction that names them commits.
        """
        for blob in blobs:
            self.blobs.publish(blob, sync_dir=False)
        for layer in layers:
            self.blobs.publish(layer.blob, sync_dir=False)
            if layer.index is not None:
                path = self.index_path(layer.diff_id)
                if not path.exists():
                    layer.index.write(path)
        fsync_dir(self.blobs.blob_dir)  # every rename above is durable before metadata names it
        now = time.time()
        results = []
        with self.meta.transaction() as db:
            for new in images:
                results.append(self._record_image(db, new, now))
        return results

    def _record_image(self, db, new: NewImage, now: float) -> CommitResult:
        img = Image(new.manifest_bytes, new.config_bytes, self.blobs.open, new.media_type)
        for raw in (new.manifest_bytes, new.config_bytes):
            self.blobs.put(raw)  # small; a no-op when the blob is already there
        layer_sizes = {staged.digest: staged.uncompressed_size for staged in new.layers}
        blobs = {img.id, img.manifest_digest, *new.extra_blobs}
        for layer in img.layers:
            usize = layer_sizes.get(layer.digest)
            if usize is None:
                known = self.meta.layer(layer.digest)
                usize = known.uncompressed_size if known else layer.size
            Metadata.put_layer(db, LayerRecord(layer.digest, layer.diff_id, layer.media_type,
                                               layer.size, usize))
            layer_sizes[layer.digest] = usize
            blobs.add(layer.digest)
        for digest in blobs:
            if not self.blobs.has(digest):
                raise StoreError(f"recording image {img.id}: blob {digest} is missing from the store")
        size = sum(layer_sizes[layer.digest] for layer in img.layers)
        rec = ImageRecord(
            id=img.id, manifest_digest=img.manifest_digest, manifest_media_type=img.media_type,
            created=img.created, size=size, labels=img.labels, added=now,
            intermediate=new.intermediate, parent=new.parent,
        )
        Metadata.put_image(db, rec, blobs)
        replaced = {}
        for tag in new.tags:
            old = Metadata.set_tag(db, str(tag), img.id)
            if old is not None and old != img.id:
                replaced[str(tag)] = old
        for repo, digest in new.repo_digests:
            Metadata.add_repo_digest(db, repo, digest, img.id)
        return CommitResult(img.id, list(new.tags), replaced)

    def discard(self, blobs: list[StagedBlob], layers: list[StagedLayer]) -> None:
        for blob in blobs:
            self.blobs.discard(blob)
        for layer in layers:
            self.blobs.discard(layer.blob)

    # -- garbage collection ----------------------------------------------------------

    def collect_garbage(self) -> int:
        """Delete every blob and index no image references; returns bytes freed.

        The caller holds ``deleting()``.
        """
        referenced = self.meta.referenced_blobs()
        live_diff_ids = set()
        freed = 0
        for digest in self.blobs.all_digests():
            if digest in referenced:
                continue
            freed += self.blobs.delete(digest)
        with self.meta.transaction() as db:
            db.execute(
                "DELETE FROM layers WHERE digest NOT IN (SELECT digest FROM image_blobs)")
            db.execute(
                "DELETE FROM blob_sources WHERE digest NOT IN (SELECT digest FROM image_blobs)")
            live_diff_ids = {d for (d,) in db.execute("SELECT diff_id FROM layers")}
        for path in self.index_dir.iterdir():
            if "sha256:" + path.name not in live_diff_ids:
                path.unlink(missing_ok=True)
        fsync_dir(self.blobs.blob_dir)
        self.blobs.clean_tmp()
        return freed

