"""How much of an image is wasted: dive's efficiency analysis, its CI rules and export, image diff.

:func:`analyze` follows dive's ``filetree.Efficiency``: every leaf a layer
adds (a file, link, device or empty directory; directories with children do
not count) is one *occurrence* of its path with its tar size; a path the
image loses in a layer gets one more occurrence of size 0.  A path with two
or more occurrences is inefficient, and

* ``efficiency = sum(smallest occurrence) / sum(all occurrences)`` over all paths,
* ``wasted_bytes`` (dive's ``inefficientBytes``) = the sum of all occurrences of
  the inefficient paths,
* ``wasted_user_percent = wasted_bytes / (size of every layer but the first)``.

Two deliberate differences from dive, both about deletions: dive books a
deleted directory as one occurrence at the directory's own path (so ``rm -rf``
of a directory never shows as waste) and ignores opaque directories; here every
path the image loses — under a deleted or opaque directory too — gets its own
removal occurrence.  On images without directory deletions the numbers are
dive's.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections import namedtuple
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from engine.errors import StrataError
from engine.filetree import ImageTree
from engine.tarindex import Entry, LayerIndex, tree_key

__all__ = [
    "Analysis",
    "Change",
    "RuleResult",
    "WastedFile",
    "analyze",
    "ci_check",
    "diff",
    "dive_json_text",
    "parse_size",
    "to_dive_json",
]

WastedFile = namedtuple("WastedFile", "path count size layers wasted_by removed")
WastedFile.__doc__ = """A path that costs more than it gives.

``count`` occurrences totalling ``size`` bytes, in ``layers`` (layer indexes
in order, one per occurrence); ``wasted_by`` is the last of them, the layer
that overwrote or deleted the earlier copies; ``removed`` says the image no
longer has the path at all.
"""

RuleResult = namedtuple("RuleResult", "name status message")
RuleResult.__doc__ = """One CI rule's verdict: ``status`` is pass, fail, disabled or misconfigured."""

Change = namedtuple("Change", "kind path size")
Change.__doc__ = """One difference between two images: ``kind`` is A (added), C (changed) or D (deleted)."""

DISABLED = "disabled"
_ONES = re.compile(b"[^\x00]")
_NONZERO = bytes([0] + [1] * 255)
_ZERO = bytes([1] + [0] * 255)
_TWO_OR_MORE = bytes([0, 0] + [1] * 254)


@dataclass
class Analysis:
    """The result of :func:`analyze`."""

    efficiency: float
    size_bytes: int
    user_size_bytes: int
    wasted_bytes: int
    wasted_user_percent: float
    #: What collapsing duplicates would save: each inefficient path's total minus its smallest copy.
    reclaimable_bytes: int
    #: Inefficient paths, largest first.
    files: list[WastedFile] = field(default_factory=list)
    layer_sizes: list[int] = field(default_factory=list)


def _positions(flags: bytes) -> Iterator[int]:
    """Indexes of the non-zero bytes of *flags*."""
    return (m.start() for m in _ONES.finditer(flags))


def _layer_size(layer: LayerIndex, meta: dict) -> int:
    size = meta.get("size")
    return int(size) if size is not None else layer.total_size


def analyze(
    layers: Sequence[LayerIndex],
    layer_meta: Sequence[dict] | None = None,
    *,
    tree: ImageTree | None = None,
) -> Analysis:
    """Efficiency analysis of an image's layers (bottom first).

    ``layer_meta[i]`` may give ``"size"`` (the layer's size in bytes; default:
    the sum of its file sizes, as dive counts it).  Pass ``tree`` to reuse an
    :class:`~engine.filetree.ImageTree` of the same layers.
    """
    layers = list(layers)
    meta = list(layer_meta) if layer_meta is not None else [{} for _ in layers]
    if len(meta) != len(layers):
        raise StrataError(
            f"analysing image: {len(layers)} layers but {len(meta)} layer descriptions"
        )
    img = tree if tree is not None else ImageTree(layers)
    n = img.size
    counts = bytearray(n)  # occurrences per universe index (at most one per layer)
    totals = array("q", bytes(8 * n))
    smallest = array("q", bytes(8 * n))
    last = bytearray(n)  # last layer with an occurrence, + 1
    history: dict[int, list[int]] = {}  # layers of the paths seen twice or more

    def occur(i: int, layer: int, size: int) -> None:
        c = counts[i]
        if c:
            smallest[i] = min(smallest[i], size)
            if c == 1:
                history[i] = [last[i] - 1, layer]
            else:
                history[i].append(layer)
        else:
            smallest[i] = size
        counts[i] = c + 1
        totals[i] += size
        last[i] = layer + 1

    for k, ix in enumerate(layers):
        if k:
            # Paths the image loses in this layer (whiteouts, opaque dirs, replacements).
            before = img.kinds(k - 1).translate(_NONZERO)
            gone = img.kinds(k).translate(_ZERO)
            lost = int.from_bytes(before, "little") & int.from_bytes(gone, "little")
            for i in _positions(lost.to_bytes(n, "little")):
                if counts[i]:
                    occur(i, k, 0)
        # The layer's leaves: entries with no other entry of the layer under them.
        gids = img.layer_indexes(k)
        end = img.subtree_end
        sizes = ix.sizes
        count = len(gids)
        for row in range(count):
            g = gids[row]
            if row + 1 < count and gids[row + 1] < end[g]:
                continue  # a directory the layer also adds children to
            occur(g, k, sizes[row])

    minimum = sum(smallest)
    discovered = sum(totals)
    score = 1.0 if discovered == 0 else minimum / discovered

    final = img.kinds(len(layers) - 1) if layers else b""
    files = []
    for i in _positions(counts.translate(_TWO_OR_MORE)):
        files.append(
            WastedFile(
                img.path_of(i), counts[i], totals[i], tuple(history[i]), last[i] - 1,
                not final[i],
            )
        )
    files.sort(key=lambda f: (-f.size, f.path))
    wasted = sum(f.size for f in files)
    reclaimable = sum(totals[i] - smallest[i] for i in history)
    layer_sizes = [_layer_size(ix, m) for ix, m in zip(layers, meta)]
    user_size = sum(layer_sizes[1:])
    return Analysis(
        efficiency=score,
        size_bytes=sum(layer_sizes),
        user_size_bytes=user_size,
        wasted_bytes=wasted,
        wasted_user_percent=wasted / user_size if user_size else 0.0,
        reclaimable_bytes=reclaimable,
        files=files,
        layer_sizes=layer_sizes,
    )


def _meta_value(meta: dict, *names: str, default=""):
    for name in names:
        if meta.get(name) is not None:
            return meta[name]
    return default


def to_dive_json(analysis: Analysis, layer_meta: Sequence[dict] | None = None) -> dict:
    """The analysis in dive's ``--json`` export schema (a dict; ``json.dumps`` it).

    ``layer_meta[i]`` gives ``"id"``, ``"digest"`` (dive's ``digestId``: the
    layer's diff ID), ``"size"`` and ``"command"`` (the history's ``created_by``).
    """
    metas = list(layer_meta) if layer_meta is not None else [{} for _ in analysis.layer_sizes]
    layers = []
    for index, (size, meta) in enumerate(zip(analysis.layer_sizes, metas)):
        layers.append({
            "index": index,
            "id": _meta_value(meta, "id"),
            "digestId": _meta_value(meta, "digest", "digestId", "diff_id"),
            "sizeBytes": size,
            "command": _meta_value(meta, "command", "created_by"),
        })
    return {
        "layer": layers,
        "image": {
            "sizeBytes": analysis.size_bytes,
            "inefficientBytes": analysis.wasted_bytes,
            "efficiencyScore": analysis.efficiency,
            "fileReference": [
                {"count": f.count, "sizeBytes": f.size, "file": "/" + f.path}
                for f in analysis.files
            ],
        },
    }


def dive_json_text(analysis: Analysis, layer_meta: Sequence[dict] | None = None) -> str:
    """:func:`to_dive_json` serialised as dive does (two-space indent)."""
    return json.dumps(to_dive_json(analysis, layer_meta), indent=2)


# Units of go-humanize's ParseBytes, which dive uses for byte thresholds.
_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "ki": 1024, "kib": 1024,
    "m": 1000**2, "mb": 1000**2, "mi": 1024**2, "mib": 1024**2,
    "g": 1000**3, "gb": 1000**3, "gi": 1024**3, "gib": 1024**3,
    "t": 1000**4, "tb": 1000**4, "ti": 1024**4, "tib": 1024**4,
    "p": 1000**5, "pb": 1000**5, "pi": 1024**5, "pib": 1024**5,
    "e": 1000**6, "eb": 1000**6, "ei": 1024**6, "eib": 1024**6,
}


def parse_size(text: str | float) -> int:
    """Parse a byte count as dive does (go-humanize): ``"20MB"`` is 20*1000**2, ``"20MiB"`` 20*1024**2.

    Units are case-insensitive, may follow a space, and may drop the final
    ``b`` (``"20M"``); a plain number is bytes.  Raises ValueError.
    """
    if isinstance(text, bool):
        raise ValueError(f"invalid size {text!r}")  # noqa: TRY004 - one error type for callers
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"invalid size {text!r}: negative")
        return text
    if isinstance(text, float):
        if not math.isfinite(text) or text < 0:
            raise ValueError(f"invalid size {text!r}")
        return int(text)
    digits = 0
    for char in text:
        if not (char.isdigit() or char in ".,"):
            break
        digits += 1
    number = text[:digits].replace(",", "")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"invalid size {text!r}: no number") from None
    unit = text[digits:].strip().lower()
    if unit not in _UNITS:
        raise ValueError(f"invalid size {text!r}: unknown unit {unit!r}")
    value *= _UNITS[unit]
    if value >= 2**64:
        raise ValueError(f"invalid size {text!r}: too large")
    return int(value)


def _ratio(value, name: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError(f"{name} config value is outside allowed range (0-1), given '{value}'")
    return number


def ci_check(
    analysis: Analysis,
    lowest_efficiency: float | str = 0.9,
    highest_wasted_bytes: int | str = DISABLED,
    highest_user_wasted_percent: float | str = 0.1,
) -> list[RuleResult]:
    """Evaluate dive's three CI rules; a threshold of ``"disabled"`` skips its rule.

    Defaults are dive's.  A bad threshold gives a ``misconfigured`` result
    (dive then fails the run without evaluating).
    """
    results = []

    def rule(name: str, value, check) -> None:
        if isinstance(value, str) and value.strip().lower() == DISABLED:
            results.append(RuleResult(name, "disabled", "rule disabled"))
            return
        try:
            message = check(value)
        except (ValueError, TypeError) as err:
            results.append(RuleResult(name, "misconfigured", f"invalid config value ('{value}'): {err}"))
            return
        results.append(RuleResult(name, "fail" if message else "pass", message))

    def efficiency(value) -> str:
        threshold = _ratio(value, "lowestEfficiency")
        if threshold > analysis.efficiency:
            return (f"image efficiency is too low "
                    f"(efficiency={analysis.efficiency} < threshold={threshold})")
        return ""

    def wasted(value) -> str:
        threshold = parse_size(value)
        if analysis.wasted_bytes > threshold:
            return (f"too many bytes wasted "
                    f"(wasted-bytes={analysis.wasted_bytes} > threshold={threshold})")
        return ""

    def user_wasted(value) -> str:
        threshold = _ratio(value, "highestUserWastedPercent")
        if threshold < analysis.wasted_user_percent:
            return ("too many bytes wasted, relative to the user bytes added "
                    f"(%-user-wasted-bytes={analysis.wasted_user_percent} > threshold={threshold})")
        return ""

    rule("lowestEfficiency", lowest_efficiency, efficiency)
    rule("highestWastedBytes", highest_wasted_bytes, wasted)
    rule("highestUserWastedPercent", highest_user_wasted_percent, user_wasted)
    return results


def _entries(layers: Sequence[LayerIndex] | ImageTree) -> Iterator[Entry]:
    img = layers if isinstance(layers, ImageTree) else ImageTree(layers)
    if img.layer_count == 0:
        return iter(())
    return img.entries()


def _differs(old: Entry, new: Entry) -> bool:
    if old.type != new.type or old.mode != new.mode or old.uid != new.uid or old.gid != new.gid:
        return True
    if new.type == "dir":
        return False  # a directory's size and mtime say nothing (as docker/podman diff)
    return (
        old.size != new.size
        or old.mtime != new.mtime
        or old.linkname != new.linkname
        or (old.devmajor, old.devminor) != (new.devmajor, new.devminor)
    )


def diff(
    layers_a: Sequence[LayerIndex] | ImageTree, layers_b: Sequence[LayerIndex] | ImageTree
) -> list[Change]:
    """What changes from image A's merged tree to image B's, as ``podman image diff`` lists it.

    ``A``: only in B (an added directory's contents are listed too); ``D``:
    only in A (only the top-most deleted path); ``C``: in both with a
    different type, mode, owner or — for non-directories — size, mtime, link
    target or device; a directory that merely contains changes is listed as
    ``C`` too, as docker and podman do.  ``size`` is the entry's own size (B's,
    or A's for a deletion).  Paths have no leading ``/``; sorted by path.
    """
    old_iter = _entries(layers_a)
    new_iter = _entries(layers_b)
    changes: dict[str, Change] = {}
    deleted_dirs: list[str] = []
    old = next(old_iter, None)
    new = next(new_iter, None)
    while old is not None or new is not None:
        if new is None or (old is not None and tree_key(old.path) < tree_key(new.path)):
            # Only in A: report the top-most deletion only.
            if not deleted_dirs or not old.path.startswith(deleted_dirs[-1] + "/"):
                changes[old.path] = Change("D", old.path, old.size)
                if old.type == "dir":
                    deleted_dirs.append(old.path)
            old = next(old_iter, None)
        elif old is None or tree_key(new.path) < tree_key(old.path):
            changes[new.path] = Change("A", new.path, new.size)
            new = next(new_iter, None)
        else:
            if _differs(old, new):
                changes[new.path] = Change("C", new.path, new.size)
            old = next(old_iter, None)
            new = next(new_iter, None)
    # Directories holding a change are changed too (never the root).
    for path in list(changes):
        parent = path.rpartition("/")[0]
        while parent and parent not in changes:
            changes[parent] = Change("C", parent, 0)
            parent = parent.rpartition("/")[0]
    return sorted(changes.values(), key=lambda c: c.path)

