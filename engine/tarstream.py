"""A lean streaming reader for the outer tar of an image archive.

``tarfile``'s stream mode copies every chunk several times; this reader parses
headers with ``TarInfo.frombuf`` (ustar, GNU base-256 numbers), handles GNU
long names and PAX records itself, and lets the caller ``readinto`` a reused
buffer, so member data is copied once on its way to the store.
"""

from __future__ import annotations

import tarfile
from typing import BinaryIO, Iterator

from .errors import ArchiveError

BLOCK = 512
_ZERO = bytes(BLOCK)
_DATA_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
_MAX_META = 1 << 20


class MemberReader:
    """Reads the data of the current member; nothing past its end."""

    def __init__(self, stream: "TarStream", size: int) -> None:
        self._stream = stream
        self.remaining = size

    def readinto(self, buffer: memoryview | bytearray) -> int:
        if self.remaining <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), self.remaining)]
        n = self._stream.readinto_raw(view)
        if n == 0:
            raise ArchiveError("reading archive: corrupt or truncated tar (unexpected end of data)")
        self.remaining -= n
        return n

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.remaining
        buf = bytearray(min(n, self.remaining))
        got = 0
        while got < len(buf):
            k = self.readinto(memoryview(buf)[got:])
            if k == 0:
                break
            got += k
        return bytes(buf[:got])


class TarStream:
    """Iterate ``(TarInfo, MemberReader)`` over a tar read sequentially from *raw*."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._readinto = getattr(raw, "readinto", None)
        self._global: dict[str, str] = {}
        self.offset = 0

    def readinto_raw(self, view: memoryview) -> int:
        if self._readinto is not None:
            n = self._readinto(view) or 0
        else:
            data = self._raw.read(len(view))
            n = len(data)
            view[:n] = data
        self.offset += n
        return n

    def _read_exact(self, n: int) -> bytes:
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = self.readinto_raw(view[got:])
            if k == 0:
                if got == 0 and n == BLOCK:
                    return b""
                raise ArchiveError("reading archive: corrupt or truncated tar (unexpected end of data)")
            got += k
        return bytes(buf)

    def _drain(self) -> None:
        """Read what follows the end-of-archive marker (record padding) so a writer
        piping the archive in never sees a broken pipe."""
        buf = bytearray(1 << 16)
        while self.readinto_raw(memoryview(buf)):
            pass

    def _skip(self, n: int) -> None:
        buf = bytearray(min(n, 1 << 20))
        while n > 0:
            k = self.readinto_raw(memoryview(buf)[: min(n, len(buf))])
            if k == 0:
                raise ArchiveError("reading archive: corrupt or truncated tar (unexpected end of data)")
            n -= k

    def _read_meta(self, size: int, what: str) -> bytes:
        if size > _MAX_META:
            raise ArchiveError(f"reading archive: {what} of {size} bytes is too large")
        data = self._read_exact(size) if size else b""
        self._skip(-size % BLOCK)
        return data

    def __iter__(self) -> Iterator[tuple[tarfile.TarInfo, MemberReader]]:
        pending: dict[str, str] = {}
        while True:
            start = self.offset
            block = self._read_exact(BLOCK)
            if not block:
                return
            if block == _ZERO:
                self._drain()
                return
            try:
                info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
            except tarfile.HeaderError as exc:
                if start == 0:
                    raise ArchiveError(f"reading archive: not a tar archive ({exc})") from exc
                raise ArchiveError(f"reading archive: corrupt tar header at offset {start} ({exc})") from exc
            if info.type == tarfile.GNUTYPE_LONGNAME:
                pending["path"] = _cstr(self._read_meta(info.size, "GNU long name"))
                continue
            if info.type == tarfile.GNUTYPE_LONGLINK:
                pending["linkpath"] = _cstr(self._read_meta(info.size, "GNU long link"))
                continue
            if info.type in (tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE):
                pending.update(parse_pax(self._read_meta(info.size, "PAX header")))
                continue
            if info.type == tarfile.XGLTYPE:
                self._global.update(parse_pax(self._read_meta(info.size, "PAX global header")))
                continue
            if info.type == tarfile.GNUTYPE_SPARSE:
                raise ArchiveError(f"reading archive: sparse member {info.name!r} is not supported here")
            _apply(info, {**self._global, **pending})
            pending = {}
            size = info.size if info.type in _DATA_TYPES else 0
            reader = MemberReader(self, size)
            yield info, reader
            if reader.remaining:
                self._skip(reader.remaining)
            self._skip(-size % BLOCK)


def _cstr(data: bytes) -> str:
    return data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def parse_pax(data: bytes) -> dict[str, str]:
    """Parse PAX extended header records (``"%d %s=%s\\n"``)."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ArchiveError("reading archive: malformed PAX header") from None
        if length <= 0 or pos + length > len(data):
            raise ArchiveError("reading archive: malformed PAX header")
        record = data[space + 1: pos + length - 1]
        key, _, value = record.partition(b"=")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


def _apply(info: tarfile.TarInfo, pax: dict[str, str]) -> None:
    if "path" in pax:
        info.name = pax["path"]
    if "linkpath" in pax:
        info.linkname = pax["linkpath"]
    try:
        if "size" in pax:
            info.size = int(pax["size"])
        if "uid" in pax:
            info.uid = int(pax["uid"])
        if "gid" in pax:
            info.gid = int(pax["gid"])
        if "mtime" in pax:
            info.mtime = float(pax["mtime"])
    except ValueError as exc:
        raise ArchiveError(f"reading archive: bad PAX value for {info.name!r}") from exc
    if info.type == tarfile.AREGTYPE and info.name.endswith("/"):
        info.type = tarfile.DIRTYPE
