"""Finding here-documents in RUN, COPY and ADD lines.

A heredoc word is ``[fd]<<[-][blanks]WORD``.  ``-`` (chomp) lets the
terminator line start with tabs.  When any part of WORD is quoted the
content is not expanded.  BuildKit detects quoting by lexing WORD twice,
with and without keeping quotes, and comparing the number of quote chars.
"""

from __future__ import annotations

import re

from .errors import DockerfileSyntaxError
from .node import Heredoc, Node
from .wordlex import LexError, ShellLexer

# Go: ^(\d*)<<(-?)\s*([^<]*)$  (ASCII \d, \s = [\t\n\f\r ], $ = end of text)
_HEREDOC_RE = re.compile(r"^([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)\Z")
_MAX_FD = 2**64 - 1

#: Instructions that may carry heredocs, and those that may wrap one (ONBUILD).
HEREDOC_INSTRUCTIONS = frozenset({"add", "copy", "run"})
HEREDOC_COMPOUND_INSTRUCTIONS = frozenset({"onbuild"})


def can_contain_heredoc(node: Node) -> bool:
    """True for shell-form RUN/COPY/ADD, also as an ONBUILD trigger."""
    if node.value in HEREDOC_COMPOUND_INSTRUCTIONS and node.sub_instruction is not None:
        node = node.sub_instruction
    return node.value in HEREDOC_INSTRUCTIONS and not node.is_json


def _quote_count(word: str) -> int:
    return word.count("'") + word.count('"')


def parse_heredoc(word: str) -> Heredoc | None:
    """The heredoc that *word* (one shell word) opens, or None.

    Raises :class:`DockerfileSyntaxError` when the terminator word is
    malformed (e.g. an unterminated quote).
    """
    match = _HEREDOC_RE.match(word)
    if match is None or not match.group(3):
        return None
    fd_text, dash, rest = match.groups()
    try:
        words = ShellLexer().process_words(rest)
        if len(words) != 1:
            return None
        raw_words = ShellLexer(raw_quotes=True).process_words(rest)
    except LexError as exc:
        raise DockerfileSyntaxError(f"failed to process {rest!r}: {exc}") from None
    if len(raw_words) != 1:
        raise DockerfileSyntaxError(f"internal lexing of heredoc produced inconsistent results: {rest}")
    return Heredoc(
        name=words[0],
        expand=_quote_count(words[0]) == _quote_count(raw_words[0]),
        chomp=dash == "-",
        file_descriptor=min(int(fd_text), _MAX_FD) if fd_text else 0,
    )


def heredocs_from_line(line: str) -> list[Heredoc]:
    """The heredocs opened on an instruction line, in order.

    A line that the shell lexer cannot split (e.g. an unbalanced quote)
    opens no heredoc, as in BuildKit.
    """
    lexer = ShellLexer(raw_quotes=True, raw_escapes=True)
    try:
        words = lexer.process_words(line)
    except LexError:
        return []
    return [doc for doc in map(parse_heredoc, words) if doc is not None]
