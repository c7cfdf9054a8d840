"""Benchmark: a cold build and a warm (fully cached) rebuild, strata next to ``buildah bud``.

    python benchmarks/bench_build.py [--runs 3]

Both builders get the same busybox-static base image and the same multi-step
Dockerfile (ENV, WORKDIR, COPY, several RUNs, a multi-stage COPY --from).
Reported: wall seconds (median of --runs) for
  * strata in-process (``Engine.build``), cold and warm;
  * ``strata build`` as a command (interpreter start-up included), cold and warm,
    and the same command's start-up alone (``strata images``), so the warm
    rebuild's own work is ``warm - startup``;
  * ``buildah bud --isolation chroot --storage-driver vfs --layers``, cold and warm
    (skipped when buildah is missing).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import Engine  # noqa: E402

DOCKERFILE = """ARG BASE
FROM $BASE AS build
WORKDIR /src
COPY src/ ./
RUN for i in 1 2 3 4 5 6 7 8; do cat *.txt > out-$i.txt; done && mkdir -p /out && cp out-*.txt /out/
FROM $BASE
ENV APP_HOME=/srv/app MODE=bench
WORKDIR /srv/app
COPY config.ini ./
COPY --from=build /out/ ./data/
RUN mkdir -p logs cache && echo "$APP_HOME $MODE" > logs/env && rm -f /etc/group
RUN find /srv/app -type f | sort > manifest.txt && wc -l manifest.txt
LABEL org.example.bench=1
CMD ["cat", "/srv/app/manifest.txt"]
"""


def busybox_archive() -> bytes:
    """A docker-archive with a one-layer busybox-static image tagged bench/busybox:latest."""
    bb = shutil.which("busybox")
    if not bb:
        sys.exit("needs busybox-static (apt install busybox-static)")
    applets = subprocess.run([bb, "--list"], capture_output=True, text=True, check=True).stdout.split()
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("bin", "etc", "tmp", "root", "dev", "proc"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        tar.add(bb, "bin/busybox")
        for applet in sorted(set(applets) - {"busybox"}):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
        for name, data in (("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"), ("etc/group", b"root:x:0:\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    import hashlib

    blob = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(blob).hexdigest()
    from engine.platforms import host_platform

    config = json.dumps({"architecture": host_platform().architecture, "os": "linux",
                         "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                         "history": [{"created_by": "bench base"}]}).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in (("layer.tar", blob), ("config.json", config),
                           ("manifest.json", json.dumps([{"Config": "config.json",
                                                          "RepoTags": ["bench/busybox:latest"],
                                                          "Layers": ["layer.tar"]}]).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def make_context(path: Path) -> None:
    (path / "src").mkdir(parents=True)
    for i in range(50):
        (path / "src" / f"f{i:02d}.txt").write_text(f"line {i}\n" * 200)
    (path / "config.ini").write_text("[app]\nname = bench\n")
    (path / "Dockerfile").write_text(DOCKERFILE)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(cmd, **kw) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def bench_strata(work: Path, archive: bytes, ctx: Path, runs: int) -> dict:
    out = {"inproc_cold": [], "inproc_warm": [], "cli_cold": [], "cli_warm": [], "cli_startup": []}
    args = {"BASE": "bench/busybox:latest"}
    strata = [sys.executable, "-m", "cli.main"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for i in range(runs):
        engine = Engine(work / f"inproc-{i}")
        engine.load(io.BytesIO(archive))
        out["inproc_cold"].append(timed(lambda: engine.build(ctx, build_args=args, tags=["bench:1"])))
        out["inproc_warm"].append(timed(lambda: engine.build(ctx, build_args=args, tags=["bench:1"])))
        store = work / f"cli-{i}"
        Engine(store).load(io.BytesIO(archive))
        build = [*strata, "--store", str(store), "build", "-q", "--build-arg", "BASE=bench/busybox:latest",
                 "-t", "bench:1", str(ctx)]
        out["cli_cold"].append(timed(lambda: run(build, env=env)))
        out["cli_warm"].append(timed(lambda: run(build, env=env)))
        out["cli_startup"].append(timed(lambda: run([*strata, "--store", str(store), "images"], env=env)))
    return out


def bench_buildah(work: Path, archive: bytes, ctx: Path, runs: int) -> dict | None:
    if not shutil.which("buildah") or os.geteuid() != 0:
        return None
    base_tar = work / "base.tar"
    base_tar.write_bytes(archive)
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONFIG"}
    out = {"cold": [], "warm": []}
    for i in range(runs):
        root = work / f"buildah-{i}"
        b = ["buildah", "--root", str(root / "root"), "--runroot", str(root / "run"), "--storage-driver", "vfs"]
        run([*b, "pull", "-q", f"docker-archive:{base_tar}"], env=env)
        build = [*b, "bud", "--isolation", "chroot", "--layers", "--pull-never", "-q",
                 "--build-arg", "BASE=localhost/bench/busybox:latest", "-t", "bench:1", str(ctx)]
        out["cold"].append(timed(lambda: run(build, env=env)))
        out["warm"].append(timed(lambda: run(build, env=env)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        archive = busybox_archive()
        ctx = work / "ctx"
        make_context(ctx)
        strata = bench_strata(work, archive, ctx, args.runs)
        buildah = bench_buildah(work, archive, ctx, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in strata.items()}
    rows = [
        ("strata, in-process", med["inproc_cold"], med["inproc_warm"]),
        ("strata build (command)", med["cli_cold"], med["cli_warm"]),
    ]
    if buildah:
        rows.append(("buildah bud --layers (vfs, chroot)", statistics.median(buildah["cold"]),
                     statistics.median(buildah["warm"])))
    print(f"{'builder':<38} {'cold s':>8} {'warm s':>8}")
    for name, cold, warm in rows:
        print(f"{name:<38} {cold:8.3f} {warm:8.3f}")
    print(f"strata command start-up alone (strata images): {med['cli_startup']:.3f} s; "
          f"warm rebuild work beyond start-up: {med['cli_warm'] - med['cli_startup']:.3f} s")
    if not buildah:
        print("buildah: skipped (not installed, or not root)")
    if args.json:
        print(json.dumps({"strata": strata, "buildah": buildah}, indent=2))


if __name__ == "__main__":
    main()
