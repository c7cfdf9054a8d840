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
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.dockerfile.wordlex import EOF, WordScanner

_REGEX_ESCAPES = frozenset("[]{}.+()|^$")


class ShellError(ValueError):
    """A word that cannot be expanded (bad substitution, unterminated quote...)."""


def _is_space(char: str) -> bool:
    """White space for word splitting (``str.isspace`` also counts U+001C..U+001F)."""
    return bool(char) and (char.isspace() or char in "\x85\xa0")


@dataclass
class Expansion:
    """What one expansion produced: the text, the split words, the names it used."""

    result: str
    words: list[str]
    matched: set[str] = field(default_factory=set)
    unmatched: set[str] = field(default_factory=set)


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
            result, words = run.process()
        except ShellError as exc:
            raise ShellError(f"failed to process {_go_quote(word)}: {exc}") from None
        return Expansion(result, words, run.matched, run.unmatched)


class _Run(WordScanner):
    """The state of one expansion: the shared word scanner plus the env."""

    error = ShellError
    space = staticmethod(_is_space)

    def __init__(self, lex: ShellLex, text: str, env: Mapping[str, str]) -> None:
        super().__init__(text, lex.escape, lex.raw_quotes, lex.raw_escapes)
        if lex.skip_process_quotes:
            del self._handlers["'"], self._handlers['"']
        self.lex = lex
        self.env = env
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()

    def get_env(self, name: str) -> tuple[str, bool]:
        if name in self.env:
            self.matched.add(name)
            return self.env[name], True
        self.unmatched.add(name)
        return "", False

    # -- $ expansions -------------------------------------------------------------

    def _dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self._name()
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
        name = self._name()
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
        word = self._until("}", char in "#%", "syntax error: missing '}'")
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
        pattern = self._until("/", True, "syntax error: missing '/' in ${}")
        replacement = self._until("}", True, "syntax error: missing '}'")
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
