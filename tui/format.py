"""How the TUI writes sizes, ages, IDs and change statuses."""

from __future__ import annotations

from cli.output import human_size, since
from engine.listing import parse_time

from . import clock

__all__ = ["DIFF_STATUS", "STATUS_MARKS", "STATUS_STYLES", "age", "human_size", "mode_string", "one_line",
           "short_id"]

#: One character per change status, so the tree reads right without colour (NO_COLOR).
STATUS_MARKS = {"added": "+", "modified": "~", "removed": "-", "unchanged": " "}
STATUS_STYLES = {"added": "green", "modified": "yellow", "removed": "red", "unchanged": ""}
#: Change kinds of an image diff, as statuses.
DIFF_STATUS = {"A": "added", "C": "modified", "D": "removed"}


def short_id(image_id: str) -> str:
    """The 12 hex digits docker shows."""
    return image_id.partition(":")[2][:12] if ":" in image_id else image_id[:12]


def age(created: str | None) -> str:
    """``3 days ago`` for an RFC 3339 time, against the TUI's clock."""
    dt = parse_time(created)
    return since(dt.timestamp() if dt else None, now=clock.now())


def mode_string(kind: str, mode: int) -> str:
    """``drwxr-xr-x`` as ls writes it."""
    first = {"dir": "d", "symlink": "l", "hardlink": "h", "char": "c", "block": "b", "fifo": "p"}.get(kind, "-")
    out = []
    for shift in (6, 3, 0):
        bits = (mode >> shift) & 7
        out += ["r" if bits & 4 else "-", "w" if bits & 2 else "-", "x" if bits & 1 else "-"]
    if mode & 0o4000:
        out[2] = "s" if out[2] == "x" else "S"
    if mode & 0o2000:
        out[5] = "s" if out[5] == "x" else "S"
    if mode & 0o1000:
        out[8] = "t" if out[8] == "x" else "T"
    return first + "".join(out)


def one_line(text: str, width: int) -> str:
    """*text* on one line, cut to *width* with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
