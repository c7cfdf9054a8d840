"""Writing images out: docker-archive tars (as Docker 25+ writes them) and OCI layouts.

A docker-archive written here holds ``blobs/sha256/…`` (each blob once, however
many images share it), ``index.json`` and ``oci-layout`` (an OCI layout that
skopeo and umoci read), plus ``manifest.json`` and ``repositories`` for
``docker load``.  Manifests, configs and layers are written byte for byte as
stored, so every digest survives the round trip.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from . import mediatypes as mt
from .content import fsync_dir
from .digest import Descriptor
from .image import Image
from .reference import Reference
from .store import Store
from .tarwriter import TarWriter

OCI_LAYOUT = json.dumps({"imageLayoutVersion": "1.0.0"}, separators=(",", ":")).encode()


@dataclass
class SaveItem:
    """One image to save and the names to save it under."""

    image: Image
    tags: list[Reference] = field(default_factory=list)


def _dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _blobs_of(items: list[SaveItem]) -> list[tuple[str, int]]:
    """Every blob the items need, each once, in a stable order (configs, layers, manifests)."""
    seen: dict[str, int] = {}
    for item in items:
        img = item.image
        for layer in img.layers:
            seen.setdefault(layer.digest, layer.size)
        seen.setdefault(img.id, len(img.config_bytes))
        seen.setdefault(img.manifest_digest, len(img.manifest_bytes))
    return list(seen.items())


def index_json(items: list[SaveItem]) -> bytes:
    """The OCI index naming each image the way Docker 25+ does."""
    manifests = []
    for item in items:
        img = item.image
        desc = {"mediaType": img.media_type, "digest": img.manifest_digest,
                "size": len(img.manifest_bytes)}
        if not item.tags:
            manifests.append(desc)
        for tag in item.tags:
            manifests.append({**desc, "annotations": {
                "io.containerd.image.name": str(tag),
                "org.opencontainers.image.ref.name": tag.tag or "latest",
            }})
    return _dumps({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests})


def manifest_json(items: list[SaveItem]) -> bytes:
    """docker's ``manifest.json``: Config, RepoTags and Layers paths per image."""
    entries = []
    for item in items:
        img = item.image
        entries.append({
            "Config": "blobs/sha256/" + img.id.partition(":")[2],
            "RepoTags": [t.familiar() for t in item.tags] or None,
            "Layers": ["blobs/sha256/" + l.digest.partition(":")[2] for l in img.layers],
        })
    return _dumps(entries)


def repositories_json(items: list[SaveItem]) -> bytes:
    """The legacy ``repositories`` file: repository -> tag -> top layer ID."""
    repos: dict[str, dict[str, str]] = {}
    for item in items:
        if not item.image.layers:
            continue
        top = item.image.diff_ids[-1].partition(":")[2]
        for tag in item.tags:
            repos.setdefault(tag.familiar_name, {})[tag.tag or "latest"] = top
    return _dumps(repos)


def write_docker_archive(store: Store, items: list[SaveItem], out: BinaryIO,
                         on_bytes: Callable[[int], None] | None = None) -> None:
    """Stream a docker-archive tar with the items to *out*."""
    tar = TarWriter(_Counting(out, on_bytes))
    tar.add_dir("blobs")
    tar.add_dir("blobs/sha256")
    for digest, size in _blobs_of(items):
        with store.blobs.open(digest) as f:
            tar.add_stream("blobs/sha256/" + digest.partition(":")[2], f, size)
    tar.add_bytes("index.json", index_json(items))
    tar.add_bytes("manifest.json", manifest_json(items))
    tar.add_bytes("oci-layout", OCI_LAYOUT)
    tar.add_bytes("repositories", repositories_json(items))
    tar.close()


def write_oci_archive(store: Store, items: list[SaveItem], out: BinaryIO,
                      on_bytes: Callable[[int], None] | None = None) -> None:
    """Stream an OCI layout as a tar (skopeo's ``oci-archive:``)."""
    tar = TarWriter(_Counting(out, on_bytes))
    tar.add_bytes("oci-layout", OCI_LAYOUT)
    tar.add_dir("blobs")
    tar.add_dir("blobs/sha256")
    for digest, size in _blobs_of(items):
        with store.blobs.open(digest) as f:
            tar.add_stream("blobs/sha256/" + digest.partition(":")[2], f, size)
    tar.add_bytes("index.json", _oci_index(items))
    tar.close()


def _oci_index(items: list[SaveItem]) -> bytes:
    """An OCI index whose ref.name is the full reference (as skopeo and buildah read it)."""
    manifests = []
    for item in items:
        img = item.image
        desc = Descriptor(img.media_type, img.manifest_digest, len(img.manifest_bytes)).to_json()
        if not item.tags:
            manifests.append(desc)
        for tag in item.tags:
            manifests.append({**desc, "annotations": {
                "org.opencontainers.image.ref.name": tag.tag or "latest",
                "io.containerd.image.name": str(tag),
            }})
    return _dumps({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests})


def write_oci_dir(store: Store, items: list[SaveItem], dest: Path,
                  on_bytes: Callable[[int], None] | None = None) -> None:
    """Write (or add to) an OCI layout directory, as ``skopeo copy … oci:DIR`` does."""
    blob_dir = dest / "blobs" / "sha256"
    blob_dir.mkdir(parents=True, exist_ok=True)
    for digest, size in _blobs_of(items):
        target = blob_dir / digest.partition(":")[2]
        if target.exists() and target.stat().st_size == size:
            continue
        tmp = target.with_name(target.name + ".tmp")
        with store.blobs.open(digest) as src, open(tmp, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
                if on_bytes:
                    on_bytes(len(chunk))
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, target)
    fsync_dir(blob_dir)
    index_path = dest / "index.json"
    existing = []
    if index_path.exists():
        existing = json.loads(index_path.read_bytes()).get("manifests") or []
    new = json.loads(_oci_index(items))["manifests"]
    new_names = {(m.get("annotations") or {}).get("io.containerd.image.name") for m in new}
    kept = [m for m in existing
            if (m.get("annotations") or {}).get("io.containerd.image.name") not in new_names
            or (m.get("annotations") or {}).get("io.containerd.image.name") is None]
    index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": kept + new}
    _atomic_write(dest / "oci-layout", OCI_LAYOUT)
    _atomic_write(index_path, _dumps(index))


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class _Counting:
    """Wraps an output stream to report bytes written."""

    def __init__(self, out: BinaryIO, on_bytes: Callable[[int], None] | None) -> None:
        self._out = out
        self._on_bytes = on_bytes

    def write(self, data: bytes) -> int:
        self._out.write(data)
        if self._on_bytes:
            self._on_bytes(len(data))
        return len(data)

    def flush(self) -> None:
        self._out.flush()
