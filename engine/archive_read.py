"""Reading image archives in one streaming pass.

``docker save`` tars (before Docker 25: ``<id>/layer.tar``, ``<hex>.json``,
``manifest.json``, ``repositories``; from Docker 25: the same ``manifest.json``
beside an OCI layout), OCI layout tars (``oci-layout``, ``index.json``,
``blobs/sha256/…``: skopeo's oci-archive, buildah) — optionally compressed as a
whole with gzip or zstd.  Members may come in any order, so every regular
member is staged as a blob while it streams past (layers are also hashed for
their diff_id and indexed in the same pass); the archive is interpreted at
the end, and only what an image references is published.
"""

from __future__ import annotations

import posixpath
import tarfile
from dataclasses import dataclass, field
from typing import BinaryIO, Callable

from .compression import CHUNK, DecompressingReader, detect
from .content import ContentStore, StagedBlob
from .errors import ArchiveError, UnsafeArchive
from .ingest import LayerIngest, StagedLayer
from .tarstream import TarStream

JSON_LIMIT = 16 << 20


@dataclass
class Member:
    """What the pass learnt about one regular member of the archive."""

    path: str
    staged: StagedLayer | StagedBlob
    data: bytes | None = None  # small JSON members are kept in memory

    @property
    def digest(self) -> str:
        return self.staged.digest


@dataclass
class ArchiveContents:
    """The staged members of an archive, by path, with link aliases resolved."""

    members: dict[str, Member] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    by_digest: dict[str, Member] = field(default_factory=dict)

    def get(self, path: str) -> Member | None:
        path = normalize_member_path(path)
        seen = 0
        while path in self.links and seen < 40:
            path = self.links[path]
            seen += 1
        return self.members.get(path)

    def require(self, path: str, what: str) -> Member:
        member = self.get(path)
        if member is None:
            raise ArchiveError(f"reading archive: {what} {path!r} is missing")
        return member

    def json_bytes(self, member: Member, store: ContentStore) -> bytes:
        if member.data is not None:
            return member.data
        raise ArchiveError(f"reading archive: {member.path!r} is not a small JSON document")

    def staged_blobs(self) -> list[StagedBlob]:
        return [m.staged for m in self.members.values() if isinstance(m.staged, StagedBlob)]

    def staged_layers(self) -> list[StagedLayer]:
        return [m.staged for m in self.members.values() if isinstance(m.staged, StagedLayer)]


def normalize_member_path(name: str) -> str:
    """Normalise a member name; reject absolute paths and ``..`` components."""
    if name.startswith("/"):
        raise UnsafeArchive(f"archive member {name!r} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"archive member {name!r} escapes the archive root with '..'")
    return "/".join(parts)


def _link_target(member: tarfile.TarInfo, path: str) -> str:
    """Resolve a link member's target inside the archive, or raise UnsafeArchive."""
    target = member.linkname
    if member.issym():
        if target.startswith("/"):
            raise UnsafeArchive(f"archive member {member.name!r} links outside the archive to {target!r}")
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    else:  # hard link: relative to the archive root
        joined = posixpath.normpath(target)
    if joined.startswith("../") or joined == ".." or joined.startswith("/"):
        raise UnsafeArchive(f"archive member {member.name!r} links outside the archive to {target!r}")
    return normalize_member_path(joined)


def open_archive_stream(stream: BinaryIO) -> BinaryIO:
    """Undo whole-archive gzip/zstd compression, detected from the first bytes."""
    head = stream.read(4)
    compression = detect(head)
    if compression is None:
        return _Prefixed(head, stream)
    return DecompressingReader(stream, compression, head)


class _Prefixed:
    """A reader that yields *head* and then the rest of *stream*."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n is None or n < 0:
                out, self._head = self._head + self._stream.read(), b""
                return out
            out, self._head = self._head[:n], self._head[n:]
            if len(out) < n:
                out += self._stream.read(n - len(out))
            return out
        return self._stream.read(n)

    def readinto(self, view) -> int:
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        readinto = getattr(self._stream, "readinto", None)
        if readinto is not None:
            return readinto(view) or 0
        data = self._stream.read(len(view))
        view[:len(data)] = data
        return len(data)


def read_archive(stream: BinaryIO, blobs: ContentStore,
                 on_bytes: Callable[[int], None] | None = None) -> ArchiveContents:
    """Stage every member of an image archive; the caller publishes or discards."""
    contents = ArchiveContents()
    buffer = bytearray(CHUNK)
    try:
        for member, reader in TarStream(open_archive_stream(stream)):
            path = normalize_member_path(member.name)
            if member.isdir() or not path:
                continue
            if member.issym() or member.islnk():
                contents.links[path] = _link_target(member, path)
                continue
            if not member.isreg():
                raise UnsafeArchive(
                    f"archive member {member.name!r} is a device or special file, not allowed in an image archive")
            staged = _stage_member(reader, member, blobs, on_bytes, buffer)
            contents.members[path] = staged
            contents.by_digest.setdefault(staged.digest, staged)
    except OSError as exc:
        _discard(contents, blobs)
        raise ArchiveError(f"reading archive: corrupt or truncated tar ({exc})") from exc
    except BaseException:
        _discard(contents, blobs)
        raise
    if not contents.members and not contents.links:
        raise ArchiveError("reading archive: not a tar archive, or an empty one")
    return contents


def read_directory(root, blobs: ContentStore,
                   on_bytes: Callable[[int], None] | None = None) -> ArchiveContents:
    """Stage an image layout *directory* (an OCI layout, or an unpacked docker save)."""
    import os
    from pathlib import Path

    root = Path(root)
    contents = ArchiveContents()
    try:
        for dirpath, _dirnames, filenames in os.walk(root):
            for name in sorted(filenames):
                full = Path(dirpath) / name
                rel = full.relative_to(root).as_posix()
                if full.is_symlink():
                    target = os.readlink(full)
                    info = tarfile.TarInfo(rel)
                    info.type, info.linkname = tarfile.SYMTYPE, target
                    contents.links[normalize_member_path(rel)] = _link_target(info, normalize_member_path(rel))
                    continue
                if not full.is_file():
                    raise UnsafeArchive(f"layout member {rel!r} is a device or special file")
                info = tarfile.TarInfo(rel)
                info.size = full.stat().st_size
                with open(full, "rb") as f:
                    staged = _stage_member(f, info, blobs, on_bytes)
                contents.members[staged.path] = staged
                contents.by_digest.setdefault(staged.digest, staged)
    except OSError as exc:
        _discard(contents, blobs)
        raise ArchiveError(f"reading layout {root}: {exc.strerror or exc}") from exc
    except BaseException:
        _discard(contents, blobs)
        raise
    return contents


def _stage_member(reader, member: tarfile.TarInfo, blobs: ContentStore,
                  on_bytes: Callable[[int], None] | None, buffer: bytearray | None = None) -> Member:
    """Stage one regular member: small JSON kept in memory too, anything else as a layer."""
    path = member.name
    buffer = buffer if buffer is not None else bytearray(CHUNK)
    view = memoryview(buffer)
    first = _fill(reader, view)
    head = bytes(view[:1])
    if head in (b"{", b"[") and member.size <= JSON_LIMIT:
        data = bytes(view[:first]) + _read_rest(reader, member.size - first)
        if len(data) != member.size:
            raise ArchiveError(f"reading archive: member {path!r} is truncated")
        writer = blobs.writer(expected_size=member.size, what=path)
        try:
            writer.write(data)
            staged = writer.stage()
        except BaseException:
            writer.abort()
            raise
        if on_bytes:
            on_bytes(len(data))
        return Member(normalize_member_path(path), staged, data)
    ingest = LayerIngest(blobs, expected_size=member.size, what=f"archive member {path!r}")
    try:
        n, total = first, 0
        while n:
            ingest.write(view[:n])
            total += n
            if on_bytes:
                on_bytes(n)
            n = _fill(reader, view)
        if total != member.size:
            raise ArchiveError(f"reading archive: member {path!r} is truncated")
        staged = ingest.stage()
    except BaseException:
        ingest.abort()
        raise
    return Member(normalize_member_path(path), staged)


def _fill(reader, view: memoryview) -> int:
    """Read into *view* until it is full or the member ends; returns the bytes read."""
    got = 0
    while got < len(view):
        k = reader.readinto(view[got:])
        if not k:
            break
        got += k
    return got


def _read_rest(reader, size: int) -> bytes:
    return reader.read(size) if size > 0 else b""


def _discard(contents: ArchiveContents, blobs: ContentStore) -> None:
    for member in contents.members.values():
        blob = member.staged.blob if isinstance(member.staged, StagedLayer) else member.staged
        blobs.discard(blob)
