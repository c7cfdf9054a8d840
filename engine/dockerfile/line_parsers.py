"""Per-instruction argument parsers: BuildKit's dispatch table.

Each parser takes the argument text of an instruction (flags already cut
off) and returns ``(first_argument_node, attributes)``; ``None`` means "no
arguments".  ``{"json": True}`` marks the exec (JSON array) form.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable

from .directives import Directives
from .errors import DockerfileSyntaxError
from .gotext import RE_WHITESPACE, decode, encode, go_quote, is_space_byte, rune_text, trim_left_space
from .node import Node
from .words import parse_words

Parsed = tuple["Node | None", "dict[str, bool] | None"]
LineParser = Callable[[str, Directives], Parsed]

NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only"


class _NotJSON(Exception):
    """The text is not a JSON array (the shell form applies)."""


def chain(values: Iterable[str]) -> Node | None:
    """Link *values* into a list of argument nodes."""
    first: Node | None = None
    last: Node | None = None
    for value in values:
        node = Node(value=value)
        if last is None:
            first = node
        else:
            last.next = node
        last = node
    return first


def parse_ignore(rest: str, directives: Directives) -> Parsed:
    """Unknown instruction: keep it, with one empty argument node."""
    return Node(), None


def parse_string(rest: str, directives: Directives) -> Parsed:
    """The whole argument text as one argument (WORKDIR, USER, ...)."""
    return (Node(value=rest) if rest else None), None


def parse_strings_whitespace_delimited(rest: str, directives: Directives) -> Parsed:
    """Arguments split at blanks (FROM, EXPOSE)."""
    if not rest:
        return None, None
    return chain(RE_WHITESPACE.split(rest)), None


def parse_name_or_name_val(rest: str, directives: Directives) -> Parsed:
    """ARG: ``name`` or ``name=value`` words, kept verbatim."""
    return chain(parse_words(rest, directives.escape_token)), None


def parse_name_val(rest: str, key: str, directives: Directives) -> Node | None:
    """ENV/LABEL: ``key value`` (old form) or ``k=v ...``; triplets (key, value, separator)."""
    words = parse_words(rest, directives.escape_token)
    if not words:
        return None
    if "=" not in words[0]:
        parts = RE_WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise DockerfileSyntaxError(f"{key} must have two arguments")
        return chain([parts[0], parts[1], ""])
    values: list[str] = []
    for word in words:
        if "=" not in word:
            raise DockerfileSyntaxError(
                f"Syntax error - can't find = in {go_quote(word)}. Must be of the form: name=value"
            )
        name, _, value = word.partition("=")
        values += [name, value, "="]
    return chain(values)


def parse_env(rest: str, directives: Directives) -> Parsed:
    """ENV key=value ... (or ENV key value)."""
    return parse_name_val(rest, "ENV", directives), None


def parse_label(rest: str, directives: Directives) -> Parsed:
    """LABEL key=value ... (or LABEL key value)."""
    return parse_name_val(rest, "LABEL", directives), None


def _reject_constant(name: str) -> None:
    """Go's JSON has no NaN or Infinity."""
    raise ValueError(name)


def _go_number(text: str) -> float:
    """A JSON number as Go decodes it into interface{}: a finite float64."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(text)
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_go_number, parse_int=_go_number)


def parse_json(rest: str) -> list[str]:
    """Decode a JSON array of strings like Go's ``json.Unmarshal``."""
    rest = trim_left_space(rest)
    if not rest.startswith("["):
        raise _NotJSON
    try:
        data = _DECODER.decode(rest)
    except (ValueError, RecursionError) as exc:
        raise _NotJSON from exc
    if not all(isinstance(item, str) for item in data):
        raise DockerfileSyntaxError(NOT_STRING_ARRAY)
    return [rune_text(item) for item in data]


def parse_maybe_json(rest: str, directives: Directives) -> Parsed:
    """RUN/CMD/ENTRYPOINT/SHELL: a JSON array, else the text as one argument."""
    if not rest:
        return None, None
    try:
        return chain(parse_json(rest)), {"json": True}
    except _NotJSON:
        return Node(value=rest), None


def parse_maybe_json_to_list(rest: str, directives: Directives) -> Parsed:
    """ADD/COPY/VOLUME: a JSON array, else blank-separated arguments."""
    try:
        return chain(parse_json(rest)), {"json": True}
    except _NotJSON:
        return parse_strings_whitespace_delimited(rest, directives)


def parse_health_config(rest: str, directives: Directives) -> Parsed:
    """HEALTHCHECK: a type word (CMD, NONE, ...) then parse_maybe_json of the rest.

    The type ends at the first white-space byte, like BuildKit's byte loop.
    """
    data = encode(rest)
    sep = 0
    while sep < len(data) and not is_space_byte(data[sep]):
        sep += 1
    nxt = sep
    while nxt < len(data) and is_space_byte(data[nxt]):
        nxt += 1
    if sep == 0:
        return None, None
    command, attributes = parse_maybe_json(decode(data[nxt:]), directives)
    return Node(value=decode(data[:sep]), next=command), attributes


DISPATCH: dict[str, LineParser] = {
    "add": parse_maybe_json_to_list,
    "arg": parse_name_or_name_val,
    "cmd": parse_maybe_json,
    "copy": parse_maybe_json_to_list,
    "entrypoint": parse_maybe_json,
    "env": parse_env,
    "expose": parse_strings_whitespace_delimited,
    "from": parse_strings_whitespace_delimited,
    "healthcheck": parse_health_config,
    "label": parse_label,
    "maintainer": parse_string,
    "run": parse_maybe_json,
    "shell": parse_maybe_json,
    "stopsignal": parse_string,
    "user": parse_string,
    "volume": parse_maybe_json_to_list,
    "workdir": parse_string,
}
"""Argument parser per instruction; ONBUILD is handled by the caller (it nests)."""
