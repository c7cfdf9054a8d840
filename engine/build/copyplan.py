"""COPY/ADD as a list of layer entries, decided against the image's filesystem.

Docker's rules: a source directory's *contents* are copied; a file goes to
``DEST/name`` when DEST ends with ``/``, is an existing directory, or several
sources are copied, else it becomes DEST; missing parent directories are
created (0755, owned by ``--chown`` or root); context files are owned by root
unless ``--chown`` says otherwise, files from a stage keep their owners.
Existing symlinks to directories in the image are followed, as a copy into a
mounted rootfs would, so ``COPY lib/ /`` does not replace a ``/lib`` link.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from engine.errors import StrataError

from .context import SourceTree
from .fsview import View
from .layerwriter import LayerWriter, read_xattrs
from .rootfs import components
from .snapshot import tree_key


class CopyError(StrataError):
    """A COPY/ADD that cannot be carried out."""

    title = "Copy failed"


@dataclass
class Entry:
    """One member of the new layer."""

    path: str
    kind: str
    mode: int
    uid: int
    gid: int
    mtime: int
    host: str | None = None
    data: bytes | None = None
    size: int = 0
    link: str = ""
    rdev: int = 0


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "symlink"),
                       (stat.S_ISCHR, "char"), (stat.S_ISBLK, "block"), (stat.S_ISFIFO, "fifo")):
        if test(mode):
            return name
    return "socket"


class CopyPlan:
    """Collects the entries of one COPY/ADD."""

    def __init__(self, view: View, *, chown: tuple[int, int] | None, chmod: int | None,
                 epoch: int | None, now: int) -> None:
        self.view = view
        self.chown = chown
        self.chmod = chmod
        self.epoch = epoch
        self.now = now if epoch is None else epoch
        self.entries: dict[str, Entry] = {}

    # -- helpers -----------------------------------------------------------------

    def _owner(self, tree: SourceTree | None, st: os.stat_result | None) -> tuple[int, int]:
        if self.chown is not None:
            return self.chown
        if tree is not None and tree.keep_owner and st is not None:
            return st.st_uid, st.st_gid
        return 0, 0

    def _mode(self, kind: str, mode: int) -> int:
        if self.chmod is not None and kind != "symlink":
            return self.chmod
        return mode

    def _mtime(self, mtime: float) -> int:
        return self.epoch if self.epoch is not None else int(mtime)

    def ensure_dir(self, rel: str) -> str:
        """Make sure directory *rel* exists (creating parents); returns its resolved path."""
        resolved = self.view.resolve(rel, follow_last=True)
        parts = components(resolved)
        for i in range(1, len(parts) + 1):
            path = "/".join(parts[:i])
            if path in self.entries:
                if self.entries[path].kind != "dir":
                    raise CopyError(f"cannot copy to non-directory: /{path}")
                continue
            node = self.view.get(path)
            if node is None:
                uid, gid = self.chown or (0, 0)
                self.entries[path] = Entry(path, "dir", 0o755, uid, gid, self.now)
            elif node.kind == "dir":
                self.entries[path] = Entry(path, "dir", node.mode, node.uid, node.gid, node.mtime)
            else:
                raise CopyError(f"cannot copy to non-directory: /{path}")
        return resolved

    def _place(self, path: str, entry: Entry) -> None:
        existing = self.entries.get(path)
        if existing is not None and existing.kind == "dir" and entry.kind == "dir":
            existing.mode, existing.uid, existing.gid, existing.mtime = (
                entry.mode, entry.uid, entry.gid, entry.mtime)
            return
        if existing is not None and existing.kind == "dir":
            for other in [p for p in self.entries if p.startswith(path + "/")]:
                del self.entries[other]
        self.entries[path] = entry

    # -- sources -------------------------------------------------------------------

    def add_item(self, tree: SourceTree, host: str, st: os.stat_result, path: str) -> None:
        """One non-directory (or the directory entry itself) at image path *path*."""
        kind = _kind(st.st_mode)
        if kind == "socket":
            return
        uid, gid = self._owner(tree, st)
        mode = self._mode(kind, stat.S_IMODE(st.st_mode))
        entry = Entry(path, kind, mode, uid, gid, self._mtime(st.st_mtime), host=host,
                      size=st.st_size if kind == "file" else 0,
                      link=os.readlink(host) if kind == "symlink" else "", rdev=st.st_rdev)
        self._place(path, entry)

    def copy_tree(self, tree: SourceTree, rel: str, dest_dir: str) -> None:
        """The contents of source directory *rel* into image directory *dest_dir*."""
        top = tree.item(rel)
        target = self.ensure_dir(dest_dir)
        if target and self.view.get(target) is None:
            uid, gid = self._owner(tree, top.st)
            self._place(target, Entry(target, "dir", self._mode("dir", stat.S_IMODE(top.st.st_mode)),
                                      uid, gid, self._mtime(top.st.st_mtime)))
        targets = {"": target}
        for item in tree.walk(rel):
            parent_rel, _, name = item.rel.rpartition("/")
            parent = targets.get(parent_rel)
            if parent is None:
                continue
            path = f"{parent}/{name}" if parent else name
            if item.is_dir:
                node = self.view.get(path) if path not in self.entries else None
                if node is not None and node.kind == "symlink":
                    resolved = self.view.resolve(path, follow_last=True)
                    resolved_node = self.view.get(resolved)
                    if resolved_node is not None and resolved_node.kind == "dir":
                        self.ensure_dir(resolved)
                        targets[item.rel] = resolved
                        continue
                targets[item.rel] = path
            self.add_item(tree, item.host, item.st, path)

    def copy_file(self, tree: SourceTree | None, host: str, st: os.stat_result, target: str) -> None:
        parent, _, _ = target.rpartition("/")
        resolved_parent = self.ensure_dir(parent) if parent else ""
        name = target.rpartition("/")[2]
        path = f"{resolved_parent}/{name}" if resolved_parent else name
        node = self.view.get(path)
        if node is not None and node.kind == "symlink":
            resolved = self.view.resolve(path, follow_last=True)
            if self.view.get(resolved) is None or self.view.get(resolved).kind != "dir":
                path = resolved
        self.add_item(tree or SourceTree(os.path.dirname(host)), host, st, path)

    def add_host_file(self, target: str, host: str, size: int, mode: int, mtime: int) -> None:
        """A downloaded file (ADD URL): root-owned unless --chown, mode 0600 unless --chmod."""
        parent, _, name = target.rpartition("/")
        resolved_parent = self.ensure_dir(parent) if parent else ""
        path = f"{resolved_parent}/{name}" if resolved_parent else name
        uid, gid = self.chown or (0, 0)
        self._place(path, Entry(path, "file", self._mode("file", mode), uid, gid, self._mtime(mtime),
                                host=host, size=size))

    def add_bytes(self, target: str, data: bytes, mode: int, mtime: int | None = None) -> None:
        parent, _, name = target.rpartition("/")
        resolved_parent = self.ensure_dir(parent) if parent else ""
        path = f"{resolved_parent}/{name}" if resolved_parent else name
        uid, gid = self.chown or (0, 0)
        self._place(path, Entry(path, "file", self._mode("file", mode), uid, gid,
                                self.now if mtime is None or self.epoch is not None else mtime,
                                data=data, size=len(data)))

    def is_dir(self, rel: str) -> bool:
        if rel in self.entries:
            return self.entries[rel].kind == "dir"
        resolved = self.view.resolve(rel, follow_last=True)
        node = self.view.get(resolved)
        return node is not None and node.kind == "dir"

    # -- output ---------------------------------------------------------------------

    def write(self, writer: LayerWriter, keep_xattrs: bool = False) -> None:
        """Write the entries in tree order (hard links within the copy are not kept)."""
        for path in sorted(self.entries, key=tree_key):
            e = self.entries[path]
            if e.kind == "dir":
                writer.add_dir(path, e.mode, e.uid, e.gid, e.mtime)
            elif e.kind == "file":
                if e.data is not None:
                    writer.add_bytes(path, e.data, e.mode, e.uid, e.gid, e.mtime)
                else:
                    xattrs = read_xattrs(e.host) if keep_xattrs and e.host else None
                    writer.add_file(path, e.host, e.size, e.mode, e.uid, e.gid, e.mtime, xattrs=xattrs)
            elif e.kind == "symlink":
                writer.add_symlink(path, e.link, e.uid, e.gid, e.mtime)
            elif e.kind in ("char", "block"):
                writer.add_device(path, e.kind, os.major(e.rdev), os.minor(e.rdev), e.mode,
                                  e.uid, e.gid, e.mtime)
            elif e.kind == "fifo":
                writer.add_fifo(path, e.mode, e.uid, e.gid, e.mtime)


__all__ = ["CopyError", "CopyPlan", "Entry"]
