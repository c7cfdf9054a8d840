"""``pull``: fetch an image's manifest, config and layers into the store.

Layers download in parallel (3 at a time by default, like docker and skopeo)
and stream through :class:`LayerIngest`, which stores, hashes (digest and
diff_id), decompresses and indexes each one in a single pass, checking the
announced digest and size on the fly.  Blobs the store has are skipped.  A
download grows in ``tmp/pull-<hex>`` (see :mod:`partial`), so a broken
connection resumes with ``Range`` and a killed pull resumes next time.
Nothing is visible under ``blobs/`` or in the metadata until the whole image
verified and :meth:`Store.commit` records it, with the tag, the RepoDigest
(the index digest when the tag names an index) and where each blob came from
(for cross-repository mounts on push).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..content import ContentStore, StagedBlob
from ..errors import ArchiveError, Cancelled, DigestMismatch, RegistryError, StrataError
from ..events import ByteCounter, Progress, ProgressCallback, Status, emit
from ..image import Image, Layer
from ..ingest import LayerIngest, StagedLayer
from ..metadata import Metadata
from ..platforms import Platform
from ..reference import Reference
from ..store import NewImage, Store
from .client import CHUNK, RepositoryClient
from .download import AnyEvent, check_cancel, copy_blob
from .hosts import RegistrySettings
from .partial import PartialDownload, PartialWriter
from .resolve import Resolved, check_image_config, check_platform, parse_config, resolve

# Per-layer actions, in docker's words.
PULLING = "Pulling fs layer"
WAITING = "Waiting"
DOWNLOADING = "Downloading"
RESUMING = "Resuming"
VERIFYING = "Verifying Checksum"
COMPLETE = "Pull complete"
EXISTS = "Already exists"
TOTAL = "total"
#: More parallel downloads than this gain nothing and outgrow the connection pool.
MAX_CONCURRENT = 16


def short_id(digest: str) -> str:
    """The 12 hex digits docker shows for a layer."""
    return digest.partition(":")[2][:12]


@dataclass
class PullResult:
    """One pulled image."""

    reference: Reference
    image_id: str
    digest: str             # the RepoDigest: the index digest when the tag names an index
    manifest_digest: str
    platform: str
    downloaded: list[str] = field(default_factory=list)  # layer digests fetched
    up_to_date: bool = False

    @property
    def status(self) -> str:
        """Docker's closing line, e.g. ``Downloaded newer image for busybox:latest``."""
        verb = "Image is up to date for" if self.up_to_date else "Downloaded newer image for"
        return f"{verb} {self.reference.familiar()}"


class _Totals:
    """Bytes downloaded over all layers, reported as one throttled Progress."""

    def __init__(self, progress: ProgressCallback | None, total: int) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self.total = total
        self.current = 0
        self._next = 0

    def add(self, n: int) -> None:
        with self._lock:
            self.current += n
            if self._progress is not None and self.current >= self._next:
                self._next = self.current + (4 << 20)
                self._progress(Progress(TOTAL, DOWNLOADING, self.current, self.total))


class Puller:
    """Pulls images of one repository into a store."""

    def __init__(self, store: Store, client: RepositoryClient, settings: RegistrySettings,
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                 max_concurrent: int = 3) -> None:
        self.store = store
        self.client = client
        self.settings = settings
        self.progress = progress
        self.cancel = cancel
        self.max_concurrent = max(1, min(int(max_concurrent), MAX_CONCURRENT))

    # -- the image -------------------------------------------------------------------

    def pull(self, ref: Reference, platform: Platform | None = None) -> PullResult:
        """Pull *ref* (tagged or by digest) and record it; returns what was recorded."""
        what = f"pulling {ref.familiar()}"
        with self.store.adding():
            resolved = resolve(self.client, ref, platform)
            emit(self.progress, Status(f"{ref.digest or ref.tag}: Pulling from {ref.path}"))
            config_desc = check_image_config(resolved.manifest, what)
            check_cancel(self.cancel, what)
            config_bytes = self.client.read_blob(config_desc.digest)
            config = parse_config(config_bytes, f"{what}: image config")
            if not resolved.from_index:
                check_platform(config, platform, ref)
            try:
                image = Image(resolved.manifest.data, config_bytes, self.store.blobs.open,
                              resolved.manifest.media_type)
            except ArchiveError as exc:
                raise RegistryError(f"{what}: {exc.message}") from exc
            return self._fetch_and_commit(ref, resolved, image)

    def _fetch_and_commit(self, ref: Reference, resolved: Resolved, image: Image) -> PullResult:
        before = self.store.resolve_reference(ref)
        before_manifest = self.store.meta.image(before).manifest_digest if before else None
        partials: list[PartialDownload] = []
        staged: list[StagedLayer] = []
        blobs: list[StagedBlob] = []
        committed = False
        try:
            staged = self._fetch_layers(image.layers, partials)
            if resolved.from_index:
                blobs.append(_stage_bytes(self.store.blobs, resolved.top.data, resolved.top.digest))
            tags = [ref] if ref.digest is None else []
            new = NewImage(resolved.manifest.data, image.config_bytes, resolved.manifest.media_type, staged,
                           tags=tags, repo_digests=[(ref.name, resolved.repo_digest)],
                           extra_blobs={resolved.top.digest} if resolved.from_index else set())
            result = self.store.commit(blobs, staged, [new])[0]
            committed = True
            self._record_sources([l.digest for l in image.layers] + [image.id])
        finally:
            if not committed:
                self.store.discard(blobs, [s for s in staged if not _is_partial(s)])
            for partial in partials:
                partial.release()
        emit(self.progress, Status(f"Digest: {resolved.repo_digest}"))
        pulled = PullResult(ref, result.image_id, resolved.repo_digest, resolved.manifest.digest,
                            image.platform, [s.digest for s in staged],
                            up_to_date=(not staged and before == result.image_id
                                        and before_manifest == resolved.manifest.digest))
        emit(self.progress, Status(f"Status: {pulled.status}"))
        return pulled

    def _record_sources(self, digests: list[str]) -> None:
        with self.store.meta.transaction() as db:
            for digest in dict.fromkeys(digests):
                Metadata.add_blob_source(db, digest, self.client.domain, self.client.repository)

    # -- the layers ------------------------------------------------------------------

    def _fetch_layers(self, layers: list[Layer], partials: list[PartialDownload]) -> list[StagedLayer]:
        """Download every layer the store lacks, in parallel; all or nothing."""
        wanted: dict[str, Layer] = {}
        for layer in layers:
            if self.store.blobs.has(layer.digest):
                emit(self.progress, Progress(short_id(layer.digest), EXISTS, layer.size, layer.size))
            else:
                wanted.setdefault(layer.digest, layer)
        for layer in wanted.values():
            emit(self.progress, Progress(short_id(layer.digest), PULLING, 0, layer.size))
        if not wanted:
            return []
        for n, layer in enumerate(wanted.values()):
            if n >= self.max_concurrent:
                emit(self.progress, Progress(short_id(layer.digest), WAITING, 0, layer.size))
        failed = threading.Event()
        stop = AnyEvent(self.cancel, failed)
        totals = _Totals(self.progress, sum(l.size for l in wanted.values()))
        lock = threading.Lock()

        def task(layer: Layer) -> StagedLayer:
            try:
                return self._fetch_layer(layer, stop, totals, partials, lock)
            except BaseException:
                failed.set()
                raise

        with ThreadPoolExecutor(self.max_concurrent, thread_name_prefix="strata-pull") as pool:
            futures = [pool.submit(task, layer) for layer in wanted.values()]
        results, errors = [], []
        for future in futures:
            exc = future.exception()
            if exc is None:
                results.append(future.result())
            else:
                errors.append(exc)
        if errors:
            for staged in results:
                if not _is_partial(staged):
                    self.store.blobs.discard(staged.blob)
            if self.cancel is not None and self.cancel.is_set():
                raise Cancelled(f"pulling {self.client.name}: cancelled")
            real = [e for e in errors if not isinstance(e, Cancelled)]
            raise (real or errors)[0]
        return results

    def _fetch_layer(self, layer: Layer, stop: AnyEvent, totals: _Totals,
                     partials: list[PartialDownload], lock: threading.Lock) -> StagedLayer:
        item = short_id(layer.digest)
        what = f"layer {item}"
        partial = PartialDownload(self.store.blobs, layer.digest)
        if partial.acquire():
            with lock:
                partials.append(partial)
        else:
            partial = None  # another pull is fetching it: download privately
        for attempt in range(2):
            writer = partial.writer(layer.size, what) if partial is not None else None
            resumed = writer is not None and writer.on_disk > 0
            ingest = LayerIngest(self.store.blobs, layer.digest, layer.size, index=True, what=what,
                                 writer=writer)
            try:
                staged = self._stream_layer(layer, ingest, writer, stop, totals)
            except DigestMismatch:
                if resumed and attempt == 0:
                    # The partial file from an earlier attempt was bad (it is gone now): start over.
                    emit(self.progress, Progress(item, RESUMING, 0, layer.size))
                    partial.release()
                    if not partial.acquire():
                        partial = None
                    continue
                raise
            except BaseException:
                ingest.abort()  # a partial file is kept for the next attempt
                raise
            break
        try:
            staged.check_tar(f"pulling {what}")
            if staged.diff_id != layer.diff_id:
                raise DigestMismatch(
                    f"pulling {what}: its uncompressed content hashes to {staged.diff_id}, "
                    f"the image config expects {layer.diff_id}")
        except StrataError:
            self.store.blobs.discard(staged.blob)
            raise
        emit(self.progress, Progress(item, COMPLETE, layer.size, layer.size))
        return staged

    def _stream_layer(self, layer: Layer, ingest: LayerIngest, writer: PartialWriter | None,
                      stop: AnyEvent, totals: _Totals) -> StagedLayer:
        item = short_id(layer.digest)
        counter = ByteCounter(self.progress, item, DOWNLOADING, layer.size,
                              step=min(4 << 20, max(layer.size // 50, 256 << 10)))
        sink = ingest
        offset = 0
        if writer is not None and writer.on_disk:
            offset = _replay(writer, sink, stop, item)
            counter(offset)
            emit(self.progress, Progress(item, RESUMING, offset, layer.size))

        def on_bytes(n: int) -> None:
            counter(n)
            totals.add(n)

        copy_blob(self.client, layer.digest, layer.size, sink.write, offset, cancel=stop,
                  on_bytes=on_bytes, retries=self.settings.retries, backoff=self.settings.backoff)
        counter.done()
        emit(self.progress, Progress(item, VERIFYING, layer.size, layer.size))
        return sink.stage()


def _replay(writer: PartialWriter, sink: LayerIngest, stop: AnyEvent, item: str) -> int:
    """Feed the bytes an earlier attempt left on disk through the sink again."""
    remaining = writer.on_disk
    with open(writer.temp_path, "rb") as f:
        while remaining > 0:
            check_cancel(stop, f"resuming layer {item}")
            chunk = f.read(min(CHUNK, remaining))
            if not chunk:
                break
            sink.write(chunk)
            remaining -= len(chunk)
    return writer.on_disk - remaining


def _is_partial(staged: StagedLayer) -> bool:
    """Staged in a resumable ``tmp/pull-*`` file (kept on failure) rather than a private temp."""
    path = staged.blob.temp_path
    return path is not None and path.name.startswith("pull-")


def _stage_bytes(blobs: ContentStore, data: bytes, digest: str) -> StagedBlob:
    writer = blobs.writer(digest, len(data), what=f"blob {digest[:19]}")
    writer.write(data)
    return writer.stage()


__all__ = ["PullResult", "Puller", "short_id"]
