"""Template functions: Go's predefined ones and Docker's additions.

Functions receive plain Python values (``None`` for nil or a missing value).
They raise :class:`ArgTypeError` for an argument of the wrong type and
``ValueError``/``TypeError`` for other failures; the executor turns both into
a :class:`TemplateError` located at the failing action.
"""

from __future__ import annotations

import base64
import math
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from . import gofmt
from .errors import ArgTypeError

# -- helpers ----------------------------------------------------------------------


def is_true(value: Any) -> bool:
    """Go's template truth: false, 0, nil, and empty strings/slices/maps are false."""
    if value is None or value is MISSING:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (str, bytes, bytearray, list, tuple, dict, set, frozenset, Mapping)):
        return len(value) > 0
    return True


class _Missing:
    """Go's invalid ``reflect.Value``: the result of a missing map key (prints ``<no value>``).

    Use the single instance :data:`MISSING`.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no value>"


MISSING = _Missing()


def _want_str(value: Any) -> str:
    """Check a string parameter like Go's reflection does."""
    if isinstance(value, str):
        return value
    if value is None:
        raise ArgTypeError("invalid value; expected string")
    raise ArgTypeError(f"wrong type for value; expected string; got {gofmt.type_name(value)}")


def _want_int(value: Any) -> int:
    """Check an int parameter like Go's reflection does."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None:
        raise ArgTypeError("invalid value; expected int")
    raise ArgTypeError(f"wrong type for value; expected int; got {gofmt.type_name(value)}")


def _want_strings(value: Any) -> list[str]:
    """Check a []string parameter; nil is an empty slice."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ArgTypeError(f"wrong type for value; expected []string; got {gofmt.type_name(value)}")


def _text_of(args: tuple[Any, ...]) -> str:
    """Go's evalArgs for html/js/urlquery: a lone string as is, else Sprint."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return gofmt.sprint(args)


# -- Go's predefined functions -------------------------------------------------------


def go_and(arg0: Any, *args: Any) -> Any:
    """First false argument, or the last one (the executor short-circuits)."""
    for value in (arg0, *args):
        if not is_true(value):
            return value
    return (arg0, *args)[-1]


def go_or(arg0: Any, *args: Any) -> Any:
    """First true argument, or the last one (the executor short-circuits)."""
    for value in (arg0, *args):
        if is_true(value):
            return value
    return (arg0, *args)[-1]


def go_not(arg: Any) -> bool:
    """Boolean negation of the argument's truth."""
    return not is_true(arg)


def go_len(item: Any) -> int:
    """Length of a string (in UTF-8 bytes, like Go), slice or map."""
    if item is None:
        raise ValueError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode("utf-8", "surrogatepass"))
    if isinstance(item, (bytes, bytearray, list, tuple, Mapping, set, frozenset)):
        return len(item)
    raise ValueError(f"len of type {gofmt.type_name(item)}")


def _index_one(item: Any, key: Any) -> Any:
    """One step of ``index``."""
    if isinstance(item, Mapping):
        if item and isinstance(next(iter(item)), str) and not isinstance(key, str):
            raise ValueError(f"value has type {gofmt.type_name(key)}; should be string")
        return item.get(key)
    if isinstance(item, (str, bytes, bytearray, list, tuple)):
        if not isinstance(key, int) or isinstance(key, bool):
            raise TypeError(f"cannot index slice/array with type {gofmt.type_name(key)}")
        seq = item.encode("utf-8") if isinstance(item, str) else item
        if not 0 <= key < len(seq):
            raise ValueError(f"index out of range: {key}")
        return seq[key]
    if item is None:
        raise ValueError("index of untyped nil")
    raise ValueError(f"can't index item of type {gofmt.type_name(item)}")


def go_index(item: Any, *indexes: Any) -> Any:
    """``index x 1 2``: x[1][2]; a missing map key gives nil."""
    if item is None:
        raise ValueError("index of untyped nil")
    for key in indexes:
        item = _index_one(item, key)
    return item


def _slice_bound(value: Any, cap: int) -> int:
    """Check one slice index."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"cannot index slice/array with type {gofmt.type_name(value)}")
    if not 0 <= value <= cap:
        raise ValueError(f"index out of range: {value}")
    return value


def go_slice(item: Any, *indexes: Any) -> Any:
    """``slice x 1 2`` is x[1:2]; strings are sliced by UTF-8 bytes like Go."""
    if item is None:
        raise ValueError("slice of untyped nil")
    if len(indexes) > 3:
        raise ValueError(f"too many slice indexes: {len(indexes)}")
    is_str = isinstance(item, str)
    if is_str and len(indexes) == 3:
        raise ValueError("cannot 3-index slice a string")
    if not isinstance(item, (str, bytes, bytearray, list, tuple)):
        raise TypeError(f"can't slice item of type {gofmt.type_name(item)}")
    seq = item.encode("utf-8") if is_str else item
    bounds = [_slice_bound(i, len(seq)) for i in indexes]
    start = bounds[0] if bounds else 0
    end = bounds[1] if len(bounds) > 1 else len(seq)
    if len(bounds) == 3 and end > bounds[2]:
        raise ValueError(f"invalid slice index: {end} > {bounds[2]}")
    if start > end:
        raise ValueError(f"invalid slice index: {start} > {end}")
    result = seq[start:end]
    return result.decode("utf-8", "replace") if is_str else result


def go_print(*args: Any) -> str:
    """fmt.Sprint."""
    return gofmt.sprint(args)


def go_printf(fmt: Any, *args: Any) -> str:
    """fmt.Sprintf."""
    return gofmt.sprintf(_want_str(fmt), args)


def go_println(*args: Any) -> str:
    """fmt.Sprintln."""
    return gofmt.sprintln(args)


_HTML_ESCAPES = {"\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
_JS_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


def go_html(*args: Any) -> str:
    """template.HTMLEscapeString of the arguments' text."""
    return "".join(_HTML_ESCAPES.get(ch, ch) for ch in _text_of(args))


def _js_char(ch: str) -> str:
    """Escape one character for JavaScript the way text/template's JSEscape does."""
    if ch in _JS_ESCAPES:
        return _JS_ESCAPES[ch]
    if ord(ch) < 0x20 or (ord(ch) >= 0x80 and not ch.isprintable()):
        return f"\\u{ord(ch):04X}"
    return ch


def go_js(*args: Any) -> str:
    """template.JSEscapeString of the arguments' text."""
    return "".join(_js_char(ch) for ch in _text_of(args))


def go_urlquery(*args: Any) -> str:
    """url.QueryEscape of the arguments' text."""
    return urllib.parse.quote_plus(_text_of(args), safe="")


def go_call(fn: Any, *args: Any) -> Any:
    """Call a function value with the remaining arguments."""
    if fn is None:
        raise ValueError("call of nil")
    if not callable(fn):
        raise TypeError(f"non-function of type {gofmt.type_name(fn)}")
    return fn(*args)


# -- comparisons -------------------------------------------------------------------


def _kind(value: Any) -> str:
    """Go's basicKind, except that ints and floats compare with each other."""
    if value is None or value is MISSING:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "other"


def _equal(a: Any, b: Any) -> bool:
    """Go's eq for one pair."""
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        if "nil" in (ka, kb):
            return False
        raise ValueError("incompatible types for comparison")
    if ka == "nil":
        return True
    if ka == "other" and isinstance(a, (list, dict, set, Mapping)):
        raise ValueError(f"non-comparable type {gofmt.format_value(a)}: {gofmt.type_name(a)}")
    return bool(a == b)


def go_eq(arg1: Any, *args: Any) -> bool:
    """True if arg1 equals any of the other arguments."""
    if not args:
        raise ValueError("missing argument for comparison")
    return any(_equal(arg1, other) for other in args)


def go_ne(arg1: Any, arg2: Any) -> bool:
    """arg1 != arg2."""
    return not _equal(arg1, arg2)


def go_lt(arg1: Any, arg2: Any) -> bool:
    """arg1 < arg2 for strings or numbers."""
    ka, kb = _kind(arg1), _kind(arg2)
    if ka not in ("number", "string") or kb not in ("number", "string"):
        raise ValueError("invalid type for comparison")
    if ka != kb:
        raise ValueError("incompatible types for comparison")
    return bool(arg1 < arg2)


def go_le(arg1: Any, arg2: Any) -> bool:
    """arg1 <= arg2."""
    return go_lt(arg1, arg2) or _equal(arg1, arg2)


def go_gt(arg1: Any, arg2: Any) -> bool:
    """arg1 > arg2."""
    return not go_le(arg1, arg2)


def go_ge(arg1: Any, arg2: Any) -> bool:
    """arg1 >= arg2."""
    return not go_lt(arg1, arg2)


# -- Docker's functions -------------------------------------------------------------


class UnsupportedValue(ValueError):
    """A value encoding/json cannot marshal (NaN, Inf, or an unknown object)."""


def _json_char(ch: str, escape_html: bool) -> str:
    """Escape one string character like encoding/json."""
    code = ord(ch)
    if ch in ('"', "\\"):
        return "\\" + ch
    if code < 0x20:
        named = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
        return named.get(ch, f"\\u{code:04x}")
    if (escape_html and ch in "<>&") or ch in "\u2028\u2029":
        return f"\\u{code:04x}"
    if 0xD800 <= code <= 0xDFFF:
        return "\\ufffd"
    return ch


def _json_float(value: float) -> str:
    """encoding/json's float64 format: shortest digits, exponent outside [1e-6, 1e21)."""
    if math.isnan(value) or math.isinf(value):
        raise UnsupportedValue(f"json: unsupported value: {gofmt.format_value(value)}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = gofmt.format_float(value, "e", -1)
        mantissa, _, exp = text.partition("e")
        if exp.startswith("-0"):
            exp = "-" + exp[2:]
        return f"{mantissa}e{exp}"
    return gofmt.format_float(value, "f", -1)


def go_json_marshal(value: Any, escape_html: bool = False) -> str:
    """Compact JSON like Go's encoding/json.

    Mappings keep their insertion order (they stand for Go structs, whose
    fields marshal in declaration order).  ``escape_html`` escapes ``< > &``
    as ``json.Marshal`` does; Docker's ``json`` function turns that off.
    """
    if value is None or value is MISSING:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, str):
        return '"' + "".join(_json_char(ch, escape_html) for ch in value) + '"'
    if isinstance(value, (bytes, bytearray)):
        return '"' + base64.b64encode(bytes(value)).decode("ascii") + '"'
    if isinstance(value, Mapping):
        items = (f"{go_json_marshal(_json_key(k), escape_html)}:{go_json_marshal(v, escape_html)}"
                 for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(go_json_marshal(v, escape_html) for v in value) + "]"
    if is_dataclass(value) and not isinstance(value, type):
        return go_json_marshal({f.name: getattr(value, f.name) for f in fields(value)}, escape_html)
    raise UnsupportedValue(f"json: unsupported type: {gofmt.type_name(value)}")


def _json_key(key: Any) -> str:
    """Map keys become JSON strings (ints in decimal, like Go)."""
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise UnsupportedValue(f"json: unsupported type: map[{gofmt.type_name(key)}]interface {{}}")


def docker_json(value: Any) -> str:
    """Docker's ``json``: compact JSON without HTML escaping; "" if it cannot encode."""
    try:
        return go_json_marshal(value, escape_html=False)
    except UnsupportedValue:
        return ""  # docker ignores the encoder's error and prints nothing


def docker_split(text: Any, sep: Any) -> list[str]:
    """strings.Split."""
    text, sep = _want_str(text), _want_str(sep)
    return list(text) if sep == "" else text.split(sep)


def docker_join(elems: Any, sep: Any) -> str:
    """strings.Join."""
    return _want_str(sep).join(_want_strings(elems))


def _is_separator(ch: str) -> bool:
    """strings.Title's word-boundary test."""
    if ch < "\x80":
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdecimal():
        return False
    return ch.isspace()


def _one_rune(ch: str, mapped: str) -> str:
    """Keep Go's rune-for-rune mapping: ignore case mappings that change length."""
    return mapped if len(mapped) == 1 else ch


def docker_title(text: Any) -> str:
    """strings.Title: upper-case the first letter of each word, leave the rest."""
    out, prev = [], " "
    for ch in _want_str(text):
        out.append(_one_rune(ch, ch.title()) if _is_separator(prev) else ch)
        prev = ch
    return "".join(out)


def docker_lower(text: Any) -> str:
    """strings.ToLower."""
    text = _want_str(text)
    return text.lower() if text.isascii() else "".join(_one_rune(c, c.lower()) for c in text)


def docker_upper(text: Any) -> str:
    """strings.ToUpper."""
    text = _want_str(text)
    return text.upper() if text.isascii() else "".join(_one_rune(c, c.upper()) for c in text)


def docker_pad(source: Any, prefix: Any, suffix: Any) -> str:
    """Docker's ``pad``: surround a non-empty string with spaces."""
    source, prefix, suffix = _want_str(source), _want_int(prefix), _want_int(suffix)
    if not source:
        return source
    return " " * max(prefix, 0) + source + " " * max(suffix, 0)


def docker_truncate(source: Any, length: Any) -> str:
    """Docker's ``truncate``: at most ``length`` characters."""
    source, length = _want_str(source), _want_int(length)
    if length < 0:
        raise ValueError(f"slice bounds out of range [:{length}]")
    return source[:length]


BUILTINS: dict[str, Callable[..., Any]] = {
    "and": go_and, "or": go_or, "not": go_not, "len": go_len, "index": go_index,
    "slice": go_slice, "print": go_print, "printf": go_printf, "println": go_println,
    "html": go_html, "js": go_js, "urlquery": go_urlquery, "call": go_call,
    "eq": go_eq, "ne": go_ne, "lt": go_lt, "le": go_le, "gt": go_gt, "ge": go_ge,
}

DOCKER_FUNCS: dict[str, Callable[..., Any]] = {
    "json": docker_json, "split": docker_split, "join": docker_join, "title": docker_title,
    "lower": docker_lower, "upper": docker_upper, "pad": docker_pad,
    "truncate": docker_truncate, "println": go_println,
}
