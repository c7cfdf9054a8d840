"""Text helpers that behave like the Go standard library calls BuildKit uses.

BuildKit's parser works on Go strings (UTF-8 bytes).  Strata decodes a
Dockerfile with ``surrogateescape`` so that every byte survives a round trip:
an invalid byte shows up as a lone surrogate U+DC80..U+DCFF.  These helpers
reproduce ``unicode.IsSpace``, ``strings.TrimSpace``, ``strings.ToLower``,
``strconv.Quote`` and friends on that representation.
"""

from __future__ import annotations

import re

#: Runes for which Go's ``unicode.IsSpace`` is true.
GO_SPACES = (
    "\t\n\v\f\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_GO_SPACE_SET = frozenset(GO_SPACES)

#: BuildKit's ``reWhitespace``: the separator of instruction words.
RE_WHITESPACE = re.compile(r"[\t\v\f\r ]+")

_ESCAPED_BYTES = range(0xDC80, 0xDD00)
_SURROGATES = range(0xD800, 0xE000)
_SIMPLE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    '"': '\\"',
    "\\": "\\\\",
}


def decode(data: bytes) -> str:
    """Decode Dockerfile bytes as UTF-8, keeping invalid bytes as surrogates."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    """Inverse of :func:`decode`."""
    return text.encode("utf-8", "surrogateescape")


def byte_length(text: str) -> int:
    """Length of *text* in bytes, as Go's ``len`` would count it."""
    if text.isascii():
        return len(text)
    return len(encode(text))


def is_space(char: str) -> bool:
    """Go's ``unicode.IsSpace`` for one character."""
    return char in _GO_SPACE_SET


def is_space_byte(value: int) -> bool:
    """``unicode.IsSpace(rune(b))`` for a single byte, as split_command does."""
    return chr(value) in _GO_SPACE_SET


def trim_space(text: str) -> str:
    """Go's ``strings.TrimSpace``."""
    return text.strip(GO_SPACES)


def trim_left_space(text: str) -> str:
    """Go's ``strings.TrimLeftFunc(s, unicode.IsSpace)``."""
    return text.lstrip(GO_SPACES)


def trim_newline(text: str) -> str:
    """Go's ``bytes.TrimRight(s, "\\r\\n")``."""
    return text.rstrip("\r\n")


def rune_text(text: str) -> str:
    """Replace undecodable bytes and lone surrogates by U+FFFD, as Go's rune loops do."""
    if text.isascii():
        return text
    return "".join("\ufffd" if ord(c) in _SURROGATES else c for c in text)


def go_lower(text: str) -> str:
    """Go's ``strings.ToLower``: simple per-rune case mapping."""
    if text.isascii():
        return text.lower()
    out = []
    for char in rune_text(text):
        lowered = char.lower()
        if len(lowered) != 1:
            lowered = "i" if char == "\u0130" else char
        out.append(lowered)
    return "".join(out)


def _quote_char(char: str) -> str:
    """Escape one character the way ``strconv.Quote`` does."""
    code = ord(char)
    if code in _ESCAPED_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    if code in _SURROGATES:
        char, code = "\ufffd", 0xFFFD
    if char in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[char]
    if char.isprintable():
        return char
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (``%q`` of a string)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return '"' + "".join(_quote_char(c) for c in text) + '"'


def go_quote_list(items: list[str]) -> str:
    """Go's ``fmt.Sprintf("%q", []string{...})``."""
    return "[" + " ".join(go_quote(item) for item in items) + "]"
