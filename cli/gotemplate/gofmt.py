"""A subset of Go's ``fmt`` package over Python values.

Python values stand in for Go's: ``str`` (string), ``bool``, ``int``,
``float`` (float64), ``None`` (nil), ``list``/``tuple`` (slice), mappings
(map, keys printed sorted), dataclasses (struct).  Provides ``%v`` printing
(:func:`format_value`), ``Sprint``, ``Sprintln`` and ``Sprintf`` with the verbs
``%v %+v %#v %T %s %q %d %b %o %O %x %X %c %U %t %e %E %f %F %g %G %%``,
flags ``+ - # 0 space``, width, precision, ``*`` and ``[n]`` argument indexes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

_RUNE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
_INT_BASES = {"v": "d", "d": "d", "b": "b", "o": "o", "O": "o", "x": "x", "X": "X"}


@dataclass(slots=True)
class Spec:
    """Flags, width and precision of one formatting verb."""

    minus: bool = False
    plus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    plus_v: bool = False
    sharp_v: bool = False
    width: int | None = None
    prec: int | None = None


_DEFAULT = Spec()


# -- type names and quoting ------------------------------------------------------


def type_name(value: Any) -> str:
    """The Go type a Python value stands for, as ``%T`` prints it."""
    if value is None:
        return "<nil>"
    simple = {bool: "bool", int: "int", float: "float64", str: "string", bytes: "[]uint8"}
    for cls, name in simple.items():
        if isinstance(value, cls):
            return name
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    return type(value).__name__


def _quote_char(ch: str, quote: str, ascii_only: bool) -> str:
    """Escape one character the way strconv.Quote does."""
    code = ord(ch)
    if ch in (quote, "\\"):
        return "\\" + ch
    if ch.isprintable() and (code < 0x80 or not ascii_only):
        return ch
    if ch in _RUNE_ESCAPES:
        return _RUNE_ESCAPES[ch]
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return "\\ufffd"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def go_quote(text: str, ascii_only: bool = False, quote: str = '"') -> str:
    """Go's strconv.Quote (or QuoteToASCII with ``ascii_only``)."""
    return quote + "".join(_quote_char(ch, quote, ascii_only) for ch in text) + quote


def _can_backquote(text: str) -> bool:
    """Go's strconv.CanBackquote."""
    return all(ch == "\t" or (ch.isprintable() and ch not in "`\ufeff") for ch in text)


def _pad(text: str, spec: Spec) -> str:
    """Pad with spaces to the width: on the left, or on the right with ``-``."""
    if spec.width is None or len(text) >= spec.width:
        return text
    fill = " " * (spec.width - len(text))
    return text + fill if spec.minus else fill + text


def _bad_verb(value: Any, verb: str) -> str:
    """Go's ``%!verb(type=value)`` marker for a verb that does not fit the value."""
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(value)}={format_value(value)})"


# -- floats --------------------------------------------------------------------


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-tripping decimal digits of ``abs(value)`` and the point position.

    The number is ``0.<digits> * 10**dp``; zero gives ``("", 0)``.
    """
    mantissa, _, exp = repr(abs(value)).partition("e")
    int_part, _, frac = mantissa.partition(".")
    all_digits = int_part + frac
    stripped = all_digits.lstrip("0")
    dp = len(int_part) + (int(exp) if exp else 0) - (len(all_digits) - len(stripped))
    digits = stripped.rstrip("0")
    return (digits, dp) if digits else ("", 0)


def _rounded_digits(value: float, count: int) -> tuple[str, int]:
    """``abs(value)`` correctly rounded to ``count`` significant digits (trailing zeros trimmed)."""
    if value == 0:
        return "", 0
    mantissa, _, exp = f"{abs(value):.{count - 1}e}".partition("e")
    digits = mantissa.replace(".", "").rstrip("0")
    return digits, int(exp) + 1


def _fmt_e(digits: str, dp: int, prec: int, echar: str) -> str:
    """Go's fmtE over decimal digits."""
    text = digits[:1] or "0"
    if prec > 0:
        text += "." + digits[1 : 1 + prec].ljust(prec, "0")
    exp = dp - 1 if digits else 0
    return f"{text}{echar}{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _fmt_f(digits: str, dp: int, prec: int) -> str:
    """Go's fmtF over decimal digits."""
    text = digits[:dp].ljust(dp, "0") if dp > 0 else "0"
    if prec > 0:
        frac = "".join(digits[dp + i] if 0 <= dp + i < len(digits) else "0" for i in range(prec))
        text += "." + frac
    return text


def _fmt_g(digits: str, dp: int, prec: int, shortest: bool, echar: str) -> str:
    """Go's %g decision between exponent and plain notation."""
    eprec = prec
    if eprec > len(digits) and len(digits) >= dp:
        eprec = len(digits)
    if shortest:
        eprec = 6
    exp = dp - 1
    if exp < -4 or exp >= eprec:
        return _fmt_e(digits, dp, min(prec, len(digits)) - 1, echar)
    if prec > dp:
        prec = len(digits)
    return _fmt_f(digits, dp, max(prec - dp, 0))


def format_float(value: float, fmt: str = "g", prec: int = -1) -> str:
    """Go's strconv.FormatFloat(value, fmt, prec, 64) for fmt in ``eEfFgG``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    low = fmt.lower()
    if prec >= 0 and low in "ef":
        return sign + f"{abs(value):.{prec}{fmt.replace('F', 'f')}}"
    echar = "E" if fmt in "EG" else "e"
    if prec < 0:
        digits, dp = _shortest_digits(value)
        if low == "e":
            return sign + _fmt_e(digits, dp, max(len(digits) - 1, 0), echar)
        if low == "f":
            return sign + _fmt_f(digits, dp, max(len(digits) - dp, 0))
        return sign + _fmt_g(digits, dp, len(digits), True, echar)
    prec = max(prec, 1)
    digits, dp = _rounded_digits(value, prec)
    return sign + _fmt_g(digits, dp, prec, False, echar)


def _fmt_float(value: float, verb: str, spec: Spec) -> str:
    """Format a float for one of ``v e E f F g G`` with Go's sign and padding rules."""
    if verb not in "veEfFgG":
        return _bad_verb(value, verb)
    fmt = "g" if verb == "v" else verb
    default_prec = 6 if fmt in "eEfF" else -1
    num = format_float(value, fmt, default_prec if spec.prec is None else spec.prec)
    signed = num if num[0] in "+-" else "+" + num
    if spec.space and signed[0] == "+" and not spec.plus:
        signed = " " + signed[1:]
    if signed[1] in "IN":
        if signed[1] == "N" and not spec.space and not spec.plus:
            signed = signed[1:]
        return _pad(signed, spec)
    if spec.plus or signed[0] != "+":
        if spec.zero and not spec.minus and spec.width is not None and spec.width > len(signed):
            return signed[0] + "0" * (spec.width - len(signed)) + signed[1:]
        return _pad(signed, spec)
    return _pad(signed[1:], spec)


# -- integers, bools, strings -----------------------------------------------------


def _fmt_char(value: int, verb: str, spec: Spec) -> str:
    """``%c``, ``%q`` and ``%U`` of an integer code point."""
    valid = 0 <= value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF
    ch = chr(value) if valid else "\ufffd"
    if verb == "c":
        return _pad(ch, spec)
    if verb == "q":
        return _pad(go_quote(ch, spec.plus, "'"), spec)
    text = f"U+{value:04X}" if value >= 0 else f"U+{value & 0xFFFFFFFFFFFFFFFF:04X}"
    if spec.sharp and valid and ch.isprintable():
        text += f" '{ch}'"
    return _pad(text, spec)


def _fmt_int(value: int, verb: str, spec: Spec) -> str:
    """Format an integer with Go's precision, zero padding, prefix and sign rules."""
    if verb in "cqU":
        return _fmt_char(value, verb, spec)
    if verb not in _INT_BASES:
        return _bad_verb(value, verb)
    negative = value < 0
    digits = format(abs(value), _INT_BASES[verb])
    if spec.prec is not None:
        if spec.prec == 0 and value == 0:
            return " " * (spec.width or 0)
        digits = digits.rjust(spec.prec, "0")
    elif spec.zero and spec.width is not None and not spec.minus:
        digits = digits.rjust(spec.width - (negative or spec.plus or spec.space), "0")
    prefix = ""
    if verb == "O":
        prefix = "0o"
    elif spec.sharp:
        prefix = {"b": "0b", "x": "0x", "X": "0X", "o": "" if digits.startswith("0") else "0"}.get(verb, "")
    sign = "-" if negative else "+" if spec.plus else " " if spec.space else ""
    return _pad(sign + prefix + digits, spec)


def _fmt_hex_bytes(data: bytes, verb: str, spec: Spec) -> str:
    """``%x``/``%X`` of a string or byte slice, with Go's ``#`` and space flags."""
    if spec.prec is not None:
        data = data[: spec.prec]
    pairs = [format(b, "02x" if verb == "x" else "02X") for b in data]
    prefix = ("0x" if verb == "x" else "0X") if spec.sharp else ""
    if spec.space:
        return _pad(" ".join(prefix + p for p in pairs), spec)
    return _pad(prefix + "".join(pairs) if pairs else "", spec)


def _fmt_str(value: str, verb: str, spec: Spec) -> str:
    """Format a string for ``v s q x X``."""
    if verb in "xX":
        return _fmt_hex_bytes(value.encode("utf-8", "replace"), verb, spec)
    if spec.prec is not None:
        value = value[: spec.prec]
    if verb in "vs":
        return _go_syntax(value) if spec.sharp_v else _pad(value, spec)
    if verb == "q":
        if spec.sharp and _can_backquote(value):
            return _pad(f"`{value}`", spec)
        return _pad(go_quote(value, spec.plus), spec)
    return _bad_verb(value, verb)


def _fmt_bytes(value: bytes, verb: str, spec: Spec, depth: int) -> str:
    """Byte slices print as text for ``s q x X`` and as numbers otherwise."""
    if verb in "xX":
        return _fmt_hex_bytes(bytes(value), verb, spec)
    if verb in "sq":
        return _fmt_str(bytes(value).decode("utf-8", "replace"), verb, spec)
    return "[" + " ".join(format_arg(b, verb, spec, depth + 1) for b in value) + "]"


# -- composites ----------------------------------------------------------------


def _sort_key(key: Any) -> tuple:
    """Order map keys like Go's fmtsort: nil, bools, numbers, strings, then the rest."""
    if key is None:
        return (0, 0)
    if isinstance(key, bool):
        return (1, key)
    if isinstance(key, (int, float)):
        return (2, key)
    if isinstance(key, str):
        return (3, key)
    return (4, str(key))


def sorted_items(mapping: Mapping) -> list[tuple[Any, Any]]:
    """A mapping's items in Go's sorted key order."""
    return sorted(mapping.items(), key=lambda kv: _sort_key(kv[0]))


def _go_syntax(value: Any) -> str:
    """An approximation of Go's ``%#v`` (Go-syntax) representation."""
    if value is None:
        return "<nil>"
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, (bool, int, float)):
        return format_value(value)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_go_syntax(k)}:{_go_syntax(v)}" for k, v in sorted_items(value))
        return f"map[string]interface {{}}{{{inner}}}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}{" + ", ".join(_go_syntax(v) for v in value) + "}"
    if is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(f"{f.name}:{_go_syntax(getattr(value, f.name))}" for f in fields(value))
        return f"{type(value).__name__}{{{inner}}}"
    return repr(value)


def _fmt_composite(value: Any, verb: str, spec: Spec, depth: int) -> str | None:
    """Format maps, slices and structs element by element, or return None."""
    if isinstance(value, Mapping):
        inner = " ".join(
            f"{format_arg(k, verb, spec, depth + 1)}:{format_arg(v, verb, spec, depth + 1)}"
            for k, v in sorted_items(value)
        )
        return f"map[{inner}]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_arg(v, verb, spec, depth + 1) for v in value) + "]"
    if is_dataclass(value) and not isinstance(value, type):
        parts = []
        for f in fields(value):
            text = format_arg(getattr(value, f.name), verb, spec, depth + 1)
            parts.append(f"{f.name}:{text}" if spec.plus_v else text)
        return "{" + " ".join(parts) + "}"
    return None


def format_arg(value: Any, verb: str, spec: Spec = _DEFAULT, depth: int = 0) -> str:
    """Format one value for one verb, the way Go's fmt prints an operand."""
    if verb == "T":
        return _pad(type_name(value), spec)
    if spec.sharp_v and verb == "v":
        return _go_syntax(value)
    if value is None:
        return _pad("<nil>", spec) if verb == "v" or depth else _bad_verb(value, verb)
    if isinstance(value, bool):
        return _pad("true" if value else "false", spec) if verb in "tv" else _bad_verb(value, verb)
    if isinstance(value, int):
        return _fmt_int(value, verb, spec)
    if isinstance(value, float):
        return _fmt_float(value, verb, spec)
    if isinstance(value, str):
        return _fmt_str(value, verb, spec)
    if isinstance(value, (bytes, bytearray)):
        return _fmt_bytes(value, verb, spec, depth)
    text = _fmt_composite(value, verb, spec, depth)
    if text is not None:
        return text
    return _pad(str(value), spec) if verb in "vs" else _bad_verb(value, verb)


def format_value(value: Any) -> str:
    """Go's ``%v`` of a value (what ``fmt.Sprint`` prints for one operand)."""
    return format_arg(value, "v")


# -- Sprint family -------------------------------------------------------------


def sprint(args: Sequence[Any]) -> str:
    """Go's fmt.Sprint: spaces only between operands when neither is a string."""
    out: list[str] = []
    prev_string = False
    for i, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if i and not is_string and not prev_string:
            out.append(" ")
        out.append(format_value(arg))
        prev_string = is_string
    return "".join(out)


def sprintln(args: Sequence[Any]) -> str:
    """Go's fmt.Sprintln: operands separated by spaces, then a newline."""
    return " ".join(format_value(a) for a in args) + "\n"


class _Printf:
    """State of one Sprintf call: the format, the arguments and the output."""

    def __init__(self, fmt: str, args: Sequence[Any]) -> None:
        self.fmt = fmt
        self.args = list(args)
        self.i = 0
        self.argnum = 0
        self.reordered = False
        self.good_index = True
        self.out: list[str] = []

    def run(self) -> str:
        """Format everything and append Go's EXTRA marker for unused arguments."""
        while self.i < len(self.fmt):
            j = self.fmt.find("%", self.i)
            if j < 0:
                self.out.append(self.fmt[self.i :])
                break
            self.out.append(self.fmt[self.i : j])
            self.i = j + 1
            self.directive()
        if not self.reordered and self.argnum < len(self.args):
            extra = ", ".join(
                "<nil>" if a is None else f"{type_name(a)}={format_value(a)}"
                for a in self.args[self.argnum :]
            )
            self.out.append(f"%!(EXTRA {extra})")
        return "".join(self.out)

    def flags(self, spec: Spec) -> None:
        """Consume the flag characters ``# 0 + - space``."""
        while self.i < len(self.fmt) and self.fmt[self.i] in "#0+- ":
            ch = self.fmt[self.i]
            if ch == "#":
                spec.sharp = True
            elif ch == "0":
                spec.zero = not spec.minus
            elif ch == "+":
                spec.plus = True
            elif ch == "-":
                spec.minus, spec.zero = True, False
            else:
                spec.space = True
            self.i += 1

    def arg_index(self) -> None:
        """Consume an explicit ``[n]`` argument index, if present."""
        if self.fmt[self.i : self.i + 1] != "[":
            return
        self.reordered = True
        end = self.fmt.find("]", self.i)
        text = self.fmt[self.i + 1 : end] if end > 0 else ""
        if end < 0 or not text.isdigit() or not 1 <= int(text) <= len(self.args):
            self.good_index = False
            self.i = end + 1 if end > 0 else len(self.fmt)
            return
        self.argnum = int(text) - 1
        self.i = end + 1

    def number(self, spec: Spec, is_prec: bool) -> int | None:
        """Consume digits or ``*`` for a width/precision; None if absent."""
        if self.fmt[self.i : self.i + 1] == "*":
            self.i += 1
            arg = self.args[self.argnum] if self.argnum < len(self.args) else None
            self.argnum += 1
            if not isinstance(arg, int) or isinstance(arg, bool):
                self.out.append("%!(BADPREC)" if is_prec else "%!(BADWIDTH)")
                return None
            if arg < 0:
                if is_prec:
                    return None
                spec.minus, spec.zero = True, False
                return -arg
            return arg
        start = self.i
        while self.i < len(self.fmt) and self.fmt[self.i].isdigit():
            self.i += 1
        if self.i > start:
            return int(self.fmt[start : self.i])
        return 0 if is_prec else None

    def directive(self) -> None:
        """Handle one ``%...verb`` directive starting after the ``%``."""
        spec = Spec()
        self.good_index = True
        self.flags(spec)
        self.arg_index()
        spec.width = self.number(spec, False)
        if self.fmt[self.i : self.i + 1] == ".":
            self.i += 1
            self.arg_index()
            spec.prec = self.number(spec, True)
        self.arg_index()
        if self.i >= len(self.fmt):
            self.out.append("%!(NOVERB)")
            return
        verb = self.fmt[self.i]
        self.i += 1
        self.verb(verb, spec)

    def verb(self, verb: str, spec: Spec) -> None:
        """Format the next argument for ``verb``."""
        if verb == "%":
            self.out.append("%")
            return
        if not self.good_index:
            self.out.append(f"%!{verb}(BADINDEX)")
            return
        if self.argnum >= len(self.args):
            self.out.append(f"%!{verb}(MISSING)")
            return
        arg = self.args[self.argnum]
        self.argnum += 1
        if verb == "v":
            spec.sharp_v, spec.sharp = spec.sharp, False
            spec.plus_v, spec.plus = spec.plus, False
        self.out.append(format_arg(arg, verb, spec))


def sprintf(fmt: str, args: Sequence[Any]) -> str:
    """Go's fmt.Sprintf."""
    return _Printf(fmt, args).run()
