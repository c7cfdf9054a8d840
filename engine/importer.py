"""``import``: a rootfs tarball becomes a one-layer image."""

from __future__ import annotations

import json
import shlex
from typing import BinaryIO

from .digest import Descriptor
from .errors import ArchiveError, InvalidReference
from .image import build_manifest, encode_config, rfc3339, scratch_config
from .ingest import LayerIngest
from .mediatypes import layer_media_type
from .platforms import parse_platform
from .reference import parse_reference
from .store import NewImage, Store

CHUNK = 1 << 20


def apply_change(config: dict, change: str) -> None:
    """Apply one ``--change`` Dockerfile instruction to an image config's ``config``."""
    word, _, rest = change.strip().partition(" ")
    word, rest = word.upper(), rest.strip()
    cfg = config.setdefault("config", {})

    def exec_or_shell(text: str) -> list[str]:
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
        return ["/bin/sh", "-c", text]

    if word in ("CMD", "ENTRYPOINT"):
        cfg["Cmd" if word == "CMD" else "Entrypoint"] = exec_or_shell(rest)
    elif word == "ENV":
        env = [e for e in cfg.get("Env") or []]
        pairs = shlex.split(rest)
        if len(pairs) >= 1 and "=" not in pairs[0]:
            pairs = [pairs[0] + "=" + rest[len(pairs[0]):].strip()]
        for pair in pairs:
            key = pair.partition("=")[0]
            env = [e for e in env if e.partition("=")[0] != key] + [pair]
        cfg["Env"] = env
    elif word == "LABEL":
        labels = cfg.setdefault("Labels", {})
        for pair in shlex.split(rest):
            key, _, value = pair.partition("=")
            labels[key] = value
    elif word == "EXPOSE":
        ports = cfg.setdefault("ExposedPorts", {})
        for port in rest.split():
            ports[port if "/" in port else port + "/tcp"] = {}
    elif word == "VOLUME":
        vols = cfg.setdefault("Volumes", {})
        items = json.loads(rest) if rest.startswith("[") else rest.split()
        for v in items:
            vols[v] = {}
    elif word == "USER":
        cfg["User"] = rest
    elif word == "WORKDIR":
        cfg["WorkingDir"] = rest
    elif word == "STOPSIGNAL":
        cfg["StopSignal"] = rest
    else:
        raise InvalidReference(f"{word} is not a valid change command")


def import_image(store: Store, stream: BinaryIO, reference: str | None, message: str = "",
                 changes: list[str] | None = None, source: str = "-",
                 platform: str | None = None) -> str:
    """Create a one-layer image from a (possibly compressed) rootfs tar; returns its ID."""
    tag = parse_reference(reference).tagged_or_latest() if reference else None
    config = scratch_config(rfc3339())
    if platform:
        plat = parse_platform(platform)
        config["os"], config["architecture"] = plat.os, plat.architecture
        config.pop("variant", None)
        if plat.variant:
            config["variant"] = plat.variant
    for change in changes or []:
        apply_change(config, change)
    with store.adding():
        ingest = LayerIngest(store.blobs, what="imported tarball")
        try:
            while chunk := stream.read(CHUNK):
                ingest.write(chunk)
            staged = ingest.stage()
        except BaseException:
            ingest.abort()
            raise
        try:
            if staged.uncompressed_size == 0:
                raise ArchiveError("importing: the tarball is empty")
            staged.check_tar("importing tarball")
            config["rootfs"]["diff_ids"] = [staged.diff_id]
            config["history"] = [{"created": config["created"], "created_by": "",
                                  "comment": message or f"Imported from {source}"}]
            config_bytes = encode_config(config)
            layer = Descriptor(layer_media_type(staged.compression, docker=False), staged.digest, staged.size)
            manifest = build_manifest(config_bytes, [layer])
            new = NewImage(manifest, config_bytes, "", [staged], tags=[tag] if tag else [])
            result = store.commit([], [staged], [new])[0]
        finally:
            store.discard([], [staged])
    return result.image_id
