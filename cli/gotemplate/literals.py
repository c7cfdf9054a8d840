"""Decoding of Go literals: quoted strings, character constants and numbers."""

from __future__ import annotations

import re

_SIMPLE_ESCAPES = {
    "a": 0x07, "b": 0x08, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B, "\\": 0x5C,
}
_HEX_LEN = {"x": 2, "u": 4, "U": 8}
_OCTAL_INT = re.compile(r"[+-]?0[0-7_]+")


class LiteralError(ValueError):
    """A literal that Go would reject; the message is the reason."""


def _escape(body: str, i: int, quote: str) -> tuple[bytes, int]:
    """Decode the escape starting after the backslash at ``body[i]``; return (bytes, next index)."""
    ch = body[i]
    if ch in _SIMPLE_ESCAPES:
        return bytes([_SIMPLE_ESCAPES[ch]]), i + 1
    if ch == quote:
        return ch.encode(), i + 1
    if ch in _HEX_LEN:
        digits = body[i + 1 : i + 1 + _HEX_LEN[ch]]
        if len(digits) != _HEX_LEN[ch] or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise LiteralError("invalid syntax")
        value = int(digits, 16)
        if ch == "x":
            return bytes([value]), i + 1 + len(digits)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise LiteralError("invalid syntax")
        return chr(value).encode(), i + 1 + len(digits)
    if ch in "01234567":
        digits = body[i : i + 3]
        if len(digits) != 3 or not all(c in "01234567" for c in digits) or int(digits, 8) > 255:
            raise LiteralError("invalid syntax")
        return bytes([int(digits, 8)]), i + 3
    raise LiteralError("invalid syntax")


def _decode_body(body: str, quote: str) -> bytes:
    """Decode the inside of a quoted literal into the bytes Go would hold."""
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            if i + 1 >= len(body):
                raise LiteralError("invalid syntax")
            chunk, i = _escape(body, i + 1, quote)
            out += chunk
            continue
        out += ch.encode("utf-8", "surrogatepass")
        i += 1
    return bytes(out)


def unquote_string(text: str) -> str:
    """Decode a Go ``"interpreted"`` or ```raw``` string literal."""
    if text.startswith("`"):
        return text[1:-1].replace("\r", "")
    return _decode_body(text[1:-1], '"').decode("utf-8", "replace")


def unquote_char(text: str) -> int:
    """Decode a Go character constant like ``'a'`` or ``'\\n'`` into its code point."""
    body = text[1:-1]
    if body.startswith("\\") and len(body) > 1 and body[1] in "x01234567":
        raw = _decode_body(body, "'")
        if len(raw) != 1:
            raise LiteralError("invalid syntax")
        return raw[0]
    decoded = _decode_body(body, "'").decode("utf-8", "replace")
    if len(decoded) != 1:
        raise LiteralError("invalid syntax")
    return ord(decoded)


def parse_number(text: str) -> int | float:
    """Parse a Go number literal the way text/template treats untyped constants.

    Integers (including ``0x``/``0o``/``0b``, legacy ``017`` octal and ``_``
    separators) become ``int``; anything with a fraction or exponent becomes
    ``float``.  Complex numbers are rejected.
    """
    if text.endswith("i"):
        raise LiteralError("complex numbers are not supported")
    body = text.lstrip("+-")
    negative = text.startswith("-")
    is_hex = body[:2] in ("0x", "0X")
    if any(c in body for c in ".pP") or (not is_hex and any(c in body for c in "eE")):
        return _parse_float(text, is_hex)
    try:
        if _OCTAL_INT.fullmatch(text):
            value = int(body.replace("_", ""), 8)
        elif body.isdecimal():  # "08": not octal, but Go still reads it as 8
            value = int(body, 10)
        else:
            value = int(body, 0)
    except ValueError:
        raise LiteralError(f"illegal number syntax: \"{text}\"") from None
    return -value if negative else value


def _parse_float(text: str, is_hex: bool) -> float:
    """Parse a decimal or hexadecimal floating-point literal."""
    if "__" in text or text.endswith("_"):
        raise LiteralError(f"illegal number syntax: \"{text}\"")
    try:
        if is_hex:
            return float.fromhex(text.replace("_", ""))
        return float(text.replace("_", ""))
    except ValueError:
        raise LiteralError(f"illegal number syntax: \"{text}\"") from None
