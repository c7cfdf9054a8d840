"""Parse-tree nodes of a Go template (a subset of Go's ``text/template/parse``).

Every node records ``pos`` (offset in the source) and ``src`` (its source text,
used in ``executing ... at <src>`` error messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Node:
    """Base of all nodes."""

    pos: int
    src: str


@dataclass(slots=True)
class TextNode(Node):
    """Plain text copied to the output."""

    text: str


@dataclass(slots=True)
class DotNode(Node):
    """The cursor ``.``."""


@dataclass(slots=True)
class NilNode(Node):
    """The untyped ``nil`` constant."""


@dataclass(slots=True)
class LiteralNode(Node):
    """A bool, number, character or string constant with its Python value."""

    value: Any


@dataclass(slots=True)
class FieldNode(Node):
    """A field chain on dot: ``.A.B`` has idents ``("A", "B")``."""

    idents: tuple[str, ...]


@dataclass(slots=True)
class VariableNode(Node):
    """A variable with an optional field chain: ``$x.A`` has idents ``("$x", "A")``."""

    idents: tuple[str, ...]


@dataclass(slots=True)
class IdentifierNode(Node):
    """A function name."""

    name: str


@dataclass(slots=True)
class ChainNode(Node):
    """A term followed by fields, e.g. ``(index . 0).Name``."""

    node: Node
    fields: tuple[str, ...]


@dataclass(slots=True)
class CommandNode(Node):
    """One stage of a pipeline: a function/field/value followed by arguments."""

    args: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class PipeNode(Node):
    """A pipeline with optional variable declarations (``$x :=``) or assignment (``$x =``)."""

    decl: list[str] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[CommandNode] = field(default_factory=list)


@dataclass(slots=True)
class ListNode(Node):
    """A sequence of nodes."""

    nodes: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class ActionNode(Node):
    """``{{pipeline}}``: evaluates and prints unless it declares variables."""

    pipe: PipeNode


@dataclass(slots=True)
class BranchNode(Node):
    """Common shape of ``if``, ``with`` and ``range``."""

    pipe: PipeNode
    body: ListNode
    else_body: ListNode | None


@dataclass(slots=True)
class IfNode(BranchNode):
    """``{{if}} ... {{else}} ... {{end}}``."""


@dataclass(slots=True)
class WithNode(BranchNode):
    """``{{with}} ... {{else}} ... {{end}}``."""


@dataclass(slots=True)
class RangeNode(BranchNode):
    """``{{range}} ... {{else}} ... {{end}}``."""


@dataclass(slots=True)
class TemplateNode(Node):
    """``{{template "name" pipeline}}`` (also what ``block`` leaves in place)."""

    name: str
    pipe: PipeNode | None


@dataclass(slots=True)
class BreakNode(Node):
    """``{{break}}`` inside a range."""


@dataclass(slots=True)
class ContinueNode(Node):
    """``{{continue}}`` inside a range."""
