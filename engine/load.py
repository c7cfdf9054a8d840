"""``load``: turn a staged archive (docker-archive or OCI layout) into images."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from . import mediatypes as mt
from .archive_read import ArchiveContents, Member, read_archive, read_directory
from .digest import Descriptor, sha256_digest
from .errors import ArchiveError, DigestMismatch, InvalidReference
from .image import Image, build_manifest, manifest_media_type, parse_json
from .ingest import StagedLayer
from .platforms import host_platform
from .reference import Reference, parse_reference
from .store import NewImage, Store

OCI_REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


@dataclass
class LoadedImage:
    """One image a load recorded, with the names it got."""

    id: str
    tags: list[Reference]
    replaced: dict[str, str]


def load(store: Store, stream: BinaryIO | Path,
         on_bytes: Callable[[int], None] | None = None) -> list[LoadedImage]:
    """Load every image of a docker-archive or OCI-layout tar from *stream*
    (or of an OCI layout directory, when given a directory path)."""
    with store.adding():
        if isinstance(stream, Path):
            contents = read_directory(stream, store.blobs, on_bytes)
        else:
            contents = read_archive(stream, store.blobs, on_bytes)
        try:
            images = interpret(contents)
            if not images:
                raise ArchiveError("reading archive: it holds no image")
            wanted = set()
            for new in images:
                wanted |= {sha256_digest(new.config_bytes), *new.extra_blobs}
                wanted |= {layer.digest for layer in new.layers}
            results = store.commit([b for b in contents.staged_blobs() if b.digest in wanted],
                                   [l for l in contents.staged_layers() if l.digest in wanted], images)
        finally:
            store.discard(contents.staged_blobs(), contents.staged_layers())
    return [LoadedImage(r.image_id, r.tags, r.replaced) for r in results]


def interpret(contents: ArchiveContents) -> list[NewImage]:
    """Decide what images an archive holds: manifest.json first, else index.json."""
    if contents.get("manifest.json") is not None:
        return _docker_archive(contents)
    if contents.get("index.json") is not None:
        return _oci_layout(contents)
    raise ArchiveError("reading archive: not an image archive (no manifest.json or index.json)")


# -- docker save ---------------------------------------------------------------


def _docker_archive(contents: ArchiveContents) -> list[NewImage]:
    raw = contents.require("manifest.json", "manifest").data
    try:
        entries = json.loads(raw or b"")
    except ValueError as exc:
        raise ArchiveError(f"reading archive: manifest.json is not valid JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise ArchiveError("reading archive: manifest.json must be a list")
    oci_manifests = _oci_manifests_by_config(contents)
    images = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or "Config" not in entry:
            raise ArchiveError(f"reading archive: manifest.json entry {n} has no Config")
        config_member = contents.require(entry["Config"], "image config")
        config_bytes = config_member.data
        if config_bytes is None:
            raise ArchiveError(f"reading archive: config {entry['Config']!r} is not JSON")
        _check_named_digest(config_member)
        layers = [_layer_member(contents, p, i) for i, p in enumerate(entry.get("Layers") or [])]
        config = parse_json(config_bytes, "image config")
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        _check_diff_ids(diff_ids, layers)
        config_digest = sha256_digest(config_bytes)
        manifest_bytes = oci_manifests.get(config_digest)
        if manifest_bytes is None or not _manifest_matches(manifest_bytes, layers):
            manifest_bytes = build_manifest(config_bytes, [_layer_descriptor(l) for l in layers])
        tags = [_parse_tag(t) for t in entry.get("RepoTags") or []]
        images.append(NewImage(manifest_bytes, config_bytes, manifest_media_type(json.loads(manifest_bytes)),
                               layers, tags=tags))
    return images


def _oci_manifests_by_config(contents: ArchiveContents) -> dict[str, bytes]:
    """Docker 25+ writes an OCI index beside manifest.json: keep its manifests byte for byte."""
    out: dict[str, bytes] = {}
    if contents.get("index.json") is None:
        return out
    try:
        for _desc, manifest_bytes, _index in _walk_index(contents):
            manifest = json.loads(manifest_bytes)
            out[manifest["config"]["digest"]] = manifest_bytes
    except (ArchiveError, KeyError, TypeError, ValueError):
        return {}
    return out


def _manifest_matches(manifest_bytes: bytes, layers: list[StagedLayer]) -> bool:
    manifest = json.loads(manifest_bytes)
    digests = [d.get("digest") for d in manifest.get("layers") or []]
    return digests == [l.digest for l in layers]


def _layer_member(contents: ArchiveContents, path: str, i: int) -> StagedLayer:
    member = contents.require(path, f"layer {i}")
    if not isinstance(member.staged, StagedLayer):
        raise ArchiveError(f"reading archive: layer {path!r} is not a tar stream")
    member.staged.check_tar(f"reading layer {path!r}")
    _check_named_digest(member)
    return member.staged


def _check_named_digest(member: Member) -> None:
    """A member under blobs/sha256/ must hash to its name."""
    parts = member.path.split("/")
    if len(parts) == 3 and parts[0] == "blobs" and parts[1] == "sha256":
        if member.digest != "sha256:" + parts[2]:
            raise DigestMismatch(
                f"reading archive: blob {member.path!r} hashes to {member.digest}, not to its name")
    elif member.path.endswith(".json") and len(parts) == 1 and len(parts[0]) == 69:
        if member.digest != "sha256:" + parts[0][:-5]:
            raise DigestMismatch(
                f"reading archive: config {member.path!r} hashes to {member.digest}, not to its name")


def _check_diff_ids(diff_ids: list[str], layers: list[StagedLayer]) -> None:
    if len(diff_ids) != len(layers):
        raise ArchiveError(
            f"reading archive: config lists {len(diff_ids)} layers but the archive has {len(layers)}")
    for i, (want, layer) in enumerate(zip(diff_ids, layers)):
        if want != layer.diff_id:
            raise DigestMismatch(
                f"reading archive: layer {i} has diff_id {layer.diff_id}, the config expects {want}")


def _layer_descriptor(layer: StagedLayer) -> Descriptor:
    return Descriptor(mt.layer_media_type(layer.compression, docker=False), layer.digest, layer.size)


def _parse_tag(text: str) -> Reference:
    try:
        return parse_reference(text).tagged_or_latest()
    except InvalidReference as exc:
        raise ArchiveError(f"reading archive: invalid RepoTag {text!r}: {exc}") from exc


# -- OCI layout ----------------------------------------------------------------


def _blob_member(contents: ArchiveContents, desc: Descriptor, what: str) -> Member:
    member = contents.get("blobs/" + desc.digest.replace(":", "/"))
    if member is None:
        raise ArchiveError(f"reading archive: {what} blob {desc.digest} is missing")
    _check_named_digest(member)
    if member.staged.size != desc.size:
        raise DigestMismatch(
            f"reading archive: {what} blob {desc.digest} is {member.staged.size} bytes, descriptor says {desc.size}")
    return member


def _walk_index(contents: ArchiveContents, platform=None):
    """Yield (descriptor, manifest bytes, top-level index descriptor) for each image manifest."""
    layout = contents.get("oci-layout")
    if layout is not None and layout.data is not None:
        version = parse_json(layout.data, "oci-layout").get("imageLayoutVersion")
        if version not in ("1.0.0", "1.0.1", None):
            raise ArchiveError(f"reading archive: unsupported OCI layout version {version!r}")
    index = parse_json(contents.require("index.json", "index").data or b"", "index.json")
    for desc_obj in index.get("manifests") or []:
        desc = Descriptor.from_json(desc_obj)
        yield from _expand(contents, desc, desc, platform, depth=0)


def _expand(contents, desc: Descriptor, top: Descriptor, platform, depth: int):
    if depth > 4:
        raise ArchiveError("reading archive: image indexes nested too deeply")
    member = _blob_member(contents, desc, "manifest")
    if member.data is None:
        raise ArchiveError(f"reading archive: manifest {desc.digest} is not JSON")
    obj = parse_json(member.data, f"manifest {desc.digest}")
    media_type = manifest_media_type(obj, desc.media_type)
    if media_type in mt.INDEXES:
        children = [Descriptor.from_json(d) for d in obj.get("manifests") or []]
        chosen = _choose_platform(children, platform)
        for child in chosen:
            yield from _expand(contents, child, top, platform, depth + 1)
    elif media_type in mt.MANIFESTS:
        yield desc, member.data, top
    # other artifacts (attestations, signatures) are skipped


def _choose_platform(children: list[Descriptor], platform) -> list[Descriptor]:
    images = [c for c in children if c.media_type in mt.MANIFESTS + mt.INDEXES]
    with_platform = [c for c in images if c.platform]
    if not with_platform:
        return images
    want = platform or host_platform()
    matching = [c for c in with_platform if want.matches(c.platform)]
    if matching:
        return matching[:1]
    # nothing for this machine: load the first image rather than nothing
    return [c for c in with_platform if (c.platform or {}).get("os") != "unknown"][:1]


def _oci_layout(contents: ArchiveContents) -> list[NewImage]:
    images: dict[str, NewImage] = {}
    for desc, manifest_bytes, top in _walk_index(contents):
        manifest = parse_json(manifest_bytes, "manifest")
        config_desc = Descriptor.from_json(manifest.get("config") or {})
        config_member = _blob_member(contents, config_desc, "config")
        if config_member.data is None:
            raise ArchiveError(f"reading archive: config {config_desc.digest} is not JSON")
        layers = []
        for i, ld in enumerate(manifest.get("layers") or []):
            layer_desc = Descriptor.from_json(ld)
            member = _blob_member(contents, layer_desc, f"layer {i}")
            if not isinstance(member.staged, StagedLayer):
                raise ArchiveError(f"reading archive: layer {layer_desc.digest} is not a tar stream")
            member.staged.check_tar(f"reading layer {layer_desc.digest}")
            layers.append(member.staged)
        config = parse_json(config_member.data, "image config")
        _check_diff_ids(list((config.get("rootfs") or {}).get("diff_ids") or []), layers)
        Image(manifest_bytes, config_member.data, lambda d: None, desc.media_type)  # validates
        new = images.get(desc.digest)
        if new is None:
            new = NewImage(manifest_bytes, config_member.data,
                           manifest_media_type(manifest, desc.media_type), layers)
            images[desc.digest] = new
        if top.digest != desc.digest:
            new.extra_blobs.add(top.digest)
        tag = _oci_name(top.annotations or {})
        if tag is not None and tag not in new.tags:
            new.tags.append(tag)
    return list(images.values())


def _oci_name(annotations: dict) -> Reference | None:
    """The image name an OCI index entry carries, if it names one."""
    for key in (CONTAINERD_NAME, OCI_REF_NAME):
        value = annotations.get(key)
        if not value:
            continue
        if key == OCI_REF_NAME and ":" not in value and "/" not in value:
            continue  # just a tag, as Docker 25 writes beside io.containerd.image.name
        try:
            return parse_reference(value).tagged_or_latest()
        except InvalidReference:
            continue
    return None
