"""Shell-word expansion with BuildKit's rules (``frontend/dockerfile/shell``).

A :class:`ShellLex` expands ``$VAR``, ``${VAR}``, ``${VAR:-x}``, ``${VAR-x}``,
``${VAR:+x}``, ``${VAR+x}``, ``${VAR:?msg}``, ``${VAR#pat}``, ``${VAR%pat}``
(and their greedy ``##``/``%%`` forms), ``${VAR/pat/repl}`` and
``${VAR//pat/repl}``; it removes single and double quotes and the escape
token the way BuildKit does, and can split the result into words.  It is not
a shell: there is no command substitution, globbing or arithmetic.

Options mirror BuildKit's ``Lex`` fields: ``raw_quotes`` keeps the quote
characters, ``raw_escapes`` keeps escape tokens, ``skip_process_quotes``
treats quotes as ordinary characters, and ``skip_unset_env`` leaves
references to unset variables as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

EOF = ""
_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_REGEX_ESCAPES = frozenset("[]{}.+()|^$")


class ShellError(ValueError):
    """A word that cannot be expanded (bad substitution, unterminated quote...)."""


def _is_space(char: str) -> bool:
    return bool(char) and (char.isspace() or char in "\x85\xa0")


def _is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


def _is_digit(char: str) -> bool:
    return unicodedata.category(char) == "Nd"


@dataclass
class Expansion:
    """What one expansion produced: the text, the split words, the names it used."""

    result: str
    words: list[str]
    matched: set[str] = field(default_factory=set)
    unmatched: set[str] = field(default_factory=set)


class _Words:
    """Word splitting of the expanded text (BuildKit's ``wordsStruct``)."""

    def __init__(self) -> None:
        self.word = ""
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, char: str) -> None:
        if _is_space(char):
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word, self.in_word = "", False
        else:
            self.add_raw_char(char)

    def add_raw_char(self, char: str) -> None:
        self.word += char
        self.in_word = True

    def add_string(self, text: str) -> None:
        for char in text:
            self.add_char(char)

    def add_raw_string(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def get(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word, self.in_word = "", False
        return self.words


class ShellLex:
    """Expands words against an environment with BuildKit's shell rules."""

    def __init__(self, escape: str = "\\", *, raw_quotes: bool = False, raw_escapes: bool = False,
                 skip_process_quotes: bool = False, skip_unset_env: bool = False) -> None:
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_process_quotes = skip_process_quotes
        self.skip_unset_env = skip_unset_env

    def process_word(self, word: str, env: Mapping[str, str]) -> str:
        """The expanded word (quotes removed, spaces kept)."""
        return self.expand(word, env).result

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        """The expanded text split into words at unquoted white space."""
        return self.expand(word, env).words

    def expand(self, word: str, env: Mapping[str, str]) -> Expansion:
        run = _Run(self, word, env)
        try:
            result, words = run.process_stop_on(EOF, self.raw_escapes)
        except ShellError as exc:
            raise ShellError(f"failed to process {_go_quote(word)}: {exc}") from None
        return Expansion(result, words, run.matched, run.unmatched)


class _Run:
    """The state of one expansion: a rune scanner over the word plus the env."""

    def __init__(self, lex: ShellLex, text: str, env: Mapping[str, str]) -> None:
        self.lex = lex
        self.text = text
        self.pos = 0
        self.env = env
        self.raw_escapes = lex.raw_escapes
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else EOF

    def next(self) -> str:
        char = self.peek()
        if char:
            self.pos += 1
        return char

    def get_env(self, name: str) -> tuple[str, bool]:
        if name in self.env:
            self.matched.add(name)
            return self.env[name], True
        self.unmatched.add(name)
        return "", False

    # -- the scanner loop ------------------------------------------------------

    def process_stop_on(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        saved = self.raw_escapes
        self.raw_escapes = raw_escapes
        try:
            return self._stop_on(stop)
        finally:
            self.raw_escapes = saved

    def _stop_on(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        quotes = not self.lex.skip_process_quotes
        while self.peek() != EOF:
            char = self.peek()
            if stop != EOF and char == stop:
                self.next()
                return "".join(result), words.get()
            if char == "$":
                value = self.process_dollar()
                result.append(value)
                words.add_string(value)
            elif quotes and char == "'":
                value = self.process_single_quote()
                result.append(value)
                words.add_raw_string(value)
            elif quotes and char == '"':
                value = self.process_double_quote()
                result.append(value)
                words.add_raw_string(value)
            else:
                char = self.next()
                if char == self.lex.escape:
                    if self.raw_escapes:
                        words.add_raw_char(char)
                        result.append(char)
                    char = self.next()
                    if char == EOF:
                        break
                    words.add_raw_char(char)
                else:
                    words.add_char(char)
                result.append(char)
        if stop != EOF:
            raise ShellError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.get()

    def process_single_quote(self) -> str:
        out: list[str] = []
        char = self.next()
        if self.lex.raw_quotes:
            out.append(char)
        while True:
            char = self.next()
            if char == EOF:
                raise ShellError("unexpected end of statement while looking for matching single-quote")
            if char == "'":
                if self.lex.raw_quotes:
                    out.append(char)
                return "".join(out)
            out.append(char)

    def process_double_quote(self) -> str:
        out: list[str] = []
        char = self.next()
        if self.lex.raw_quotes:
            out.append(char)
        while True:
            peek = self.peek()
            if peek == EOF:
                raise ShellError("unexpected end of statement while looking for matching double-quote")
            if peek == '"':
                char = self.next()
                if self.lex.raw_quotes:
                    out.append(char)
                return "".join(out)
            if peek == "$":
                out.append(self.process_dollar())
                continue
            char = self.next()
            if char == self.lex.escape:
                if self.raw_escapes:
                    out.append(char)
                following = self.peek()
                if following == EOF:
                    continue
                if following in ('"', "$", self.lex.escape):
                    char = self.next()
            out.append(char)

    # -- $ expansions -------------------------------------------------------------

    def process_name(self) -> str:
        name: list[str] = []
        while self.peek() != EOF:
            char = self.peek()
            if not name and _is_digit(char):
                while self.peek() != EOF and _is_digit(self.peek()):
                    name.append(self.next())
                return "".join(name)
            if not name and char in _SPECIAL_PARAMS:
                return self.next()
            if not (_is_letter(char) or _is_digit(char) or char == "_"):
                break
            name.append(self.next())
        return "".join(name)

    def process_dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.process_name()
            if not name:
                return "$"
            value, found = self.get_env(name)
            if not found and self.lex.skip_unset_env:
                return "$" + name
            return value
        self.next()
        peek = self.peek()
        if peek == EOF:
            raise ShellError("syntax error: missing '}'")
        if peek in "{}:":
            raise ShellError("syntax error: bad substitution")
        name = self.process_name()
        char = self.next()
        chs = char
        if char == "}":
            value, found = self.get_env(name)
            if not found and self.lex.skip_unset_env:
                return "${%s}" % name
            return value
        null_is_unset = False
        if char == ":":
            null_is_unset = True
            char = self.next()
            chs += char
        elif char == "/":
            return self._replace(name)
        if char in ("+", "-", "?", "#", "%"):
            return self._modifier(name, char, chs, null_is_unset)
        raise ShellError(f"unsupported modifier ({chs}) in substitution")

    def _modifier(self, name: str, char: str, chs: str, null_is_unset: bool) -> str:
        try:
            word, _ = self.process_stop_on("}", char in "#%")
        except ShellError:
            if self.peek() == EOF:
                raise ShellError("syntax error: missing '}'") from None
            raise
        value, found = self.get_env(name)
        if self.lex.skip_unset_env and not found:
            return "${%s%s%s}" % (name, chs, word)
        empty = null_is_unset and value == ""
        if char == "-":
            return word if not found or empty else value
        if char == "+":
            return "" if not found or empty else word
        if char == "?":
            if not found:
                raise ShellError(f"{name}: {word or 'is not allowed to be unset'}")
            if empty:
                raise ShellError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        greedy = False
        if word and word[0] == char:
            greedy, word = True, word[1:]
        if char == "%":
            return _trim_suffix(word, value, greedy)
        return _trim_prefix(word, value, greedy)

    def _replace(self, name: str) -> str:
        replace_all = self.peek() == "/"
        if replace_all:
            self.next()
        try:
            pattern, _ = self.process_stop_on("/", True)
        except ShellError:
            if self.peek() == EOF:
                raise ShellError("syntax error: missing '/' in ${}") from None
            raise
        try:
            replacement, _ = self.process_stop_on("}", True)
        except ShellError:
            if self.peek() == EOF:
                raise ShellError("syntax error: missing '}'") from None
            raise
        value, found = self.get_env(name)
        if self.lex.skip_unset_env and not found:
            return "${%s/%s/%s}" % (name, pattern, replacement)
        regex = _pattern_regex(pattern, greedy=True, anchored=False)
        if replace_all:
            return regex.sub(lambda _m: replacement, value)
        return regex.sub(lambda _m: replacement, value, count=1)


def _pattern_regex(pattern: str, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """A shell wildcard pattern (``*``, ``?``, ``\\`` escapes) as a regex."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i = 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "*":
            out.append(star)
            continue
        if char == "?":
            out.append(".")
            continue
        if char == "\\":
            following = pattern[i] if i < len(pattern) else EOF
            if following in ("}", "/"):
                continue
            out.append("\\")
            char = following
            i += 1
            if char not in ("*", "?", "\\"):
                raise ShellError(f"invalid pattern ({pattern}) in substitution: invalid escape '\\{char}'")
        elif char in _REGEX_ESCAPES:
            out.append("\\")
        out.append(char)
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error as exc:
        raise ShellError(f"invalid pattern ({pattern}) in substitution: {exc}") from None


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = _pattern_regex(pattern, greedy, anchored=True).match(value)
    return value[match.end():] if match else value


def _reverse_pattern(pattern: str) -> str:
    """Reverse a pattern keeping ``\\x`` escape pairs in order."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i != len(pattern) - 1:
            out.append(pattern[i:i + 2])
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return "".join(reversed(out))


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]


def _go_quote(text: str) -> str:
    """Go's ``%q`` of a string (enough for messages)."""
    out = ['"']
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


go_quote = _go_quote

__all__ = ["Expansion", "ShellError", "ShellLex", "go_quote"]
