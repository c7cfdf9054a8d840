"""Pull and push a ~230 MB two-layer image through a local docker-registry, Strata beside skopeo.

    python benchmarks/bench_registry.py [--runs 3] [--size-mb 200] [--files 20000]

The image: one layer of large files (half random, half text-like, so gzip
roughly halves it) and one layer of 20,000 small files.  It is written as an
OCI layout (gzip layers) and pushed once with skopeo.  Then, alternating and
each into a fresh destination:

* pull: ``strata --store NEW pull -q REF`` (CLI subprocess: download, verify,
  decompress, diff_id, index every layer, record) against
  ``skopeo copy docker://REF oci:NEW:tag`` (download and verify only);
* push: ``strata push`` of the pulled image against ``skopeo copy oci:… docker://…``,
  each run to a brand-new registry, so every blob is really uploaded
  (no cross-repository mounts, no "already exists").

Prints per-run wall times and peak RSS (``wait4``), medians and ratios.
Needs ``docker-registry`` and ``skopeo`` on PATH.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "registry"))
sys.path.insert(0, str(ROOT / "tests"))

from registry_servers import RegistryServer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MTIME = 1700000000


def _block(rng: random.Random, n: int) -> bytes:
    """Half random bytes, half text-like: gzip gets about 2:1, like binaries and libraries."""
    half = n // 2
    words = [b"strata", b"layer", b"registry", b"blob", b"digest", b"manifest", b"/usr/lib/", b"\n"]
    text = b" ".join(rng.choice(words) for _ in range(half // 6))[:half]
    return rng.randbytes(n - len(text)) + text


def _write_layer(path: Path, members) -> tuple[str, str, int]:
    """Write a gzip layer; returns (digest, diff_id, size) of it."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    digest, diff = hashlib.sha256(), hashlib.sha256()

    class Sink(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            diff.update(b)
            out = comp.compress(b)
            digest.update(out)
            f.write(out)
            return len(b)

    with open(path, "wb") as f:
        with tarfile.open(fileobj=Sink(), mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.mtime = MTIME
                if data is None:
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                else:
                    info.size = len(data)
                    info.mode = 0o644
                    tar.addfile(info, io.BytesIO(data))
        tail = comp.flush()
        digest.update(tail)
        f.write(tail)
    return "sha256:" + digest.hexdigest(), "sha256:" + diff.hexdigest(), path.stat().st_size


def build_layout(dest: Path, size_mb: int, files: int) -> int:
    """An OCI layout with the two-layer image tagged ``bench``; returns its uncompressed size."""
    rng = random.Random(42)
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    big_files = 8
    per_file = size_mb * (1 << 20) // big_files

    def big():
        yield "opt/", None
        for i in range(big_files):
            yield f"opt/big-{i}.bin", b"".join(_block(rng, 1 << 20) for _ in range(per_file >> 20))

    def small():
        for d in range(files // 500):
            yield f"usr/share/d{d:03d}/", None
            for i in range(500):
                yield f"usr/share/d{d:03d}/f{i:04d}.txt", _block(rng, rng.randrange(512, 2560))

    descs, diff_ids, total = [], [], 0
    for n, members in enumerate((big(), small())):
        tmp = dest / f"layer{n}"
        digest, diff_id, size = _write_layer(tmp, members)
        tmp.rename(blobs / digest[7:])
        descs.append({"mediaType": OCI_LAYER_GZIP, "digest": digest, "size": size})
        diff_ids.append(diff_id)
        total += size
    config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                         "config": {}, "rootfs": {"type": "layers", "diff_ids": diff_ids},
                         "history": [{"created_by": "bench"}, {"created_by": "bench"}]}).encode()
    cfg_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    (blobs / cfg_digest[7:]).write_bytes(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": cfg_digest, "size": len(config)},
                           "layers": descs}).encode()
    man_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    (blobs / man_digest[7:]).write_bytes(manifest)
    (dest / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (dest / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": man_digest, "size": len(manifest),
         "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}))
    return total


# A small launcher measures the command: a child forked from this (large) process would
# inherit its peak RSS, since Linux keeps the high-water mark across exec.
RUNNER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """Run *cmd*; returns (wall seconds, peak RSS in MB) of that command alone."""
    out = subprocess.run([sys.executable, "-c", RUNNER, *cmd], capture_output=True, env=env, cwd=ROOT, check=True)
    wall, rss, code = out.stdout.decode().split()[-3:]
    if int(code) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr.decode()[-2000:]}")
    return float(wall), int(rss) / 1024


def strata(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", *args]


def report(name: str, strata_runs, skopeo_runs) -> None:
    s_wall = statistics.median(w for w, _ in strata_runs)
    k_wall = statistics.median(w for w, _ in skopeo_runs)
    s_rss = max(r for _, r in strata_runs)
    k_rss = max(r for _, r in skopeo_runs)
    print(f"{name}: strata median {s_wall:.2f}s (runs {', '.join(f'{w:.2f}' for w, _ in strata_runs)}), "
          f"peak RSS {s_rss:.0f} MB")
    print(f"{name}: skopeo median {k_wall:.2f}s (runs {', '.join(f'{w:.2f}' for w, _ in skopeo_runs)}), "
          f"peak RSS {k_rss:.0f} MB")
    print(f"{name}: strata/skopeo = {s_wall / k_wall:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mb", type=int, default=200, help="uncompressed size of the big-file layer")
    parser.add_argument("--files", type=int, default=20000, help="files in the small-file layer")
    parser.add_argument("--layout", type=Path, help="reuse (or create) the image layout in this directory")
    args = parser.parse_args()
    for tool in ("skopeo", "docker-registry"):
        if not shutil.which(tool):
            raise SystemExit(f"needs {tool}")
    work = Path(tempfile.mkdtemp(prefix="strata-bench-"))
    env = dict(os.environ, DOCKER_CONFIG=str(work / "docker"), STRATA_HOME=str(work / "home"))
    # An installed strata has its bytecode compiled; let the warm-up run write it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(strata("--help"), env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    servers = []
    try:
        started = time.perf_counter()
        layout = args.layout or work / "layout"
        if not (layout / "index.json").exists():
            build_layout(layout, args.size_mb, args.files)
        compressed = sum(p.stat().st_size for p in (layout / "blobs" / "sha256").iterdir())
        print(f"image: 2 layers, {compressed / 1e6:.0f} MB compressed, "
              f"~{args.size_mb * 1.048576 + args.files * 1.5e-3:.0f} MB uncompressed, {args.files} small files "
              f"(built in {time.perf_counter() - started:.1f}s)")
        registry = RegistryServer(work / "registry")
        servers.append(registry)
        ref = f"{registry.host}/bench/image:1"
        subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:bench",
                        f"docker://{ref}"], check=True)

        pulls_strata, pulls_skopeo = [], []
        for run in range(args.runs):
            pulls_strata.append(timed(strata("--store", str(work / f"pull-strata-{run}"), "pull", "-q", ref),
                                      env))
            pulls_skopeo.append(timed(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{ref}",
                                       f"oci:{work / f'pull-skopeo-{run}'}:bench"], env))
        report("pull", pulls_strata, pulls_skopeo)

        pushes_strata, pushes_skopeo = [], []
        store = work / "pull-strata-0"
        for run in range(args.runs):
            target = RegistryServer(work / f"push-registry-{run}")
            servers.append(target)
            mine = f"{target.host}/bench/strata:1"
            subprocess.run(strata("--store", str(store), "tag", ref, mine), check=True, env=env, cwd=ROOT)
            pushes_strata.append(timed(strata("--store", str(store), "push", "-q", mine), env))
            pushes_skopeo.append(timed(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:bench",
                                        f"docker://{target.host}/bench/skopeo:1"], env))
            target.stop()
            servers.remove(target)
            shutil.rmtree(work / f"push-registry-{run}", ignore_errors=True)
        report("push", pushes_strata, pushes_skopeo)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
