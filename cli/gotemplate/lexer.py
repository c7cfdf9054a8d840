"""Lexer for Go text/template source: splits text from ``{{ }}`` actions.

The token stream mirrors Go's ``text/template/parse`` lexer: text, the
delimiters, and inside actions identifiers, fields (``.Name``), variables
(``$name``), literals, ``( ) | := = ,`` and runs of spaces (spaces separate
command arguments, so they are tokens).  Trim markers (``{{- `` and `` -}}``)
and comments are handled here and never reach the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import TemplateError

LEFT_DELIM = "{{"
RIGHT_DELIM = "}}"
SPACE_CHARS = " \t\r\n"

# Token kinds.
TEXT = "text"
LEFT = "{{"
RIGHT = "}}"
SPACE = "space"
FIELD = "field"
VARIABLE = "variable"
IDENT = "identifier"
KEYWORD = "keyword"
BOOL = "bool"
NIL = "nil"
DOT = "dot"
STRING = "string"
RAW_STRING = "raw string"
CHAR = "character constant"
NUMBER = "number"
LPAREN = "("
RPAREN = ")"
PIPE = "|"
DECLARE = ":="
ASSIGN = "="
COMMA = ","
EOF = "EOF"

KEYWORDS = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
)

_NUMBER_RE = re.compile(
    r"""[+-]?(?:
        0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]*)?
      | 0[oO][0-7_]*(?:\.[0-7_]*)?
      | 0[bB][01_]*(?:\.[01_]*)?
      | [0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]*)?
    )i?""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical item: its kind, its source text and its offset in the source."""

    kind: str
    value: str
    pos: int

    def describe(self) -> str:
        """Name the token the way Go's parse errors quote it."""
        if self.kind == EOF:
            return "EOF"
        if self.kind == KEYWORD:
            return f"<{self.value}>"
        if self.kind == SPACE:
            return "space"
        return quote_simple(self.value)


def line_col(source: str, pos: int) -> tuple[int, int]:
    """Return the 1-based line and column of offset ``pos`` in ``source``."""
    line = source.count("\n", 0, pos) + 1
    col = pos - (source.rfind("\n", 0, pos) + 1) + 1
    return line, col


def quote_simple(text: str) -> str:
    """Double-quote ``text`` for an error message, escaping backslashes and quotes."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def is_alnum(ch: str) -> bool:
    """Go's isAlphaNumeric: underscore, a letter or a decimal digit."""
    return ch == "_" or ch.isalpha() or ch.isdecimal()


class Lexer:
    """Turns template source into a list of tokens (see :func:`tokenize`)."""

    def __init__(self, source: str, name: str = "") -> None:
        self.src = source
        self.name = name
        self.tokens: list[Token] = []
        self.paren_depth = 0

    # -- errors -------------------------------------------------------------

    def error(self, pos: int, message: str) -> TemplateError:
        """Build a TemplateError located at ``pos``."""
        line, col = line_col(self.src, pos)
        return TemplateError(f"template: {self.name}:{line}:{col}: {message}")

    def emit(self, kind: str, start: int, end: int) -> None:
        """Append a token for ``src[start:end]``."""
        self.tokens.append(Token(kind, self.src[start:end], start))

    # -- text and delimiters -----------------------------------------------

    def run(self) -> list[Token]:
        """Lex the whole source; the list ends with an EOF token."""
        src, i = self.src, 0
        while i < len(src):
            j = src.find(LEFT_DELIM, i)
            if j < 0:
                self.emit(TEXT, i, len(src))
                i = len(src)
                break
            trim_left = src.startswith("-", j + 2) and src[j + 3 : j + 4] in tuple(SPACE_CHARS)
            text_end = j
            if trim_left:
                text_end = i + len(src[i:j].rstrip(SPACE_CHARS))
            if text_end > i:
                self.emit(TEXT, i, text_end)
            i, trim_right = self.lex_delimited(j, j + 2 + (2 if trim_left else 0))
            if trim_right:
                while i < len(src) and src[i] in SPACE_CHARS:
                    i += 1
        self.tokens.append(Token(EOF, "", len(src)))
        return self.tokens

    def right_delim_at(self, pos: int) -> tuple[int, bool] | None:
        """If a closing delimiter starts at ``pos``, return (end, trim)."""
        src = self.src
        if src[pos : pos + 1] in tuple(SPACE_CHARS) and src.startswith("-" + RIGHT_DELIM, pos + 1):
            return pos + 4, True
        if src.startswith(RIGHT_DELIM, pos):
            return pos + 2, False
        return None

    def lex_delimited(self, start: int, pos: int) -> tuple[int, bool]:
        """Lex a comment or an action opened at ``start``; content begins at ``pos``."""
        if self.src.startswith("/*", pos):
            return self.lex_comment(start, pos)
        self.emit(LEFT, start, start + 2)
        self.paren_depth = 0
        return self.lex_action(pos)

    def lex_comment(self, start: int, pos: int) -> tuple[int, bool]:
        """Skip ``/* ... */`` which must be followed directly by the closing delimiter."""
        end = self.src.find("*/", pos + 2)
        if end < 0:
            raise self.error(start, "unclosed comment")
        closing = self.right_delim_at(end + 2)
        if closing is None:
            raise self.error(start, "comment ends before closing delimiter")
        return closing

    # -- inside actions -------------------------------------------------------

    def lex_action(self, pos: int) -> tuple[int, bool]:
        """Lex tokens until the closing delimiter; return (position after it, trim)."""
        src = self.src
        while True:
            if pos >= len(src):
                raise self.error(pos, "unclosed action")
            closing = self.right_delim_at(pos)
            if closing is not None:
                if self.paren_depth:
                    raise self.error(pos, "unclosed left paren")
                self.emit(RIGHT, pos, closing[0])
                return closing
            pos = self.lex_one(pos)

    def lex_one(self, pos: int) -> int:
        """Lex one token inside an action starting at ``pos``; return its end."""
        ch = self.src[pos]
        if ch in SPACE_CHARS:
            return self.lex_space(pos)
        if ch == '"':
            return self.lex_quote(pos, '"', STRING, "unterminated quoted string")
        if ch == "'":
            return self.lex_quote(pos, "'", CHAR, "unterminated character constant")
        if ch == "`":
            return self.lex_raw(pos)
        if ch == "$":
            return self.lex_name(pos, VARIABLE)
        if ch == "." and not self.src[pos + 1 : pos + 2].isdigit():
            return self.lex_name(pos, FIELD)
        if ch in "+-." or ch.isdigit():
            return self.lex_number(pos)
        if ch == "_" or ch.isalpha():
            return self.lex_identifier(pos)
        return self.lex_punct(pos, ch)

    def lex_punct(self, pos: int, ch: str) -> int:
        """Lex one of ``( ) | := = ,``."""
        if ch == ":":
            if not self.src.startswith(":=", pos):
                raise self.error(pos, "expected :=")
            self.emit(DECLARE, pos, pos + 2)
            return pos + 2
        kinds = {"|": PIPE, "=": ASSIGN, ",": COMMA, "(": LPAREN, ")": RPAREN}
        if ch not in kinds:
            raise self.error(pos, f"unrecognized character in action: {_describe_rune(ch)}")
        if ch == "(":
            self.paren_depth += 1
        elif ch == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                raise self.error(pos, "unexpected right paren")
        self.emit(kinds[ch], pos, pos + 1)
        return pos + 1

    def lex_space(self, pos: int) -> int:
        """Lex a run of spaces, leaving the space of a `` -}}`` trim marker alone."""
        end = pos
        while end < len(self.src) and self.src[end] in SPACE_CHARS:
            end += 1
        if self.src.startswith("-" + RIGHT_DELIM, end):
            end -= 1  # the last space belongs to the trim marker
        if end > pos:
            self.emit(SPACE, pos, end)
        return end

    def lex_quote(self, pos: int, quote: str, kind: str, message: str) -> int:
        """Lex an interpreted string or character constant (escapes kept raw)."""
        i = pos + 1
        while True:
            ch = self.src[i : i + 1]
            if ch in ("", "\n"):
                raise self.error(pos, message)
            if ch == "\\":
                if self.src[i + 1 : i + 2] in ("", "\n"):
                    raise self.error(pos, message)
                i += 2
                continue
            i += 1
            if ch == quote:
                break
        self.emit(kind, pos, i)
        return i

    def lex_raw(self, pos: int) -> int:
        """Lex a back-quoted raw string (may span lines)."""
        end = self.src.find("`", pos + 1)
        if end < 0:
            raise self.error(pos, "unterminated raw quoted string")
        self.emit(RAW_STRING, pos, end + 1)
        return end + 1

    def lex_name(self, pos: int, kind: str) -> int:
        """Lex ``$name``/``$`` or ``.Name``/``.``."""
        end = pos + 1
        while end < len(self.src) and is_alnum(self.src[end]):
            end += 1
        self.check_terminator(end)
        if kind == FIELD and end == pos + 1:
            kind = DOT
        self.emit(kind, pos, end)
        return end

    def lex_identifier(self, pos: int) -> int:
        """Lex a function name, keyword, ``true``/``false`` or ``nil``."""
        end = pos
        while end < len(self.src) and is_alnum(self.src[end]):
            end += 1
        self.check_terminator(end)
        word = self.src[pos:end]
        if word in KEYWORDS:
            kind = KEYWORD
        elif word in ("true", "false"):
            kind = BOOL
        elif word == "nil":
            kind = NIL
        else:
            kind = IDENT
        self.emit(kind, pos, end)
        return end

    def lex_number(self, pos: int) -> int:
        """Lex a number in any of Go's syntaxes (validated by the parser)."""
        match = _NUMBER_RE.match(self.src, pos)
        end = match.end() if match else pos
        if end == pos or (end < len(self.src) and is_alnum(self.src[end])):
            raise self.error(pos, f"bad number syntax: {quote_simple(self.src[pos:end + 1])}")
        self.emit(NUMBER, pos, end)
        return end

    def check_terminator(self, pos: int) -> None:
        """Go requires a word to be followed by a space, punctuation or ``}}``."""
        ch = self.src[pos : pos + 1]
        if ch == "" or ch in SPACE_CHARS or ch in ".,|:()" or self.src.startswith(RIGHT_DELIM, pos):
            return
        raise self.error(pos, f"bad character {_describe_rune(ch)}")


def _describe_rune(ch: str) -> str:
    """Format a character like Go's ``%#U``: ``U+0023 '#'``."""
    return f"U+{ord(ch):04X} '{ch}'" if ch.isprintable() else f"U+{ord(ch):04X}"


def tokenize(source: str, name: str = "") -> list[Token]:
    """Lex ``source`` into tokens, raising TemplateError for lexical errors."""
    return Lexer(source, name).run()
