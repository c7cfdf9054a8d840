"""The parse tree, shaped like BuildKit's ``parser.Node``.

The root node has one child per instruction.  An instruction node holds the
lower-case instruction name in ``value`` and its arguments as a linked list
of nodes through ``next``; ONBUILD's argument is a node whose only child is
the trigger instruction::

    (value next (child child-next child-next-next) next-next)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_LEADING_TABS = re.compile(r"(?m)^\t+")


def chomp_heredoc_content(content: str) -> str:
    """Remove leading tabs from every line (BuildKit's ``ChompHeredocContent``)."""
    return _LEADING_TABS.sub("", content)


@dataclass
class Heredoc:
    """A here-document attached to RUN, COPY or ADD.

    ``content`` is the raw text between the instruction line and the
    terminator, line endings included, exactly as BuildKit stores it;
    ``chomp`` (``<<-``) only affects how the terminator is found, and
    :attr:`body` applies it.  ``expand`` is False when any part of the
    terminator word was quoted (``<<"EOF"``, ``<<'EOF'``, ``<<E"O"F``).
    """

    name: str
    content: str = ""
    expand: bool = True
    chomp: bool = False
    file_descriptor: int = 0

    @property
    def body(self) -> str:
        """The content as a build uses it: leading tabs removed when chomped."""
        return chomp_heredoc_content(self.content) if self.chomp else self.content


@dataclass(eq=False, repr=False, slots=True)
class Node:
    """One node of the parse tree (see the module docstring)."""

    value: str = ""
    next: Node | None = None
    children: list[Node] = field(default_factory=list)
    attributes: dict[str, bool] = field(default_factory=dict)
    original: str = ""
    flags: list[str] = field(default_factory=list)
    heredocs: list[Heredoc] = field(default_factory=list)
    start_line: int = 0
    end_line: int = 0
    prev_comment: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Node({self.value!r}, args={self.args!r}, lines={self.start_line}-{self.end_line})"

    def iter_next(self) -> Iterator[Node]:
        """The argument nodes, following ``next``."""
        node = self.next
        while node is not None:
            yield node
            node = node.next

    @property
    def args(self) -> list[str]:
        """The values of the argument nodes, in order."""
        return [node.value for node in self.iter_next()]

    @property
    def is_json(self) -> bool:
        """True when the arguments were written as a JSON array (exec form)."""
        return bool(self.attributes.get("json"))

    @property
    def sub_instruction(self) -> Node | None:
        """The trigger instruction of an ONBUILD node, else None."""
        first = self.next
        if first is not None and first.children:
            return first.children[0]
        return None

    def add_child(self, child: Node, start_line: int, end_line: int) -> None:
        """Append an instruction and update the line range (``AddChild``)."""
        child.start_line, child.end_line = start_line, end_line
        if not self.children:
            self.start_line = start_line
        self.end_line = end_line
        self.children.append(child)


@dataclass
class ParseWarning:
    """A non-fatal finding (BuildKit's ``parser.Warning``), e.g. an empty continuation line."""

    short: str
    detail: str
    url: str
    line: int

    def __str__(self) -> str:
        return f"[WARNING]: {self.short}"


@dataclass
class Result:
    """What :func:`parse` returns."""

    ast: Node
    warnings: list[ParseWarning]
    escape_token: str
    filename: str = "Dockerfile"
    directives: dict[str, str] = field(default_factory=dict)
    source_lines: tuple[str, ...] = ()
