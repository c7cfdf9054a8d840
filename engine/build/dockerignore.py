""".dockerignore: Docker's reading and matching rules.

A pattern is matched against the whole slash-separated path relative to the
context root (``*.log`` does not match ``sub/a.log``; ``**/*.log`` does), and
against each of the path's parent directories, so ``build`` excludes
``build/x`` but not ``src/build/x``.  ``*`` and ``?`` never cross a ``/``;
``**`` crosses any number of directories; ``[...]`` is a character class;
``\\`` escapes.  Patterns are applied in order and the last one that matches
decides: ``!pattern`` re-includes what earlier patterns excluded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REGEX_ESCAPES = frozenset(".+()|{}$")


class IgnoreSyntaxError(ValueError):
    """A pattern that Go's ``filepath.Match`` would reject."""


def go_clean(path: str) -> str:
    """Go's ``path.Clean``: shortest equivalent path, lexically."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."


def read_patterns(text: str) -> list[str]:
    """The patterns of a .dockerignore file, normalised as Docker reads them."""
    out: list[str] = []
    for number, line in enumerate(text.splitlines()):
        if number == 0 and line.startswith("\ufeff"):
            line = line[1:]
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append("!" + pattern if invert else pattern)
    return out


@dataclass
class _Pattern:
    text: str
    exclusion: bool
    kind: str = ""
    regex: re.Pattern[str] | None = None

    def compile(self) -> None:
        out = ["^"]
        kind = "exact"
        text = self.text
        i = 0
        n = len(text)
        index = 0
        while i < n:
            char = text[i]
            i += 1
            if char == "*":
                if i < n and text[i] == "*":
                    i += 1
                    if i < n and text[i] == "/":
                        i += 1
                    if i >= n:
                        if kind == "exact":
                            kind = "prefix"
                        else:
                            out.append(".*")
                            kind = "regexp"
                    else:
                        out.append("(.*/)?")
                        kind = "regexp"
                    if index == 0:
                        kind = "suffix"
                else:
                    out.append("[^/]*")
                    kind = "regexp"
            elif char == "?":
                out.append("[^/]")
                kind = "regexp"
            elif char in _REGEX_ESCAPES:
                out.append("\\" + char)
            elif char == "\\":
                if i < n:
                    out.append("\\" + text[i])
                    i += 1
                    kind = "regexp"
                else:
                    out.append("\\\\")
            elif char in "[]":
                out.append(char)
                kind = "regexp"
            else:
                out.append(re.escape(char) if char in "^" else char)
            index += 1
        if kind == "regexp":
            out.append("$")
            try:
                self.regex = re.compile("".join(out), re.DOTALL)
            except re.error as exc:
                raise IgnoreSyntaxError(f"syntax error in pattern {self.text!r}: {exc}") from None
        self.kind = kind

    def match(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            if path.endswith(suffix):
                return True
            return suffix.startswith("/") and path == suffix[1:]
        return bool(self.regex.match(path))


def _check_syntax(pattern: str) -> None:
    """Reject what Go's filepath.Match reports as ErrBadPattern (unbalanced classes)."""
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            j = i + 1
            if j < n and pattern[j] in "^!":
                j += 1
            if j < n and pattern[j] == "]":
                raise IgnoreSyntaxError(f"syntax error in pattern {pattern!r}")
            while j < n and pattern[j] != "]":
                if pattern[j] == "\\":
                    j += 1
                j += 1
            if j >= n:
                raise IgnoreSyntaxError(f"syntax error in pattern {pattern!r}")
            i = j
        i += 1


class PatternMatcher:
    """Docker's ``patternmatcher``: does a path (or one of its parents) match?"""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns: list[_Pattern] = []
        self.exclusions = False
        for raw in patterns:
            text = raw.strip()
            if not text:
                continue
            text = go_clean(text)
            exclusion = text.startswith("!")
            if exclusion:
                if len(text) == 1:
                    raise IgnoreSyntaxError('illegal exclusion pattern: "!"')
                text = text[1:]
                self.exclusions = True
            _check_syntax(text)
            pattern = _Pattern(text, exclusion)
            pattern.compile()
            self.patterns.append(pattern)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, path: str) -> bool:
        """True if *path* is excluded (``MatchesOrParentMatches``)."""
        path = go_clean(path)
        if path == ".":
            return False
        parent = path.rpartition("/")[0]
        parents = parent.split("/") if parent else []
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            hit = pattern.match(path)
            if not hit:
                for i in range(len(parents)):
                    if pattern.match("/".join(parents[:i + 1])):
                        hit = True
                        break
            if hit:
                matched = not pattern.exclusion
        return matched


__all__ = ["IgnoreSyntaxError", "PatternMatcher", "go_clean", "read_patterns"]
