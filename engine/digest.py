"""Digests: hashing while streaming, and verification."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .errors import ArchiveError, DigestMismatch
from .reference import validate_digest


def sha256_digest(data: bytes) -> str:
    """The ``sha256:<hex>`` digest of *data*."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def hex_of(digest: str) -> str:
    """The encoded part of a ``sha256:<hex>`` digest, validated."""
    validate_digest(digest)
    algorithm, _, encoded = digest.partition(":")
    if algorithm != "sha256":
        raise DigestMismatch(f"unsupported digest algorithm {algorithm!r}: only sha256 is stored")
    return encoded


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor (OCI image-spec descriptor.md), the fields Strata uses."""

    media_type: str
    digest: str
    size: int
    annotations: dict | None = None
    platform: dict | None = None

    def to_json(self) -> dict:
        out: dict = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            out["platform"] = self.platform
        if self.annotations:
            out["annotations"] = self.annotations
        return out

    @classmethod
    def from_json(cls, obj: dict) -> "Descriptor":
        try:
            return cls(
                media_type=obj.get("mediaType", ""),
                digest=validate_digest(obj["digest"]),
                size=int(obj["size"]),
                annotations=obj.get("annotations"),
                platform=obj.get("platform"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ArchiveError(f"reading descriptor: invalid descriptor {obj!r:.200}") from exc


def verify(data: bytes, digest: str, what: str = "content") -> None:
    """Raise DigestMismatch unless *data* hashes to *digest*."""
    actual = sha256_digest(data)
    if actual != digest:
        raise DigestMismatch(f"{what}: digest mismatch: expected {digest}, got {actual}")
