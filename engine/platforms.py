"""Platforms (os/arch/variant) as the OCI image index describes them."""

from __future__ import annotations

import platform as _platform
from dataclasses import dataclass

from .errors import InvalidReference

_ARCH_ALIASES = {
    "x86_64": ("amd64", None),
    "amd64": ("amd64", None),
    "aarch64": ("arm64", None),
    "arm64": ("arm64", None),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", None),
    "i686": ("386", None),
    "ppc64le": ("ppc64le", None),
    "s390x": ("s390x", None),
    "riscv64": ("riscv64", None),
}


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        out = f"{self.os}/{self.architecture}"
        return out + f"/{self.variant}" if self.variant else out

    def matches(self, desc: dict | None) -> bool:
        """True if an index entry's ``platform`` object is this platform."""
        if not desc:
            return False
        if desc.get("os") != self.os or desc.get("architecture") != self.architecture:
            return False
        variant = desc.get("variant")
        if self.variant is None:
            # arm64 images are often published as arm64/v8; accept either
            return variant in (None, "", "v8") or self.architecture != "arm64"
        return variant == self.variant or (variant in (None, "") and self.variant == "v8")


def host_platform() -> Platform:
    """This machine's platform, named as container images name it."""
    arch, variant = _ARCH_ALIASES.get(_platform.machine().lower(), (_platform.machine().lower(), None))
    return Platform("linux", arch, variant)


def parse_platform(text: str) -> Platform:
    """Parse ``os/arch[/variant]`` (``linux/arm64/v8``)."""
    parts = text.strip().lower().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidReference(f"invalid platform {text!r}: expected os/arch[/variant]")
    arch, variant = _ARCH_ALIASES.get(parts[1], (parts[1], None))
    if len(parts) == 3:
        variant = parts[2]
    return Platform(parts[0], arch, variant)
