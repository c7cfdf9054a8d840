"""Layer index queries end to end: the trees Strata computes match what umoci unpacks,
file contents match byte for byte, and the CLI speaks dive's and podman's formats."""

from __future__ import annotations

import io
import json
import os
import stat

import pytest

from factory import docker_archive_bytes, fs_tree, tar_bytes, umoci_tree


@pytest.fixture
def umoci_loaded(cli, oci_archive, engine):
    assert cli("load", "-i", oci_archive).code == 0
    return "test/oci:2"


def _flat(engine, ref):
    out = {}
    for node in engine.tree_view(ref).walk(""):
        size = node.size if node.type == "file" else 0
        link = node.linkname if node.type == "symlink" else ""
        kind = "file" if node.type == "hardlink" else node.type
        out[node.path] = (kind, node.mode, size, link)
    return out


@pytest.mark.peers
def test_merged_tree_equals_umoci_unpack(engine, umoci_loaded, umoci_layout, tmp_path):
    expected = umoci_tree(umoci_layout, "base", tmp_path / "u")
    flat = _flat(engine, umoci_loaded)
    # hardlinks: the index keeps the link; unpacked it is a file of the target's size
    for path, (kind, mode, size, link) in expected.items():
        assert path in flat, path
        fkind, fmode, fsize, flink = flat[path]
        assert (fkind, fmode, flink) == (kind, mode, link), path
        if engine.tree_view(umoci_loaded).node(path).type != "hardlink":
            assert fsize == size, path
    assert set(flat) == set(expected)
    assert "etc/deleteme" not in flat and "usr/share/doc/a.txt" not in flat
    assert flat["usr/share/doc/new.txt"][0] == "file"
    assert flat["app/data.bin"][0] == "dir"


@pytest.mark.peers
def test_cat_returns_the_unpacked_bytes(cli, engine, umoci_loaded, umoci_layout, tmp_path):
    umoci_tree(umoci_layout, "base", tmp_path / "u")
    root = tmp_path / "u" / "rootfs"
    for rel, (kind, *_rest) in fs_tree(root).items():
        if kind != "file":
            continue
        result = cli("cat", umoci_loaded, "/" + rel)
        assert result.code == 0, rel
        assert engine.read_file(umoci_loaded, rel, 0, 1 << 30) == (root / rel).read_bytes(), rel
    # through a symlink
    assert engine.read_file(umoci_loaded, "bin/sh", 0, 4) == b"\x7fELF"
    assert cli("cat", umoci_loaded, "/etc/deleteme").code == 1


@pytest.mark.peers
def test_cp_file_and_directory_keep_modes(cli, umoci_loaded, tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    assert cli("cp", f"{umoci_loaded}:/bin/su", dest).code == 0
    assert stat.S_IMODE((dest / "su").stat().st_mode) == 0o4755
    assert cli("cp", f"{umoci_loaded}:/app", dest / "app").code == 0
    assert (dest / "app/data.bin/inner.txt").read_text() == "inner\n"
    assert stat.S_IMODE((dest / "app/data.bin/inner.txt").stat().st_mode) == 0o600
    assert cli("cp", f"{umoci_loaded}:/bin", dest).code == 0
    assert os.readlink(dest / "bin/sh") == "busybox"
    assert os.path.samefile(dest / "bin/ln", dest / "bin/busybox")
    assert cli("cp", f"{umoci_loaded}:relative", dest).code != 0


LAYER1 = tar_bytes([("etc/", None, 0o755), ("etc/config", b"a" * 1000, 0o644), ("etc/keep", b"k", 0o644),
                    ("data/", None, 0o755), ("data/big.bin", b"B" * 50000, 0o644)])
LAYER2 = tar_bytes([("etc/", None, 0o755), ("etc/config", b"b" * 1200, 0o644),
                    ("data/.wh.big.bin", b"", 0o644), ("new/", None, 0o755), ("new/file", b"n" * 10, 0o644)])


@pytest.fixture
def wasteful(cli):
    data = docker_archive_bytes([
        {"layers": [LAYER1, LAYER2], "tags": ["waste:1"],
         "config": {"history": [{"created_by": "COPY base /"}, {"created_by": "RUN rm /data/big.bin"}]}},
        {"layers": [LAYER1], "tags": ["base:1"]},
    ])
    assert cli("load", stdin=data).code == 0


def test_layers_command(cli, wasteful):
    lines = cli("layers", "waste:1").out.splitlines()
    assert lines[0].split() == ["INDEX", "SIZE", "DIFF", "ID", "CREATED", "BY"]
    assert "RUN rm /data/big.bin" in lines[2]
    data = json.loads(cli("layers", "--json", "waste:1").out)
    assert [l["index"] for l in data] == [0, 1]
    assert data[1]["size"] == len(LAYER2)


def test_tree_layer_statuses_and_filters(cli, wasteful):
    rows = [json.loads(l) for l in cli("tree", "waste:1", "--layer", "1", "--json").out.splitlines()]
    status = {r["path"]: r["status"] for r in rows}
    assert status["/etc/config"] == "modified"
    assert status["/data/big.bin"] == "removed"
    assert status["/new/file"] == "added"
    assert status["/etc/keep"] == "unchanged"
    added = [json.loads(l)["path"] for l in cli("tree", "waste:1", "--layer", "1", "--changes", "added", "--json").out.splitlines()]
    assert "/new/file" in added and "/etc/keep" not in added
    text = cli("tree", "waste:1", "--layer", "1").out
    assert "- -rw-r--r--" in text and "+ -rw-r--r--" in text and "~ -rw-r--r--" in text
    sub = cli("tree", "waste:1", "--path", "/etc", "--json").out
    assert "/data" not in sub
    merged = {json.loads(l)["path"]: json.loads(l) for l in cli("tree", "waste:1", "--json").out.splitlines()}
    assert merged["/etc"]["size"] == 1201  # cumulative
    assert "/data/big.bin" not in merged
    assert cli("tree", "waste:1", "--layer", "7").code == 1
    assert cli("tree", "waste:1", "--changes", "bogus").code == 1


def test_analyze_dive_schema_and_ci(cli, wasteful):
    out = json.loads(cli("analyze", "--json", "waste:1").out)
    assert set(out) == {"layer", "image"}
    assert set(out["layer"][0]) == {"index", "id", "digestId", "sizeBytes", "command"}
    assert set(out["image"]) == {"sizeBytes", "inefficientBytes", "efficiencyScore", "fileReference"}
    refs = {r["file"]: r for r in out["image"]["fileReference"]}
    assert refs["/data/big.bin"]["count"] == 2 or refs["/data/big.bin"]["sizeBytes"] >= 50000
    assert refs["/etc/config"]["sizeBytes"] == 2200
    # dive: score = sum(min size per path) / sum(all sizes)
    assert 0 < out["image"]["efficiencyScore"] < 1
    text = cli("analyze", "waste:1").out
    assert "/data/big.bin" in text and "RUN rm /data/big.bin" in text
    failing = cli("analyze", "--ci", "--lowest-efficiency", "0.99", "waste:1")
    assert failing.code == 1 and "FAIL: lowestEfficiency" in failing.out
    passing = cli("analyze", "--ci", "--lowest-efficiency", "0.01", "--highest-user-wasted-percent", "disabled",
                  "--highest-wasted-bytes", "1MB", "waste:1")
    assert passing.code == 0, passing
    assert cli("analyze", "--ci", "--highest-wasted-bytes", "10KB", "--lowest-efficiency", "0",
               "--highest-user-wasted-percent", "disabled", "waste:1").code == 1


def test_diff_between_images(cli, wasteful):
    lines = cli("diff", "base:1", "waste:1").out.splitlines()
    kinds = {l.split()[1]: l.split()[0] for l in lines}
    assert kinds["/new/file"] == "A"
    assert kinds["/etc/config"] == "C"
    assert kinds["/data/big.bin"] == "D"
    assert "/etc/keep" not in kinds
    data = json.loads(cli("diff", "--json", "base:1", "waste:1").out)
    assert {"path": "/new/file", "size": 10} in data["A"]
