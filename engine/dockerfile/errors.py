"""Errors of the Dockerfile parser.

The line parsers raise :class:`DockerfileSyntaxError`, which knows nothing of
files or lines; the parse loop turns it into a :class:`DockerfileParseError`
that names the file and the line, like BuildKit's ``withLocation``.
"""

from __future__ import annotations

from engine.errors import StrataError

#: Lines of context shown around the offending lines by ``detail()``.
CONTEXT_LINES = 2
_RULE = "-" * 20


class DockerfileSyntaxError(ValueError):
    """A problem found in one instruction (or heredoc word), before its location is known."""


class DockerfileParseError(StrataError, ValueError):
    """A Dockerfile that BuildKit's parser (or instruction check) rejects.

    ``line`` and ``end_line`` are 1-based; both are ``None`` for problems of
    the whole file (e.g. a file without instructions).  ``text`` is the source
    text of ``line`` (empty when there is none).
    """

    title = "Dockerfile parse error"

    def __init__(
        self,
        reason: str,
        *,
        filename: str = "Dockerfile",
        line: int | None = None,
        end_line: int | None = None,
        source_lines: tuple[str, ...] = (),
    ) -> None:
        self.reason = reason
        self.filename = filename
        self.line = line
        self.end_line = max(end_line or 0, line or 0) or None
        self.source_lines = source_lines
        self.text = _line_text(source_lines, line)
        where = f"{filename}:{line}" if line else filename
        super().__init__(f"{where}: {_one_line(reason)}")

    def detail(self) -> str:
        """The error with BuildKit's context view of the offending lines."""
        if not self.line or not self.source_lines:
            return self.message
        first = max(1, self.line - CONTEXT_LINES)
        last = min(len(self.source_lines), (self.end_line or self.line) + CONTEXT_LINES)
        rows = [f"{self.filename}:{_range_label(self.line, self.end_line)}", _RULE]
        for number in range(first, last + 1):
            marker = ">>>" if self.line <= number <= (self.end_line or self.line) else "   "
            rows.append(f" {number:>3} | {marker} {self.source_lines[number - 1]}".rstrip())
        rows += [_RULE, f"ERROR: {self.message}"]
        return "\n".join(rows)


def _one_line(text: str) -> str:
    """Collapse line breaks so that ``str(err)`` stays on one line."""
    return " ".join(text.splitlines()) if "\n" in text or "\r" in text else text


def _line_text(source_lines: tuple[str, ...], line: int | None) -> str:
    """The text of 1-based *line*, or '' when it does not exist."""
    if line and 0 < line <= len(source_lines):
        return source_lines[line - 1]
    return ""


def _range_label(start: int, end: int | None) -> str:
    """``3`` or ``3-5``, as BuildKit labels a location."""
    return f"{start}-{end}" if end and end > start else str(start)
