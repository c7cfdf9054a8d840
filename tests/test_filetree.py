"""Tests for engine.filetree: merged trees, per-layer statuses and lazy views."""

from __future__ import annotations

import io
import tarfile

import pytest

from engine.errors import NotFound, StrataError, Unsupported
from engine.filetree import ImageTree, TreeView
from engine.tarindex import Entry as E
from engine.tarindex import LayerIndex, index_stream


def layer(*entries, whiteouts=(), opaque=()):
    return LayerIndex.from_entries(entries, whiteouts, opaque)


def D(path, mode=0o755, **kw):
    return E(path, "dir", mode, **kw)


def F(path, size, mode=0o644, **kw):
    return E(path, "file", mode, size=size, **kw)


def merged(layers):
    return [(p, t, size) for p, t, _mode, size, _link, _uid, _gid in ImageTree(layers).flatten()]


def statuses(view):
    return {n.path: n.status for n in view.walk()}


# -- merged trees -------------------------------------------------------------

def test_whiteout_modify_and_readd():
    l0 = layer(D("etc"), F("etc/passwd", 10), F("etc/shadow", 5, 0o600), F("usr/bin/sh", 100))
    l1 = layer(D("etc"), F("etc/passwd", 12), whiteouts=["etc/shadow"])
    l2 = layer(F("etc/shadow", 7, 0o640))
    assert merged([l0, l1]) == [
        ("etc", "dir", 0), ("etc/passwd", "file", 12),
        ("usr", "dir", 0), ("usr/bin", "dir", 0), ("usr/bin/sh", "file", 100),
    ]
    assert merged([l0, l1, l2]) == [
        ("etc", "dir", 0), ("etc/passwd", "file", 12), ("etc/shadow", "file", 7),
        ("usr", "dir", 0), ("usr/bin", "dir", 0), ("usr/bin/sh", "file", 100),
    ]
    rows = {row[0]: row for row in ImageTree([l0, l1, l2]).flatten()}
    assert rows["etc/shadow"][2] == 0o640
    assert rows["usr"][2] == 0o755  # implicit parents are plain directories

    tree = ImageTree([l0, l1, l2])
    assert statuses(TreeView(tree, 1)) == {
        "etc": "modified", "etc/passwd": "modified", "etc/shadow": "removed",
        "usr": "unchanged", "usr/bin": "unchanged", "usr/bin/sh": "unchanged",
    }
    assert statuses(TreeView(tree, 2, context=False)) == {"etc": "modified", "etc/shadow": "added"}
    assert statuses(TreeView(tree, 0, context=False))["usr/bin/sh"] == "added"


def test_opaque_directory_spec_example_from_tars():
    def tar(members):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for name, data in members:
                info = tarfile.TarInfo(name)
                if data is None:
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    t.addfile(info)
                else:
                    info.size = len(data)
                    t.addfile(info, io.BytesIO(data))
        return index_stream(io.BytesIO(buf.getvalue()))

    base = tar([("a/", None), ("a/b/", None), ("a/b/c/", None), ("a/b/c/bar", b"bar"),
                ("a/keep", b"k")])
    # The opaque marker applies first, wherever it sits in the archive.
    upper = tar([("a/", None), ("a/b/", None), ("a/b/c/", None), ("a/b/c/foo", b"fooo"),
                 ("a/.wh..wh..opq", b"")])
    assert upper.opaque_dirs == {"a"}
    assert merged([base, upper]) == [
        ("a", "dir", 0), ("a/b", "dir", 0), ("a/b/c", "dir", 0), ("a/b/c/foo", "file", 4),
    ]
    view = TreeView([base, upper], 1)
    assert statuses(view) == {
        "a": "modified", "a/b": "modified", "a/b/c": "modified",
        "a/b/c/bar": "removed", "a/b/c/foo": "added", "a/keep": "removed",
    }


def test_file_replaced_by_directory_and_back():
    l0 = layer(F("x", 5), D("d"), D("d/e"), F("d/e/f", 9), F("d/g", 1))
    l1 = layer(D("x"), F("x/y", 3), F("d", 4))
    l2 = layer(D("d"), F("d/new", 2))
    assert merged([l0, l1]) == [("d", "file", 4), ("x", "dir", 0), ("x/y", "file", 3)]
    assert merged([l0, l1, l2]) == [
        ("d", "dir", 0), ("d/new", "file", 2), ("x", "dir", 0), ("x/y", "file", 3),
    ]
    view = TreeView([l0, l1, l2], 1)
    assert statuses(view) == {
        "d": "modified", "d/e": "removed", "d/e/f": "removed", "d/g": "removed",
        "x": "modified", "x/y": "added",
    }
    assert view.node("d").type == "file" and view.node("d").child_count == 2
    assert view.node("d/e").size == 9  # a removed directory shows what it held


def test_deleted_directory_is_not_resurrected():
    l0 = layer(D("opt"), D("opt/app"), F("opt/app/bin", 50), F("opt/app/lib", 20))
    l1 = layer(whiteouts=["opt/app"])
    l2 = layer(D("opt/app"), F("opt/app/new", 1))
    assert merged([l0, l1, l2]) == [
        ("opt", "dir", 0), ("opt/app", "dir", 0), ("opt/app/new", "file", 1),
    ]
    assert TreeView([l0, l1, l2], 1).node("opt/app").status == "removed"


def test_implicit_parents_between_listed_directories():
    l0 = layer(D("a", 0o700), F("a/b/c/d", 1), F("x/y", 2), D("x/y2/z", 0o750))
    rows = {p: (t, mode) for p, t, mode, *_ in ImageTree([l0]).flatten()}
    assert rows == {
        "a": ("dir", 0o700), "a/b": ("dir", 0o755), "a/b/c": ("dir", 0o755),
        "a/b/c/d": ("file", 0o644), "x": ("dir", 0o755), "x/y": ("file", 0o644),
        "x/y2": ("dir", 0o755), "x/y2/z": ("dir", 0o750),
    }
    assert [n.path for n in TreeView([l0], 0).walk("a")] == ["a/b", "a/b/c", "a/b/c/d"]


def test_hardlinks_keep_their_type_and_resolve_to_their_target():
    l0 = layer(F("bin/a", 10, 0o755), E("bin/b", "hardlink", 0o755, linkname="bin/a"))
    rows = list(ImageTree([l0]).flatten())
    assert ("bin/b", "hardlink", 0o755, 0, "bin/a", 0, 0) in rows
    found = ImageTree([l0]).resolve("/bin/b")
    assert (found.layer, found.path, found.member) == (0, "bin/b", "bin/a")
    assert found.entry.type == "hardlink"


def test_same_directory_again_is_unchanged():
    l0 = layer(D("srv", uid=1), F("srv/data", 3), D("var"))
    l1 = layer(D("srv", uid=1), F("other", 1))
    l2 = layer(D("srv", uid=2))
    tree = ImageTree([l0, l1, l2])
    assert TreeView(tree, 1).node("srv").status == "unchanged"
    assert TreeView(tree, 2).node("srv").status == "modified"
    assert TreeView(tree, 1).node("srv").layer == 1  # who supplied it last


def test_merged_view_and_aggregated_base():
    l0 = layer(F("a", 1), F("b", 2))
    l1 = layer(F("c", 3), whiteouts=["a"])
    l2 = layer(F("b", 5))
    tree = ImageTree([l0, l1, l2])
    assert statuses(TreeView(tree)) == {"b": "unchanged", "c": "unchanged"}
    assert statuses(TreeView(tree, base=0)) == {"a": "removed", "b": "modified", "c": "added"}
    assert statuses(TreeView(tree, 0)) == {"a": "added", "b": "added"}
    with pytest.raises(StrataError):
        TreeView(tree, 0, base=2)
    with pytest.raises(StrataError, match="unknown status"):
        TreeView(tree, statuses={"gone"})


# -- views ----------------------------------------------------------------------

@pytest.fixture
def tree():
    l0 = layer(D("usr"), D("usr/lib"), F("usr/lib/big", 1000), F("usr/lib/small", 10),
               F("usr/lib/mid", 500), D("etc"), F("etc/hosts", 7), F("zz", 1))
    l1 = layer(D("usr"), D("usr/lib"), F("usr/lib/mid", 600), F("usr/lib/new", 20),
               whiteouts=["etc/hosts"])
    return ImageTree([l0, l1])


def test_children_sorting_paging_and_counts(tree):
    view = TreeView(tree, 1)
    names = [n.name for n in view.children("usr/lib")]
    assert names == ["big", "mid", "new", "small"]
    assert [n.name for n in view.children("/usr/lib/", sort="size")] == ["big", "mid", "new", "small"]
    assert [n.name for n in view.children("usr/lib", offset=1, limit=2)] == ["mid", "new"]
    assert view.count("usr/lib") == 4 and view.count("") == 3
    top = view.children("")
    assert [(n.name, n.size, n.child_count) for n in top] == [
        ("etc", 0, 1), ("usr", 1630, 1), ("zz", 1, 0),
    ]
    assert [n.name for n in view.children(sort="size")] == ["usr", "zz", "etc"]
    assert view.node("").size == 1631 and view.total_size == 1631
    node = view.node("usr/lib/mid")
    assert (node.status, node.size, node.layer, node.type) == ("modified", 600, 1, "file")
    assert view.node("etc/hosts").status == "removed" and view.node("etc/hosts").size == 7
    assert view.children("zz") == []
    with pytest.raises(NotFound):
        view.node("nope")
    with pytest.raises(StrataError):
        view.children("usr", sort="mtime")


def test_filters_and_prefix(tree):
    added = TreeView(tree, 1, statuses={"added"})
    assert [n.path for n in added.walk()] == ["usr", "usr/lib", "usr/lib/new"]
    assert added.count("usr/lib") == 1
    removed = TreeView(tree, 1, statuses={"removed"})
    assert [n.path for n in removed.walk()] == ["etc", "etc/hosts"]
    with pytest.raises(NotFound):
        removed.node("zz")
    sub = TreeView(tree, 1, prefix="/usr/lib")
    assert [n.name for n in sub.children()] == ["big", "mid", "new", "small"]
    assert [n.path for n in sub.walk()][:1] == ["usr/lib/big"]
    assert sub.node("").path == "usr/lib"
    with pytest.raises(NotFound):
        sub.node("etc/hosts")
    with pytest.raises(NotFound):
        TreeView(tree, 1, prefix="missing")
    only_layer = TreeView(tree, 1, context=False)
    assert only_layer.node("usr/lib").size == 620  # only the files layer 1 supplied
    assert [n.path for n in only_layer.walk()] == [
        "etc", "etc/hosts", "usr", "usr/lib", "usr/lib/mid", "usr/lib/new",
    ]


def test_flatten_of_view_matches_image(tree):
    view = TreeView(tree)
    assert list(view.flatten()) == list(tree.flatten())
    assert tree.view(0).node("etc/hosts").status == "added"


def test_resolve_follows_symlinks_inside_the_root():
    l0 = layer(
        D("usr"), D("usr/lib"), F("usr/lib/libx.so", 42), D("etc"), F("etc/os-release", 5),
        E("lib", "symlink", linkname="usr/lib"),
        E("lib64", "symlink", linkname="/usr/lib"),
        E("up", "symlink", linkname="../../../etc"),
        E("loop1", "symlink", linkname="loop2"), E("loop2", "symlink", linkname="loop1"),
    )
    l1 = layer(F("usr/lib/libx.so", 43))
    tree = ImageTree([l0, l1])
    assert tree.resolve("lib/libx.so")[:3] == (1, "usr/lib/libx.so", "usr/lib/libx.so")
    assert tree.resolve("/lib64/libx.so").path == "usr/lib/libx.so"
    assert tree.resolve("lib/libx.so", layer=0).layer == 0
    assert tree.resolve("up/os-release").path == "etc/os-release"  # ".." stops at the root
    assert tree.resolve("lib/../etc/os-release").path == "etc/os-release"
    assert tree.resolve("lib", follow=False).entry.type == "symlink"
    assert tree.resolve("lib").path == "usr/lib"
    with pytest.raises(StrataError, match="symbolic links"):
        tree.resolve("loop1/x")
    with pytest.raises(NotFound):
        tree.resolve("usr/lib/missing")
    with pytest.raises(NotFound):
        tree.resolve("etc/os-release/x")


def test_too_many_layers_and_empty_image():
    with pytest.raises(Unsupported):
        ImageTree([layer() for _ in range(255)])
    empty = TreeView([])
    assert empty.children() == [] and empty.count() == 0 and list(empty.walk()) == []


def test_view_on_many_files_is_paged():
    files = [F(f"big/f{i:05d}", i) for i in range(20000)] + [F("x/y", 1)]
    view = TreeView([layer(*files)], 0)
    page = view.children("big", sort="size", limit=3)
    assert [n.size for n in page] == [19999, 19998, 19997]
    assert view.count("big") == 20000
    assert view.node("big").size == sum(range(20000))
    assert len(view.children("big", offset=19990)) == 10


# -- against a plain reference model ------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

_NAMES = ["a", "b", "a-b", "c.d", "e"]
_paths = st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3).map("/".join)
_entry = st.tuples(_paths, st.sampled_from(["file", "dir", "symlink", "hardlink"]),
                   st.integers(0, 50))
_layer = st.tuples(st.lists(_entry, max_size=8), st.lists(_paths, max_size=2),
                   st.lists(_paths, max_size=1))


def _reference(layers):
    """Apply layers the plain way: a dict of path -> attributes."""
    fs: dict[str, tuple] = {}

    def drop_under(path):
        for p in [p for p in fs if p.startswith(path + "/")]:
            del fs[p]

    history = []
    for k, ix in enumerate(layers):
        for w in ix.whiteouts:
            if w in fs:
                del fs[w]
                drop_under(w)
        for o in ix.opaque_dirs:
            drop_under(o)
        for e in ix.entries:
            old = fs.get(e.path)
            if e.type != "dir" and old and old[0] == "dir":
                drop_under(e.path)
            fs[e.path] = (e.type, e.mode, e.size, e.linkname, k)
        for e in ix.entries:
            parts = e.path.split("/")
            for i in range(1, len(parts)):
                a = "/".join(parts[:i])
                if a not in fs or fs[a][0] != "dir":
                    fs[a] = ("dir", 0o755, 0, "", k)
        history.append(dict(fs))
    return history


@hypothesis.settings(max_examples=120, deadline=None, database=None)
@hypothesis.given(st.lists(_layer, min_size=1, max_size=4))
def test_matches_reference_model(spec):
    layers = []
    for entries, whiteouts, opaque in spec:
        rows = [E(p, t, 0o600 if t == "dir" else 0o644, size=s if t == "file" else 0,
                  linkname="x" if t in ("symlink", "hardlink") else "") for p, t, s in entries]
        layers.append(layer(*rows, whiteouts=whiteouts, opaque=opaque))
    history = _reference(layers)
    tree = ImageTree(layers)
    for k, state in enumerate(history):
        got = {p: (t, mode, size, link) for p, t, mode, size, link, _u, _g in tree.flatten(k)}
        assert got == {p: v[:4] for p, v in state.items()}, k
        view = TreeView(tree, k)
        before = history[k - 1] if k else {}
        for node in view.walk():
            if node.type == "dir" or node.status == "removed" and before[node.path][0] == "dir":
                continue
            if node.path not in state:
                assert node.status == "removed"
            elif node.path not in before:
                assert node.status == "added"
            elif state[node.path][4] == k:
                assert node.status == "modified"
            else:
                assert node.status == "unchanged"
            assert node.layer == (k if node.status == "removed" else state[node.path][4])
        shown = {n.path for n in view.walk()}
        assert shown == set(state) | set(before)
