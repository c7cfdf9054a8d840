"""Build operations of the Engine facade: ``Engine.build``.

The builder and the Dockerfile parser are imported on first use, inside the
methods: ``import engine`` and the commands that never build don't pay for them.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import InvalidReference, NotFound, StrataError
from engine.events import ProgressCallback
from engine.platforms import parse_platform
from engine.reference import parse_reference

from .progress import Reporter, StepRecord


@dataclass
class BuildResult:
    """What a build produced."""

    image_id: str
    tags: list[str] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)


def _dockerfile_path(context: Path | None, dockerfile: str | Path | None) -> Path:
    if dockerfile is not None:
        path = Path(dockerfile)
        if path.is_absolute() or path.exists() or context is None:
            return path
        return context / path
    if context is None:
        raise NotFound("no Dockerfile: give a context directory, a Dockerfile path or its text")
    for name in ("Dockerfile", "dockerfile"):
        if (context / name).is_file():
            return context / name
    return context / "Dockerfile"


class BuildOps:
    """Mixed into :class:`engine.api.Engine`; ``self.store`` is the Store."""

    def build(self, context: Path | str | None, dockerfile: str | Path | None = None,
              dockerfile_text: str | None = None, tags=(), build_args: dict[str, str] | None = None,
              target: str | None = None, no_cache: bool = False, platform: str | None = None,
              labels: dict[str, str] | None = None, progress: ProgressCallback | None = None,
              cancel: threading.Event | None = None) -> BuildResult:
        """Build a Dockerfile into an image in the store, like ``docker build``.

        *context* is a directory, a tar archive of one (plain or compressed), or
        None (no context: COPY of local files fails).  The Dockerfile is
        *dockerfile_text*, else the file *dockerfile* (relative to the working
        directory, else to the context), else ``CONTEXT/Dockerfile``.  Progress
        comes as BuildKit-plain Status lines and per-step Progress events;
        setting *cancel* stops the build between steps or kills a running RUN.
        Raises :class:`engine.build.errors.BuildError` (file, line, step) or
        :class:`engine.dockerfile.DockerfileParseError` for Dockerfile mistakes.
        """
        from engine.dockerfile import DockerfileParseError, parse, validate_instructions

        from .builder import Builder, Options
        from .context import SourceTree, load_ignore
        from .dockerignore import IgnoreSyntaxError
        from .instructions import parse_stages
        from .rootfs import rmtree

        refs = []
        for tag in tags or ():
            try:
                ref = parse_reference(tag)
            except InvalidReference as exc:
                raise InvalidReference(f'invalid tag "{tag}": {exc.message}') from None
            if ref.digest is not None:
                raise InvalidReference(f'invalid tag "{tag}": a tag cannot contain a digest')
            refs.append(ref.tagged_or_latest())
        options = Options(tags=refs, build_args=dict(build_args or {}), target=target,
                          no_cache=no_cache, platform=parse_platform(platform) if platform else None,
                          labels=dict(labels or {}))
        reporter = Reporter(progress)
        workdir = Path(tempfile.mkdtemp(prefix="build-", dir=self.store.blobs.tmp_dir))
        try:
            with self.store.adding():
                context_dir = self._context_dir(context, workdir)
                text, df_path, name = self._dockerfile(context_dir, dockerfile, dockerfile_text, reporter)
                try:
                    result = parse(text, name)
                    validate_instructions(result)
                    meta, stages = parse_stages(result)
                except DockerfileParseError:
                    raise
                def load_context() -> SourceTree | None:
                    if context_dir is None:
                        return None
                    vertex = reporter.vertex("[internal] load .dockerignore")
                    try:
                        matcher, ignore_path = load_ignore(context_dir, df_path)
                    except IgnoreSyntaxError as exc:
                        vertex.error(str(exc))
                        raise StrataError(f"reading .dockerignore: {exc}") from None
                    size = ignore_path.stat().st_size if ignore_path is not None else 0
                    vertex.detail(f"transferring context: {size}B done")
                    vertex.done()
                    return SourceTree(context_dir, matcher, keep_owner=False)

                builder = Builder(self, result, meta, stages, load_context, options, reporter, cancel,
                                  workdir)
                state, _ = builder.run()
                image_id = builder.finish(state)
        finally:
            rmtree(workdir)
        return BuildResult(image_id, [str(r) for r in refs], reporter.steps)

    def _context_dir(self, context, workdir: Path) -> Path | None:
        from .rootfs import apply_layer

        if context is None:
            return None
        path = Path(context)
        if path.is_dir():
            return path
        if path.is_file():
            out = workdir / "context"
            out.mkdir()
            with open(path, "rb") as f:
                try:
                    apply_layer(out, f, mode="r|*")
                except StrataError as exc:
                    raise StrataError(f"reading the build context archive: {exc.message}") from exc
            return out
        raise NotFound(f"unable to prepare context: path {str(context)!r} not found")

    def _dockerfile(self, context: Path | None, dockerfile, text: str | None,
                    reporter: Reporter) -> tuple[str, Path | None, str]:
        from engine.dockerfile import DockerfileParseError

        vertex = reporter.vertex(
            f"[internal] load build definition from {Path(dockerfile).name if dockerfile else 'Dockerfile'}")
        path = None
        if text is None:
            path = _dockerfile_path(context, dockerfile)
            try:
                text = path.read_text(encoding="utf-8", errors="surrogateescape")
            except FileNotFoundError:
                vertex.error("failed to read dockerfile")
                raise NotFound(f"failed to read dockerfile: open {path}: no such file or directory") from None
            except OSError as exc:
                raise StrataError(f"failed to read dockerfile {path}: {exc.strerror}") from exc
        name = path.name if path is not None else (Path(dockerfile).name if dockerfile else "Dockerfile")
        if not text.strip():
            vertex.error("the Dockerfile cannot be empty")
            raise DockerfileParseError("the Dockerfile cannot be empty", filename=name)
        vertex.detail(f"transferring dockerfile: {len(text.encode('utf-8', 'surrogateescape'))}B done")
        vertex.done()
        return text, path, name


__all__ = ["BuildOps", "BuildResult"]
