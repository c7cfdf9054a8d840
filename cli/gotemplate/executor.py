"""Execution of a parsed Go template against Python data (after Go's ``text/template/exec.go``).

Value model: Python values stand for Go values; :data:`MISSING` stands for
Go's invalid value (a missing map key, prints ``<no value>``).  A ``None``
reached in the middle of a field chain is Go's nil interface and fails like
Go's "nil pointer evaluating" error; at the end of each pipeline stage
``None`` becomes :data:`MISSING`, as Go digs the value out of its interface.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from . import gofmt
from .errors import ArgTypeError, TemplateError
from .funcs import MISSING, go_and, go_or, is_true
from .lexer import line_col
from .nodes import (
    ActionNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    LiteralNode,
    NilNode,
    Node,
    PipeNode,
    RangeNode,
    TemplateNode,
    TextNode,
    VariableNode,
    WithNode,
)

MAX_TEMPLATE_DEPTH = 100
_NO_FINAL = object()  # Go's missingVal: no value piped into this command
_NO_FIELDS = (str, bytes, bytearray, int, float, bool, list, tuple, set, frozenset)


class _Break(Exception):
    """Control flow for ``{{break}}``."""


class _Continue(Exception):
    """Control flow for ``{{continue}}``."""


@functools.lru_cache(maxsize=256)
def _cached_arity(fn: Callable[..., Any]) -> tuple[int, int | None] | None:
    """(required, maximum or None if variadic) positional arguments, if knowable."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    required, maximum, variadic = 0, 0, False
    for param in params:
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            maximum += 1
            required += param.default is param.empty
        elif param.kind == param.VAR_POSITIONAL:
            variadic = True
    return required, None if variadic else maximum


def _arity(fn: Callable[..., Any]) -> tuple[int, int | None] | None:
    """:func:`_cached_arity` for hashable callables, computed afresh otherwise."""
    try:
        return _cached_arity(fn)
    except TypeError:  # unhashable callable object
        return _cached_arity.__wrapped__(fn)


def _arity_error(name: str, arity: tuple[int, int | None], got: int) -> str | None:
    """Go's "wrong number of args" message, or None if ``got`` fits."""
    required, maximum = arity
    if maximum is None:
        return None if got >= required else f"wrong number of args for {name}: want at least {required} got {got}"
    if required <= got <= maximum:
        return None
    want = str(maximum) if required == maximum else f"{required} to {maximum}"
    return f"wrong number of args for {name}: want {want} got {got}"


def _plain(value: Any) -> Any:
    """What a function receives for a value: nil for a missing one."""
    return None if value is MISSING else value


class Executor:
    """Runs one template: holds the output, the variable stack and the named templates."""

    def __init__(self, source: str, name: str, defines: dict[str, ListNode],
                 funcs: Mapping[str, Callable[..., Any]]) -> None:
        self.source = source
        self.name = name
        self.defines = defines
        self.funcs = funcs
        self.out: list[str] = []
        self.vars: list[list[Any]] = []
        self.tmpl_name = name
        self.depth = 0

    def run(self, root: ListNode, data: Any) -> str:
        """Execute ``root`` with ``data`` as both ``.`` and ``$``."""
        dot = MISSING if data is None else data
        self.vars = [["$", dot]]
        self.walk(dot, root)
        return "".join(self.out)

    # -- errors and variables ------------------------------------------------------

    def fail(self, node: Node, message: str) -> TemplateError:
        """Build Go's ``executing "name" at <node>: message`` error."""
        line, col = line_col(self.source, node.pos)
        return TemplateError(
            f"template: {self.name}:{line}:{col}: executing \"{self.tmpl_name}\" at <{node.src}>: {message}"
        )

    def lookup(self, name: str, node: Node) -> Any:
        """The value of the innermost variable called ``name``."""
        for var in reversed(self.vars):
            if var[0] == name:
                return var[1]
        raise self.fail(node, f"undefined variable: {name}")

    def assign(self, name: str, value: Any, node: Node) -> None:
        """``$x = value``: update the innermost variable called ``name``."""
        for var in reversed(self.vars):
            if var[0] == name:
                var[1] = value
                return
        raise self.fail(node, f"undefined variable: {name}")

    # -- statements ------------------------------------------------------------------

    def walk(self, dot: Any, node: Node) -> None:
        """Execute one node, appending to the output."""
        if isinstance(node, TextNode):
            self.out.append(node.text)
        elif isinstance(node, ActionNode):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.out.append(self.printable(value))
        elif isinstance(node, ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, (IfNode, WithNode)):
            self.walk_if_or_with(dot, node)
        elif isinstance(node, TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, BreakNode):
            raise _Break
        elif isinstance(node, ContinueNode):
            raise _Continue
        else:  # pragma: no cover - the parser produces no other statements
            raise self.fail(node, f"unknown node: {type(node).__name__}")

    @staticmethod
    def printable(value: Any) -> str:
        """What an action prints for a value: ``<no value>`` for nil/missing, else ``%v``."""
        if value is MISSING or value is None:
            return "<no value>"
        return gofmt.format_value(value)

    def walk_if_or_with(self, dot: Any, node: BranchNode) -> None:
        """``if``/``with``: run the body if the pipeline is true, else the else branch."""
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if is_true(value):
                self.walk(value if isinstance(node, WithNode) else dot, node.body)
            elif node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            del self.vars[mark:]

    def range_items(self, value: Any, node: RangeNode) -> list[tuple[Any, Any]]:
        """(key, element) pairs of what ``range`` iterates over."""
        if value is MISSING or value is None:
            return []
        if isinstance(value, Mapping):
            return gofmt.sorted_items(value)
        if isinstance(value, (list, tuple)):
            return list(enumerate(value))
        if isinstance(value, int) and not isinstance(value, bool):
            if len(node.pipe.decl) > 1:
                raise self.fail(node, f"can't use {value} to iterate over more than one variable")
            return [(i, i) for i in range(value)]
        if isinstance(value, (str, bytes, bytearray, float, bool)) or not hasattr(value, "__iter__"):
            raise self.fail(node, f"range can't iterate over {gofmt.format_value(value)}")
        return list(enumerate(value))

    def set_range_vars(self, node: RangeNode, key: Any, elem: Any) -> None:
        """Bind ``$i, $e`` (or ``$e``) for one iteration."""
        decl = node.pipe.decl
        if not decl:
            return
        if node.pipe.is_assign:
            if len(decl) > 1:
                self.assign(decl[0], key, node)
            self.assign(decl[-1], elem, node)
            return
        self.vars[-1][1] = elem
        if len(decl) > 1:
            self.vars[-2][1] = key

    def walk_range(self, dot: Any, node: RangeNode) -> None:
        """``range``: run the body per element (sorted keys for maps), or the else branch."""
        mark = len(self.vars)
        try:
            items = self.range_items(self.eval_pipeline(dot, node.pipe), node)
            if not items:
                if node.else_body is not None:
                    self.walk(dot, node.else_body)
                return
            for key, elem in items:
                self.set_range_vars(node, key, elem)
                inner = len(self.vars)
                try:
                    self.walk(elem, node.body)
                except _Continue:
                    pass
                except _Break:
                    break
                finally:
                    del self.vars[inner:]
        finally:
            del self.vars[mark:]

    def walk_template(self, dot: Any, node: TemplateNode) -> None:
        """``{{template "name" pipeline}}``: run a named template with a new dot and ``$``."""
        body = self.defines.get(node.name)
        if body is None:
            raise self.fail(node, f"no such template \"{node.name}\"")
        if self.depth >= MAX_TEMPLATE_DEPTH:
            raise self.fail(node, f"exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})")
        new_dot = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else MISSING
        saved = self.vars, self.tmpl_name
        self.vars, self.tmpl_name = [["$", new_dot]], node.name
        self.depth += 1
        try:
            self.walk(new_dot, body)
        finally:
            self.vars, self.tmpl_name = saved
            self.depth -= 1

    # -- expressions ------------------------------------------------------------------

    def eval_pipeline(self, dot: Any, pipe: PipeNode) -> Any:
        """Evaluate the commands left to right, each receiving the previous result last."""
        value: Any = _NO_FINAL
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if value is None:
                value = MISSING
        for name in pipe.decl:
            if pipe.is_assign:
                self.assign(name, value, pipe)
            else:
                self.vars.append([name, value])
        return value

    def not_a_function(self, args: list[Node], final: Any, node: Node) -> None:
        """Reject arguments given to something that is not a function."""
        if len(args) > 1 or final is not _NO_FINAL:
            raise self.fail(node, f"can't give argument to non-function {args[0].src}")

    def eval_command(self, dot: Any, cmd: CommandNode, final: Any) -> Any:
        """Evaluate one pipeline stage."""
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.eval_field_chain(dot, dot, first, first.idents, cmd.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, VariableNode):
            return self.eval_variable(dot, first, cmd.args, final)
        self.not_a_function(cmd.args, final, cmd)
        if isinstance(first, PipeNode):
            return self.eval_pipeline(dot, first)
        if isinstance(first, NilNode):
            raise self.fail(first, "nil is not a command")
        return self.eval_arg(dot, first)

    def eval_arg(self, dot: Any, node: Node) -> Any:
        """Evaluate an argument (an operand that is not the first word of a command)."""
        if isinstance(node, DotNode):
            return dot
        if isinstance(node, NilNode):
            return None
        if isinstance(node, LiteralNode):
            return node.value
        if isinstance(node, FieldNode):
            return self.eval_field_chain(dot, dot, node, node.idents, [node], _NO_FINAL)
        if isinstance(node, VariableNode):
            return self.eval_variable(dot, node, [node], _NO_FINAL)
        if isinstance(node, PipeNode):
            return self.eval_pipeline(dot, node)
        if isinstance(node, IdentifierNode):
            return self.eval_function(dot, node, node, [node], _NO_FINAL)
        if isinstance(node, ChainNode):
            return self.eval_chain(dot, node, [node], _NO_FINAL)
        raise self.fail(node, f"can't handle {node.src} for arg")  # pragma: no cover

    def eval_variable(self, dot: Any, node: VariableNode, args: list[Node], final: Any) -> Any:
        """``$x`` or ``$x.A.B``."""
        value = self.lookup(node.idents[0], node)
        if len(node.idents) == 1:
            self.not_a_function(args, final, node)
            return value
        return self.eval_field_chain(dot, value, node, node.idents[1:], args, final)

    def eval_chain(self, dot: Any, node: ChainNode, args: list[Node], final: Any) -> Any:
        """``(pipeline).A.B``."""
        if isinstance(node.node, NilNode):
            raise self.fail(node, f"indirection through explicit nil in {node.src}")
        receiver = self.eval_arg(dot, node.node)
        return self.eval_field_chain(dot, receiver, node, node.fields, args, final)

    def eval_field_chain(self, dot: Any, receiver: Any, node: Node, idents: tuple[str, ...],
                         args: list[Node], final: Any) -> Any:
        """Follow ``.A.B.C``; only the last field may be a method taking the arguments."""
        for name in idents[:-1]:
            receiver = self.eval_field(dot, name, node, [], _NO_FINAL, receiver)
        return self.eval_field(dot, idents[-1], node, args, final, receiver)

    def eval_field(self, dot: Any, name: str, node: Node, args: list[Node], final: Any,
                   receiver: Any) -> Any:
        """One ``.Name`` step on a map (key lookup) or an object (attribute or method)."""
        if receiver is MISSING:
            return MISSING
        if receiver is None:
            raise self.fail(node, f"nil pointer evaluating interface {{}}.{name}")
        has_args = len(args) > 1 or final is not _NO_FINAL
        if isinstance(receiver, Mapping):
            if has_args:
                raise self.fail(node, f"{name} is not a method but has arguments")
            return receiver.get(name, MISSING)
        if isinstance(receiver, _NO_FIELDS) or name.startswith("_") or not hasattr(receiver, name):
            raise self.fail(node, f"can't evaluate field {name} in type {gofmt.type_name(receiver)}")
        attr = getattr(receiver, name)
        if inspect.ismethod(attr) or inspect.isbuiltin(attr):
            argv = [self.eval_arg(dot, a) for a in args[1:]]
            if final is not _NO_FINAL:
                argv.append(final)
            return self.call(name, attr, argv, node, node)
        if has_args:
            raise self.fail(node, f"{name} has arguments but cannot be invoked as function")
        return attr

    def eval_function(self, dot: Any, ident: IdentifierNode, cmd: Node, args: list[Node],
                      final: Any) -> Any:
        """Call the function named by ``ident`` with the evaluated arguments (+ piped value)."""
        fn = self.funcs[ident.name]
        if fn is go_and or fn is go_or:
            return self.eval_and_or(dot, ident, fn is go_and, args[1:], final)
        argv = [self.eval_arg(dot, a) for a in args[1:]]
        if final is not _NO_FINAL:
            argv.append(final)
        return self.call(ident.name, fn, argv, ident, cmd)

    def eval_and_or(self, dot: Any, ident: IdentifierNode, is_and: bool, args: list[Node],
                    final: Any) -> Any:
        """Short-circuit ``and``/``or``: stop at the first false/true argument."""
        thunks: list[Callable[[], Any]] = [functools.partial(self.eval_arg, dot, a) for a in args]
        if final is not _NO_FINAL:
            thunks.append(lambda: final)
        if not thunks:
            raise self.fail(ident, f"wrong number of args for {ident.name}: want at least 1 got 0")
        value: Any = None
        for thunk in thunks:
            value = thunk()
            if is_true(value) != is_and:
                return value
        return value

    def call(self, name: str, fn: Callable[..., Any], argv: list[Any], where: Node,
             cmd: Node) -> Any:
        """Check the argument count, call ``fn`` and turn its failures into TemplateErrors."""
        argv = [_plain(v) for v in argv]
        arity = _arity(fn)
        message = _arity_error(name, arity, len(argv)) if arity else None
        if message:
            raise self.fail(where, message)
        try:
            return fn(*argv)
        except TemplateError:
            raise
        except ArgTypeError as exc:
            raise self.fail(cmd, str(exc)) from exc
        except Exception as exc:  # a template function failed: report it like Go
            raise self.fail(cmd, f"error calling {name}: {exc}") from exc
