"""Recursive-descent parser for Go templates, after Go's ``text/template/parse``.

Like Go it rejects, at parse time, calls of undefined functions, uses of
undeclared variables and ``break``/``continue`` outside ``range``.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from . import lexer as lx
from .errors import TemplateError
from .literals import LiteralError, parse_number, unquote_char, unquote_string
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

_OPERAND_START = frozenset(
    {lx.BOOL, lx.CHAR, lx.DOT, lx.FIELD, lx.IDENT, lx.NUMBER, lx.NIL,
     lx.RAW_STRING, lx.STRING, lx.VARIABLE, lx.LPAREN}
)
_CONTROLS = {"if": IfNode, "with": WithNode, "range": RangeNode}


@dataclass(slots=True)
class _End:
    """Marker returned for ``{{end}}``."""

    pos: int


@dataclass(slots=True)
class _Else:
    """Marker returned for ``{{else}}``; ``chain`` is "if"/"with" for ``{{else if ...}}``."""

    pos: int
    chain: str | None


def _is_empty(body: ListNode) -> bool:
    """Go's IsEmptyTree: nothing but whitespace text."""
    return all(isinstance(n, TextNode) and not n.text.strip() for n in body.nodes)


class Parser:
    """Parses one template source into a root list plus its ``define``d templates."""

    def __init__(self, source: str, name: str, funcs: Container[str]) -> None:
        self.source = source
        self.name = name
        self.funcs = funcs
        self.tokens = lx.tokenize(source, name)
        self.i = 0
        self.last_end = 0
        self.prev_end = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.defines: dict[str, ListNode] = {}

    # -- token navigation -----------------------------------------------------

    def next(self) -> lx.Token:
        """Consume and return the next token."""
        tok = self.tokens[self.i]
        if tok.kind != lx.EOF:
            self.i += 1
        self.prev_end = self.last_end
        if tok.kind != lx.SPACE:
            self.last_end = tok.pos + len(tok.value)
        return tok

    def backup(self) -> None:
        """Un-consume the last token."""
        self.i -= 1
        self.last_end = self.prev_end

    def peek(self) -> lx.Token:
        """Return the next token without consuming it."""
        return self.tokens[self.i]

    def next_non_space(self) -> lx.Token:
        """Consume spaces, then consume and return the next token."""
        while self.tokens[self.i].kind == lx.SPACE:
            self.i += 1
        return self.next()

    def peek_non_space(self) -> lx.Token:
        """Consume spaces and return the next token without consuming it."""
        while self.tokens[self.i].kind == lx.SPACE:
            self.i += 1
        return self.tokens[self.i]

    def span(self, start: int) -> str:
        """Source text from ``start`` to the end of the last consumed token."""
        return self.source[start : self.last_end]

    # -- errors ---------------------------------------------------------------

    def error(self, pos: int, message: str) -> TemplateError:
        """Build a TemplateError located at ``pos``."""
        line, col = lx.line_col(self.source, pos)
        return TemplateError(f"template: {self.name}:{line}:{col}: {message}")

    def unexpected(self, tok: lx.Token, context: str) -> TemplateError:
        """Go's ``unexpected X in context`` error."""
        if tok.kind == lx.EOF:
            return self.error(tok.pos, f"unexpected EOF in {context}")
        return self.error(tok.pos, f"unexpected {tok.describe()} in {context}")

    def expect(self, kind: str, context: str) -> lx.Token:
        """Consume the next non-space token, which must be of ``kind``."""
        tok = self.next_non_space()
        if tok.kind != kind:
            raise self.unexpected(tok, context)
        return tok

    # -- top level ------------------------------------------------------------

    def parse(self) -> tuple[ListNode, dict[str, ListNode]]:
        """Parse the whole source; return the root list and the defined templates."""
        root = ListNode(0, self.source, [])
        while self.peek().kind != lx.EOF:
            if self.peek().kind == lx.LEFT:
                save = self.i
                self.next()
                tok = self.next_non_space()
                if tok.kind == lx.KEYWORD and tok.value == "define":
                    self.parse_define(tok)
                    continue
                self.i = save
            node = self.text_or_action()
            if isinstance(node, _End):
                raise self.error(node.pos, "unexpected {{end}}")
            if isinstance(node, _Else):
                raise self.error(node.pos, "unexpected {{else}}")
            root.nodes.append(node)
        return root, self.defines

    def add_define(self, pos: int, name: str, body: ListNode) -> None:
        """Record a named template; two non-empty definitions are an error, as in Go."""
        old = self.defines.get(name)
        if old is not None and not _is_empty(old) and not _is_empty(body):
            raise self.error(pos, f"multiple definition of template \"{name}\"")
        if old is None or not _is_empty(body):
            self.defines[name] = body

    def parse_body(self, context: str) -> ListNode:
        """Parse a define/block body up to ``{{end}}`` with a fresh variable scope."""
        saved_vars, saved_depth = self.vars, self.range_depth
        self.vars, self.range_depth = ["$"], 0
        body, stop = self.item_list()
        if isinstance(stop, _Else):
            raise self.error(stop.pos, f"unexpected {{{{else}}}} in {context}")
        self.vars, self.range_depth = saved_vars, saved_depth
        return body

    def parse_define(self, keyword: lx.Token) -> None:
        """``{{define "name"}} ... {{end}}``."""
        name_tok = self.next_non_space()
        if name_tok.kind not in (lx.STRING, lx.RAW_STRING):
            raise self.unexpected(name_tok, "define clause")
        self.expect(lx.RIGHT, "define clause")
        name = self.string_value(name_tok)
        self.add_define(keyword.pos, name, self.parse_body("define"))

    # -- lists, text and actions ------------------------------------------------

    def item_list(self) -> tuple[ListNode, _End | _Else]:
        """Parse nodes until ``{{end}}`` or ``{{else}}``; return them and the marker."""
        body = ListNode(self.peek().pos, "", [])
        while True:
            tok = self.peek()
            if tok.kind == lx.EOF:
                raise self.error(tok.pos, "unexpected EOF")
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                return body, node
            body.nodes.append(node)

    def text_or_action(self) -> Node | _End | _Else:
        """Parse one text run or one action."""
        tok = self.next()
        if tok.kind == lx.TEXT:
            return TextNode(tok.pos, tok.value, tok.value)
        if tok.kind == lx.LEFT:
            return self.action(tok)
        raise self.unexpected(tok, "input")

    def action(self, left: lx.Token) -> Node | _End | _Else:
        """Parse the inside of ``{{ ... }}`` after the left delimiter."""
        tok = self.next_non_space()
        if tok.kind == lx.KEYWORD and tok.value != "define":
            return self.keyword_action(tok, left)
        self.backup()
        pipe = self.pipeline("command", lx.RIGHT, tok.pos)
        return ActionNode(left.pos, self.span(left.pos), pipe)

    def keyword_action(self, tok: lx.Token, left: lx.Token) -> Node | _End | _Else:
        """Dispatch an action that starts with a keyword."""
        word = tok.value
        if word == "end":
            self.expect(lx.RIGHT, "end")
            return _End(left.pos)
        if word == "else":
            return self.else_action(left)
        if word in _CONTROLS:
            return self.parse_control(word, left.pos)
        if word in ("break", "continue"):
            self.expect(lx.RIGHT, word)
            if not self.range_depth:
                raise self.error(tok.pos, f"{{{{{word}}}}} outside {{{{range}}}}")
            cls = BreakNode if word == "break" else ContinueNode
            return cls(left.pos, self.span(left.pos))
        if word == "template":
            return self.template_action(left, "template clause", required=False)
        return self.block_action(left)

    def else_action(self, left: lx.Token) -> _Else:
        """``{{else}}``, or the start of ``{{else if ...}}`` / ``{{else with ...}}``."""
        tok = self.peek_non_space()
        if tok.kind == lx.KEYWORD and tok.value in ("if", "with"):
            return _Else(left.pos, tok.value)
        self.expect(lx.RIGHT, "else")
        return _Else(left.pos, None)

    def parse_control(self, context: str, pos: int) -> BranchNode:
        """Parse ``if``/``with``/``range``: pipeline, body, optional else, ``{{end}}``."""
        mark = len(self.vars)
        pipe = self.pipeline(context, lx.RIGHT, pos)
        header = self.span(pos)
        if context == "range":
            self.range_depth += 1
        body, stop = self.item_list()
        if context == "range":
            self.range_depth -= 1
        else_body = None
        if isinstance(stop, _Else):
            else_body = self.else_body(context, stop)
        del self.vars[mark:]
        return _CONTROLS[context](pos, header, pipe, body, else_body)

    def else_body(self, context: str, stop: _Else) -> ListNode:
        """Parse what follows ``{{else}}`` up to the control's ``{{end}}``."""
        if stop.chain is not None:
            if stop.chain != context:
                raise self.error(stop.pos, f"unexpected <{stop.chain}> after {{{{else}}}} in {{{{{context}}}}}")
            keyword = self.next_non_space()
            nested = self.parse_control(context, keyword.pos)
            return ListNode(keyword.pos, "", [nested])
        body, end = self.item_list()
        if not isinstance(end, _End):
            raise self.error(end.pos, "expected end; found {{else}}")
        return body

    def template_name(self, context: str) -> str:
        """Read the quoted template name of ``template``/``block``."""
        tok = self.next_non_space()
        if tok.kind not in (lx.STRING, lx.RAW_STRING):
            raise self.unexpected(tok, context)
        return self.string_value(tok)

    def template_action(self, left: lx.Token, context: str, required: bool) -> TemplateNode:
        """``{{template "name" [pipeline]}}``."""
        name = self.template_name(context)
        tok = self.next_non_space()
        pipe = None
        if tok.kind != lx.RIGHT or required:
            self.backup()
            pipe = self.pipeline(context, lx.RIGHT, tok.pos)
        return TemplateNode(left.pos, self.span(left.pos), name, pipe)

    def block_action(self, left: lx.Token) -> TemplateNode:
        """``{{block "name" pipeline}} body {{end}}``: define plus template."""
        node = self.template_action(left, "block clause", required=True)
        self.add_define(left.pos, node.name, self.parse_body("block"))
        return node

    # -- pipelines and commands ----------------------------------------------------

    def pipeline(self, context: str, end: str, pos: int) -> PipeNode:
        """Parse ``[decl] command ['|' command]...`` up to the ``end`` token."""
        pipe = PipeNode(pos, "", [], False, [])
        self.declarations(pipe, context)
        while True:
            tok = self.next_non_space()
            if tok.kind == end:
                self.check_pipeline(pipe, context, tok)
                pipe.src = self.span(pos)
                return pipe
            if tok.kind not in _OPERAND_START:
                raise self.unexpected(tok, context)
            self.backup()
            pipe.cmds.append(self.command(end))

    def declarations(self, pipe: PipeNode, context: str) -> None:
        """Parse ``$x :=``, ``$x =`` or (in range) ``$i, $e :=`` if present."""
        save = self.i
        first = self.next_non_space()
        if first.kind != lx.VARIABLE:
            self.i = save
            return
        names = [first.value]
        op = self.peek_non_space()
        if op.kind == lx.COMMA:
            if context != "range":
                raise self.error(op.pos, f"too many declarations in {context}")
            self.next_non_space()
            second = self.next_non_space()
            if second.kind != lx.VARIABLE:
                raise self.error(second.pos, "range can only initialize variables")
            names.append(second.value)
            op = self.peek_non_space()
            if op.kind not in (lx.DECLARE, lx.ASSIGN):
                raise self.unexpected(op, "range")
        elif op.kind not in (lx.DECLARE, lx.ASSIGN):
            self.i = save
            return
        self.next_non_space()
        pipe.decl = names
        pipe.is_assign = op.kind == lx.ASSIGN
        for name in names:
            if pipe.is_assign:
                self.use_var(name, first.pos)
            else:
                self.vars.append(name)

    def check_pipeline(self, pipe: PipeNode, context: str, end: lx.Token) -> None:
        """Reject empty pipelines and literal values after a ``|``."""
        if not pipe.cmds:
            raise self.error(end.pos, f"missing value for {context}")
        for stage, cmd in enumerate(pipe.cmds[1:], start=2):
            if isinstance(cmd.args[0], (LiteralNode, NilNode, DotNode)):
                raise self.error(cmd.pos, f"non executable command in pipeline stage {stage}")

    def command(self, end: str) -> CommandNode:
        """Parse one command: operands separated by spaces."""
        start = self.peek_non_space().pos
        cmd = CommandNode(start, "", [])
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.kind == lx.SPACE:
                continue
            if tok.kind in (lx.RIGHT, lx.RPAREN):
                self.backup()
                break
            if tok.kind == lx.PIPE:
                cmd.src = self.source[start : tok.pos].rstrip()
                if self.peek_non_space().kind == end:
                    raise self.error(tok.pos, "missing command after |")
                break
            raise self.unexpected(tok, "operand")
        if not cmd.args:
            raise self.error(start, "empty command")
        if not cmd.src:
            cmd.src = self.span(start)
        return cmd

    def operand(self) -> Node | None:
        """Parse a term and any ``.Field`` chain that follows it directly."""
        node = self.term()
        if node is None or self.peek().kind != lx.FIELD:
            return node
        fields: list[str] = []
        while self.peek().kind == lx.FIELD:
            fields.append(self.next().value[1:])
        src = self.span(node.pos)
        if isinstance(node, FieldNode):
            return FieldNode(node.pos, src, node.idents + tuple(fields))
        if isinstance(node, VariableNode):
            return VariableNode(node.pos, src, node.idents + tuple(fields))
        if isinstance(node, (LiteralNode, NilNode, DotNode)):
            raise self.error(node.pos, f"unexpected . after term {lx.quote_simple(node.src)}")
        return ChainNode(node.pos, src, node, tuple(fields))

    def term(self) -> Node | None:
        """Parse one term, or return None (consuming nothing) if none starts here."""
        tok = self.next_non_space()
        kind, pos, text = tok.kind, tok.pos, tok.value
        if kind == lx.IDENT:
            if text not in self.funcs:
                raise self.error(pos, f"function \"{text}\" not defined")
            return IdentifierNode(pos, text, text)
        if kind == lx.DOT:
            return DotNode(pos, text)
        if kind == lx.NIL:
            return NilNode(pos, text)
        if kind == lx.VARIABLE:
            self.use_var(text, pos)
            return VariableNode(pos, text, (text,))
        if kind == lx.FIELD:
            return FieldNode(pos, text, (text[1:],))
        if kind == lx.LPAREN:
            return self.pipeline("parenthesized pipeline", lx.RPAREN, pos)
        if kind in (lx.BOOL, lx.CHAR, lx.NUMBER, lx.STRING, lx.RAW_STRING):
            return LiteralNode(pos, text, self.literal_value(tok))
        self.backup()
        return None

    # -- literals and variables ----------------------------------------------------------

    def literal_value(self, tok: lx.Token) -> object:
        """The Python value of a literal token."""
        try:
            if tok.kind == lx.BOOL:
                return tok.value == "true"
            if tok.kind == lx.CHAR:
                return unquote_char(tok.value)
            if tok.kind == lx.NUMBER:
                return parse_number(tok.value)
            return unquote_string(tok.value)
        except LiteralError as exc:
            detail = str(exc) if tok.kind == lx.NUMBER else f"{exc}: {tok.value}"
            raise self.error(tok.pos, detail) from None

    def string_value(self, tok: lx.Token) -> str:
        """Decode a string token."""
        value = self.literal_value(tok)
        assert isinstance(value, str)
        return value

    def use_var(self, name: str, pos: int) -> None:
        """Reject a variable that was never declared in scope."""
        base = name.split(".", 1)[0]
        if base not in self.vars:
            raise self.error(pos, f"undefined variable \"{base}\"")


def parse(source: str, name: str, funcs: Container[str]) -> tuple[ListNode, dict[str, ListNode]]:
    """Parse ``source``; return (root, defined templates)."""
    return Parser(source, name, funcs).parse()
