"""Source trees for COPY/ADD: the build context (with .dockerignore) or a stage's rootfs.

A :class:`SourceTree` is a directory plus the rules for reading it: which
paths are excluded, and whether file owners are kept (a stage) or reset to
root (the context, as Docker does).  It resolves a COPY source (wildcards per
path component, as Go's ``filepath.Match``), lists a directory's contents in
tree order and hashes what a source holds for the cache key.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from engine.errors import NotFound

from .dockerignore import PatternMatcher, go_clean, read_patterns
from .rootfs import components, scoped_path
from .snapshot import tree_key


def has_wildcards(text: str) -> bool:
    i = 0
    while i < len(text):
        char = text[i]
        if char in "*?[":
            return True
        if char == "\\":
            i += 1
        i += 1
    return False


def _component_regex(pattern: str) -> re.Pattern[str]:
    """Go's filepath.Match for one path component, as a regex."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        i += 1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        elif char == "[":
            j = pattern.find("]", i + 1 if i < n and pattern[i] in "^!" else i)
            if j < 0:
                out.append(re.escape(char))
                continue
            body = pattern[i:j]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = j + 1
        else:
            out.append(re.escape(char))
    return re.compile("".join(out) + r"\Z", re.DOTALL)


@dataclass
class Item:
    """One path of a source tree, with its lstat."""

    rel: str
    host: str
    st: os.stat_result

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)


class SourceTree:
    """A directory COPY reads from."""

    def __init__(self, root: Path, matcher: PatternMatcher | None = None,
                 keep_owner: bool = False, label: str = "context") -> None:
        self.root = str(root)
        self.matcher = matcher if matcher else None
        self.keep_owner = keep_owner
        self.label = label

    def excluded(self, rel: str) -> bool:
        return bool(self.matcher and rel and self.matcher.matches(rel))

    def _has_included_below(self, rel: str) -> bool:
        """An excluded directory may still hold re-included (``!``) paths."""
        if not (self.matcher and self.matcher.exclusions):
            return False
        host = os.path.join(self.root, rel)
        if not os.path.isdir(host) or os.path.islink(host):
            return False
        for dirpath, dirnames, filenames in os.walk(host):
            base = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            for name in dirnames + filenames:
                if not self.excluded(f"{base}/{name}"):
                    return True
        return False

    def resolve(self, source: str) -> list[str]:
        """The relative paths a COPY source names; [] when a wildcard matches nothing.

        Raises NotFound for a missing (or excluded) literal path.
        """
        rel = "/".join(components(go_clean("/" + source)))
        if not has_wildcards(rel):
            host = scoped_path(self.root, rel, follow_last=False)
            if rel and (self.excluded(rel) or not os.path.lexists(host)):
                raise NotFound(f'"/{rel}": not found')
            return [rel]
        matches = [""]
        for part in components(rel):
            nxt = []
            for base in matches:
                if has_wildcards(part):
                    regex = _component_regex(part)
                    host = scoped_path(self.root, base, follow_last=True)
                    for name in self._listdir_host(host, base):
                        if regex.match(name):
                            nxt.append(f"{base}/{name}" if base else name)
                else:
                    candidate = f"{base}/{part}" if base else part
                    if os.path.lexists(scoped_path(self.root, candidate)) and not self.excluded(candidate):
                        nxt.append(candidate)
            matches = nxt
        return sorted(matches, key=tree_key)

    def _listdir_host(self, host: str, rel: str) -> list[str]:
        try:
            names = sorted(os.listdir(host))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [n for n in names if not self.excluded(f"{rel}/{n}" if rel else n)]

    def item(self, rel: str, follow: bool = True) -> Item:
        host = scoped_path(self.root, rel, follow_last=follow) if rel else self.root
        return Item(rel, host, os.lstat(host))

    def walk(self, rel: str) -> list[Item]:
        """Everything below directory *rel* (not itself), in tree order, exclusions applied."""
        top = scoped_path(self.root, rel, follow_last=True) if rel else self.root
        out: list[Item] = []
        stack = [("", top)]
        while stack:
            sub, host = stack.pop()
            try:
                names = sorted(os.listdir(host), reverse=True)
            except (FileNotFoundError, NotADirectoryError):
                continue
            batch = []
            for name in names:
                child = f"{sub}/{name}" if sub else name
                full_rel = f"{rel}/{child}" if rel else child
                path = os.path.join(host, name)
                st = os.lstat(path)
                if self.excluded(full_rel):
                    if stat.S_ISDIR(st.st_mode) and self._has_included_below(full_rel):
                        batch.append((child, path, st, True))
                    continue
                batch.append((child, path, st, False))
            for child, path, st, _implicit in batch:
                out.append(Item(child, path, st))
                if stat.S_ISDIR(st.st_mode):
                    stack.append((child, path))
        out.sort(key=lambda item: tree_key(item.rel))
        return out

    def digest(self, rel: str) -> str:
        """A content hash of source *rel* (a file, or a directory's tree) for cache keys."""
        h = hashlib.sha256()
        top = self.item(rel)
        items = [Item("", top.host, top.st)]
        if top.is_dir:
            items += self.walk(rel)
        for item in items:
            st = item.st
            mode = stat.S_IMODE(st.st_mode)
            kind = stat.S_IFMT(st.st_mode)
            h.update(f"{item.rel}\0{kind:o}\0{mode:o}\0".encode("utf-8", "surrogateescape"))
            if self.keep_owner:
                h.update(f"{st.st_uid}:{st.st_gid}\0".encode())
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(item.host).encode("utf-8", "surrogateescape"))
            elif stat.S_ISREG(st.st_mode):
                h.update(f"{st.st_size}\0".encode())
                h.update(_file_digest(item.host).encode())
            h.update(b"\n")
        return "sha256:" + h.hexdigest()


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def load_ignore(context: Path | None, dockerfile: Path | None) -> tuple[PatternMatcher | None, Path | None]:
    """The .dockerignore matcher (``<Dockerfile>.dockerignore`` wins) and its path."""
    candidates = []
    if dockerfile is not None:
        candidates.append(dockerfile.with_name(dockerfile.name + ".dockerignore"))
    if context is not None:
        candidates.append(context / ".dockerignore")
    for path in candidates:
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            return PatternMatcher(read_patterns(text)), path
    return None, None


__all__ = ["Item", "SourceTree", "has_wildcards", "load_ignore"]
