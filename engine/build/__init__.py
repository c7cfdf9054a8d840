"""The daemon-less Dockerfile builder.

``Engine.build`` (see :mod:`engine.build.ops`) parses a Dockerfile with the
BuildKit-exact parser, dispatches every instruction (:mod:`.builder`), runs
RUN in a sandbox over an assembled rootfs (:mod:`.rootfs`, :mod:`.sandbox`),
turns filesystem differences into layers (:mod:`.snapshot`,
:mod:`.layerwriter`) and caches each step as an intermediate image
(:mod:`.cache`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ops import BuildOps, BuildResult

if TYPE_CHECKING:
    from .errors import BuildError

__all__ = ["BuildError", "BuildOps", "BuildResult"]


def __getattr__(name: str):
    # BuildError is imported on first use: it needs the Dockerfile parser, which
    # ``import engine`` (and so every command) would otherwise load at start-up.
    if name == "BuildError":
        from .errors import BuildError

        globals()[name] = BuildError
        return BuildError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"BuildError"})
