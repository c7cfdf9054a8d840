"""Streaming tar header reader that indexes a layer without unpacking it.

:class:`TarIndexer` is push-based: the store feeds it the uncompressed bytes of
a layer in whatever chunks it has (the same pass that hashes and writes the
blob), and :meth:`TarIndexer.finish` returns a :class:`LayerIndex`.  The reader
parses ustar, GNU and PAX headers itself (no :mod:`tarfile`): it verifies every
header checksum, decodes octal and base-256 numbers, GNU long names and links,
PAX per-entry and global records, old GNU and PAX sparse files, and skips
member data without copying it.

A :class:`LayerIndex` is columnar: one list or array per attribute, all in
*tree order* (paths compared component by component, so ``a/b`` sorts before
``a-b`` and every directory's subtree directly follows it).  It keeps the
layer's whiteouts apart from its entries and saves itself in a compact,
compressed file (:meth:`LayerIndex.write` / :meth:`LayerIndex.read`).
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile
import zlib
from array import array
from bisect import bisect_left
from collections import namedtuple
from collections.abc import Iterator, Sequence
from itertools import chain, islice
from operator import eq, itemgetter, le
from typing import BinaryIO

from engine.errors import ArchiveError, StoreError, UnsafeArchive

try:  # zstandard is a declared dependency; zlib keeps the index readable without it.
    import zstandard
except ImportError:  # pragma: no cover - exercised only on a broken install
    zstandard = None

__all__ = [
    "BLOCK",
    "CHAR",
    "DIR",
    "FIFO",
    "FILE",
    "HARDLINK",
    "SYMLINK",
    "TYPE_CODES",
    "TYPE_NAMES",
    "Entry",
    "LayerIndex",
    "TarIndexer",
    "index_stream",
    "normalize_path",
    "tree_key",
    "tree_keys",
]

#: Entry type codes, as stored in :attr:`LayerIndex.kinds`.
FILE, HARDLINK, SYMLINK, CHAR, BLOCK, DIR, FIFO = range(1, 8)
#: Entry type names, indexed by code (code 0 is unused).
TYPE_NAMES = ("", "file", "hardlink", "symlink", "char", "block", "dir", "fifo")
TYPE_CODES = {name: code for code, name in enumerate(TYPE_NAMES) if name}

Entry = namedtuple(
    "Entry",
    "path type mode uid gid size mtime linkname devmajor devminor",
    defaults=(0o644, 0, 0, 0, 0, "", 0, 0),
)
Entry.__doc__ = "One member of a layer: a light, immutable record."

OPAQUE_MARKER = ".wh..wh..opq"
WHITEOUT_PREFIX = ".wh."
_META_PREFIX = ".wh..wh."

_BLOCK = 512
_ZERO_BLOCK = bytes(_BLOCK)
_MAX_SPECIAL = 1 << 20  # largest PAX / GNU long-name payload accepted (as Go's archive/tar)
_CHUNK = 1 << 20

# Typeflag byte -> entry type code for the members that describe a file.
# Unknown typeflags are read as regular files, as POSIX asks of readers.
_MEMBER_TYPES = {
    0: FILE, ord("0"): FILE, ord("7"): FILE,
    ord("1"): HARDLINK, ord("2"): SYMLINK, ord("3"): CHAR, ord("4"): BLOCK,
    ord("5"): DIR, ord("6"): FIFO,
}
# Members that carry no data whatever their size field says (as Go's archive/tar).
_HEADER_ONLY = frozenset(ord(c) for c in "123456")
_T_PAX, _T_GLOBAL, _T_LONGNAME, _T_LONGLINK = ord("x"), ord("g"), ord("L"), ord("K")
_T_SPARSE, _T_VOLUME, _T_DUMPDIR = ord("S"), ord("V"), ord("D")
_T_UNSUPPORTED = {ord("M"): "GNU multi-volume continuation", ord("N"): "old GNU long name"}

# The fields the fast path reads: name, mode+uid+gid, size, NUL, mtime, NUL,
# checksum digits, checksum tail, typeflag, linkname, first byte of the prefix.
_FAST = struct.Struct("100s24s11sB11sB6s2sB100s88xB")
_FAST_TYPES = {ord("0"): FILE, ord("1"): HARDLINK, ord("2"): SYMLINK, ord("5"): DIR}

# What the indexer is collecting into its buffer.
_C_HEADER, _C_SPECIAL, _C_SPARSE = 1, 2, 3


def tree_key(path: str) -> str:
    """Return the sort key of *path* in tree order (component by component)."""
    return path.replace("/", "\0")


def tree_keys(paths: Sequence[str]) -> list[str]:
    """Tree-order sort keys (see :func:`tree_key`) of many *paths* at once.

    Done in a few passes over one joined string, which is much faster than a
    call per path.
    """
    joined = "\x01".join(paths)
    if joined.count("\x01") != max(len(paths) - 1, 0):  # a name holds \x01: the slow way
        return [p.replace("/", "\0") for p in paths]
    if not joined:
        return [""] * len(paths)
    return joined.replace("/", "\0").split("\x01")


def _gather(items: list, order: list[int]) -> list:
    if len(order) == 1:
        return [items[order[0]]]
    return list(itemgetter(*order)(items))


def normalize_path(path: str) -> str:
    """Return *path* as the index stores it: relative, no ``.``/empty parts, no trailing slash.

    ``..`` components are resolved lexically and clamped at the root; callers
    that must refuse them check before normalising.
    """
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/".join(parts)


def _oct_table() -> bytes:
    """Sum of the octal digits of every number below 8**6 (checksum fast path)."""
    table = bytes(range(8))
    shifted = [bytes(d + a for d in range(8)) for a in range(64)]
    for _ in range(5):
        table = b"".join(shifted[a] for a in table)
    return table


_DIGIT_SUMS = _oct_table()
_LOW_BYTES = bytes(range(128))


def _parse_number(field: bytes, what: str, offset: int) -> int:
    """Decode a numeric header field: NUL/space-padded octal or GNU base-256."""
    if field and field[0] & 0x80:
        first = field[0] & 0x7F
        if first & 0x40:
            first |= 0x80  # negative: sign-extend
        return int.from_bytes(bytes((first,)) + field[1:], "big", signed=True)
    end = field.find(0)
    if end >= 0:
        field = field[:end]
    field = field.strip()
    if not field:
        return 0
    try:
        return int(field, 8)
    except ValueError:
        raise ArchiveError(
            f"reading tar header at offset {offset}: invalid {what} field {bytes(field)!r}"
        ) from None


def _cstring(field: bytes) -> bytes:
    end = field.find(0)
    return field if end < 0 else field[:end]


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _signed_sum(data: bytes) -> int:
    """Sum of *data* read as signed chars (the historic Sun tar checksum)."""
    return sum(data) - 256 * len(data.translate(None, _LOW_BYTES))


def _checksum_ok(blk: bytes, offset: int) -> bool:
    """Check a header's checksum exactly (the unsigned and the signed variant)."""
    chk = blk[148:156]
    stored = _parse_number(chk, "checksum", offset)
    if sum(blk) - sum(chk) + 256 == stored:
        return True
    return _signed_sum(blk) - _signed_sum(chk) + 256 == stored


def _parse_pax(data: bytes, offset: int) -> dict[str, str]:
    """Parse PAX extended header records (``"%d %s=%s\\n"``); empty values are kept."""
    records: dict[str, str] = {}
    pos, end = 0, len(data)
    while pos < end:
        if data[pos] == 0 and not data[pos:].strip(b"\0"):
            break  # NUL padding after the last record
        space = data.find(b" ", pos, pos + 21)
        digits = data[pos:space] if space > pos else b""
        length = int(digits) if digits.isdigit() else -1
        if length <= space - pos + 1 or pos + length > end or data[pos + length - 1] != 0x0A:
            raise ArchiveError(f"reading tar at offset {offset}: malformed PAX record at byte {pos}")
        key, eq, value = data[space + 1 : pos + length - 1].partition(b"=")
        if not eq or not key:
            raise ArchiveError(f"reading tar at offset {offset}: malformed PAX record at byte {pos}")
        name = _decode(key)
        text = _decode(value)
        # PAX sparse 0.0 repeats these keys; they only need to be numbers.
        if name in ("GNU.sparse.offset", "GNU.sparse.numbytes") and not text.isdigit():
            raise ArchiveError(f"reading tar at offset {offset}: invalid sparse map value {text!r}")
        records[name] = text
        pos += length
    return records


def _pax_int(value: str, key: str, offset: int) -> int:
    try:
        number = int(value, 10)
    except ValueError:
        raise ArchiveError(f"reading tar at offset {offset}: invalid PAX {key} {value!r}") from None
    if number < 0:
        raise ArchiveError(f"reading tar at offset {offset}: negative PAX {key} {value!r}")
    return number


def _pax_time(value: str, offset: int) -> int:
    """Whole seconds (rounded down) of a PAX time such as ``1700000000.25``."""
    whole, _, frac = value.partition(".")
    try:
        seconds = int(whole or "0", 10)
        if frac and not frac.isdigit():
            raise ValueError(frac)
    except ValueError:
        raise ArchiveError(f"reading tar at offset {offset}: invalid PAX mtime {value!r}") from None
    if frac.strip("0") and value.startswith("-"):
        seconds -= 1
    return seconds


class TarIndexer:
    """Index an uncompressed tar stream fed in chunks of any size.

    ``strict`` refuses (with :class:`UnsafeArchive`) members whose path, or
    hard-link target, has a ``..`` component; without it such paths are
    resolved lexically and clamped at the root.  Once an error was raised the
    indexer stays failed: every later call raises it again.
    """

    def __init__(self, *, strict: bool = True) -> None:
        self._strict = strict
        # (path, kind, mode, uid, gid, size, mtime, linkname) in stream order.
        self._records: list[tuple] = []
        self._devices: dict[str, tuple[int, int]] = {}
        self._whiteouts: list[str] = []
        self._opaque: list[str] = []
        self._members = 0
        self._base = 0  # stream offset of the chunk being parsed
        self._skip = 0  # bytes of member data (and padding) still to skip
        self._pad = 0  # padding at the end of the current skip
        self._buf = bytearray()
        self._need = 0  # bytes still to collect into _buf
        self._collect = 0  # what _buf holds (_C_*)
        self._collect_at = 0  # stream offset where the collected item starts
        self._special_type = 0
        self._special_pad = 0
        self._pending = False  # a PAX header, long name or long link awaits its member
        self._slow = False  # pending, global PAX records or a zero block: no fast path
        self._pax: dict[str, str] = {}
        self._global: dict[str, str] = {}
        self._longname: str | None = None
        self._longlink: str | None = None
        self._sparse_data = 0  # data size of an old GNU sparse member being read
        self._zeros = 0
        self._done = False
        self._error: ArchiveError | None = None
        self._finished = False
        self._check_cache: dict[bytes, int] = {}
        self._ids_cache: dict[bytes, tuple[int, int, int]] = {}
        self._time_cache: dict[bytes, int] = {}

    # -- public -------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Parse the next *data* of the uncompressed tar stream."""
        if self._error is not None:
            raise self._error
        if self._finished:
            raise ArchiveError("feeding tar indexer: finish() was already called")
        if not isinstance(data, bytes):
            data = bytes(data)
        try:
            self._run(data)
        except ArchiveError as err:
            self._error = err
            raise
        except (ValueError, OverflowError, UnicodeError) as err:  # defensive: never leak these
            self._error = ArchiveError(f"reading tar at offset {self._base}: {err}")
            raise self._error from err
        self._base += len(data)

    def finish(self) -> LayerIndex:
        """Check the archive ended cleanly and return its :class:`LayerIndex`."""
        if self._error is not None:
            raise self._error
        self._finished = True
        try:
            self._check_end()
            return self._build()
        except ArchiveError as err:
            self._error = err
            raise

    # -- stream handling ----------------------------------------------------

    def _run(self, data: bytes) -> None:
        n = len(data)
        pos = 0
        while pos < n:
            if self._done:
                return  # anything after the end-of-archive marker is ignored
            if self._skip:
                take = n - pos
                if take < self._skip:
                    self._skip -= take
                    return
                pos += self._skip
                self._skip = 0
                continue
            if self._need:
                take = min(self._need, n - pos)
                self._buf += data[pos : pos + take]
                pos += take
                self._need -= take
                if not self._need:
                    self._collected()
                continue
            if n - pos < _BLOCK:
                self._start_collect(_C_HEADER, _BLOCK, self._base + pos)
                continue
            pos = self._scan(data, pos, n)

    def _start_collect(self, what: int, size: int, offset: int) -> None:
        self._buf = bytearray()
        self._need = size
        self._collect = what
        self._collect_at = offset

    def _collected(self) -> None:
        """Handle a header, special payload or sparse block gathered across chunks."""
        what, buf, offset = self._collect, bytes(self._buf), self._collect_at
        self._buf = bytearray()
        self._collect = 0
        if what == _C_HEADER:
            skip = self._header(buf, offset)
            if skip:
                self._skip = skip
        elif what == _C_SPECIAL:
            self._special(buf, offset)
            self._skip, self._pad = self._special_pad, self._special_pad
        else:
            self._sparse_block(buf, offset)

    def _scan(self, data: bytes, pos: int, n: int) -> int:
        """Parse consecutive whole headers of *data* from *pos*; return where it stopped.

        The loop handles the common member (plain ustar/GNU header, canonical
        octal fields, short clean name) inline, with small caches for the
        fields that repeat; anything else goes through :meth:`_header`.
        """
        base = self._base
        header = self._header
        unpack = _FAST.unpack_from
        adler32 = zlib.adler32
        fast_types = _FAST_TYPES
        checks = self._check_cache
        ids_cache = self._ids_cache
        times = self._time_cache
        append = self._records.append
        fast = 0
        try:
            while n - pos >= _BLOCK:
                end = pos + _BLOCK
                if not self._slow:
                    name, ids, size_b, z1, mtime_b, z2, chk, chk_tail, typeflag, link, pre = unpack(
                        data, pos
                    )
                    kind = fast_types.get(typeflag)
                    blk = data[pos:end]
                    if (
                        kind is not None
                        and chk_tail == b"\0 "
                        and not (z1 or z2 or pre)
                        and blk.isascii()
                    ):
                        expected = checks.get(chk)
                        if expected is None:
                            expected = self._expect(chk)
                        mode_ids = ids_cache.get(ids)
                        if mode_ids is None:
                            mode_ids = self._parse_ids(ids)
                        mtime = times.get(mtime_b)
                        if mtime is None:
                            mtime = self._parse_time(mtime_b)
                        try:
                            size = int(size_b, 8)
                        except ValueError:
                            size = -1
                        if (
                            adler32(blk) & 0xFFFF == expected
                            and mode_ids is not None
                            and mtime is not None
                            and size >= 0
                        ):
                            name = name.partition(b"\0")[0].decode("utf-8", "surrogateescape")
                            probe = "/" + name
                            if not ("/." in probe or "//" in probe or probe[-1] == "/"):
                                fast += 1
                                if kind == FILE:
                                    append((name, FILE, *mode_ids, size, mtime, ""))
                                    pos = end + ((size + 511) & -512)
                                    if pos > n:
                                        self._skip = pos - n
                                        self._pad = -size & 511
                                        return n
                                    continue
                                link = _decode(link.partition(b"\0")[0])
                                if kind == HARDLINK:
                                    link = self._clean_link(link, name, base + pos)
                                elif kind == DIR:
                                    link = ""
                                append((name, kind, *mode_ids, 0, mtime, link))
                                pos = end
                                continue
                else:
                    blk = data[pos:end]
                skip = header(blk, base + pos)
                pos = end
                if skip:
                    if pos + skip > n:
                        self._skip = pos + skip - n
                        return n
                    pos += skip
                if self._need or self._done:
                    break
            return pos
        finally:
            self._members += fast

    def _expect(self, chk: bytes) -> int | None:
        """Adler-32 low half expected for a block whose checksum field is ``chk + b"\\0 "``."""
        try:
            stored = int(chk, 8)
        except ValueError:
            return None
        if not 0 <= stored < 262144:
            return None
        expected = stored + _DIGIT_SUMS[stored] + 65
        if len(self._check_cache) > 65536:
            self._check_cache.clear()
        self._check_cache[chk] = expected
        return expected

    def _parse_ids(self, ids: bytes) -> tuple[int, int, int] | None:
        """Mode bits, uid and gid of a canonical ``mode uid gid`` field group, cached."""
        if ids[7] or ids[15] or ids[23]:
            return None
        try:
            value = (int(ids[0:7], 8) & 0o7777, int(ids[8:15], 8), int(ids[16:23], 8))
        except ValueError:
            return None
        if value[1] < 0 or value[2] < 0:
            return None
        if len(self._ids_cache) > 4096:
            self._ids_cache.clear()
        self._ids_cache[ids] = value
        return value

    def _parse_time(self, field: bytes) -> int | None:
        try:
            value = int(field, 8)
        except ValueError:
            return None
        if len(self._time_cache) > 65536:
            self._time_cache.clear()
        self._time_cache[field] = value
        return value

    # -- headers ------------------------------------------------------------

    def _header(self, blk: bytes, offset: int) -> int:
        """Parse one header block at stream *offset*; return the data bytes to skip."""
        if blk == _ZERO_BLOCK:
            if self._pending:
                raise ArchiveError(
                    f"truncated tar: extended header before offset {offset} has no member"
                )
            self._zeros += 1
            self._slow = True
            if self._zeros == 2:
                self._done = True
            return 0
        if self._zeros:
            raise ArchiveError(
                f"reading tar at offset {offset}: data after an end-of-archive zero block"
            )
        self._pad = 0
        # Checksum: Adler-32's low half is the byte sum + 1, exact while the
        # sum stays below 65521, which holds for any all-ASCII block.
        chk = blk[148:156]
        if chk[6:] == b"\0 " and blk.isascii():
            try:
                stored = int(chk[:6], 8)
            except ValueError:
                stored = -1
            fast_ok = (
                0 <= stored < 262144
                and zlib.adler32(blk) & 0xFFFF == stored + _DIGIT_SUMS[stored] + 65
            )
            if not fast_ok and not _checksum_ok(blk, offset):
                self._bad_checksum(blk, offset)
        elif not _checksum_ok(blk, offset):
            self._bad_checksum(blk, offset)

        typeflag = blk[156]
        kind = _MEMBER_TYPES.get(typeflag)
        if (
            kind is None
            or self._slow
            or blk[345]
            or blk[107:124:8] != b"\0\0\0"
            or blk[135:148:12] != b"\0\0"
        ):
            return self._slow_header(blk, offset)
        try:
            mode = int(blk[100:107], 8)
            uid = int(blk[108:115], 8)
            gid = int(blk[116:123], 8)
            size = int(blk[124:135], 8)
            mtime = int(blk[136:147], 8)
        except ValueError:
            return self._slow_header(blk, offset)
        if (size | uid | gid) < 0:
            return self._slow_header(blk, offset)  # reports the bad field
        self._members += 1
        end = blk.find(0, 0, 100)
        name = (blk[:end] if end >= 0 else blk[:100]).decode("utf-8", "surrogateescape")
        if name[:1] in "./" or name[-1:] == "/" or "//" in name or "/." in name:
            if not typeflag and name[-1:] == "/":
                kind = DIR
            name = self._clean(name, offset)
            if not name:
                return 0 if typeflag in _HEADER_ONLY else self._data(size)
        if ".wh." in name and self._whiteout(name, offset):
            return 0 if typeflag in _HEADER_ONLY else self._data(size)
        if kind == FILE:
            self._records.append((name, FILE, mode & 0o7777, uid, gid, size, mtime, ""))
            return self._data(size)
        link = ""
        major = minor = 0
        if kind == HARDLINK or kind == SYMLINK:
            link = _decode(_cstring(blk[157:257]))
            if kind == HARDLINK:
                link = self._clean_link(link, name, offset)
        elif kind == CHAR or kind == BLOCK:
            major = _parse_number(blk[329:337], "devmajor", offset)
            minor = _parse_number(blk[337:345], "devminor", offset)
        if major or minor:
            self._devices[name] = (major, minor)
        self._records.append((name, kind, mode & 0o7777, uid, gid, 0, mtime, link))
        return 0

    def _bad_checksum(self, blk: bytes, offset: int) -> None:
        raise ArchiveError(
            f"reading tar at offset {offset}: header checksum mismatch "
            "(corrupt or not a tar archive)"
        )

    def _data(self, size: int) -> int:
        """Bytes to skip for *size* bytes of member data, recording the padding."""
        pad = -size & (_BLOCK - 1)
        self._pad = pad
        return size + pad

    def _slow_header(self, blk: bytes, offset: int) -> int:
        """Parse a header the fast path does not handle: extensions, odd fields, prefixes."""
        typeflag = blk[156]
        size = _parse_number(blk[124:136], "size", offset)
        if size < 0:
            raise ArchiveError(f"reading tar at offset {offset}: negative member size")
        if typeflag in (_T_PAX, _T_GLOBAL, _T_LONGNAME, _T_LONGLINK):
            if size > _MAX_SPECIAL:
                raise ArchiveError(
                    f"reading tar at offset {offset}: extended header of {size} bytes is too large"
                )
            self._pending = typeflag != _T_GLOBAL or self._pending
            self._slow = True
            self._special_type = typeflag
            self._special_pad = -size & (_BLOCK - 1)
            if size:
                self._start_collect(_C_SPECIAL, size, offset)
            else:
                self._special(b"", offset)
                self._pad = self._special_pad
                return self._special_pad
            return 0
        if typeflag in _T_UNSUPPORTED:
            raise ArchiveError(
                f"reading tar at offset {offset}: unsupported member type "
                f"{_T_UNSUPPORTED[typeflag]} ({chr(typeflag)!r})"
            )
        pax = self._pax
        if self._global:
            pax = {**self._global, **pax}
        pax = {k: v for k, v in pax.items() if v != ""}
        longname, longlink = self._longname, self._longlink
        self._pax, self._longname, self._longlink, self._pending = {}, None, None, False
        self._slow = bool(self._global or self._zeros)
        self._members += 1
        if typeflag == _T_VOLUME:
            self._members -= 1
            return self._data(size)  # a volume label describes no file

        magic = blk[257:263]
        if "size" in pax:
            size = _pax_int(pax["size"], "size", offset)
        data_size = 0 if typeflag in _HEADER_ONLY else size

        if longname is not None:
            raw_name = longname
        elif "path" in pax:
            raw_name = pax["path"]
        else:
            name = _cstring(blk[:100])
            if magic == b"ustar\0" and blk[345]:
                name = _cstring(blk[345:500]) + b"/" + name
            raw_name = _decode(name)
        kind = _MEMBER_TYPES.get(typeflag, FILE)
        if typeflag == _T_DUMPDIR or (typeflag == 0 and raw_name.endswith("/")):
            kind = DIR

        realsize = size
        if typeflag == _T_SPARSE:
            realsize = self._old_sparse(blk, offset, size)
        elif any(key.startswith("GNU.sparse.") for key in pax):
            realsize, sparse_name = self._pax_sparse(pax, offset)
            if sparse_name is not None:
                raw_name = sparse_name

        name = raw_name
        if "\0" in name:
            raise ArchiveError(f"reading tar at offset {offset}: member name contains a NUL byte")
        if name[:1] in "./" or name[-1:] == "/" or "//" in name or "/." in name:
            name = self._clean(name, offset)
        if not name:
            return self._sparse_or_data(data_size)
        if ".wh." in name and self._whiteout(name, offset):
            return self._sparse_or_data(data_size)

        mode = _parse_number(blk[100:108], "mode", offset) & 0o7777
        uid = _parse_number(blk[108:116], "uid", offset)
        gid = _parse_number(blk[116:124], "gid", offset)
        mtime = _parse_number(blk[136:148], "mtime", offset)
        if "uid" in pax:
            uid = _pax_int(pax["uid"], "uid", offset)
        if "gid" in pax:
            gid = _pax_int(pax["gid"], "gid", offset)
        if "mtime" in pax:
            mtime = _pax_time(pax["mtime"], offset)
        if uid < 0 or gid < 0:
            raise ArchiveError(f"reading tar at offset {offset}: negative uid or gid for {name!r}")

        link = ""
        major = minor = 0
        if kind == HARDLINK or kind == SYMLINK:
            if longlink is not None:
                link = longlink
            elif "linkpath" in pax:
                link = pax["linkpath"]
            else:
                link = _decode(_cstring(blk[157:257]))
            if "\0" in link:
                raise ArchiveError(
                    f"reading tar at offset {offset}: link target of {name!r} contains a NUL byte"
                )
            if kind == HARDLINK:
                link = self._clean_link(link, name, offset)
        elif kind == CHAR or kind == BLOCK:
            major = _parse_number(blk[329:337], "devmajor", offset)
            minor = _parse_number(blk[337:345], "devminor", offset)
        file_size = realsize if kind == FILE else 0
        if file_size < 0:
            raise ArchiveError(f"reading tar at offset {offset}: negative size for {name!r}")
        if major or minor:
            self._devices[name] = (major, minor)
        self._records.append((name, kind, mode, uid, gid, file_size, mtime, link))
        return self._sparse_or_data(data_size)

    def _sparse_or_data(self, size: int) -> int:
        if self._sparse_data < 0:  # old GNU sparse with extension blocks still to read
            self._sparse_data = size
            return 0
        return self._data(size)

    def _special(self, data: bytes, offset: int) -> None:
        """Record a PAX header, global PAX header, GNU long name or long link."""
        kind = self._special_type
        if kind == _T_LONGNAME or kind == _T_LONGLINK:
            text = _decode(_cstring(data))
            if kind == _T_LONGNAME:
                self._longname = text
            else:
                self._longlink = text
            return
        records = _parse_pax(data, offset)
        if kind == _T_PAX:
            self._pax.update(records)
        else:
            for key, value in records.items():
                if value == "":
                    self._global.pop(key, None)
                else:
                    self._global[key] = value

    def _old_sparse(self, blk: bytes, offset: int, size: int) -> int:
        """Read an old GNU sparse header; return the file's real size."""
        for i in range(4):
            at = 386 + 24 * i
            _parse_number(blk[at : at + 12], "sparse offset", offset)
            _parse_number(blk[at + 12 : at + 24], "sparse length", offset)
        realsize = _parse_number(blk[483:495], "sparse real size", offset)
        if realsize < 0:
            raise ArchiveError(f"reading tar at offset {offset}: invalid sparse real size")
        if blk[482]:
            self._sparse_data = -1  # set to the data size once the header is done
            self._start_collect(_C_SPARSE, _BLOCK, offset + _BLOCK)
        return realsize

    def _sparse_block(self, blk: bytes, offset: int) -> None:
        """Handle one old GNU sparse extension block."""
        for i in range(21):
            at = 24 * i
            _parse_number(blk[at : at + 12], "sparse offset", offset)
            _parse_number(blk[at + 12 : at + 24], "sparse length", offset)
        if blk[504]:
            self._start_collect(_C_SPARSE, _BLOCK, offset + _BLOCK)
            return
        size, self._sparse_data = self._sparse_data, 0
        self._skip = self._data(size)

    def _pax_sparse(self, pax: dict[str, str], offset: int) -> tuple[int, str | None]:
        """Real size and name of a PAX sparse member (formats 0.0, 0.1 and 1.0)."""
        major = pax.get("GNU.sparse.major")
        minor = pax.get("GNU.sparse.minor")
        if major is not None or minor is not None:
            if (major, minor) != ("1", "0"):
                raise ArchiveError(
                    f"reading tar at offset {offset}: unsupported GNU sparse format "
                    f"{major}.{minor}"
                )
            if "GNU.sparse.realsize" not in pax:
                raise ArchiveError(f"reading tar at offset {offset}: sparse member without real size")
            return (
                _pax_int(pax["GNU.sparse.realsize"], "GNU.sparse.realsize", offset),
                pax.get("GNU.sparse.name"),
            )
        if "GNU.sparse.size" not in pax:
            raise ArchiveError(f"reading tar at offset {offset}: sparse member without real size")
        realsize = _pax_int(pax["GNU.sparse.size"], "GNU.sparse.size", offset)
        if "GNU.sparse.map" in pax:
            numbers = pax["GNU.sparse.map"].split(",") if pax["GNU.sparse.map"] else []
            if len(numbers) % 2 or not all(n.isdigit() for n in numbers):
                raise ArchiveError(f"reading tar at offset {offset}: invalid GNU.sparse.map")
        elif "GNU.sparse.numblocks" in pax:
            _pax_int(pax["GNU.sparse.numblocks"], "GNU.sparse.numblocks", offset)
        return realsize, pax.get("GNU.sparse.name")

    # -- names --------------------------------------------------------------

    def _clean(self, name: str, offset: int) -> str:
        parts = name.split("/")
        if ".." in parts and self._strict:
            raise UnsafeArchive(
                f"refusing tar member {name!r} at offset {offset}: its path leaves the layer root"
            )
        return normalize_path(name)

    def _clean_link(self, link: str, name: str, offset: int) -> str:
        if self._strict and ".." in link.split("/"):
            raise UnsafeArchive(
                f"refusing hard link {name!r} at offset {offset}: "
                f"its target {link!r} leaves the layer root"
            )
        return normalize_path(link)

    def _whiteout(self, name: str, offset: int) -> bool:
        """Record *name* if it is a whiteout; return whether it was one."""
        parent, _, base = name.rpartition("/")
        if not base.startswith(WHITEOUT_PREFIX):
            return False
        if base == OPAQUE_MARKER:
            self._opaque.append(parent)
        elif base.startswith(_META_PREFIX):
            pass  # AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not a file, not a deletion
        else:
            target = base[len(WHITEOUT_PREFIX) :]
            if target == "..":
                if self._strict:
                    raise UnsafeArchive(
                        f"refusing whiteout {name!r} at offset {offset}: it names a parent directory"
                    )
            elif target and target != ".":
                self._whiteouts.append(f"{parent}/{target}" if parent else target)
        return True

    # -- end ----------------------------------------------------------------

    def _check_end(self) -> None:
        if self._need:
            if self._collect == _C_HEADER:
                raise ArchiveError(
                    f"truncated tar: incomplete header at offset {self._collect_at} "
                    f"({len(self._buf)} of {_BLOCK} bytes)"
                )
            what = "extended header" if self._collect == _C_SPECIAL else "sparse map"
            raise ArchiveError(f"truncated tar: {what} at offset {self._collect_at} is cut short")
        if self._skip and self._skip != self._pad:
            last = self._records[-1][0] if self._records else "?"
            missing = self._skip - self._pad
            if missing > 0:
                raise ArchiveError(
                    f"truncated tar: member {last!r} is missing {missing} bytes of data"
                )
            raise ArchiveError(f"truncated tar: padding after member {last!r} is cut short")
        if self._pending:
            raise ArchiveError("truncated tar: extended header at the end has no member")

    def _build(self) -> LayerIndex:
        return LayerIndex._from_records(
            self._records, self._devices, set(self._whiteouts), set(self._opaque), self._members
        )


def index_stream(fileobj: BinaryIO, *, strict: bool = True) -> LayerIndex:
    """Index the uncompressed tar read from binary *fileobj* (1 MiB at a time)."""
    indexer = TarIndexer(strict=strict)
    read = fileobj.read
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            break
        indexer.feed(chunk)
    return indexer.finish()


class EntryList(Sequence):
    """The entries of a :class:`LayerIndex` as :class:`Entry` records, made on demand."""

    __slots__ = ("_index",)

    def __init__(self, index: LayerIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return len(self._index.paths)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self._index.entry(i) for i in range(*item.indices(len(self)))]
        if item < 0:
            item += len(self)
        if not 0 <= item < len(self):
            raise IndexError("layer index entry out of range")
        return self._index.entry(item)

    def __iter__(self) -> Iterator[Entry]:
        ix = self._index
        devices = ix.devices
        majors = (devices.get(i, (0, 0))[0] for i in range(len(ix.paths)))
        minors = (devices.get(i, (0, 0))[1] for i in range(len(ix.paths)))
        names = map(TYPE_NAMES.__getitem__, ix.kinds)
        return map(
            Entry._make,
            zip(ix.paths, names, ix.modes, ix.uids, ix.gids, ix.sizes, ix.mtimes, ix.linknames,
                majors, minors),
        )


_MAGIC = b"STRIDX\x00\x01"
_HEAD = struct.Struct("<8sBBHIIIQQQ")  # magic codec flags reserved count whiteouts opaque members raw_len payload_len
_CODEC_ZLIB, _CODEC_ZSTD = 1, 2
_LITTLE = sys.byteorder == "little"


def _pack_array(values: array) -> bytes:
    if not _LITTLE:  # pragma: no cover - big-endian hosts
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _unpack_array(typecode: str, data: bytes) -> array:
    values = array(typecode)
    values.frombytes(data)
    if not _LITTLE:  # pragma: no cover
        values.byteswap()
    return values


def _join(strings) -> bytes:
    return "\0".join(strings).encode("utf-8", "surrogateescape")


def _split(data: bytes, count: int) -> list[str]:
    if not count:
        return []
    return data.decode("utf-8", "surrogateescape").split("\0")


class LayerIndex:
    """The files of one layer, in tree order, plus its whiteouts and opaque directories.

    Columns (all the same length, aligned with :attr:`paths`) give fast access
    for bulk work: ``paths`` (list of str), ``kinds`` (bytes of type codes, see
    :data:`TYPE_NAMES`), ``modes``, ``uids``, ``gids``, ``sizes``, ``mtimes``
    (arrays), ``linknames`` (list of str) and ``devices`` ({row: (major, minor)}).
    :attr:`entries` presents the same rows as :class:`Entry` records.
    """

    __slots__ = (
        "devices", "gids", "kinds", "linknames", "member_count", "modes", "mtimes",
        "opaque_dirs", "paths", "sizes", "total_size", "uids", "whiteouts",
    )

    def __init__(
        self,
        paths: list[str],
        kinds: bytes,
        modes: array,
        uids: array,
        gids: array,
        sizes: array,
        mtimes: array,
        linknames: list[str],
        devices: dict[int, tuple[int, int]],
        whiteouts: set[str],
        opaque_dirs: set[str],
        member_count: int,
    ) -> None:
        count = len(paths)
        if not all(len(col) == count for col in (kinds, modes, uids, gids, sizes, mtimes, linknames)):
            raise ValueError("layer index columns differ in length")
        self.paths = paths
        self.kinds = kinds
        self.modes = modes
        self.uids = uids
        self.gids = gids
        self.sizes = sizes
        self.mtimes = mtimes
        self.linknames = linknames
        self.devices = devices
        #: Paths this layer deletes from the layers below it.
        self.whiteouts = whiteouts
        #: Directories whose lower-layer contents this layer hides.
        self.opaque_dirs = opaque_dirs
        #: Tar members read (extension headers excluded, whiteouts included).
        self.member_count = member_count
        #: Sum of the sizes of the layer's regular files.
        self.total_size = sum(sizes)

    @classmethod
    def _from_records(
        cls,
        records: list[tuple],
        devices: dict[str, tuple[int, int]],
        whiteouts: set[str],
        opaque: set[str],
        members: int,
    ) -> LayerIndex:
        """Build an index from ``(path, kind, mode, uid, gid, size, mtime, linkname)`` rows.

        Rows may come in any order and repeat a path (the later row wins).
        """
        count = len(records)
        if not count:
            return cls([], b"", array("H"), array("q"), array("q"), array("q"), array("q"), [],
                       {}, whiteouts, opaque, members)
        keys = tree_keys([r[0] for r in records])
        if not all(map(le, keys, islice(keys, 1, None))):
            order = sorted(range(count), key=keys.__getitem__)  # stable: later duplicates last
            records = _gather(records, order)
            keys = _gather(keys, order)
        if any(map(eq, keys, islice(keys, 1, None))):
            keep = [i for i in range(count - 1) if keys[i] != keys[i + 1]]
            keep.append(count - 1)
            records = _gather(records, keep)
            count = len(records)
        flat = list(chain.from_iterable(records))
        paths = flat[0::8]
        kinds = bytes(flat[1::8])
        rows = {}
        if devices:
            rows = {
                row: devices[path]
                for row, path in enumerate(paths)
                if kinds[row] in (CHAR, BLOCK) and path in devices
            }
        try:
            return cls(
                paths, kinds, array("H", flat[2::8]), array("q", flat[3::8]),
                array("q", flat[4::8]), array("q", flat[5::8]), array("q", flat[6::8]),
                flat[7::8], rows, whiteouts, opaque, members,
            )
        except OverflowError as err:
            raise ArchiveError(f"indexing tar: a numeric field is out of range: {err}") from None

    @classmethod
    def from_entries(
        cls,
        entries,
        whiteouts=(),
        opaque_dirs=(),
    ) -> LayerIndex:
        """Build an index from ``Entry``-like tuples (tests, synthetic images).

        Paths are normalised, later duplicates win, and rows are sorted.
        """
        records = []
        devices = {}
        for e in entries:
            e = Entry(*e) if not isinstance(e, Entry) else e
            path = normalize_path(e.path)
            if path:
                kind = TYPE_CODES[e.type]
                size = e.size if kind == FILE else 0
                records.append(
                    (path, kind, e.mode & 0o7777, e.uid, e.gid, size, e.mtime, e.linkname or "")
                )
                if kind in (CHAR, BLOCK):
                    devices[path] = (e.devmajor or 0, e.devminor or 0)
        return cls._from_records(
            records,
            devices,
            {normalize_path(p) for p in whiteouts},
            {normalize_path(p) for p in opaque_dirs},
            len(records) + len(whiteouts) + len(opaque_dirs),
        )

    # -- lookups ------------------------------------------------------------

    @property
    def entries(self) -> EntryList:
        """The rows as :class:`Entry` records (a lazy sequence, sorted in tree order)."""
        return EntryList(self)

    def __len__(self) -> int:
        return len(self.paths)

    def entry(self, row: int) -> Entry:
        """The :class:`Entry` at *row*."""
        major, minor = self.devices.get(row, (0, 0))
        return Entry(
            self.paths[row], TYPE_NAMES[self.kinds[row]], self.modes[row], self.uids[row],
            self.gids[row], self.sizes[row], self.mtimes[row], self.linknames[row], major, minor,
        )

    def find(self, path: str) -> int:
        """Row of *path* (any leading ``/`` or ``./`` ignored), or -1."""
        path = normalize_path(path)
        row = bisect_left(self.paths, tree_key(path), key=tree_key)
        if row < len(self.paths) and self.paths[row] == path:
            return row
        return -1

    def get(self, path: str) -> Entry | None:
        """The :class:`Entry` at *path*, or None."""
        row = self.find(path)
        return None if row < 0 else self.entry(row)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.find(path) >= 0

    def __repr__(self) -> str:
        return (
            f"<LayerIndex {len(self.paths)} entries, {len(self.whiteouts)} whiteouts, "
            f"{len(self.opaque_dirs)} opaque, {self.total_size} bytes>"
        )

    # -- persistence --------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Serialise the index (see :meth:`write`)."""
        link_rows = array("I", (i for i, link in enumerate(self.linknames) if link))
        dev_rows = array("I", sorted(self.devices))
        sections = [
            _join(self.paths),
            bytes(self.kinds),
            _pack_array(self.modes),
            _pack_array(self.uids),
            _pack_array(self.gids),
            _pack_array(self.sizes),
            _pack_array(self.mtimes),
            _pack_array(link_rows),
            _join(self.linknames[i] for i in link_rows),
            _pack_array(dev_rows),
            _pack_array(array("q", (self.devices[i][0] for i in dev_rows))),
            _pack_array(array("q", (self.devices[i][1] for i in dev_rows))),
            _join(sorted(self.whiteouts)),
            _join(sorted(self.opaque_dirs)),
        ]
        raw = b"".join(struct.pack("<Q", len(s)) + s for s in sections)
        if zstandard is not None:
            codec = _CODEC_ZSTD
            payload = zstandard.ZstdCompressor(level=3, write_checksum=True).compress(raw)
        else:  # pragma: no cover
            codec = _CODEC_ZLIB
            payload = zlib.compress(raw, 6)
        head = _HEAD.pack(
            _MAGIC, codec, 0, 0, len(self.paths), len(self.whiteouts), len(self.opaque_dirs),
            self.member_count, len(raw), len(payload),
        )
        return head + payload

    @classmethod
    def from_bytes(cls, data: bytes) -> LayerIndex:
        """Load an index serialised by :meth:`to_bytes`; ValueError if it is damaged."""
        if len(data) < _HEAD.size:
            raise ValueError("file is too short")
        magic, codec, _flags, _res, count, n_wh, n_opq, members, raw_len, payload_len = (
            _HEAD.unpack_from(data)
        )
        if magic != _MAGIC:
            raise ValueError("not a strata layer index (bad magic)")
        payload = data[_HEAD.size :]
        if len(payload) != payload_len:
            raise ValueError(f"payload is {len(payload)} bytes, expected {payload_len}")
        try:
            if codec == _CODEC_ZSTD:
                if zstandard is None:  # pragma: no cover
                    raise ValueError("index is zstd-compressed but zstandard is not installed")
                raw = zstandard.ZstdDecompressor().decompress(payload, max_output_size=raw_len)
            elif codec == _CODEC_ZLIB:
                raw = zlib.decompress(payload)
            else:
                raise ValueError(f"unknown compression codec {codec}")
        except (zlib.error, getattr(zstandard, "ZstdError", zlib.error)) as err:
            raise ValueError(f"decompressing: {err}") from None
        if len(raw) != raw_len:
            raise ValueError("decompressed size mismatch")
        sections = []
        pos = 0
        while pos < len(raw):
            (length,) = struct.unpack_from("<Q", raw, pos)
            pos += 8
            sections.append(raw[pos : pos + length])
            pos += length
        if len(sections) != 14 or pos != len(raw):
            raise ValueError("wrong section layout")
        paths = _split(sections[0], count)
        link_rows = _unpack_array("I", sections[7])
        dev_rows = _unpack_array("I", sections[9])
        linknames = [""] * count
        for row, link in zip(link_rows, _split(sections[8], len(link_rows))):
            linknames[row] = link
        majors = _unpack_array("q", sections[10])
        minors = _unpack_array("q", sections[11])
        whiteouts = set(_split(sections[12], n_wh))
        opaque = set(_split(sections[13], n_opq))
        if len(paths) != count or len(whiteouts) != n_wh or len(opaque) != n_opq:
            raise ValueError("entry counts do not match the header")
        return cls(
            paths,
            sections[1],
            _unpack_array("H", sections[2]),
            _unpack_array("q", sections[3]),
            _unpack_array("q", sections[4]),
            _unpack_array("q", sections[5]),
            _unpack_array("q", sections[6]),
            linknames,
            dict(zip(dev_rows, zip(majors, minors))),
            whiteouts,
            opaque,
            members,
        )

    def write(self, path: str | os.PathLike) -> None:
        """Save the index to *path* atomically (temp file, fsync, rename)."""
        path = os.fspath(path)
        directory = os.path.dirname(path) or "."
        data = self.to_bytes()
        try:
            fd, tmp = tempfile.mkstemp(prefix=".tmp-index-", dir=directory)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as err:
            raise StoreError(f"writing layer index {path}: {err.strerror or err}") from err

    @classmethod
    def read(cls, path: str | os.PathLike) -> LayerIndex:
        """Load an index saved by :meth:`write`."""
        path = os.fspath(path)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError as err:
            raise StoreError(f"reading layer index {path}: no such file") from err
        except OSError as err:
            raise StoreError(f"reading layer index {path}: {err.strerror or err}") from err
        try:
            return cls.from_bytes(data)
        except (ValueError, struct.error, UnicodeError) as err:
            raise StoreError(f"reading layer index {path}: damaged index: {err}") from err

