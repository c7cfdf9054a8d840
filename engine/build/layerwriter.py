"""Write a new layer: tar members in, a staged (compressed) blob out.

One pass over the tar bytes hashes them (diff_id), feeds the store's tar
indexer and compresses them into a staged blob, so a layer is never written
twice.  Headers are PAX, with no user or group names and no access times, and
the archive ends with Go's two zero blocks, so the same members always give
the same diff_id; with an *epoch* (SOURCE_DATE_EPOCH) every mtime is clamped
to it, as BuildKit's ``rewrite-timestamp`` does.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import zlib
from typing import BinaryIO

from engine.content import ContentStore
from engine.errors import StrataError
from engine.ingest import StagedLayer
from engine.tarindex import TarIndexer

BLOCK = 512
CHUNK = 1 << 20
#: Compression of the layers a build writes: gzip as docker and BuildKit push them.
COMPRESSION = "gzip"
GZIP_LEVEL = 1


class _Sink:
    """The uncompressed tar bytes go through here."""

    def __init__(self, blobs: ContentStore, compression: str | None) -> None:
        self.writer = blobs.writer(what="build layer")
        self.diff = hashlib.sha256()
        self.size = 0
        self.indexer = TarIndexer()
        self.index_error: StrataError | None = None
        self.compression = compression
        self._zip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS) if compression else None
        self._buf: list[bytes] = []
        self._buffered = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        self._buf.append(data)
        self._buffered += len(data)
        if self._buffered >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self._buf:
            return
        data = b"".join(self._buf)
        self._buf, self._buffered = [], 0
        self.diff.update(data)
        self.size += len(data)
        if self.index_error is None:
            try:
                self.indexer.feed(data)
            except StrataError as exc:
                self.index_error = exc
        self.writer.write(self._zip.compress(data) if self._zip else data)

    def finish(self) -> StagedLayer:
        self.flush()
        if self._zip:
            self.writer.write(self._zip.flush())
        index = None
        if self.index_error is None:
            try:
                index = self.indexer.finish()
            except StrataError as exc:
                self.index_error = exc
        blob = self.writer.stage()
        return StagedLayer(blob, "sha256:" + self.diff.hexdigest(), self.size, self.compression,
                           index, self.index_error)

    def abort(self) -> None:
        self.writer.abort()


class LayerWriter:
    """Add members in order, then :meth:`finish` for the staged layer."""

    def __init__(self, blobs: ContentStore, epoch: int | None = None,
                 compression: str | None = COMPRESSION) -> None:
        self._sink = _Sink(blobs, compression)
        self.epoch = epoch
        self.count = 0

    def _header(self, name: str, kind: bytes, mode: int, uid: int, gid: int, mtime: float,
                size: int = 0, linkname: str = "", devmajor: int = 0, devminor: int = 0,
                xattrs: dict[str, bytes] | None = None) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode & 0o7777
        info.uid, info.gid = uid, gid
        info.uname = info.gname = ""
        mtime = int(mtime)
        if self.epoch is not None and mtime > self.epoch:
            mtime = self.epoch
        info.mtime = max(mtime, 0)
        info.size = size
        info.linkname = linkname
        info.devmajor, info.devminor = devmajor, devminor
        if xattrs:
            info.pax_headers = {"SCHILY.xattr." + k: v.decode("utf-8", "surrogateescape")
                                for k, v in sorted(xattrs.items())}
        self._sink.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        self.count += 1

    def _pad(self, size: int) -> None:
        rem = size % BLOCK
        if rem:
            self._sink.write(b"\0" * (BLOCK - rem))

    def add_dir(self, name: str, mode: int = 0o755, uid: int = 0, gid: int = 0,
                mtime: float = 0, xattrs: dict[str, bytes] | None = None) -> None:
        self._header(name.rstrip("/") + "/", tarfile.DIRTYPE, mode, uid, gid, mtime, xattrs=xattrs)

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644, uid: int = 0, gid: int = 0,
                  mtime: float = 0) -> None:
        self._header(name, tarfile.REGTYPE, mode, uid, gid, mtime, len(data))
        self._sink.write(data)
        self._pad(len(data))

    def add_file(self, name: str, source: str, size: int, mode: int = 0o644, uid: int = 0,
                 gid: int = 0, mtime: float = 0, xattrs: dict[str, bytes] | None = None) -> None:
        """A regular file whose content is read from host path *source* (exactly *size* bytes)."""
        self._header(name, tarfile.REGTYPE, mode, uid, gid, mtime, size, xattrs=xattrs)
        remaining = size
        with open(source, "rb") as f:
            while remaining:
                chunk = f.read(min(CHUNK, remaining))
                if not chunk:
                    raise StrataError(f"writing layer: {name} shrank while it was read")
                self._sink.write(chunk)
                remaining -= len(chunk)
        self._pad(size)

    def add_stream(self, name: str, stream: BinaryIO, size: int, mode: int = 0o644,
                   uid: int = 0, gid: int = 0, mtime: float = 0) -> None:
        self._header(name, tarfile.REGTYPE, mode, uid, gid, mtime, size)
        remaining = size
        while remaining:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                raise StrataError(f"writing layer: short read for {name}")
            self._sink.write(chunk)
            remaining -= len(chunk)
        self._pad(size)

    def add_symlink(self, name: str, target: str, uid: int = 0, gid: int = 0, mtime: float = 0) -> None:
        self._header(name, tarfile.SYMTYPE, 0o777, uid, gid, mtime, linkname=target)

    def add_hardlink(self, name: str, target: str, mode: int = 0o644, uid: int = 0, gid: int = 0,
                     mtime: float = 0) -> None:
        self._header(name, tarfile.LNKTYPE, mode, uid, gid, mtime, linkname=target)

    def add_device(self, name: str, kind: str, major: int, minor: int, mode: int, uid: int = 0,
                   gid: int = 0, mtime: float = 0) -> None:
        code = {"char": tarfile.CHRTYPE, "block": tarfile.BLKTYPE}[kind]
        self._header(name, code, mode, uid, gid, mtime, devmajor=major, devminor=minor)

    def add_fifo(self, name: str, mode: int, uid: int = 0, gid: int = 0, mtime: float = 0) -> None:
        self._header(name, tarfile.FIFOTYPE, mode, uid, gid, mtime)

    def add_whiteout(self, path: str) -> None:
        parent, _, base = path.rpartition("/")
        name = f"{parent}/.wh.{base}" if parent else f".wh.{base}"
        self._header(name, tarfile.REGTYPE, 0, 0, 0, 0)

    def add_opaque(self, directory: str) -> None:
        self._header(f"{directory}/.wh..wh..opq", tarfile.REGTYPE, 0, 0, 0, 0)

    def finish(self) -> StagedLayer:
        self._sink.write(b"\0" * (2 * BLOCK))
        return self._sink.finish()

    def abort(self) -> None:
        self._sink.abort()


def read_xattrs(path: str) -> dict[str, bytes]:
    """The extended attributes of *path* worth keeping in a layer (security.capability...)."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    out = {}
    for name in names:
        if name.startswith(("security.", "user.", "trusted.")) and name != "security.selinux":
            try:
                out[name] = os.getxattr(path, name, follow_symlinks=False)
            except OSError:
                pass
    return out


__all__ = ["COMPRESSION", "LayerWriter", "read_xattrs"]
