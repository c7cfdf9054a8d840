"""Filesystem snapshots of a rootfs and the difference between two of them.

A snapshot maps every path under the root to the ``lstat`` facts that change
when a file is written, replaced, chmod-ed or chown-ed (type, mode, owner,
size, mtime, ctime, inode, link target).  :func:`diff` turns two snapshots
into the changes of a layer: paths added or changed (with their parent
directories, as containerd's differ writes them), whiteouts for deletions, and
opaque directories where a directory was replaced by a new one.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import NamedTuple


class Info(NamedTuple):
    """What a snapshot records of one path."""

    kind: str  # file, dir, symlink, char, block, fifo, socket
    mode: int
    uid: int
    gid: int
    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    nlink: int
    rdev: int
    link: str


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode):
        return "char"
    if stat.S_ISBLK(mode):
        return "block"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "socket"


def info_of(path: str, st: os.stat_result | None = None) -> Info:
    st = st or os.lstat(path)
    kind = _kind(st.st_mode)
    link = os.readlink(path) if kind == "symlink" else ""
    return Info(kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                st.st_size if kind == "file" else 0, st.st_mtime_ns, st.st_ctime_ns,
                st.st_ino, st.st_nlink, st.st_rdev, link)


def snapshot(root: str, skip: frozenset[str] = frozenset()) -> dict[str, Info]:
    """Every path under *root* (relative, '/'-separated) with its Info; *skip* prunes subtrees."""
    out: dict[str, Info] = {}
    stack = [("", root)]
    while stack:
        rel_dir, host_dir = stack.pop()
        try:
            entries = list(os.scandir(host_dir))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if rel in skip:
                continue
            info = info_of(entry.path, entry.stat(follow_symlinks=False))
            out[rel] = info
            if info.kind == "dir":
                stack.append((rel, entry.path))
    return out


def _same(a: Info, b: Info) -> bool:
    if a.kind != b.kind or a.ino != b.ino:
        return False
    if a.kind == "dir":
        return (a.mode, a.uid, a.gid, a.mtime_ns) == (b.mode, b.uid, b.gid, b.mtime_ns)
    return a == b


@dataclass
class Changes:
    """The content of a layer, in tree order."""

    entries: list[str] = field(default_factory=list)     # paths to write from the new tree
    whiteouts: list[str] = field(default_factory=list)   # paths deleted
    opaque: list[str] = field(default_factory=list)      # directories replaced

    def __bool__(self) -> bool:
        return bool(self.entries or self.whiteouts or self.opaque)


def tree_key(path: str) -> str:
    return path.replace("/", "\0")


def diff(before: dict[str, Info], after: dict[str, Info]) -> Changes:
    """The layer that turns *before* into *after*.

    A directory that was replaced (a new inode), or whose every old entry is
    gone, becomes opaque rather than a list of whiteouts: inode numbers are
    reused at once on most filesystems, so ``rm -rf d && mkdir d`` can keep
    the number, and both forms give the same merged filesystem.
    """
    deleted = {p for p in before if p not in after}
    kept_children: set[str] = set()
    had_children: set[str] = set()
    for path in before:
        parent = path.rpartition("/")[0]
        if parent:
            had_children.add(parent)
            if path not in deleted:
                kept_children.add(parent)
    changed: set[str] = set()
    opaque: set[str] = set()
    for path, info in after.items():
        old = before.get(path)
        if old is None:
            changed.add(path)
            continue
        if info.kind == "dir" and old.kind == "dir" and (
                old.ino != info.ino or (path in had_children and path not in kept_children)):
            opaque.add(path)
            changed.add(path)
        elif not _same(old, info):
            changed.add(path)
    # Everything below a replaced directory is new content of the layer.
    if opaque:
        for path in after:
            if _under_any(path, opaque):
                changed.add(path)
    whiteouts = []
    for path in deleted:
        parent = path.rpartition("/")[0]
        if parent and parent in deleted:
            continue
        if _under_any(path, opaque):
            continue
        if _ancestor_not_dir(path, after):
            continue
        whiteouts.append(path)
    entries = set(changed)
    for path in list(changed) + whiteouts:
        parent = path.rpartition("/")[0]
        while parent and parent not in entries:
            if parent in after:
                entries.add(parent)
            parent = parent.rpartition("/")[0]
    return Changes(sorted(entries, key=tree_key), sorted(whiteouts, key=tree_key),
                   sorted(opaque, key=tree_key))


def _under_any(path: str, dirs: set[str]) -> bool:
    parent = path.rpartition("/")[0]
    while parent:
        if parent in dirs:
            return True
        parent = parent.rpartition("/")[0]
    return False


def _ancestor_not_dir(path: str, after: dict[str, Info]) -> bool:
    parent = path.rpartition("/")[0]
    while parent:
        info = after.get(parent)
        if info is not None and info.kind != "dir":
            return True
        parent = parent.rpartition("/")[0]
    return False


__all__ = ["Changes", "Info", "diff", "info_of", "snapshot", "tree_key"]
