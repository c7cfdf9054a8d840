"""The store: atomic ingest, one copy per blob, crash safety, cross-process locking,
and a property test that any sequence of operations leaves it consistent."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from engine import DigestMismatch, Engine, NotFound
from engine.store import Store
from factory import docker_archive_bytes, tar_bytes


def check_consistent(store: Store) -> None:
    """Every name points at an image, every referenced blob exists and hashes right,
    no unreferenced blob or temp file lingers after a GC."""
    meta = store.meta
    ids = set(meta.image_ids())
    for (image_id,) in meta.db.execute("SELECT image_id FROM tags"):
        assert image_id in ids
    for image_id in ids:
        img = store.image(image_id)  # reads and verifies manifest and config
        for layer in img.layers:
            path = store.blobs.path(layer.digest)
            assert path.is_file()
            assert "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() == layer.digest
    for path in store.blobs.blob_dir.iterdir():
        assert len(path.name) == 64, f"stray file {path.name} in blobs/"


def test_blob_writer_rejects_mismatch_and_leaves_nothing(tmp_path):
    store = Store(tmp_path / "s")
    with pytest.raises(DigestMismatch):
        with store.blobs.writer(expected_digest="sha256:" + "0" * 64) as w:
            w.write(b"hello")
            w.commit()
    assert list(store.blobs.blob_dir.iterdir()) == []
    assert list(store.blobs.tmp_dir.iterdir()) == []
    with pytest.raises(DigestMismatch):
        with store.blobs.writer(expected_size=3) as w:
            w.write(b"hello")
    assert list(store.blobs.tmp_dir.iterdir()) == []


def test_one_copy_per_blob(tmp_path):
    engine = Engine(tmp_path / "s")
    layer = tar_bytes([("a", b"shared" * 1000, 0o644)])
    for n in range(3):
        engine.load(io.BytesIO(docker_archive_bytes([
            {"layers": [layer, tar_bytes([(f"f{n}", b"x", 0o644)])], "tags": [f"img:{n}"]}])))
    blobs = list(engine.store.blobs.blob_dir.iterdir())
    assert sum(1 for p in blobs if p.name == hashlib.sha256(layer).hexdigest()) == 1
    assert len(engine.store.meta.image_ids()) == 3
    check_consistent(engine.store)


def _slow_loader(store: Path, archive: Path, marker: Path) -> subprocess.Popen:
    """A strata load that reads its archive from a pipe we feed by hand."""
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--store", str(store), "load"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=Path(__file__).parents[1])
    return proc


def test_sigkill_during_load_leaves_store_consistent(tmp_path):
    store_dir = tmp_path / "s"
    big = tar_bytes([("big.bin", os.urandom(8 << 20), 0o644)])
    data = docker_archive_bytes([{"layers": [big], "tags": ["big:1"]}])
    Engine(store_dir).load(io.BytesIO(docker_archive_bytes([{"layers": [tar_bytes([("k", b"k", 0o644)])], "tags": ["keep:1"]}])))
    proc = _slow_loader(store_dir, tmp_path / "a.tar", tmp_path / "m")
    proc.stdin.write(data[: len(data) // 2])
    proc.stdin.flush()
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    engine = Engine(store_dir)
    check_consistent(engine.store)
    assert [r.tags for r in engine.store.meta.images()] == [["docker.io/library/keep:1"]]
    assert not engine.store.blobs.has("sha256:" + hashlib.sha256(big).hexdigest())
    # the next load completes
    engine.load(io.BytesIO(data))
    assert engine.resolve("big:1")
    check_consistent(engine.store)


def test_two_loads_at_once(tmp_path):
    store_dir = tmp_path / "s"
    Store(store_dir)
    archives = []
    for n in range(2):
        path = tmp_path / f"{n}.tar"
        path.write_bytes(docker_archive_bytes([{
            "layers": [tar_bytes([("shared", b"s" * 100000, 0o644)]), tar_bytes([(f"own{n}", os.urandom(2 << 20), 0o644)])],
            "tags": [f"img{n}:1"]}]))
        archives.append(path)
    procs = [subprocess.Popen([sys.executable, "-m", "cli.main", "--store", str(store_dir), "load", "-i", str(a)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).parents[1])
             for a in archives]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    engine = Engine(store_dir)
    assert engine.resolve("img0:1") and engine.resolve("img1:1")
    check_consistent(engine.store)


def test_prune_waits_for_a_running_load(tmp_path):
    """A prune never deletes blobs a concurrent load has staged but not yet recorded."""
    store_dir = tmp_path / "s"
    engine = Engine(store_dir)
    data = docker_archive_bytes([{"layers": [tar_bytes([("f", os.urandom(4 << 20), 0o644)])], "tags": ["new:1"]}])
    proc = _slow_loader(store_dir, tmp_path / "a.tar", tmp_path / "m")
    proc.stdin.write(data[: len(data) - 4096])
    proc.stdin.flush()
    time.sleep(0.5)
    pruner = subprocess.Popen([sys.executable, "-m", "cli.main", "--store", str(store_dir), "image", "prune", "-a", "-f"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).parents[1])
    time.sleep(0.5)
    assert pruner.poll() is None  # blocked on the lock while the load runs
    proc.stdin.write(data[len(data) - 4096:])
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    assert pruner.wait(timeout=60) == 0
    check_consistent(engine.store)


LAYERS = [tar_bytes([(f"file{n}", bytes([n]) * (100 * n + 1), 0o644)]) for n in range(4)]


class StoreMachine(RuleBasedStateMachine):
    """Random sequences of load / tag / rmi / prune keep the store consistent."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self._dir = tempfile.mkdtemp(prefix="strata-prop-")
        self.engine = Engine(Path(self._dir) / "store")
        self.names: set[str] = set()

    @rule(layers=st.lists(st.sampled_from(range(4)), min_size=0, max_size=3, unique=True),
          tag=st.sampled_from(["a:1", "a:2", "b:1", "c/d:x"]))
    def load(self, layers, tag):
        data = docker_archive_bytes([{"layers": [LAYERS[i] for i in layers], "tags": [tag]}])
        self.engine.load(io.BytesIO(data))
        self.names.add(tag)

    @precondition(lambda self: self.names)
    @rule(data=st.data(), new_name=st.sampled_from(["x:1", "y:2", "a:1"]))
    def tag(self, data, new_name):
        source = data.draw(st.sampled_from(sorted(self.names)))
        self.engine.tag(source, new_name)
        self.names.add(new_name)

    @precondition(lambda self: self.names)
    @rule(data=st.data(), force=st.booleans())
    def rmi(self, data, force):
        name = data.draw(st.sampled_from(sorted(self.names)))
        try:
            self.engine.remove([name], force=force)
        except NotFound:
            pass
        self.names = {n for n in self.names if self._exists(n)}

    @rule(all=st.booleans())
    def prune(self, all):
        self.engine.prune(all=all)
        self.names = {n for n in self.names if self._exists(n)}

    def _exists(self, name):
        try:
            self.engine.resolve(name)
            return True
        except NotFound:
            return False

    @invariant()
    def consistent(self):
        check_consistent(self.engine.store)
        referenced = self.engine.store.meta.referenced_blobs()
        assert all(self.engine.store.blobs.has(d) for d in referenced)

    def teardown(self):
        import shutil

        self.engine.store.meta.close()
        shutil.rmtree(self._dir, ignore_errors=True)


TestStoreMachine = StoreMachine.TestCase
TestStoreMachine.settings = settings(max_examples=25, stateful_step_count=12, deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow])


def test_gc_after_rmi_leaves_no_orphans(tmp_path):
    engine = Engine(tmp_path / "s")
    engine.load(io.BytesIO(docker_archive_bytes([{"layers": LAYERS[:2], "tags": ["a:1"]}])))
    engine.remove(["a:1"])
    assert list(engine.store.blobs.blob_dir.iterdir()) == []
    assert list(engine.store.index_dir.iterdir()) == []
