"""The subset of BuildKit's shell lexer that heredoc detection needs.

BuildKit finds heredocs by splitting the instruction line into shell words
(``shell.Lex.ProcessWords``) with an empty environment in which unset
variables are kept verbatim.  This module reproduces that word splitting:
quotes (optionally kept), escapes (optionally kept), ``$name`` / ``${...}``
forms (always kept, since nothing is set) and ``<<`` followed by blanks,
which stays glued to the next word.
"""

from __future__ import annotations

import unicodedata

from .gotext import is_space, rune_text

EOF = ""
_SPECIAL_PARAMS = frozenset("@*#?-$!0")


class LexError(Exception):
    """A shell word that cannot be processed (e.g. an unterminated quote)."""


class _Scanner:
    """Rune reader with one rune of look-ahead (Go's ``text/scanner``)."""

    def __init__(self, text: str) -> None:
        self.text = rune_text(text)
        self.pos = 1 if self.text.startswith("\ufeff") else 0

    def peek(self) -> str:
        """The next rune, or EOF."""
        return self.text[self.pos] if self.pos < len(self.text) else EOF

    def next(self) -> str:
        """Consume and return the next rune, or EOF."""
        char = self.peek()
        self.pos += 1 if char else 0
        return char


class _Words:
    """Accumulates the split words (BuildKit's ``wordsStruct``)."""

    def __init__(self) -> None:
        self.word = ""
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, char: str) -> None:
        """Add an unquoted char: white space ends the current word."""
        if not is_space(char):
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


class ShellLexer:
    """Word splitting with an empty environment and unset variables kept."""

    def __init__(self, escape: str = "\\", raw_quotes: bool = False, raw_escapes: bool = False) -> None:
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self._scan = _Scanner("")
        self._handlers = {
            "$": self._dollar,
            "<": self._possible_heredoc,
            "'": self._single_quote,
            '"': self._double_quote,
        }

    def process_words(self, text: str) -> list[str]:
        """Split *text* into words; raise :class:`LexError` on bad syntax."""
        self._scan = _Scanner(text)
        return self._stop_on(EOF, self.raw_escapes)[1]

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
        words = _Words()
        scan = self._scan
        while (char := scan.peek()) != EOF:
            if stop and char == stop:
                scan.next()
                return "".join(result), words.result()
            handler = self._handlers.get(char)
            if handler is not None:
                text = handler()
                result.append(text)
                (words.add_string if char == "$" else words.add_raw)(text)
                continue
            char = scan.next()
            if char == self.escape:
                if self.raw_escapes:
                    words.add_raw(char)
                    result.append(char)
                char = scan.next()
                if char == EOF:
                    break
                words.add_raw(char)
            else:
                words.add_char(char)
            result.append(char)
        if stop:
            raise LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.result()

    def _single_quote(self) -> str:
        """'...': everything literal up to the closing quote."""
        scan = self._scan
        quote = scan.next()
        out = [quote] if self.raw_quotes else []
        while (char := scan.next()) != "'":
            if char == EOF:
                raise LexError("unexpected end of statement while looking for matching single-quote")
            out.append(char)
        if self.raw_quotes:
            out.append(char)
        return "".join(out)

    def _double_quote(self) -> str:
        """Double quotes: literal except ``$`` and escapes of ``"``, ``$`` and the escape token."""
        scan = self._scan
        quote = scan.next()
        out = [quote] if self.raw_quotes else []
        while True:
            peek = scan.peek()
            if peek == EOF:
                raise LexError("unexpected end of statement while looking for matching double-quote")
            if peek == '"':
                char = scan.next()
                if self.raw_quotes:
                    out.append(char)
                return "".join(out)
            if peek == "$":
                out.append(self._dollar())
                continue
            char = scan.next()
            if char == self.escape:
                if self.raw_escapes:
                    out.append(char)
                if scan.peek() == EOF:
                    continue
                if scan.peek() in ('"', "$", self.escape):
                    char = scan.next()
            out.append(char)

    def _possible_heredoc(self) -> str:
        """``<`` alone, or ``<<`` plus the blanks after it."""
        scan = self._scan
        scan.next()
        if scan.peek() != "<":
            return "<"
        scan.next()
        spaces = []
        while scan.peek() and is_space(scan.peek()):
            spaces.append(scan.next())
        return "<<" + "".join(spaces)

    def _name(self) -> str:
        """A variable name: digits, one special parameter, or [letter digit _]*."""
        scan = self._scan
        name: list[str] = []
        while (char := scan.peek()) != EOF:
            if not name and _is_digit(char):
                while _is_digit(scan.peek()):
                    name.append(scan.next())
                return "".join(name)
            if not name and char in _SPECIAL_PARAMS:
                return scan.next()
            if not _is_name_char(char):
                break
            name.append(scan.next())
        return "".join(name)

    def _dollar(self) -> str:
        """``$name`` or ``${...}``: nothing is set, so the text is kept as written."""
        scan = self._scan
        scan.next()
        if scan.peek() != "{":
            name = self._name()
            return "$" + name
        scan.next()
        if scan.peek() == EOF:
            raise LexError("syntax error: missing '}'")
        if scan.peek() in "{}:":
            raise LexError("syntax error: bad substitution")
        name = self._name()
        char = scan.next()
        if char == "}":
            return "${" + name + "}"
        if char == "/":
            return self._substitution(name)
        modifier = char or "\ufffd"
        if char == ":":
            char = scan.next()
            modifier += char or "\ufffd"
        elif char not in ("+", "-", "?", "#", "%") or not char:
            raise LexError(f"unsupported modifier ({modifier}) in substitution")
        word = self._until_brace(raw_escapes=char in ("#", "%"))
        return "${" + name + modifier + word + "}"

    def _until_brace(self, raw_escapes: bool) -> str:
        """The word of a ``${name<op>word}`` form, up to the closing brace."""
        try:
            return self._stop_on("}", raw_escapes)[0]
        except LexError:
            if self._scan.peek() == EOF:
                raise LexError("syntax error: missing '}'") from None
            raise

    def _substitution(self, name: str) -> str:
        """``${name/pattern/replacement}`` (or ``//``), kept as written (one slash)."""
        scan = self._scan
        if scan.peek() == "/":
            scan.next()
        try:
            pattern = self._stop_on("/", True)[0]
        except LexError:
            if scan.peek() == EOF:
                raise LexError("syntax error: missing '/' in ${}") from None
            raise
        replacement = self._until_brace(raw_escapes=True)
        return "${" + name + "/" + pattern + "/" + replacement + "}"
