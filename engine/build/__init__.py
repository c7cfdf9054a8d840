"""The daemon-less Dockerfile builder.

``Engine.build`` (see :mod:`engine.build.ops`) parses a Dockerfile with the
BuildKit-exact parser, dispatches every instruction (:mod:`.builder`), runs
RUN in a sandbox over an assembled rootfs (:mod:`.rootfs`, :mod:`.sandbox`),
turns filesystem differences into layers (:mod:`.snapshot`,
:mod:`.layerwriter`) and caches each step as an intermediate image
(:mod:`.cache`).
"""

from .errors import BuildError
from .ops import BuildOps, BuildResult

__all__ = ["BuildError", "BuildOps", "BuildResult"]
