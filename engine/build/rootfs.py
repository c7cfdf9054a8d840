"""Assemble a root filesystem from layer tars, safely.

:func:`apply_layer` extracts one layer over a directory the way a container
runtime does: ``.wh.NAME`` deletes a lower path, ``.wh..wh..opq`` empties a
lower directory, a member replaces whatever was at its path.  Every path is
resolved inside the root (symlinks in parent components are followed *within*
the root, absolute targets are re-rooted), so no member can write outside it.
:class:`Rootfs` keeps a directory in step with a list of layers, applying only
the layers it has not applied yet.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
from pathlib import Path
from typing import BinaryIO, Callable

from engine.errors import ArchiveError, UnsafeArchive

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_LINKS = 255
IS_ROOT = os.geteuid() == 0


def components(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


def clean_member(name: str) -> str:
    """A member name as a relative path; refuses names that climb out of the root."""
    parts: list[str] = []
    for part in components(name):
        if part == "..":
            if not parts:
                raise UnsafeArchive(f"layer member {name!r} points outside the root")
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def walk_links(rel: str, link_at: Callable[[list[str]], str | None],
               follow_last: bool = False) -> tuple[list[str], bool]:
    """Resolve the symlinks in *rel* component by component, never above the root.

    *link_at* is given the components of a path and answers with its link
    target if a symlink stands there, or ``None`` (missing or not a link).
    ``..`` stops at the root and an absolute target restarts from it.  Returns
    the resolved components and whether the walk gave up after more than
    :data:`MAX_LINKS` links (what was resolved by then is returned).
    """
    pending = components(rel)
    pending.reverse()
    resolved: list[str] = []
    hops = 0
    while pending:
        part = pending.pop()
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        if pending or follow_last:
            target = link_at([*resolved, part])
            if target is not None:
                hops += 1
                if hops > MAX_LINKS:
                    return resolved, True
                if target.startswith("/"):
                    resolved = []
                more = components(target)
                more.reverse()
                pending.extend(more)
                continue
        resolved.append(part)
    return resolved, False


def scoped_path(root: str, rel: str, follow_last: bool = False) -> str:
    """The host path of *rel* inside *root*, symlinks resolved without leaving *root*."""

    def link_at(parts: list[str]) -> str | None:
        candidate = os.path.join(root, *parts)
        try:
            st = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return os.readlink(candidate) if stat.S_ISLNK(st.st_mode) else None

    resolved, looped = walk_links(rel, link_at, follow_last)
    if looped:
        raise UnsafeArchive(f"too many levels of symbolic links resolving {rel!r}")
    return os.path.join(root, *resolved)


def remove_path(path: str) -> None:
    """Remove a file, link or directory tree (making read-only dirs writable first)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        rmtree(path)
    else:
        os.unlink(path)


def rmtree(path: str | Path) -> None:
    def onerror(func, failed, _exc):
        try:
            os.chmod(os.path.dirname(failed), 0o700)
            if os.path.isdir(failed) and not os.path.islink(failed):
                os.chmod(failed, 0o700)
            func(failed)
        except OSError:
            pass

    shutil.rmtree(path, onerror=onerror)


def _ensure_dir(root: str, rel: str) -> str:
    """The host path of directory *rel*, created (0755, root-owned) where missing."""
    path = scoped_path(root, rel, follow_last=True)
    try:
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode):
            return path
        os.unlink(path)
    except FileNotFoundError:
        pass
    parent = os.path.dirname(rel)
    if parent and parent != rel:
        _ensure_dir(root, parent)
    os.mkdir(path, 0o755)
    return path


def _set_meta(path: str, info: tarfile.TarInfo, is_link: bool) -> None:
    if IS_ROOT:
        try:
            os.lchown(path, info.uid, info.gid)
        except OSError:
            pass
    if not is_link:
        os.chmod(path, info.mode & 0o7777)
        for key, value in info.pax_headers.items():
            if key.startswith("SCHILY.xattr.") and IS_ROOT:
                try:
                    os.setxattr(path, key[13:], value.encode("utf-8", "surrogateescape"))
                except OSError:
                    pass
    try:
        os.utime(path, (info.mtime, info.mtime), follow_symlinks=False)
    except OSError:
        pass


def apply_layer(root: str | Path, stream: BinaryIO, on_member: Callable[[], None] | None = None,
                mode: str = "r|") -> None:
    """Extract the layer tar *stream* over *root*, applying whiteouts.

    *mode* is tarfile's: ``"r|*"`` also reads a compressed archive (ADD).
    """
    root = str(root)
    here: set[str] = set()
    dirs: list[tuple[str, tarfile.TarInfo]] = []
    try:
        tar = tarfile.open(fileobj=stream, mode=mode)
        for info in tar:
            if on_member is not None:
                on_member()
            rel = clean_member(info.name)
            if not rel:
                continue
            parent_rel, _, base = rel.rpartition("/")
            if base.startswith(WHITEOUT):
                _whiteout(root, parent_rel, base, here)
                continue
            parent = _ensure_dir(root, parent_rel) if parent_rel else root
            target = os.path.join(parent, base)
            _extract(root, tar, info, target, rel)
            here.add(rel)
            if info.isdir():
                dirs.append((target, info))
    except tarfile.TarError as exc:
        raise ArchiveError(f"extracting layer: {exc}") from exc
    for target, info in reversed(dirs):
        try:
            os.utime(target, (info.mtime, info.mtime), follow_symlinks=False)
        except OSError:
            pass


def _whiteout(root: str, parent_rel: str, base: str, here: set[str]) -> None:
    parent = scoped_path(root, parent_rel, follow_last=True) if parent_rel else root
    if base == OPAQUE:
        try:
            names = os.listdir(parent)
        except (FileNotFoundError, NotADirectoryError):
            return
        for name in names:
            child_rel = f"{parent_rel}/{name}" if parent_rel else name
            if child_rel not in here:
                remove_path(os.path.join(parent, name))
        return
    name = base[len(WHITEOUT):]
    rel = f"{parent_rel}/{name}" if parent_rel else name
    if rel not in here and name not in ("", ".", ".."):
        remove_path(os.path.join(parent, name))


def _extract(root: str, tar: tarfile.TarFile, info: tarfile.TarInfo, target: str, rel: str) -> None:
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not (info.isdir() and stat.S_ISDIR(st.st_mode)):
        remove_path(target)
        st = None
    if info.isdir():
        if st is None:
            os.mkdir(target, 0o700)
        _set_meta(target, info, False)
    elif info.issym():
        os.symlink(info.linkname, target)
        _set_meta(target, info, True)
    elif info.islnk():
        source = scoped_path(root, clean_member(info.linkname))
        try:
            os.link(source, target, follow_symlinks=False)
        except FileNotFoundError:
            raise ArchiveError(f"extracting layer: hard link {rel!r} to missing {info.linkname!r}") from None
    elif info.ischr() or info.isblk():
        if IS_ROOT:
            kind = stat.S_IFCHR if info.ischr() else stat.S_IFBLK
            os.mknod(target, kind | (info.mode & 0o7777), os.makedev(info.devmajor, info.devminor))
            _set_meta(target, info, False)
    elif info.isfifo():
        os.mkfifo(target, info.mode & 0o7777)
        _set_meta(target, info, False)
    else:
        source = tar.extractfile(info)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            if source is not None:
                shutil.copyfileobj(source, out, 1 << 20)
        _set_meta(target, info, False)


class Rootfs:
    """A directory kept equal to the merged filesystem of a list of layers."""

    def __init__(self, path: Path, open_layer: Callable[[str], BinaryIO]) -> None:
        self.path = path
        self.applied: list[str] = []  # layer digests, bottom first
        self._open = open_layer
        path.mkdir(parents=True, exist_ok=True)

    def sync(self, digests: list[str], on_layer: Callable[[int, int], None] | None = None) -> None:
        """Make the directory the merge of *digests* (applies only the missing top layers)."""
        if self.applied != digests[: len(self.applied)]:
            rmtree(self.path)
            self.path.mkdir(parents=True)
            self.applied = []
        for i in range(len(self.applied), len(digests)):
            if on_layer is not None:
                on_layer(i, len(digests))
            with self._open(digests[i]) as stream:
                apply_layer(self.path, stream)
            self.applied.append(digests[i])

    def mark(self, digests: list[str]) -> None:
        """Record that the directory already holds *digests* (after a RUN changed it)."""
        self.applied = list(digests)

    def remove(self) -> None:
        if self.path.exists():
            rmtree(self.path)
        self.applied = []


__all__ = ["Rootfs", "apply_layer", "clean_member", "components", "remove_path", "rmtree",
           "scoped_path"]
