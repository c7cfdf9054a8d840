"""Tests for engine.tarindex: the streaming tar indexer and the layer index file."""

from __future__ import annotations

import gzip
import io
import math
import os
import shutil
import subprocess
import tarfile
import zlib

import pytest

from factory import make_tar

from engine.errors import ArchiveError, StoreError, UnsafeArchive
from engine.tarindex import (
    Entry,
    LayerIndex,
    TarIndexer,
    index_stream,
    normalize_path,
    tree_key,
    tree_keys,
)

CHUNK_SIZES = (1, 7, 100, 511, 512, 513, 1500, 10**9)

_TYPES = {
    tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.CONTTYPE: "file",
    tarfile.GNUTYPE_SPARSE: "file", tarfile.LNKTYPE: "hardlink", tarfile.SYMTYPE: "symlink",
    tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.DIRTYPE: "dir",
    tarfile.FIFOTYPE: "fifo",
}


def oracle(data: bytes) -> tuple[list[Entry], set[str], set[str]]:
    """What tarfile reads from *data*, put the way the index puts it."""
    rows: dict[str, Entry] = {}
    whiteouts, opaque = set(), set()
    with tarfile.open(fileobj=io.BytesIO(data), encoding="utf-8", errors="surrogateescape") as tar:
        for m in tar:
            path = normalize_path(m.name)
            if not path:
                continue
            parent, _, base = path.rpartition("/")
            if base == ".wh..wh..opq":
                opaque.add(parent)
                continue
            if base.startswith(".wh."):
                whiteouts.add(f"{parent}/{base[4:]}" if parent else base[4:])
                continue
            kind = _TYPES.get(m.type, "file")
            if m.type == tarfile.AREGTYPE and m.name.endswith("/"):
                kind = "dir"
            link = m.linkname
            if kind == "hardlink":
                link = normalize_path(link)
            elif kind != "symlink":
                link = ""
            dev = kind in ("char", "block")
            rows[path] = Entry(
                path, kind, m.mode & 0o7777, m.uid, m.gid, m.size if kind == "file" else 0,
                math.floor(m.mtime), link, m.devmajor if dev else 0, m.devminor if dev else 0,
            )
    entries = sorted(rows.values(), key=lambda e: tree_key(e.path))
    return entries, whiteouts, opaque


def index_chunks(data: bytes, size: int, *, strict: bool = True) -> LayerIndex:
    indexer = TarIndexer(strict=strict)
    for i in range(0, len(data), size):
        indexer.feed(data[i : i + size])
    return indexer.finish()


def assert_matches_oracle(data: bytes, chunk_sizes=CHUNK_SIZES) -> LayerIndex:
    expected, whiteouts, opaque = oracle(data)
    for size in chunk_sizes:
        index = index_chunks(data, size)
        assert list(index.entries) == expected, f"chunk size {size}"
        assert index.whiteouts == whiteouts
        assert index.opaque_dirs == opaque
    return index


def rich_members():
    return [
        ("./", {"type": tarfile.DIRTYPE, "mode": 0o755}, None),
        ("./etc/", {"type": tarfile.DIRTYPE, "mode": 0o755, "mtime": 1700000000}, None),
        ("./etc/passwd", {"mode": 0o644, "uid": 0, "gid": 0, "mtime": 1700000001}, b"root:x:0:0\n"),
        ("usr/bin/su", {"mode": 0o4755, "uid": 0, "gid": 0}, b"\x7fELF" * 100),
        ("usr/bin/wall", {"mode": 0o2755, "gid": 5}, b"x" * 513),
        ("tmp", {"type": tarfile.DIRTYPE, "mode": 0o1777}, None),
        ("bin/sh", {"type": tarfile.SYMTYPE, "linkname": "/bin/bash"}, None),
        ("bin/rel", {"type": tarfile.SYMTYPE, "linkname": "../usr/bin/su"}, None),
        ("bin/su-link", {"type": tarfile.LNKTYPE, "linkname": "./usr/bin/su"}, None),
        ("dev/null", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3, "mode": 0o666}, None),
        ("dev/sda", {"type": tarfile.BLKTYPE, "devmajor": 8, "devminor": 16}, None),
        ("dev/pipe", {"type": tarfile.FIFOTYPE}, None),
        ("home/user/.profile", {"uid": 1000, "gid": 1000, "uname": "user"}, b"export A=1\n"),
        ("etc/.wh.shadow", {}, b""),
        ("var/cache/.wh..wh..opq", {}, b""),
        ("etc/passwd", {"mode": 0o600}, b"root:x:0:0:again\n"),
        ("empty", {}, b""),
        ("a-b", {}, b"1"),
        ("a/b", {}, b"2"),
    ]


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_matches_tarfile_for_every_chunk_split(fmt):
    index = assert_matches_oracle(make_tar(rich_members(), fmt))
    assert index.get("etc/passwd").mode == 0o600  # the later member wins
    assert index.get("usr/bin/su").mode == 0o4755
    assert index.get("usr/bin/wall").mode == 0o2755
    assert index.get("tmp").mode == 0o1777
    assert index.get("dev/null")[-2:] == (1, 3)
    assert index.get("bin/su-link").linkname == "usr/bin/su"
    assert index.get("bin/rel").linkname == "../usr/bin/su"  # symlink targets are kept as is
    assert index.whiteouts == {"etc/shadow"}
    assert index.opaque_dirs == {"var/cache"}
    assert ".wh.shadow" not in str(list(index.paths))
    assert index.member_count == len(rich_members())
    assert index.total_size == sum(e.size for e in index.entries)
    # Tree order: a directory's subtree follows it directly.
    assert index.paths.index("a/b") < index.paths.index("a-b")


def test_pax_long_names_links_and_odd_bytes():
    long_dir = "d" * 90 + "/" + "e" * 90
    members = [
        (f"{long_dir}/file-{'x' * 120}", {}, b"long"),
        ("link", {"type": tarfile.SYMTYPE, "linkname": "t" * 300}, None),
        ("hard", {"type": tarfile.LNKTYPE, "linkname": f"{long_dir}/file-{'x' * 120}"}, None),
        ("caf\u00e9/\u540d\u524d", {}, b"utf8"),
        ("raw/\udcff\udcfe-latin1", {}, b"raw"),
        ("big-ids", {"uid": 3_000_000, "gid": 2**31}, b""),
        ("frac", {"mtime": 1700000000.75}, b""),
        ("negfrac", {"mtime": -1.5}, b""),
    ]
    index = assert_matches_oracle(make_tar(members, tarfile.PAX_FORMAT))
    assert index.get("raw/\udcff\udcfe-latin1").size == 3
    assert "raw/\udcff\udcfe-latin1".encode("utf-8", "surrogateescape") == b"raw/\xff\xfe-latin1"
    assert index.get("frac").mtime == 1700000000
    assert index.get("negfrac").mtime == -2
    assert index.get("big-ids")[3:5] == (3_000_000, 2**31)


def test_gnu_long_names_and_base256():
    members = [
        ("g" * 150 + "/name", {}, b"gnu"),
        ("lnk", {"type": tarfile.SYMTYPE, "linkname": "L" * 200}, None),
        ("hl", {"type": tarfile.LNKTYPE, "linkname": "g" * 150 + "/name"}, None),
        ("huge-uid", {"uid": 2**40, "gid": 2**33}, b""),  # GNU writes these in base-256
        ("raw-\udce9", {}, b""),
    ]
    data = make_tar(members, tarfile.GNU_FORMAT)
    index = assert_matches_oracle(data)
    assert index.get("huge-uid")[3:5] == (2**40, 2**33)
    assert index.get("lnk").linkname == "L" * 200


def test_pax_global_header_applies_to_later_members():
    data = make_tar([("a", {}, b"1"), ("b", {"uid": 3}, b"2")], tarfile.PAX_FORMAT,
                    pax_headers={"comment": "git archive", "gid": "42"})
    assert data[156:157] == b"g"
    index = assert_matches_oracle(data)
    assert index.get("a").gid == 42


def test_v7_style_directory_and_unknown_type():
    members = [("olddir/", {"type": tarfile.AREGTYPE}, None), ("vendor", {"type": b"Q"}, b"data")]
    index = assert_matches_oracle(make_tar(members, tarfile.USTAR_FORMAT))
    assert index.get("olddir").type == "dir"
    assert index.get("vendor") == Entry("vendor", "file", 0o644, 0, 0, 4, 0, "", 0, 0)


def test_ustar_prefix_field():
    name = "p" * 120 + "/leaf"
    data = make_tar([(name, {}, b"z")], tarfile.USTAR_FORMAT)
    assert data[345:350] == b"ppppp"  # stored in the ustar prefix
    assert assert_matches_oracle(data).paths == [name]


def test_path_normalisation():
    members = [("/abs/path", {}, b""), ("./dot/./x", {}, b""), ("dbl//slash", {}, b""),
               ("trail/", {"type": tarfile.DIRTYPE}, None), (".", {"type": tarfile.DIRTYPE}, None)]
    index = index_chunks(make_tar(members, tarfile.GNU_FORMAT), 10**9)
    assert index.paths == ["abs/path", "dbl/slash", "dot/x", "trail"]
    assert index.member_count == 5


@pytest.mark.parametrize(
    "name,link",
    [("../escape", None), ("a/../../b", None), ("ok", "../../etc/shadow")],
)
def test_strict_refuses_parent_components(name, link):
    attrs = {"type": tarfile.LNKTYPE, "linkname": link} if link else {}
    data = make_tar([(name, attrs, None if link else b"x")], tarfile.GNU_FORMAT)
    with pytest.raises(UnsafeArchive) as err:
        index_chunks(data, 10**9)
    assert repr(name) in str(err.value)
    # Without strict, paths are resolved and clamped at the root.
    index = index_chunks(data, 10**9, strict=False)
    assert all(".." not in p.split("/") for p in index.paths)


def test_absolute_symlink_targets_are_kept():
    data = make_tar([("l", {"type": tarfile.SYMTYPE, "linkname": "/etc/../x"}, None)])
    assert index_chunks(data, 512).get("l").linkname == "/etc/../x"


def test_bad_checksum_names_the_offset():
    data = bytearray(make_tar([("a", {}, b"1"), ("b", {}, b"2")], tarfile.GNU_FORMAT))
    data[1024] ^= 0x01  # second header's name
    with pytest.raises(ArchiveError, match=r"offset 1024.*checksum"):
        index_chunks(bytes(data), 10**9)


def test_signed_checksum_is_accepted():
    data = bytearray(make_tar([("caf\u00e9", {}, b"1")], tarfile.GNU_FORMAT))
    header = data[:512]
    header[148:156] = b"        "
    signed = sum(b - 256 if b > 127 else b for b in header)
    data[148:156] = b"%06o\0 " % signed
    assert index_chunks(bytes(data), 10**9).paths == ["caf\u00e9"]


def test_truncations():
    data = make_tar([("a", {}, b"x" * 700), ("b", {}, b"y")], tarfile.GNU_FORMAT)
    with pytest.raises(ArchiveError, match="truncated tar: incomplete header"):
        index_chunks(data[:1536 + 100], 10**9)
    with pytest.raises(ArchiveError, match="truncated tar: member 'a' is missing"):
        index_chunks(data[:600], 10**9)
    with pytest.raises(ArchiveError, match="truncated tar: padding"):
        index_chunks(data[:512 + 700 + 10], 10**9)
    # EOF right after a member (no padding read yet), or after one zero block, is an end (as Go).
    assert index_chunks(data[: 512 + 700], 10**9).paths == ["a"]
    end = 512 + 1024 + 512 + 512
    assert index_chunks(data[:end], 10**9).paths == ["a", "b"]
    assert index_chunks(data[: end + 512], 10**9).paths == ["a", "b"]
    assert index_chunks(b"", 10**9).paths == []


def test_pax_header_without_member_is_truncated():
    data = make_tar([("n" * 200, {}, b"")], tarfile.PAX_FORMAT)
    with pytest.raises(ArchiveError, match="truncated tar"):
        index_chunks(data[:1024], 10**9)


def test_zero_block_then_data_is_an_error_and_trailing_data_ignored():
    data = make_tar([("a", {}, b"1")], tarfile.GNU_FORMAT)
    with pytest.raises(ArchiveError, match="end-of-archive"):
        index_chunks(data[:1024] + bytes(512) + data[:512], 10**9)
    assert index_chunks(data + b"garbage" * 100, 100).paths == ["a"]


def test_errors_stick_and_feed_accepts_buffers():
    indexer = TarIndexer()
    with pytest.raises(ArchiveError):
        indexer.feed(b"not a tar" * 100)
    with pytest.raises(ArchiveError):
        indexer.feed(b"")
    with pytest.raises(ArchiveError):
        indexer.finish()
    data = make_tar([("a", {}, b"1")])
    indexer = TarIndexer()
    indexer.feed(memoryview(data)[:700])
    indexer.feed(bytearray(data[700:]))
    assert indexer.finish().paths == ["a"]


def test_fed_from_a_gzip_decompressor_and_index_stream():
    data = make_tar(rich_members(), tarfile.GNU_FORMAT)
    blob = gzip.compress(data)
    decompressor = zlib.decompressobj(wbits=31)
    indexer = TarIndexer()
    for i in range(0, len(blob), 1000):
        indexer.feed(decompressor.decompress(blob[i : i + 1000]))
    indexer.feed(decompressor.flush())
    assert list(indexer.finish().entries) == oracle(data)[0]
    assert list(index_stream(io.BytesIO(data)).entries) == oracle(data)[0]


def test_bad_pax_records():
    good = make_tar([("p" * 200, {}, b"")], tarfile.PAX_FORMAT)
    bad = bytearray(good)
    payload_at = 512
    bad[payload_at : payload_at + 3] = b"999"  # record length past the end
    header = bad[:512]
    header[148:156] = b"        "
    bad[148:156] = b"%06o\0 " % sum(header)
    with pytest.raises(ArchiveError, match="PAX"):
        index_chunks(bytes(bad), 10**9)


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar not installed")
@pytest.mark.parametrize(
    "options",
    [["--format=gnu"], ["--format=posix", "--sparse-version=0.0"],
     ["--format=posix", "--sparse-version=0.1"], ["--format=posix", "--sparse-version=1.0"]],
)
def test_sparse_files_record_their_real_size(tmp_path, options):
    src = tmp_path / "src"
    src.mkdir()
    sparse = src / "sparse.img"
    with open(sparse, "wb") as f:
        for offset in range(0, 8 * 1024 * 1024, 256 * 1024):  # many holes: extension blocks
            f.seek(offset)
            f.write(b"data")
        f.truncate(8 * 1024 * 1024)
    (src / "plain").write_bytes(b"plain")
    out = tmp_path / "out.tar"
    subprocess.run(["tar", "-c", "--sparse", *options, "-f", str(out), "-C", str(src),
                    "sparse.img", "plain"], check=True)
    data = out.read_bytes()
    for size in (512, 4096, 10**9):
        index = index_chunks(data, size)
        assert index.get("sparse.img").size == 8 * 1024 * 1024
        assert index.get("plain").size == 5
        assert index.paths == ["plain", "sparse.img"]


def test_layer_index_round_trip(tmp_path):
    data = make_tar(rich_members() + [("raw/\udcff", {}, b"r")], tarfile.PAX_FORMAT)
    index = index_chunks(data, 10**9)
    path = tmp_path / "layer.idx"
    index.write(path)
    loaded = LayerIndex.read(path)
    assert list(loaded.entries) == list(index.entries)
    assert loaded.whiteouts == index.whiteouts and loaded.opaque_dirs == index.opaque_dirs
    assert loaded.member_count == index.member_count and loaded.total_size == index.total_size
    assert loaded.devices == index.devices
    assert [p for p in os.listdir(tmp_path)] == ["layer.idx"]  # no temp file left behind
    assert loaded.find("/etc/passwd") == loaded.paths.index("etc/passwd")
    assert loaded.get("nope") is None and "etc" in loaded and 3 not in loaded
    assert loaded.entries[-1] == list(loaded.entries)[-1]
    assert loaded.entries[1:3] == list(loaded.entries)[1:3]


def test_layer_index_read_errors(tmp_path):
    with pytest.raises(StoreError, match="no such file"):
        LayerIndex.read(tmp_path / "missing")
    index = LayerIndex.from_entries([Entry("a", "file", size=3)])
    path = tmp_path / "x.idx"
    index.write(path)
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(StoreError, match="damaged index"):
        LayerIndex.read(path)
    path.write_bytes(b"garbage")
    with pytest.raises(StoreError, match="damaged index"):
        LayerIndex.read(path)


def test_empty_layer_index_round_trip(tmp_path):
    index = index_chunks(make_tar([]), 512)
    assert len(index) == 0 and index.total_size == 0
    index.write(tmp_path / "e.idx")
    assert list(LayerIndex.read(tmp_path / "e.idx").entries) == []


def test_tree_keys_match_tree_key():
    paths = ["a", "a/b", "a-b", "a\x01b/c", ""]
    assert tree_keys(paths) == [tree_key(p) for p in paths]
    assert tree_keys(["a/b", "c"]) == ["a\0b", "c"]


# -- property tests ---------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies
given = hypothesis.given
settings = hypothesis.settings

_SAMPLE = make_tar(rich_members(), tarfile.PAX_FORMAT)
_SAMPLE_GNU = make_tar(rich_members(), tarfile.GNU_FORMAT)


def _index_or_error(data: bytes, sizes) -> LayerIndex | None:
    indexer = TarIndexer()
    pos = 0
    try:
        for size in sizes:
            indexer.feed(data[pos : pos + size])
            pos += size
        indexer.feed(data[pos:])
        return indexer.finish()
    except ArchiveError:
        return None


@settings(max_examples=150, deadline=None, database=None)
@given(st.binary(max_size=3000), st.lists(st.integers(1, 700), max_size=8))
def test_random_bytes_never_crash(data, sizes):
    _index_or_error(data, sizes)


@settings(max_examples=100, deadline=None, database=None)
@given(st.integers(0, len(_SAMPLE)), st.lists(st.integers(1, 1200), max_size=10))
def test_random_truncation_never_crashes(cut, sizes):
    _index_or_error(_SAMPLE[:cut], sizes)


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.integers(1, 2000), max_size=20), st.sampled_from([_SAMPLE, _SAMPLE_GNU]))
def test_random_chunk_splits_give_the_same_index(sizes, data):
    whole = index_chunks(data, 10**9)
    split = _index_or_error(data, sizes)
    assert split is not None and list(split.entries) == list(whole.entries)


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.tuples(st.integers(0, len(_SAMPLE) - 1), st.integers(0, 255)), min_size=1,
                max_size=6))
def test_random_corruption_never_crashes(flips):
    data = bytearray(_SAMPLE)
    for at, value in flips:
        data[at] = value
    _index_or_error(bytes(data), [4096])
