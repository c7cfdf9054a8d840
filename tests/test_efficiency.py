"""Tests for engine.efficiency: dive's analysis, CI rules and export, and image diff."""

from __future__ import annotations

import json

import pytest

from engine.efficiency import (
    Change,
    analyze,
    ci_check,
    diff,
    dive_json_text,
    parse_size,
    to_dive_json,
)
from engine.tarindex import Entry as E
from engine.tarindex import LayerIndex


def layer(*entries, whiteouts=(), opaque=()):
    return LayerIndex.from_entries(entries, whiteouts, opaque)


def F(path, size, **kw):
    return E(path, "file", 0o644, size=size, **kw)


def D(path, **kw):
    return E(path, "dir", 0o755, **kw)


@pytest.fixture
def dive_example():
    """Worked by hand the way dive's filetree.Efficiency counts it.

    Leaves per layer: L0 a=100 b=200 dir/c=50; L1 a=150 d=10; L2 a=100 and a
    whiteout of b (size 0).  Paths: a [100,150,100], b [200,0], dir/c [50], d [10].
    Score = (100+0+50+10) / (350+200+50+10) = 160/610; inefficient: a (350), b (200).
    """
    l0 = layer(F("a", 100), F("b", 200), D("dir"), F("dir/c", 50))
    l1 = layer(F("a", 150), F("d", 10))
    l2 = layer(F("a", 100), whiteouts=["b"])
    return [l0, l1, l2]


META = [
    {"id": "l0", "digest": "sha256:aaa", "command": "ADD rootfs.tar /"},
    {"id": "l1", "digest": "sha256:bbb", "command": "RUN make"},
    {"id": "l2", "digest": "sha256:ccc", "command": "RUN rm b"},
]


def test_dive_numbers(dive_example):
    result = analyze(dive_example, META)
    assert result.efficiency == pytest.approx(160 / 610)
    assert result.wasted_bytes == 550
    assert result.layer_sizes == [350, 160, 100]
    assert result.size_bytes == 610 and result.user_size_bytes == 260
    assert result.wasted_user_percent == pytest.approx(550 / 260)
    assert result.reclaimable_bytes == (350 - 100) + (200 - 0)
    assert [(f.path, f.count, f.size, f.layers, f.wasted_by, f.removed) for f in result.files] == [
        ("a", 3, 350, (0, 1, 2), 2, False),
        ("b", 2, 200, (0, 2), 2, True),
    ]


def test_dive_json_export_schema(dive_example):
    result = analyze(dive_example, META)
    doc = to_dive_json(result, META)
    assert list(doc) == ["layer", "image"]
    assert doc["layer"][1] == {
        "index": 1, "id": "l1", "digestId": "sha256:bbb", "sizeBytes": 160, "command": "RUN make",
    }
    assert list(doc["layer"][0]) == ["index", "id", "digestId", "sizeBytes", "command"]
    assert list(doc["image"]) == ["sizeBytes", "inefficientBytes", "efficiencyScore", "fileReference"]
    assert doc["image"]["fileReference"] == [
        {"count": 3, "sizeBytes": 350, "file": "/a"},
        {"count": 2, "sizeBytes": 200, "file": "/b"},
    ]
    assert json.loads(dive_json_text(result, META)) == doc


def test_layer_meta_size_overrides(dive_example):
    meta = [dict(m, size=1000) for m in META]
    result = analyze(dive_example, meta)
    assert result.size_bytes == 3000 and result.user_size_bytes == 2000
    assert result.wasted_user_percent == pytest.approx(550 / 2000)
    with pytest.raises(Exception, match="layer descriptions"):
        analyze(dive_example, META[:2])


def test_single_layer_and_empty_image():
    result = analyze([layer(F("a", 5), F("b", 6))])
    assert result.efficiency == 1.0 and result.files == [] and result.wasted_user_percent == 0.0
    empty = analyze([])
    assert empty.efficiency == 1.0 and empty.size_bytes == 0


def test_directories_count_only_as_leaves():
    l0 = layer(D("etc"), F("etc/a", 1), D("tmp"))
    l1 = layer(D("etc"), F("etc/b", 2), D("tmp"))
    result = analyze([l0, l1])
    # etc holds files in both layers (not a leaf); tmp is an empty leaf twice.
    assert [(f.path, f.count, f.size) for f in result.files] == [("tmp", 2, 0)]
    assert result.efficiency == 1.0


def test_deleted_directories_count_each_file():
    l0 = layer(D("d"), F("d/x", 10), F("d/y", 20), F("keep", 70))
    l1 = layer(whiteouts=["d"])
    result = analyze([l0, l1])
    assert [(f.path, f.count, f.size, f.removed) for f in result.files] == [
        ("d/y", 2, 20, True), ("d/x", 2, 10, True),
    ]
    assert result.efficiency == pytest.approx(70 / 100)


def test_opaque_directories_count_hidden_files():
    l0 = layer(D("cache"), F("cache/old", 40), F("app", 60))
    l1 = layer(D("cache"), F("cache/new", 5), opaque=["cache"])
    result = analyze([l0, l1])
    assert [(f.path, f.count, f.size, f.wasted_by) for f in result.files] == [
        ("cache/old", 2, 40, 1),
    ]


def test_ci_rules(dive_example):
    result = analyze(dive_example, META)
    rules = ci_check(result)
    assert [(r.name, r.status) for r in rules] == [
        ("lowestEfficiency", "fail"), ("highestWastedBytes", "disabled"),
        ("highestUserWastedPercent", "fail"),
    ]
    assert "efficiency=" in rules[0].message and "threshold=0.9" in rules[0].message
    rules = ci_check(result, lowest_efficiency="0.2", highest_wasted_bytes="1KB",
                     highest_user_wasted_percent="disabled")
    assert [r.status for r in rules] == ["pass", "pass", "disabled"]
    rules = ci_check(result, lowest_efficiency=0.1, highest_wasted_bytes="500B",
                     highest_user_wasted_percent=1)
    assert [r.status for r in rules] == ["pass", "fail", "fail"]
    assert rules[1].message == "too many bytes wasted (wasted-bytes=550 > threshold=500)"
    rules = ci_check(result, lowest_efficiency=2, highest_wasted_bytes="lots",
                     highest_user_wasted_percent="x")
    assert [r.status for r in rules] == ["misconfigured"] * 3
    assert ci_check(analyze([layer(F("a", 1))])) [0].status == "pass"


@pytest.mark.parametrize(
    "text,value",
    [("20MB", 20_000_000), ("20MiB", 20 * 1024**2), ("20M", 20_000_000), ("20 mb", 20_000_000),
     ("1.5GB", 1_500_000_000), ("1,000", 1000), ("5", 5), ("5B", 5), ("2KiB", 2048),
     ("1kB", 1000), (1234, 1234), ("0", 0)],
)
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["MB", "-5", "5XB", "", " 5MB", True, -1])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_diff_like_podman():
    a = [layer(D("etc", mtime=1), F("etc/passwd", 10, mtime=5), F("etc/group", 3),
               D("opt"), D("opt/old"), F("opt/old/x", 1), F("opt/old/y", 2),
               E("bin", "symlink", linkname="usr/bin"), F("same", 4, mtime=9), F("t", 1))]
    b = [layer(D("etc", mtime=2), F("etc/passwd", 10, mtime=6), F("etc/group", 3),
               D("opt"), D("opt/new"), F("opt/new/z", 8),
               E("bin", "symlink", linkname="/usr/bin"), F("same", 4, mtime=9), D("t"))]
    assert diff(a, b) == [
        Change("C", "bin", 0),
        Change("C", "etc", 0),  # holds a change (its own mtime does not count)
        Change("C", "etc/passwd", 10),  # mtime
        Change("C", "opt", 0),
        Change("A", "opt/new", 0),
        Change("A", "opt/new/z", 8),
        Change("D", "opt/old", 0),  # its contents are not listed
        Change("C", "t", 0),  # file became a directory
    ]
    assert diff(a, a) == []
    assert diff([], b)[0] == Change("A", "bin", 0)
    assert [c.kind for c in diff(b, [])] == ["D"] * 5
