"""``dump(node)``: the S-expression text of BuildKit's ``Node.Dump()``.

One ``(instruction ...)`` per line for the root; flags as a Go-quoted list,
arguments as Go-quoted strings; an ONBUILD trigger nests as
``(onbuild (run "echo" "hi"))``.  The tree is walked without recursion, so
deeply nested ONBUILD chains dump fine.
"""

from __future__ import annotations

from collections.abc import Iterator

from .gotext import go_lower, go_quote, go_quote_list, trim_space
from .node import Node


def _nested(node: Node) -> Iterator[Node]:
    """The nodes whose own dump is part of *node*'s dump."""
    yield from node.children
    yield from (arg for arg in node.iter_next() if arg.children)


def _render(node: Node, done: dict[int, str]) -> str:
    """Dump *node*, given the dumps of its nested nodes in *done*."""
    parts = [go_lower(node.value)]
    if node.flags:
        parts.append(" " + go_quote_list(node.flags))
    parts.extend("(" + done[id(child)] + ")\n" for child in node.children)
    for arg in node.iter_next():
        parts.append(" " + (done[id(arg)] if arg.children else go_quote(arg.value)))
    return trim_space("".join(parts))


def dump(node: Node) -> str:
    """Return exactly what BuildKit's ``Node.Dump()`` returns for *node*."""
    done: dict[int, str] = {}
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, ready = stack.pop()
        if ready:
            done[id(current)] = _render(current, done)
            continue
        stack.append((current, True))
        stack.extend((sub, False) for sub in _nested(current))
    return done[id(node)]
