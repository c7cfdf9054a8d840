"""From a reference to one platform's image manifest and config.

A tag or digest may name an image manifest or an index (a Docker manifest
list or an OCI index).  For an index, the entry for the wanted platform
(default: this machine's) is fetched by digest; the index digest stays the
image's RepoDigest, as docker keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import mediatypes as mt
from ..digest import Descriptor
from ..errors import ArchiveError, RegistryError, Unsupported
from ..image import parse_json
from ..platforms import Platform, host_platform
from ..reference import Reference
from .client import Manifest, RepositoryClient

MAX_DEPTH = 3
IMAGE_CONFIGS = (mt.OCI_CONFIG, mt.DOCKER_CONFIG)


@dataclass
class Resolved:
    """What a reference names, down to one platform's image."""

    ref: Reference
    top: Manifest                  # what the tag or digest names (index or manifest)
    manifest: Manifest             # the image manifest chosen
    platform: dict | None = None   # the index entry's platform, when chosen from an index

    @property
    def repo_digest(self) -> str:
        return self.top.digest

    @property
    def from_index(self) -> bool:
        return self.top.digest != self.manifest.digest


def reference_text(ref: Reference) -> str:
    """The tag or digest part of *ref* for the API (digest wins)."""
    return ref.digest or ref.tag or "latest"


def check_supported(manifest: Manifest, what: str) -> None:
    if manifest.media_type in mt.SCHEMA1:
        raise Unsupported(
            f"{what}: the registry serves a Docker schema1 manifest, which Strata does not support; "
            "ask the publisher to push it again with a current tool (schema2 or OCI)")
    if manifest.media_type not in mt.MANIFESTS + mt.INDEXES:
        raise Unsupported(f"{what}: unsupported manifest type {manifest.media_type!r}")


def resolve(client: RepositoryClient, ref: Reference, platform: Platform | None = None) -> Resolved:
    """Fetch what *ref* names and, through any index, the manifest for *platform*."""
    what = f"resolving {ref.familiar()}"
    top = client.get_manifest(reference_text(ref))
    check_supported(top, what)
    manifest, chosen = top, None
    for _ in range(MAX_DEPTH):
        if manifest.media_type not in mt.INDEXES:
            return Resolved(ref, top, manifest, chosen)
        desc = choose_platform(manifest.json(), platform, ref)
        chosen = desc.platform
        manifest = client.get_manifest(desc.digest)
        check_supported(manifest, what)
    raise RegistryError(f"{what}: indexes nested more than {MAX_DEPTH} deep")


def describe_platform(p: dict | None) -> str:
    if not p:
        return "unknown"
    out = f"{p.get('os', '?')}/{p.get('architecture', '?')}"
    return out + f"/{p['variant']}" if p.get("variant") else out


def choose_platform(index: dict, platform: Platform | None, ref: Reference) -> Descriptor:
    """The index entry for *platform* (default: this machine), as docker chooses it."""
    want = platform or host_platform()
    try:
        entries = [Descriptor.from_json(d) for d in index.get("manifests") or []]
    except ArchiveError as exc:
        raise RegistryError(f"reading the index of {ref.familiar()}: {exc.message}") from exc
    images = [d for d in entries if d.media_type in mt.MANIFESTS + mt.INDEXES or not d.media_type]
    for desc in images:
        if want.matches(desc.platform):
            return desc
    available = sorted({describe_platform(d.platform) for d in images
                        if (d.platform or {}).get("os") not in (None, "unknown")})
    raise RegistryError(
        f"no matching manifest for {want} in the manifest list entries of {ref.familiar()} "
        f"(available: {', '.join(available) or 'none'}); choose one with --platform")


def check_image_config(manifest: Manifest, what: str) -> Descriptor:
    """The config descriptor of an image manifest; refuses artifacts that are not images."""
    obj = manifest.json()
    try:
        config = Descriptor.from_json(obj.get("config") or {})
    except ArchiveError as exc:
        raise RegistryError(f"{what}: the manifest has no valid config descriptor") from exc
    if config.media_type and config.media_type not in IMAGE_CONFIGS:
        raise Unsupported(f"{what}: not a container image (its config is {config.media_type!r})")
    return config


def check_platform(config: dict, platform: Platform | None, ref: Reference) -> None:
    """Docker refuses a single-platform image that does not match an explicit --platform."""
    if platform is None:
        return
    actual = {k: config.get(k) for k in ("os", "architecture", "variant") if config.get(k)}
    if not platform.matches(actual):
        raise RegistryError(
            f"image {ref.familiar()} was found but does not match the specified platform: "
            f"wanted {platform}, actual: {describe_platform(actual)}")


def parse_config(data: bytes, what: str) -> dict:
    try:
        return parse_json(data, what)
    except ArchiveError as exc:
        raise RegistryError(exc.message) from exc
