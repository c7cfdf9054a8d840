"""Dockerfile parser that reads files exactly as BuildKit's parser does.

``parse(text)`` returns a :class:`Result` whose ``ast`` has one child per
instruction.  The reading rules are BuildKit's (frontend/dockerfile/parser):

* parser directives (``# syntax=``, ``# escape=``, ``# check=``) are only
  recognised at the very top, before any other line;
* comment lines are dropped, also inside a continued instruction;
* the escape token at the end of a line continues the instruction; empty
  lines inside a continuation are skipped and produce a warning;
* shell-form RUN/COPY/ADD (also under ONBUILD) may open heredocs, whose
  content lines follow the instruction line;
* the instruction's arguments are parsed by the per-instruction parsers of
  :mod:`line_parsers`; unknown instructions are kept (see
  :func:`engine.dockerfile.validate.validate_instructions`).
"""

from __future__ import annotations

from .directives import Directives
from .errors import DockerfileParseError, DockerfileSyntaxError
from .gotext import byte_length, decode, go_lower, trim_left_space, trim_newline, trim_space
from .heredoc import can_contain_heredoc, heredocs_from_line
from .line_parsers import DISPATCH, parse_ignore
from .node import Node, ParseWarning, Result
from .split_command import split_command

#: bufio.Scanner's limit: a line (with its newline) may not exceed 64 KiB.
MAX_LINE_BYTES = 64 * 1024
EMPTY_CONTINUATION_URL = "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/"
EMPTY_CONTINUATION_DETAIL = "Empty continuation lines will become errors in a future release"


def parse(text: str | bytes, filename: str = "Dockerfile") -> Result:
    """Parse a Dockerfile; raise :class:`DockerfileParseError` if BuildKit would."""
    source = decode(text) if isinstance(text, (bytes, bytearray, memoryview)) else str(text)
    return _Parser(source, filename).run()


def new_node_from_line(line: str, directives: Directives, comments: list[str] | None = None) -> Node:
    """Build the node of one logical instruction line.

    ``ONBUILD <trigger>`` nests: its argument node has the trigger as only
    child.  Nesting is unrolled into a loop (``ONBUILD ONBUILD ...`` is
    legal for the parser).
    """
    wrappers: list[tuple[str, list[str], str]] = []
    text = line
    name, flags, args = split_command(text, directives)
    while go_lower(name) == "onbuild" and args:
        wrappers.append((text, flags, args))
        text = args
        name, flags, args = split_command(text, directives)
    node = _instruction_node(go_lower(name), flags, args, text, directives)
    for original, outer_flags, _ in reversed(wrappers):
        node = Node(value="onbuild", next=Node(children=[node]), original=original, flags=outer_flags)
    node.prev_comment = list(comments or [])
    return node


def _instruction_node(value: str, flags: list[str], args: str, original: str, directives: Directives) -> Node:
    """A node whose arguments are parsed by the dispatch table (ONBUILD has none here)."""
    first, attributes = None, None
    if value != "onbuild":
        first, attributes = DISPATCH.get(value, parse_ignore)(args, directives)
    return Node(value=value, next=first, attributes=attributes or {}, original=original, flags=flags)


def _split_lines(source: str) -> tuple[list[str], bool]:
    """Lines with their newlines; stop (True) where bufio.Scanner would fail."""
    lines = source.split("\n")
    last = lines.pop()
    lines = [line + "\n" for line in lines]
    if last:
        lines.append(last)
    for index, line in enumerate(lines):
        size = byte_length(line)
        if size > MAX_LINE_BYTES or (size == MAX_LINE_BYTES and not line.endswith("\n")):
            return lines[:index], True
    return lines, False


def _is_comment(line: str) -> bool:
    """A line whose first non-blank char is ``#``."""
    return trim_left_space(line).startswith("#")


class _Parser:
    """One run of the parse loop over a source text."""

    def __init__(self, source: str, filename: str) -> None:
        self.filename = filename
        self.lines, self.too_long = _split_lines(source)
        if self.lines and self.lines[0].startswith("\ufeff"):
            self.lines[0] = self.lines[0][1:]
        self.source_lines = tuple(trim_newline(line) for line in source.removeprefix("\ufeff").split("\n"))
        self.index = 0
        self.directives = Directives()
        self.root = Node(start_line=-1)
        self.warnings: list[ParseWarning] = []
        self.comments: list[str] = []

    def error(self, reason: str, line: int | None, end_line: int | None = None) -> DockerfileParseError:
        """A located error for this file."""
        return DockerfileParseError(
            reason, filename=self.filename, line=line, end_line=end_line, source_lines=self.source_lines
        )

    def scan(self) -> str | None:
        """The next raw line (newline kept), or None at the end."""
        if self.index >= len(self.lines):
            return None
        self.index += 1
        return self.lines[self.index - 1]

    def process_line(self, raw: str, strip_left: bool) -> tuple[str, bool]:
        """Trim newline (and leading blanks), check for a directive, drop comments."""
        token = trim_newline(raw)
        if strip_left:
            token = trim_left_space(token)
        try:
            is_directive = self.directives.possible_directive(token)
        except DockerfileSyntaxError as exc:
            raise self.error(str(exc), self.index) from None
        return ("" if _is_comment(token) else token), is_directive

    def run(self) -> Result:
        """Read every instruction; return the result."""
        while (raw := self.scan()) is not None:
            self.read_instruction(raw)
        if not self.root.children:
            raise self.error("file with no instructions", None)
        if self.too_long:
            reason = f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES - 1}"
            raise self.error(reason, self.index + 1)
        return Result(
            ast=self.root,
            warnings=self.warnings,
            escape_token=self.directives.escape_token,
            filename=self.filename,
            directives=dict(self.directives.values),
            source_lines=self.source_lines,
        )

    def note_comment(self, raw: str) -> None:
        """Track the comments just above an instruction (``PrevComment``)."""
        if _is_comment(raw):
            comment = trim_space(raw[1:])
            self.comments = self.comments + [comment] if comment else []

    def read_instruction(self, raw: str) -> None:
        """Read one logical instruction that starts with *raw* (or skip the line)."""
        self.note_comment(raw)
        line, is_directive = self.process_line(raw, strip_left=True)
        if is_directive and self.comments:
            self.comments.pop()
        start = self.index
        line, end_of_line = self.directives.trim_continuation(line)
        if end_of_line and not line:
            return
        if not end_of_line:
            line = self.read_continuation(line)
        try:
            child = new_node_from_line(line, self.directives, self.comments)
            if can_contain_heredoc(child) and "<<" in line:
                child.heredocs = heredocs_from_line(line)
        except DockerfileSyntaxError as exc:
            raise self.error(str(exc), start, self.index) from None
        for heredoc in child.heredocs:
            heredoc.content = self.read_heredoc(heredoc.name, heredoc.chomp, start)
        self.root.add_child(child, start, self.index)
        self.comments = []

    def read_continuation(self, line: str) -> str:
        """Append continuation lines until one does not end with the escape token."""
        parts = [line]
        empty_seen = False
        end_of_line = False
        while not end_of_line and (raw := self.scan()) is not None:
            text, _ = self.process_line(raw, strip_left=False)
            if _is_comment(raw):
                continue
            if not trim_left_space(text):
                empty_seen = True
                continue
            text, end_of_line = self.directives.trim_continuation(text)
            parts.append(text)
        joined = "".join(parts)
        if empty_seen:
            self.warnings.append(
                ParseWarning(
                    short=f"Empty continuation line found in: {joined}",
                    detail=EMPTY_CONTINUATION_DETAIL,
                    url=EMPTY_CONTINUATION_URL,
                    line=self.index,
                )
            )
        return joined

    def read_heredoc(self, name: str, chomp: bool, start: int) -> str:
        """Collect raw lines up to the terminator *name*."""
        content: list[str] = []
        while (raw := self.scan()) is not None:
            candidate = trim_newline(raw)
            if chomp:
                candidate = candidate.lstrip("\t")
            if candidate == name:
                return "".join(content)
            content.append(raw)
        raise self.error("unterminated heredoc", start, self.index)
