"""Parser directives (``# syntax=``, ``# escape=``, ``# check=``).

Directives are comments of the form ``# name=value`` at the very top of the
file.  The first line that is not a directive of a known name (an
instruction, an empty line, any other comment) ends the directive section.
Each directive may appear once.  ``escape`` selects the escape token, which
is also the line-continuation character: a backslash (default) or a
backtick.
"""

from __future__ import annotations

import re

from .errors import DockerfileSyntaxError

DEFAULT_ESCAPE_TOKEN = "\\"
VALID_DIRECTIVES = frozenset({"syntax", "escape", "check"})

# Go's \s is [\t\n\f\r ]; "$" without (?m) is the end of the text.
_DIRECTIVE_RE = re.compile(r"^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z")


class Directives:
    """Directive state while a file is read: escape token, seen names, done."""

    def __init__(self) -> None:
        self.escape_token = DEFAULT_ESCAPE_TOKEN
        self.values: dict[str, str] = {}
        self.done = False
        self._continuation = _continuation_regex(DEFAULT_ESCAPE_TOKEN)

    def set_escape_token(self, token: str) -> None:
        """Switch the escape/continuation token; only a backslash or backtick is allowed."""
        if token not in ("`", "\\"):
            raise DockerfileSyntaxError(f"invalid escape token '{token}' does not match ` or \\")
        self.escape_token = token
        self._continuation = _continuation_regex(token)

    def possible_directive(self, line: str) -> bool:
        """Record *line* if it is a directive; return True when it was one."""
        if self.done:
            return False
        match = _DIRECTIVE_RE.match(line)
        name = match.group(1).lower() if match else ""
        if name not in VALID_DIRECTIVES:
            self.done = True
            return False
        if name in self.values:
            raise DockerfileSyntaxError(f"only one {name} parser directive can be used")
        self.values[name] = match.group(2)
        if name == "escape":
            self.set_escape_token(match.group(2))
        return True

    def trim_continuation(self, line: str) -> tuple[str, bool]:
        """Strip a trailing continuation token; return (line, is_end_of_line)."""
        match = self._continuation.search(line)
        if match is None:
            return line, True
        return line[: match.start()] + (match.group(1) or ""), False


def _continuation_regex(token: str) -> re.Pattern[str]:
    """An escape token that ends the line (bar trailing blanks), not itself escaped."""
    tok = re.escape(token)
    return re.compile(rf"([^{tok}]){tok}[ \t]*\Z|^{tok}[ \t]*\Z")
