"""Build errors that point at a Dockerfile line, like BuildKit's."""

from __future__ import annotations

from engine.dockerfile import DockerfileParseError
from engine.errors import StrataError


class BuildError(DockerfileParseError):
    """A step that failed: ``str(err)`` names the file, line and step; ``detail()``
    adds BuildKit's view of the offending lines."""

    title = "Build failed"

    def __init__(self, reason: str, *, step: str = "", filename: str = "Dockerfile",
                 line: int | None = None, end_line: int | None = None,
                 source_lines: tuple[str, ...] = (), exit_code: int | None = None) -> None:
        self.step = step
        self.failure = reason
        self.exit_code_of_process = exit_code
        text = f"{step}: {reason}" if step else reason
        super().__init__(text, filename=filename, line=line, end_line=end_line,
                         source_lines=source_lines)


class Located(Exception):
    """Internal: a failure message still waiting for its Dockerfile location."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


def reason_of(exc: BaseException) -> str:
    """The one-line reason of an exception for a build error."""
    if isinstance(exc, StrataError):
        return exc.message
    if isinstance(exc, Located):
        return exc.message
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    return str(exc)


__all__ = ["BuildError", "Located", "reason_of"]
