"""The image model: an Image (manifest, config, layers) and its Layers.

In the style of go-containerregistry's ``partial`` package, every source —
the store, a docker-archive, an OCI layout, a registry, scratch — supplies the
raw manifest and config bytes plus a way to open a blob by digest, and this
module derives the rest.  Raw bytes are kept as they came, so digests never
drift.  ``digest`` is the hash of a blob as stored (possibly compressed);
``diff_id`` the hash of the uncompressed tar.  Keep them apart.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import BinaryIO, Callable

from . import mediatypes as mt
from .compression import open_decompressed
from .digest import Descriptor, sha256_digest
from .errors import ArchiveError, Unsupported
from .platforms import host_platform

BlobOpener = Callable[[str], BinaryIO]


@dataclass
class Layer:
    """One layer: a blob as stored plus the diff_id of its uncompressed tar."""

    descriptor: Descriptor
    diff_id: str
    opener: BlobOpener
    uncompressed_size: int | None = None

    @property
    def digest(self) -> str:
        return self.descriptor.digest

    @property
    def size(self) -> int:
        return self.descriptor.size

    @property
    def media_type(self) -> str:
        return self.descriptor.media_type

    @property
    def compression(self) -> str | None:
        return mt.layer_compression(self.media_type)

    def compressed(self) -> BinaryIO:
        """The blob as stored (what the manifest's digest covers)."""
        return self.opener(self.digest)

    def uncompressed(self) -> BinaryIO:
        """The layer's tar stream, decompressed on the fly."""
        reader, _ = open_decompressed(self.compressed())
        return reader


def parse_json(data: bytes, what: str) -> dict:
    """Decode a JSON object, translating errors into ArchiveError."""
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArchiveError(f"reading {what}: invalid JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ArchiveError(f"reading {what}: expected a JSON object")
    return obj


def manifest_media_type(manifest: dict, fallback: str | None = None) -> str:
    """The media type of a manifest, from its own field or what the transport said."""
    media_type = manifest.get("mediaType") or fallback
    if not media_type:
        if manifest.get("schemaVersion") == 1:
            return mt.DOCKER_SCHEMA1
        if "manifests" in manifest:
            return mt.OCI_INDEX
        return mt.OCI_MANIFEST
    return media_type


class Image:
    """An image: raw manifest and config bytes, and the layers they describe."""

    def __init__(self, manifest_bytes: bytes, config_bytes: bytes, opener: BlobOpener,
                 media_type: str | None = None,
                 uncompressed_sizes: dict[str, int] | None = None) -> None:
        self.manifest_bytes = manifest_bytes
        self.manifest = parse_json(manifest_bytes, "image manifest")
        self.media_type = manifest_media_type(self.manifest, media_type)
        if self.media_type in mt.SCHEMA1:
            raise Unsupported("docker schema1 manifests are not supported; ask the publisher for a schema2 or OCI image")
        if self.media_type not in mt.MANIFESTS:
            raise ArchiveError(f"reading image manifest: unexpected media type {self.media_type!r}")
        self.config_bytes = config_bytes
        self.config = parse_json(config_bytes, "image config")
        self.opener = opener
        self._sizes = uncompressed_sizes or {}
        self.layers = self._layers()

    @property
    def manifest_digest(self) -> str:
        return sha256_digest(self.manifest_bytes)

    @property
    def id(self) -> str:
        """The image ID: the config digest, as in docker."""
        return sha256_digest(self.config_bytes)

    @property
    def config_descriptor(self) -> Descriptor:
        return Descriptor.from_json(self.manifest["config"])

    @property
    def diff_ids(self) -> list[str]:
        rootfs = self.config.get("rootfs") or {}
        return list(rootfs.get("diff_ids") or [])

    def _layers(self) -> list[Layer]:
        descs = [Descriptor.from_json(d) for d in self.manifest.get("layers") or []]
        diff_ids = self.diff_ids
        if len(descs) != len(diff_ids):
            raise ArchiveError(
                f"reading image: manifest lists {len(descs)} layers but config has {len(diff_ids)} diff_ids"
            )
        return [Layer(d, diff_id, self.opener, self._sizes.get(d.digest))
                for d, diff_id in zip(descs, diff_ids)]

    # Convenience accessors over the config -------------------------------------

    @property
    def created(self) -> str | None:
        return self.config.get("created")

    @property
    def platform(self) -> str:
        out = f"{self.config.get('os', 'linux')}/{self.config.get('architecture', 'unknown')}"
        if self.config.get("variant"):
            out += "/" + self.config["variant"]
        return out

    @property
    def labels(self) -> dict:
        return (self.config.get("config") or {}).get("Labels") or {}

    def history(self) -> list[dict]:
        """History entries, each with the layer it produced (or None for empty_layer)."""
        entries = list(self.config.get("history") or [])
        layers = list(self.layers)
        out: list[dict] = []
        li = 0
        for entry in entries:
            layer = None
            if not entry.get("empty_layer"):
                layer = layers[li] if li < len(layers) else None
                li += 1
            out.append({**entry, "layer": layer})
        # Layers without history entries (hand-made images) still show up.
        for layer in layers[li:]:
            out.append({"created_by": "", "layer": layer})
        return out


def build_manifest(config_bytes: bytes, layers: list[Descriptor], docker: bool = False,
                   annotations: dict | None = None) -> bytes:
    """Serialise a schema2 manifest (OCI, or Docker when *docker*) for a config and layers."""
    config_desc = Descriptor(mt.DOCKER_CONFIG if docker else mt.OCI_CONFIG,
                             sha256_digest(config_bytes), len(config_bytes))
    manifest: dict = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST,
        "config": config_desc.to_json(),
        "layers": [d.to_json() for d in layers],
    }
    if annotations:
        manifest["annotations"] = annotations
    return json.dumps(manifest, separators=(",", ":")).encode()


def rfc3339(ts: float | None = None) -> str:
    """A timestamp as docker writes it in configs (UTC, 'Z')."""
    ts = time.time() if ts is None else ts
    frac = f"{ts % 1:.9f}"[1:].rstrip("0").rstrip(".")
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + frac + "Z"


def scratch_config(created: str | None = None) -> dict:
    """The config of an empty image (FROM scratch) for this machine's platform."""
    plat = host_platform()
    config: dict = {
        "architecture": plat.architecture,
        "os": plat.os,
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [],
    }
    if plat.variant:
        config["variant"] = plat.variant
    if created:
        config["created"] = created
    return config


def encode_config(config: dict) -> bytes:
    """Serialise a config compactly, as docker and buildkit do."""
    return json.dumps(config, separators=(",", ":")).encode()
