"""Looking at remote images without pulling them.

:func:`inspect_manifest` summarises what a reference names (an index and its
platforms, or an image with its config and layers).  :func:`layer_indexes`
streams each layer once through the digest check, the decompressor and the
tar indexer, keeping only the :class:`LayerIndex` (layers whose index the
store already has are not downloaded).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from .. import mediatypes as mt
from ..content import HashingWriter
from ..errors import Cancelled, DigestMismatch, RegistryError
from ..events import ByteCounter, Progress, ProgressCallback, emit
from ..platforms import Platform
from ..reference import Reference
from ..store import Store
from ..ingest import LayerIngest
from ..tarindex import LayerIndex
from .client import RepositoryClient
from .download import AnyEvent, copy_blob
from .hosts import RegistrySettings
from .pull import short_id
from .resolve import (
    check_image_config,
    describe_platform,
    parse_config,
    reference_text,
    resolve,
)

INDEXING = "Indexing"
INDEXED = "Indexed"


def inspect_manifest(client: RepositoryClient, ref: Reference) -> dict:
    """A summary of what *ref* names, docker ``manifest inspect --verbose`` style."""
    top = client.get_manifest(reference_text(ref))
    obj = top.json()
    out: dict = {
        "Ref": str(ref),
        "Descriptor": {"mediaType": top.media_type, "digest": top.digest, "size": top.size},
    }
    if top.media_type in mt.INDEXES:
        out["Manifests"] = [
            {"mediaType": d.get("mediaType"), "digest": d.get("digest"), "size": d.get("size"),
             "platform": describe_platform(d.get("platform"))}
            for d in obj.get("manifests") or [] if isinstance(d, dict)]
        return out
    if top.media_type in mt.SCHEMA1:
        out["Unsupported"] = "docker schema1"
        return out
    config_desc = check_image_config(top, f"inspecting {ref.familiar()}")
    config = parse_config(client.read_blob(config_desc.digest), "image config")
    layers = [{"mediaType": d.get("mediaType"), "digest": d.get("digest"), "size": d.get("size")}
              for d in obj.get("layers") or [] if isinstance(d, dict)]
    out["Descriptor"]["platform"] = describe_platform(config)
    out["Config"] = {"digest": config_desc.digest, "size": config_desc.size,
                     "created": config.get("created"),
                     "cmd": (config.get("config") or {}).get("Cmd"),
                     "entrypoint": (config.get("config") or {}).get("Entrypoint")}
    out["Layers"] = layers
    out["TotalSize"] = sum(int(l.get("size") or 0) for l in layers)
    return out


def layer_indexes(store: Store, client: RepositoryClient, settings: RegistrySettings, ref: Reference,
                  platform: Platform | None = None, progress: ProgressCallback | None = None,
                  cancel: threading.Event | None = None, max_concurrent: int = 3) -> list[LayerIndex]:
    """The file index of every layer of a remote image, in layer order, without storing blobs."""
    resolved = resolve(client, ref, platform)
    what = f"exploring {ref.familiar()}"
    config_desc = check_image_config(resolved.manifest, what)
    config = parse_config(client.read_blob(config_desc.digest), f"{what}: image config")
    descs = [d for d in resolved.manifest.json().get("layers") or [] if isinstance(d, dict)]
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
    if len(descs) != len(diff_ids):
        raise RegistryError(f"{what}: the manifest lists {len(descs)} layers but the config has {len(diff_ids)}")
    failed = threading.Event()
    stop = AnyEvent(cancel, failed)

    def index_one(desc: dict, diff_id: str) -> LayerIndex:
        try:
            local = store.index_path(diff_id)
            if local.exists():
                return LayerIndex.read(local)
            digest, size = desc.get("digest", ""), int(desc.get("size") or 0)
            item = short_id(digest)
            what = f"indexing layer {item}"
            # the one-pass layer reader, over a writer that verifies but keeps nothing
            sink = LayerIngest(store.blobs, what=what, writer=HashingWriter(digest, size, what))
            counter = ByteCounter(progress, item, INDEXING, size)
            copy_blob(client, digest, size, sink.write, cancel=stop, on_bytes=counter,
                      retries=settings.retries, backoff=settings.backoff)
            staged = sink.stage()
            if staged.diff_id != diff_id:
                raise DigestMismatch(f"{what}: uncompressed content hashes to {staged.diff_id}, "
                                     f"the image config expects {diff_id}")
            staged.check_tar(what)
            index = staged.index
            emit(progress, Progress(item, INDEXED, size, size))
            return index
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(max(1, max_concurrent), thread_name_prefix="strata-explore") as pool:
        futures = [pool.submit(index_one, d, i) for d, i in zip(descs, diff_ids)]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"{what}: cancelled")
        real = [e for e in errors if not isinstance(e, Cancelled)]
        raise (real or errors)[0]
    return [f.result() for f in futures]
