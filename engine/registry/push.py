"""``push``: upload an image's blobs and manifest to a repository.

Each blob is checked with HEAD first; a blob Strata knows came from another
repository of the same registry is mounted (``POST ?mount=&from=``); the
rest is uploaded, whole (one PUT) or in chunks (PATCH… then PUT), following
each ``Location``.  Layers stored uncompressed are compressed first (gzip, or
zstd with the OCI zstd media type), which yields a new manifest: it and the
compressed blobs are recorded in the store, so the pushed digest becomes the
image's RepoDigest.  The manifest is PUT with its exact media type.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .. import mediatypes as mt
from ..compression import Compressor
from ..content import StagedBlob
from ..digest import Descriptor
from ..errors import Cancelled, InvalidReference
from ..events import ByteCounter, Progress, ProgressCallback, Status, emit
from ..image import Image, Layer
from ..ingest import StagedLayer
from ..metadata import LayerRecord, Metadata
from ..reference import Reference
from ..store import NewImage, Store
from .client import CHUNK, RepositoryClient
from .download import AnyEvent, check_cancel
from .errors import RegistryResponseError, RegistryUnreachable
from .hosts import RegistrySettings
from .pull import MAX_CONCURRENT, short_id

PREPARING = "Preparing"
WAITING = "Waiting"
COMPRESSING = "Compressing"
PUSHING = "Pushing"
PUSHED = "Pushed"
EXISTS = "Layer already exists"
MOUNTED = "Mounted from"
COMPRESSIONS = ("gzip", "zstd")
MAX_MOUNT_TRIES = 3

_DOCKER_TO_OCI = {
    mt.DOCKER_LAYER: mt.OCI_LAYER,
    mt.DOCKER_LAYER_GZIP: mt.OCI_LAYER_GZIP,
    mt.DOCKER_LAYER_ZSTD: mt.OCI_LAYER_ZSTD,
    mt.DOCKER_FOREIGN_LAYER: mt.OCI_LAYER_NONDIST_GZIP,
    mt.DOCKER_CONFIG: mt.OCI_CONFIG,
}


@dataclass
class PushResult:
    """One pushed tag."""

    reference: Reference
    image_id: str
    digest: str
    size: int
    media_type: str
    outcomes: dict[str, str] = field(default_factory=dict)  # pushed layer digest -> what happened

    @property
    def status(self) -> str:
        """Docker's closing line: ``TAG: digest: sha256:… size: N``."""
        return f"{self.reference.tag}: digest: {self.digest} size: {self.size}"


@dataclass
class _Source:
    """The blob that will be pushed for one layer."""

    layer: Layer
    descriptor: Descriptor
    path: Path
    staged: StagedLayer | None = None  # compressed now, to be recorded
    record: LayerRecord | None = None  # compressed by an earlier push
    outcome: str = ""                  # Pushed, Layer already exists or Mounted from


class _ProgressReader:
    """A file object for a request body that reports bytes and honours cancellation."""

    def __init__(self, f: BinaryIO, size: int, on_bytes: Callable[[int], None],
                 cancel, what: str) -> None:
        self._f = f
        self._size = size
        self._on_bytes = on_bytes
        self._cancel = cancel
        self._what = what

    def __len__(self) -> int:
        return self._size

    def read(self, n: int = -1) -> bytes:
        check_cancel(self._cancel, self._what)
        data = self._f.read(n if n and n > 0 else CHUNK)
        if data:
            self._on_bytes(len(data))
        return data


class Pusher:
    """Pushes local images to one repository."""

    def __init__(self, store: Store, client: RepositoryClient, settings: RegistrySettings,
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                 max_concurrent: int = 3, chunk_size: int | None = None) -> None:
        self.store = store
        self.client = client
        self.settings = settings
        self.progress = progress
        self.cancel = cancel
        self.max_concurrent = max(1, min(int(max_concurrent), MAX_CONCURRENT))
        self.chunk_size = chunk_size

    def push(self, image_id: str, ref: Reference, compression: str = "gzip") -> PushResult:
        """Push image *image_id* as *ref* (a tag); returns the pushed manifest's digest."""
        if compression not in COMPRESSIONS:
            raise InvalidReference(f"unknown compression {compression!r}: use gzip or zstd")
        if ref.digest is not None or ref.tag is None:
            raise InvalidReference(f"push needs a tag, not a digest: {ref.familiar()}")
        what = f"pushing {ref.familiar()}"
        with self.store.adding():
            image = self.store.image(image_id)
            emit(self.progress, Status(f"The push refers to repository [{ref.name}]"))
            for layer in image.layers:
                emit(self.progress, Progress(short_id(layer.diff_id), PREPARING, 0, None))
            sources: list[_Source] = []
            try:
                sources = self._push_layers(image, compression)
                self._upload(image.id, len(image.config_bytes), lambda: io.BytesIO(image.config_bytes),
                             None, what)
                manifest_bytes, media_type = self._manifest(image, sources, compression)
                check_cancel(self.cancel, what)
                digest = self.client.put_manifest(ref.tag, manifest_bytes, media_type)
                self._record(image, sources, manifest_bytes, media_type, ref, digest)
            finally:
                self.store.discard([], [s.staged for s in sources if s.staged is not None])
        result = PushResult(ref, image.id, digest, len(manifest_bytes), media_type,
                            {s.descriptor.digest: s.outcome for s in sources})
        emit(self.progress, Status(result.status))
        return result

    # -- layers -------------------------------------------------------------------------

    def _push_layers(self, image: Image, compression: str) -> list[_Source]:
        failed = threading.Event()
        done: list[_Source] = []
        lock = threading.Lock()
        for n, layer in enumerate(image.layers):
            if n >= self.max_concurrent:
                emit(self.progress, Progress(short_id(layer.diff_id), WAITING, 0, None))

        def task(layer: Layer) -> _Source:
            try:
                source = self._prepare(layer, compression, image)
                with lock:
                    done.append(source)
                source.outcome = self._upload(
                    source.descriptor.digest, source.descriptor.size,
                    lambda: open(source.path, "rb"),  # noqa: SIM115 - _upload closes it
                    short_id(layer.diff_id), f"pushing layer {short_id(layer.diff_id)}", failed)
                return source
            except BaseException:
                failed.set()
                raise

        unique = list({layer.digest: layer for layer in image.layers}.values())
        with ThreadPoolExecutor(self.max_concurrent, thread_name_prefix="strata-push") as pool:
            futures = [pool.submit(task, layer) for layer in unique]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            self.store.discard([], [s.staged for s in done if s.staged is not None])
            if self.cancel is not None and self.cancel.is_set():
                raise Cancelled(f"pushing to {self.client.name}: cancelled")
            real = [e for e in errors if not isinstance(e, Cancelled)]
            raise (real or errors)[0]
        return [f.result() for f in futures]

    def _prepare(self, layer: Layer, compression: str, image: Image) -> _Source:
        """The blob to push for *layer*: as stored, or compressed (now or by an earlier push)."""
        if layer.compression is not None:
            return _Source(layer, layer.descriptor, self.store.blobs.path(layer.digest))
        docker = image.media_type == mt.DOCKER_MANIFEST and compression == "gzip"
        media_type = mt.layer_media_type(compression, docker=docker)
        record = _compressed_variant(self.store, layer.diff_id, compression)
        if record is not None:
            desc = Descriptor(media_type, record.digest, record.size)
            return _Source(layer, desc, self.store.blobs.path(record.digest), record=record)
        staged = self._compress(layer, compression)
        path = staged.blob.temp_path or self.store.blobs.path(staged.digest)
        return _Source(layer, Descriptor(media_type, staged.digest, staged.size), path, staged=staged)

    def _compress(self, layer: Layer, compression: str) -> StagedLayer:
        item = short_id(layer.diff_id)
        what = f"compressing layer {item}"
        counter = ByteCounter(self.progress, item, COMPRESSING, layer.size)
        comp = Compressor(compression)
        writer = self.store.blobs.writer(what=what)
        try:
            with self.store.blobs.open(layer.digest) as f:
                while chunk := f.read(CHUNK):
                    check_cancel(self.cancel, what)
                    out = comp.feed(chunk)
                    if out:
                        writer.write(out)
                    counter(len(chunk))
            writer.write(comp.finish())
            blob: StagedBlob = writer.stage()
        except BaseException:
            writer.abort()
            raise
        usize = layer.uncompressed_size if layer.uncompressed_size is not None else layer.size
        return StagedLayer(blob, layer.diff_id, usize, compression, None, None)

    # -- blobs ------------------------------------------------------------------------

    def _upload(self, digest: str, size: int, opener: Callable[[], BinaryIO], item: str | None,
                what: str, failed: threading.Event | None = None) -> str:
        """Make *digest* exist in the repository: already there, mounted, or uploaded."""
        stop = AnyEvent(self.cancel, failed)
        check_cancel(stop, what)
        if self.client.blob_size(digest) is not None:
            self._event(item, EXISTS, size)
            return EXISTS
        location = None
        for registry, repository in self.store.meta.blob_sources(digest)[:MAX_MOUNT_TRIES * 4]:
            if registry != self.client.domain or repository == self.client.repository:
                continue
            try:
                location = self.client.start_upload(mount=digest, source=repository)
            except RegistryResponseError as exc:
                if exc.status in (401, 403, 404):
                    continue  # no pull access to the source: upload instead
                raise
            if location is None:
                outcome = f"{MOUNTED} {repository}"
                self._event(item, outcome, size)
                return outcome
            break
        counter = ByteCounter(self.progress, item, PUSHING, size) if item else None
        for attempt in range(self.settings.retries + 1):
            if location is None:
                location = self.client.start_upload()
            try:
                with opener() as f:
                    reader = _ProgressReader(f, size, counter or (lambda n: None), stop, what)
                    if self.chunk_size:
                        self.client.upload_chunks(location, reader.read, size, digest, self.chunk_size)
                    elif size == 0:
                        self.client.finish_upload(location, digest)
                    else:
                        self.client.upload_whole(location, reader, size, digest)
                break
            except (RegistryUnreachable, RegistryResponseError) as exc:
                if isinstance(exc, RegistryResponseError) and exc.status < 500 and \
                        exc.code not in ("BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID"):
                    raise
                if attempt >= self.settings.retries or stop.is_set():
                    raise
                location = None
                if counter is not None:
                    counter.current = 0
        self._event(item, PUSHED, size)
        return PUSHED

    def _event(self, item: str | None, action: str, size: int) -> None:
        if item is not None:
            emit(self.progress, Progress(item, action, size, size))

    # -- manifest and records ---------------------------------------------------------------

    def _manifest(self, image: Image, sources: list[_Source], compression: str) -> tuple[bytes, str]:
        replaced = {s.layer.digest: s.descriptor for s in sources if s.descriptor.digest != s.layer.digest}
        if not replaced:
            return image.manifest_bytes, image.media_type
        to_oci = image.media_type == mt.DOCKER_MANIFEST and compression == "zstd"
        manifest = json.loads(image.manifest_bytes)
        if to_oci:
            manifest["mediaType"] = mt.OCI_MANIFEST
            config = manifest.get("config") or {}
            config["mediaType"] = _DOCKER_TO_OCI.get(config.get("mediaType", ""), config.get("mediaType"))
        for desc in manifest.get("layers") or []:
            new = replaced.get(desc.get("digest"))
            if new is not None:
                desc.update(mediaType=new.media_type, digest=new.digest, size=new.size)
            elif to_oci:
                desc["mediaType"] = _DOCKER_TO_OCI.get(desc.get("mediaType", ""), desc.get("mediaType"))
        media_type = mt.OCI_MANIFEST if to_oci else image.media_type
        return json.dumps(manifest, separators=(",", ":")).encode(), media_type

    def _record(self, image: Image, sources: list[_Source], manifest_bytes: bytes, media_type: str,
                ref: Reference, digest: str) -> None:
        """Record the RepoDigest (and a rebuilt manifest with its compressed blobs)."""
        staged = [s.staged for s in sources if s.staged is not None]
        if manifest_bytes != image.manifest_bytes:
            replaced = {s.layer.digest for s in sources if s.descriptor.digest != s.layer.digest}
            keep = self.store.meta.image_blobs(image.id) - replaced
            records = [s.record for s in sources if s.record is not None]
            new = NewImage(manifest_bytes, image.config_bytes, media_type, [*staged, *records],
                           repo_digests=[(ref.name, digest)], extra_blobs=keep)
            self.store.commit([], staged, [new])
        else:
            with self.store.meta.transaction() as db:
                Metadata.add_repo_digest(db, ref.name, digest, image.id)
        with self.store.meta.transaction() as db:
            for blob in [image.id, *(s.descriptor.digest for s in sources)]:
                Metadata.add_blob_source(db, blob, self.client.domain, self.client.repository)


def _compressed_variant(store: Store, diff_id: str, compression: str) -> LayerRecord | None:
    """A layer with this diff_id already stored with *compression* (from an earlier push)."""
    for record in store.meta.layers_by_diff_id(diff_id):
        if mt.layer_compression(record.media_type) == compression and store.blobs.has(record.digest):
            return record
    return None


__all__ = ["PushResult", "Pusher"]
