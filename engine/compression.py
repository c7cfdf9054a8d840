"""Stream compression: detection, streaming decompressors and compressors.

Layers come uncompressed, gzip- or zstd-compressed.  Everything here works on
chunks so that a layer of any size goes through with flat memory.
"""

from __future__ import annotations

import io
import zlib as _stdlib_zlib
from typing import BinaryIO, Iterator

import zstandard

try:  # zlib-ng inflates gzip about 4x faster than zlib; same API, same output format
    from zlib_ng import zlib_ng as zlib
except ImportError:  # pragma: no cover - zlib-ng has wheels for the common platforms
    zlib = _stdlib_zlib  # type: ignore[assignment]

from .errors import ArchiveError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 1 << 20


def detect(head: bytes) -> str | None:
    """Compression of a stream from its first bytes: "gzip", "zstd" or None."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


class Decompressor:
    """A push decompressor with one interface for none, gzip and zstd."""

    def __init__(self, compression: str | None) -> None:
        self.compression = compression
        if compression == "gzip":
            self._gzip = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        elif compression == "zstd":
            self._zstd = zstandard.ZstdDecompressor().decompressobj()
        elif compression is not None:
            raise ArchiveError(f"unsupported compression {compression!r}")

    def feed(self, data: bytes) -> bytes:
        """Decompress one chunk; returns what became available."""
        try:
            if self.compression == "gzip":
                out = self._gzip.decompress(data)
                # A gzip stream may hold several members (pigz, concatenated files).
                while self._gzip.eof and self._gzip.unused_data:
                    rest = self._gzip.unused_data
                    self._gzip = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
                    out += self._gzip.decompress(rest)
                return out
            if self.compression == "zstd":
                return self._zstd.decompress(data)
        except (zlib.error, _stdlib_zlib.error, zstandard.ZstdError) as exc:
            raise ArchiveError(f"decompressing {self.compression} stream: {exc}") from exc
        return data  # uncompressed: passed through as is (callers copy what they keep)

    def finish(self) -> bytes:
        """Flush what is left and check the stream was complete."""
        if self.compression == "gzip":
            out = self._gzip.flush()
            if not self._gzip.eof:
                raise ArchiveError("decompressing gzip stream: unexpected end of data")
            return out
        if self.compression == "zstd":
            return b""
        return b""


class DecompressingReader(io.RawIOBase):
    """A readable file object that decompresses another one on the fly."""

    def __init__(self, raw: BinaryIO, compression: str | None = None, head: bytes = b"") -> None:
        self._raw = raw
        if compression == "auto":
            head = head + raw.read(4 - len(head)) if len(head) < 4 else head
            compression = detect(head)
        self._dec = Decompressor(compression)
        self._pending = self._dec.feed(head) if head else b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending and not self._eof:
            chunk = self._raw.read(CHUNK)
            if not chunk:
                self._pending = self._dec.finish()
                self._eof = True
            else:
                self._pending = self._dec.feed(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_decompressed(raw: BinaryIO) -> tuple[BinaryIO, str | None]:
    """Wrap *raw* so that reading yields its decompressed bytes; returns (reader, compression)."""
    head = raw.read(4)
    compression = detect(head)
    reader = io.BufferedReader(DecompressingReader(raw, compression, head), buffer_size=CHUNK)
    return reader, compression


class Compressor:
    """A push compressor for gzip or zstd with one interface."""

    def __init__(self, compression: str, level: int | None = None) -> None:
        self.compression = compression
        if compression == "gzip":
            self._obj = zlib.compressobj(level if level is not None else 6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        elif compression == "zstd":
            cctx = zstandard.ZstdCompressor(level=level if level is not None else 3)
            self._obj = cctx.compressobj()
        else:
            raise ValueError(f"unsupported compression {compression!r}")

    def feed(self, data: bytes) -> bytes:
        return self._obj.compress(data)

    def finish(self) -> bytes:
        return self._obj.flush()


def iter_compressed(chunks: Iterator[bytes], compression: str | None) -> Iterator[bytes]:
    """Yield *chunks* compressed with *compression* (passed through when None)."""
    if compression is None:
        yield from chunks
        return
    comp = Compressor(compression)
    for chunk in chunks:
        out = comp.feed(chunk)
        if out:
            yield out
    yield comp.finish()
