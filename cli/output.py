"""Output helpers that print the way the docker CLI prints."""

from __future__ import annotations

import json
import sys
import time
import unicodedata
from typing import Any, Iterable, TextIO

_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]


def _go_g(value: float, precision: int) -> str:
    """Go's ``%.*g``: like C's, which Python's ``%g`` follows."""
    return "%.*g" % (precision, value)


def human_size(size: float, precision: int = 3) -> str:
    """go-units ``HumanSizeWithPrecision``: decimal units, ``%.3g`` (``1.24MB``, ``0B``)."""
    i = 0
    size = float(size)
    while size >= 1000 and i < len(_UNITS) - 1:
        size /= 1000.0
        i += 1
    return _go_g(size, precision) + _UNITS[i]


def bytes_size(size: float) -> str:
    """go-units ``BytesSize``: binary units (``1.5MiB``), as ``history`` never uses but pull does."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    i = 0
    size = float(size)
    while size >= 1024 and i < len(units) - 1:
        size /= 1024.0
        i += 1
    return _go_g(size, 4) + units[i]


def human_duration(seconds: float) -> str:
    """go-units ``HumanDuration``."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(round(seconds / 3600))
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def since(ts: float | None, now: float | None = None) -> str:
    """``CreatedSince``: ``3 days ago``, or ``N/A`` for an unknown time."""
    if not ts:
        return "N/A"
    now = time.time() if now is None else now
    return human_duration(now - ts) + " ago"


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def ellipsis(text: str, width: int) -> str:
    """docker's ``Ellipsis``: cut to *width* columns, ending with ``…``."""
    if display_width(text) <= width:
        return text
    out, w = "", 0
    for c in text:
        cw = display_width(c)
        if w + cw > width - 1:
            break
        out += c
        w += cw
    return out + "…"


def tabwrite(lines: Iterable[str], out: TextIO | None = None,
             minwidth: int = 10, padding: int = 3) -> None:
    """Go's ``tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`` as docker's formatter uses it.

    Cells are tab-terminated; the text after a line's last tab is not aligned.
    """
    out = out or sys.stdout
    rows = [line.split("\t") for line in lines]
    widths: dict[int, int] = {}
    for cells in rows:
        for i, cell in enumerate(cells[:-1]):
            widths[i] = max(widths.get(i, 0), display_width(cell) + padding, minwidth)
    for cells in rows:
        parts = [cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(cells[:-1])]
        out.write("".join(parts) + cells[-1] + "\n")


def go_json(obj: Any, indent: int | None = None) -> str:
    """Go's ``json.Marshal``/``MarshalIndent``: HTML characters escaped as ``\\u003c`` etc."""
    if indent is None:
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    else:
        text = json.dumps(obj, indent=indent, ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
