"""BuildKit's shell word scanner, and the subset of its lexer that heredoc detection needs.

:class:`WordScanner` is the part shared with the build-time expander
(``engine.build.shellwords``): the ``processStopOn`` loop, quotes, escapes,
variable names and word splitting.

BuildKit finds heredocs by splitting the instruction line into shell words
(``shell.Lex.ProcessWords``) with an empty environment in which unset
variables are kept verbatim.  This module reproduces that word splitting:
quotes (optionally kept), escapes (optionally kept), ``$name`` / ``${...}``
forms (always kept, since nothing is set) and ``<<`` followed by blanks,
which stays glued to the next word.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from .gotext import is_space, rune_text

EOF = ""
_SPECIAL_PARAMS = frozenset("@*#?-$!0")


class LexError(Exception):
    """A shell word that cannot be processed (e.g. an unterminated quote)."""


class Words:
    """Accumulates the split words (BuildKit's ``wordsStruct``).

    *space* says which characters end a word; the default is Go's
    ``unicode.IsSpace``.  The build-time expander (``engine.build.shellwords``)
    shares this class with its own notion of white space.
    """

    def __init__(self, space: Callable[[str], bool] = is_space) -> None:
        self.word = ""
        self.words: list[str] = []
        self.in_word = False
        self._space = space

    def add_char(self, char: str) -> None:
        """Add an unquoted char: white space ends the current word."""
        if not self._space(char):
            self.add_raw(char)
        elif self.in_word and self.word:
            self.words.append(self.word)
            self.word, self.in_word = "", False

    def add_string(self, text: str) -> None:
        """Add text that is subject to word splitting."""
        for char in text:
            self.add_char(char)

    def add_raw(self, text: str) -> None:
        """Add text that stays inside the current word."""
        self.word += text
        self.in_word = True

    def result(self) -> list[str]:
        """All words, including the unfinished one."""
        if self.word:
            self.words.append(self.word)
            self.word, self.in_word = "", False
        return self.words


def _is_digit(char: str) -> bool:
    return bool(char) and unicodedata.category(char) == "Nd"


def _is_name_char(char: str) -> bool:
    return bool(char) and (char == "_" or unicodedata.category(char)[0] == "L" or _is_digit(char))


class WordScanner:
    """BuildKit's ``processStopOn`` loop over one text, with one rune of look-ahead.

    It removes (or, with *raw_quotes*, keeps) quotes, handles the escape
    token, reads variable names and splits the result into words.  What a
    ``$`` becomes is up to the subclass (:meth:`_dollar`); ``_handlers`` maps
    the characters that start a special form to the method that reads it
    (the text of ``$`` forms is word-split, the rest is not).  ``error`` is
    the exception raised for bad syntax, ``space`` the white-space test of
    word splitting.  Shared by :class:`ShellLexer` and the build-time
    expander, ``engine.build.shellwords``.
    """

    error: type[Exception] = LexError
    space: Callable[[str], bool] = staticmethod(is_space)

    def __init__(self, text: str, escape: str, raw_quotes: bool, raw_escapes: bool) -> None:
        self.text = text
        self.pos = 0
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self._handlers: dict[str, Callable[[], str]] = {
            "$": self._dollar,
            "'": self._single_quote,
            '"': self._double_quote,
        }

    def peek(self) -> str:
        """The next rune, or EOF."""
        return self.text[self.pos] if self.pos < len(self.text) else EOF

    def next(self) -> str:
        """Consume and return the next rune, or EOF."""
        char = self.peek()
        self.pos += 1 if char else 0
        return char

    def process(self) -> tuple[str, list[str]]:
        """The whole text processed: (text, words)."""
        return self._stop_on(EOF, self.raw_escapes)

    def _dollar(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def _stop_on(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        """Process up to *stop* (or the end); return (text, words)."""
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._stop_on_inner(stop)
        finally:
            self.raw_escapes = saved

    def _stop_on_inner(self, stop: str) -> tuple[str, list[str]]:
        """The loop of BuildKit's ``processStopOn``."""
        result: list[str] = []
        words = Words(self.space)
        while (char := self.peek()) != EOF:
            if stop and char == stop:
                self.next()
                return "".join(result), words.result()
            handler = self._handlers.get(char)
            if handler is not None:
                text = handler()
                result.append(text)
                (words.add_string if char == "$" else words.add_raw)(text)
                continue
            char = self.next()
            if char == self.escape:
                if self.raw_escapes:
                    words.add_raw(char)
                    result.append(char)
                char = self.next()
                if char == EOF:
                    break
                words.add_raw(char)
            else:
                words.add_char(char)
            result.append(char)
        if stop:
            raise self.error(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.result()

    def _until(self, stop: str, raw_escapes: bool, missing: str) -> str:
        """The text up to *stop*; running out of text first is the error *missing*."""
        try:
            return self._stop_on(stop, raw_escapes)[0]
        except self.error:
            if self.peek() == EOF:
                raise self.error(missing) from None
            raise

    def _single_quote(self) -> str:
        """'...': everything literal up to the closing quote."""
        quote = self.next()
        out = [quote] if self.raw_quotes else []
        while (char := self.next()) != "'":
            if char == EOF:
                raise self.error("unexpected end of statement while looking for matching single-quote")
            out.append(char)
        if self.raw_quotes:
            out.append(char)
        return "".join(out)

    def _double_quote(self) -> str:
        """Double quotes: literal except ``$`` and escapes of ``"``, ``$`` and the escape token."""
        quote = self.next()
        out = [quote] if self.raw_quotes else []
        while True:
            peek = self.peek()
            if peek == EOF:
                raise self.error("unexpected end of statement while looking for matching double-quote")
            if peek == '"':
                char = self.next()
                if self.raw_quotes:
                    out.append(char)
                return "".join(out)
            if peek == "$":
                out.append(self._dollar())
                continue
            char = self.next()
            if char == self.escape:
                if self.raw_escapes:
                    out.append(char)
                if self.peek() == EOF:
                    continue
                if self.peek() in ('"', "$", self.escape):
                    char = self.next()
            out.append(char)

    def _name(self) -> str:
        """A variable name: digits, one special parameter, or [letter digit _]*."""
        name: list[str] = []
        while (char := self.peek()) != EOF:
            if not name and _is_digit(char):
                while _is_digit(self.peek()):
                    name.append(self.next())
                return "".join(name)
            if not name and char in _SPECIAL_PARAMS:
                return self.next()
            if not _is_name_char(char):
                break
            name.append(self.next())
        return "".join(name)


class ShellLexer(WordScanner):
    """Word splitting with an empty environment and unset variables kept."""

    def __init__(self, escape: str = "\\", raw_quotes: bool = False, raw_escapes: bool = False) -> None:
        super().__init__("", escape, raw_quotes, raw_escapes)
        self._handlers["<"] = self._possible_heredoc

    def process_words(self, text: str) -> list[str]:
        """Split *text* into words; raise :class:`LexError` on bad syntax."""
        self.text = rune_text(text)
        self.pos = 1 if self.text.startswith("\ufeff") else 0
        return self.process()[1]

    def _possible_heredoc(self) -> str:
        """``<`` alone, or ``<<`` plus the blanks after it."""
        self.next()
        if self.peek() != "<":
            return "<"
        self.next()
        spaces = []
        while self.peek() and is_space(self.peek()):
            spaces.append(self.next())
        return "<<" + "".join(spaces)

    def _dollar(self) -> str:
        """``$name`` or ``${...}``: nothing is set, so the text is kept as written."""
        self.next()
        if self.peek() != "{":
            name = self._name()
            return "$" + name
        self.next()
        if self.peek() == EOF:
            raise LexError("syntax error: missing '}'")
        if self.peek() in "{}:":
            raise LexError("syntax error: bad substitution")
        name = self._name()
        char = self.next()
        if char == "}":
            return "${" + name + "}"
        if char == "/":
            return self._substitution(name)
        modifier = char or "\ufffd"
        if char == ":":
            char = self.next()
            modifier += char or "\ufffd"
        elif char not in ("+", "-", "?", "#", "%") or not char:
            raise LexError(f"unsupported modifier ({modifier}) in substitution")
        word = self._until("}", char in ("#", "%"), "syntax error: missing '}'")
        return "${" + name + modifier + word + "}"

    def _substitution(self, name: str) -> str:
        """``${name/pattern/replacement}`` (or ``//``), kept as written (one slash)."""
        if self.peek() == "/":
            self.next()
        pattern = self._until("/", True, "syntax error: missing '/' in ${}")
        replacement = self._until("}", True, "syntax error: missing '}'")
        return "${" + name + "/" + pattern + "/" + replacement + "}"
