"""A minimal streaming tar writer for archives Strata produces.

Headers come from ``tarfile.TarInfo.tobuf`` (PAX format, so long names and
big sizes are handled as the spec says); data is copied in large chunks with
no per-member buffering, so a layer of any size streams with flat memory.
"""

from __future__ import annotations

import tarfile
from typing import BinaryIO

BLOCK = 512
RECORD = 20 * BLOCK
CHUNK = 1 << 20


class TarWriter:
    """Write tar members to a binary stream; ``close`` writes the end-of-archive."""

    def __init__(self, out: BinaryIO, mtime: int = 0) -> None:
        self._out = out
        self._mtime = mtime
        self.offset = 0

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self.offset += len(data)

    def _info(self, name: str, type_: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = type_
        info.mode = mode
        info.size = size
        info.mtime = self._mtime
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    def add_dir(self, name: str, mode: int = 0o755) -> None:
        info = self._info(name.rstrip("/") + "/", tarfile.DIRTYPE, mode)
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644) -> None:
        info = self._info(name, tarfile.REGTYPE, mode, len(data))
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        self._write(data)
        self._pad(len(data))

    def add_stream(self, name: str, stream: BinaryIO, size: int, mode: int = 0o644) -> None:
        info = self._info(name, tarfile.REGTYPE, mode, size)
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        self.copy(stream, size)
        self._pad(size)

    def add_member(self, info: tarfile.TarInfo, stream: BinaryIO | None = None) -> None:
        """Copy a member as it is (used by export), with its data from *stream*."""
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        if info.isreg() and info.size:
            assert stream is not None
            self.copy(stream, info.size)
            self._pad(info.size)

    def copy(self, stream: BinaryIO, size: int) -> None:
        remaining = size
        while remaining:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                raise OSError(f"short read: {remaining} bytes missing")
            self._write(chunk)
            remaining -= len(chunk)

    def _pad(self, size: int) -> None:
        rem = size % BLOCK
        if rem:
            self._write(b"\0" * (BLOCK - rem))

    def close(self) -> None:
        self._write(b"\0" * (2 * BLOCK))
        rem = self.offset % RECORD
        if rem:
            self._write(b"\0" * (RECORD - rem))
        self._out.flush()

