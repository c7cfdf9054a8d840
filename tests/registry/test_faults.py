"""Pulls through a fault proxy: broken connections resume with Range, a killed pull resumes
next time, corrupt blobs are refused, transient errors are retried, schema1 is refused."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from factory import skopeo_copy

from engine import (
    Cancelled,
    DigestMismatch,
    Engine,
    Progress,
    RegistryError,
    Unsupported,
)

pytestmark = pytest.mark.peers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def big_remote(big_image, engine, registry, proxy):
    """The 4 MiB image pushed to the registry; returns (reference via the proxy, layer digest)."""
    path = registry.repo("big").split("/", 1)[1]
    engine.tag("local/big:1", f"{registry.host}/{path}:1")
    engine.push(f"{registry.host}/{path}:1")
    layer = engine.image(f"{registry.host}/{path}:1").layers[0]
    return f"{proxy.host}/{path}:1", layer.digest


def _blob_files(store: Path) -> set[str]:
    return {p.name for p in (store / "blobs" / "sha256").iterdir()}


def _check_store(store: Path) -> None:
    """Every blob hashes to its name and every image's blobs are there."""
    for path in (store / "blobs" / "sha256").iterdir():
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        assert h.hexdigest() == path.name
    engine = Engine(store)
    for rec in engine.store.meta.images():
        for digest in engine.store.meta.image_blobs(rec.id):
            assert engine.store.blobs.has(digest)


def test_connection_cut_mid_blob_resumes_with_range(big_remote, proxy, tmp_path):
    ref, layer = big_remote
    proxy.faults.cut_blob_after = 1 << 20
    store = tmp_path / "s"
    result = Engine(store).pull(ref)
    assert layer in result.downloaded
    gets = proxy.requests_to(f"/blobs/{layer}", "GET")
    ranges = [r["headers"].get("Range") for r in gets]
    assert ranges[0] is None
    assert any(r and r.startswith("bytes=") and int(r[6:-1]) > 0 for r in ranges[1:]), ranges
    _check_store(store)
    assert layer.partition(":")[2] in _blob_files(store)
    assert list((store / "tmp").iterdir()) == []


def test_pull_killed_half_way_resumes_next_time(big_remote, proxy, tmp_path):
    ref, layer = big_remote
    hexdigest = layer.partition(":")[2]
    store = tmp_path / "s"
    proxy.faults.rate = 1 << 20  # 1 MiB/s: the 4 MiB layer takes about 4 s
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--store", str(store), "pull", "-q", ref],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    partial = store / "tmp" / f"pull-{hexdigest}"
    deadline = time.monotonic() + 30
    try:
        while not (partial.exists() and partial.stat().st_size >= (1 << 20)):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the pull never got going"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    kept = partial.stat().st_size
    assert 0 < kept < 4 << 20
    assert hexdigest not in _blob_files(store)           # never visible as a blob
    assert Engine(store).images() == []                   # nothing recorded
    proxy.faults.rate = None
    before = len(proxy.requests_to(f"/blobs/{layer}", "GET"))
    Engine(store).pull(ref)
    resumed = proxy.requests_to(f"/blobs/{layer}", "GET")[before:]
    starts = [int(r["headers"]["Range"][6:-1]) for r in resumed if r["headers"].get("Range")]
    assert starts and starts[0] >= kept - (1 << 20) and starts[0] > 0, resumed
    assert not partial.exists()
    _check_store(store)
    assert len(Engine(store).images()) == 1


def test_cancel_stops_a_pull_and_keeps_the_partial_download(big_remote, proxy, tmp_path):
    ref, layer = big_remote
    proxy.faults.rate = 2 << 20
    store = tmp_path / "s"
    cancel = threading.Event()
    events = []

    def progress(event):
        events.append(event)
        if isinstance(event, Progress) and event.action == "Downloading" and event.current >= 1 << 20:
            cancel.set()

    started = time.monotonic()
    with pytest.raises(Cancelled):
        Engine(store).pull(ref, progress=progress, cancel=cancel)
    assert time.monotonic() - started < 10
    partial = store / "tmp" / f"pull-{layer.partition(':')[2]}"
    assert partial.stat().st_size >= 1 << 20
    assert Engine(store).images() == []
    proxy.faults.rate = None
    Engine(store).pull(ref)
    assert not partial.exists()


def test_corrupt_blob_is_rejected_and_nothing_is_stored(big_remote, proxy, tmp_path):
    ref, layer = big_remote
    proxy.faults.corrupt_blobs_over = 64 << 10  # the layer, not the config
    store = tmp_path / "s"
    with pytest.raises(DigestMismatch, match="digest mismatch"):
        Engine(store).pull(ref)
    assert layer.partition(":")[2] not in _blob_files(store)
    assert list((store / "tmp").iterdir()) == []
    assert Engine(store).images() == []


def test_transient_503_is_retried(source, registry, proxy, tmp_path):
    path = registry.repo().split("/", 1)[1]
    source.tag("local/small:1", f"{registry.host}/{path}:1")
    source.push(f"{registry.host}/{path}:1")
    proxy.faults.statuses.append(("/manifests/", 503, {}))
    Engine(tmp_path / "s").pull(f"{proxy.host}/{path}:1")
    assert len(proxy.requests_to("/manifests/1", "GET")) == 2


def test_too_many_requests_says_how_long_to_wait(source, registry, proxy, tmp_path):
    path = registry.repo().split("/", 1)[1]
    proxy.faults.statuses.append(("/manifests/", 429, {"Retry-After": "120", "code": "TOOMANYREQUESTS"}))
    with pytest.raises(RegistryError, match="too many requests.*wait 120s"):
        Engine(tmp_path / "s").pull(f"{proxy.host}/{path}:1")


def test_schema1_manifest_is_unsupported(umoci_layout, registry, proxy, tmp_path):
    path = registry.repo("s1").split("/", 1)[1]
    skopeo_copy(f"oci:{umoci_layout}:base", f"docker://{registry.host}/{path}:1",
                "--dest-tls-verify=false", "--format", "v2s2")
    # an old registry (simulated by the proxy) only answers with schema1
    proxy.faults.accept = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    with pytest.raises(Unsupported, match="schema1"):
        Engine(tmp_path / "s").pull(f"{proxy.host}/{path}:1")
