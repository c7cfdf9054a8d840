"""Read-only views of an image's merged filesystem, for COPY destinations.

:class:`IndexView` answers from the layers' file indexes (no extraction);
:class:`DirView` from a materialised rootfs.  Both return :class:`Node` facts
and resolve symlinks in a path within the root, as a copy into a mounted
rootfs would.
"""

from __future__ import annotations

import os
import stat
import tarfile
from typing import NamedTuple

from engine.export import final_providers

from .rootfs import components, scoped_path, walk_links


class Node(NamedTuple):
    kind: str  # file, dir, symlink, hardlink, char, block, fifo
    mode: int
    uid: int
    gid: int
    mtime: int
    link: str = ""


class View:
    """Common path resolution over :meth:`get`."""

    def get(self, rel: str) -> Node | None:  # pragma: no cover - interface
        raise NotImplementedError

    def resolve(self, rel: str, follow_last: bool = True) -> str:
        """*rel* with symlinks in its components resolved inside the root."""

        def link_at(parts: list[str]) -> str | None:
            node = self.get("/".join(parts))
            return node.link if node is not None and node.kind == "symlink" else None

        return "/".join(walk_links(rel, link_at, follow_last)[0])

    def read(self, rel: str) -> bytes | None:  # pragma: no cover - interface
        raise NotImplementedError


class IndexView(View):
    """The merged filesystem of layers, from their indexes."""

    def __init__(self, indexes: list, open_layer=None) -> None:
        self.indexes = indexes
        self.providers = final_providers(indexes)
        self._open_layer = open_layer

    def get(self, rel: str) -> Node | None:
        li = self.providers.get(rel)
        if li is None:
            return None
        entry = self.indexes[li].get(rel)
        if entry is None:
            return None
        return Node(entry.type, entry.mode & 0o7777, entry.uid, entry.gid, entry.mtime, entry.linkname)

    def read(self, rel: str) -> bytes | None:
        """A small file's content (e.g. /etc/passwd), read out of its layer."""
        path = self.resolve(rel)
        li = self.providers.get(path)
        if li is None or self._open_layer is None:
            return None
        with self._open_layer(li) as stream:
            tar = tarfile.open(fileobj=stream, mode="r|")
            for member in tar:
                name = "/".join(components(member.name))
                if name == path and member.isreg():
                    f = tar.extractfile(member)
                    return f.read() if f else b""
        return None


class DirView(View):
    """A materialised rootfs directory."""

    def __init__(self, root: str) -> None:
        self.root = root

    def get(self, rel: str) -> Node | None:
        try:
            st = os.lstat(os.path.join(self.root, rel))
        except (FileNotFoundError, NotADirectoryError):
            return None
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            kind = "dir"
        elif stat.S_ISLNK(mode):
            kind = "symlink"
        elif stat.S_ISREG(mode):
            kind = "file"
        elif stat.S_ISCHR(mode):
            kind = "char"
        elif stat.S_ISBLK(mode):
            kind = "block"
        else:
            kind = "fifo"
        link = os.readlink(os.path.join(self.root, rel)) if kind == "symlink" else ""
        return Node(kind, stat.S_IMODE(mode), st.st_uid, st.st_gid, int(st.st_mtime), link)

    def read(self, rel: str) -> bytes | None:
        try:
            with open(scoped_path(self.root, rel, follow_last=True), "rb") as f:
                return f.read()
        except OSError:
            return None


__all__ = ["DirView", "IndexView", "Node", "View"]
