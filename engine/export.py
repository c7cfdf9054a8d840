"""``export``: an image's flattened filesystem as one tar, whiteouts applied."""

from __future__ import annotations

import tarfile
from typing import BinaryIO

from .archive_read import normalize_member_path
from .errors import ArchiveError
from .tarwriter import TarWriter

WHITEOUT_PREFIX = ".wh."


def final_providers(indexes) -> dict[str, int]:
    """For every path of the merged filesystem, the index of the layer that provides it.

    Layers are walked top-down: a path is taken from the highest layer that has it,
    unless an upper layer deleted it (``.wh.``), made a parent opaque, or replaced a
    parent directory by a non-directory.
    """
    provider: dict[str, int] = {}
    deleted: set[str] = set()
    opaque: set[str] = set()
    nondir: set[str] = set()
    for li in range(len(indexes) - 1, -1, -1):
        index = indexes[li]
        for entry in index.entries:
            path = entry.path
            if path in provider or _hidden(path, deleted, opaque, nondir):
                continue
            provider[path] = li
            if entry.type != "dir":
                nondir.add(path)
        deleted |= set(index.whiteouts)
        opaque |= set(index.opaque_dirs)
    return provider


def _hidden(path: str, deleted: set[str], opaque: set[str], nondir: set[str]) -> bool:
    if path in deleted:
        return True
    i = path.rfind("/")
    while i > 0:
        parent = path[:i]
        if parent in deleted or parent in opaque or parent in nondir:
            return True
        i = parent.rfind("/")
    return False


def layer_members(stream: BinaryIO):
    """Yield ``(tar, member, path)`` for each member of a layer tar stream, with its
    normalised path; members whose names escape the root are skipped (the layer
    index refused them when the layer entered the store)."""
    tar = tarfile.open(fileobj=stream, mode="r|")
    for member in tar:
        try:
            path = normalize_member_path(member.name)
        except ArchiveError:
            continue
        yield tar, member, path


def export_flat(image, indexes, out: BinaryIO) -> None:
    """Stream the merged filesystem of *image* to *out* as a tar."""
    provider = final_providers(indexes)
    writer = TarWriter(out)
    for li, layer in enumerate(image.layers):
        with layer.uncompressed() as stream:
            try:
                for tar, member, path in layer_members(stream):
                    if not path or provider.get(path) != li:
                        continue
                    member.name = path
                    if member.islnk():
                        member.linkname = normalize_member_path(member.linkname)
                    data = tar.extractfile(member) if member.isreg() else None
                    writer.add_member(member, data)
            except tarfile.TarError as exc:
                raise ArchiveError(f"exporting layer {li}: {exc}") from exc
    writer.close()
