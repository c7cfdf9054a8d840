"""Benchmark ``strata load`` / ``strata save`` against ``skopeo copy`` on the same archives.

    python benchmarks/bench_archive.py [--layer-mb N] [--runs K] [--big-layer-gb G]

What it does:

1. Builds, in a temp dir, an OCI image layout by hand (``tarfile`` for the layers,
   gzip-compressed as a registry holds them; config, manifest, ``index.json`` and
   ``oci-layout`` written per the OCI image-spec): ``--data-layers`` layers of
   ``--layer-mb`` MB (uncompressed) each, a realistic mix of incompressible data
   (binaries, already-compressed assets) and text, plus one layer of
   ``--small-files`` small files.  skopeo then turns the layout into a
   docker-archive (``skopeo copy oci:DIR:TAG docker-archive:FILE:NAME:TAG``) and an
   oci-archive, so that both tools start from the very same files.
2. Times, side by side in one run, the median of ``--runs`` runs, each on a fresh
   store / destination (one discarded warm-up run of each command first; the order
   strata/skopeo alternates from run to run):

   - startup (no-op):     ``strata --store S images -q`` vs ``skopeo --version``
   - load docker-archive: ``strata --store S load -i image.tar``
     vs ``skopeo copy docker-archive:image.tar oci:OUT:TAG``
   - load oci-archive:    ``strata --store S load -i image-oci.tar``
     vs ``skopeo copy oci-archive:image-oci.tar oci:OUT:TAG``
   - save docker-archive: ``strata --store S save -o out.tar NAME:TAG``
     vs ``skopeo copy oci:OUT:TAG docker-archive:out2.tar:NAME:TAG``
   - save oci-archive:    ``strata --store S save --format oci -o out.tar NAME:TAG``
     vs ``skopeo copy oci:OUT:TAG oci-archive:out2.tar:NAME:TAG``

   For the saves, S and OUT are what each tool's own docker-archive load produced.
3. Reads each child's peak RSS through GNU ``/usr/bin/time -f %M`` (``os.wait4`` on a
   child of this process would report at least this process's own RSS; it is only the
   fallback when GNU time is missing).
4. With ``--big-layer-gb G``, also builds an image of a single G GB layer and reports
   load / save time and peak RSS (strata's memory must stay flat).

``--profile`` additionally runs one strata load and one strata save of the main image
under cProfile and prints the top functions by cumulative and by own time.

Everything is removed at the end unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

SKOPEO = "/usr/bin/skopeo"
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None  # GNU time, for peak RSS
NAME = "bench/strata"
TAG = "1.0"
REF = f"{NAME}:{TAG}"
MTIME = 1_700_000_000
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
TARGET_RATIO = 0.8
TARGET_RSS_MB = 150

WORDS = (  # noqa: SIM905 - a readable word list
    "the of and to in is for on that with as by this be are from at or an it not which "
    "config layer image container runtime build cache digest manifest registry python "
    "import return def class self none true false error value path file data name type "
    "#include static const int char void struct unsigned size_t if else while for break "
    "function var let async await export module require package version license copyright"
).split()


# -- image generation ----------------------------------------------------------------


class _LayerSink:
    """File-like sink for an uncompressed tar stream: hashes it (diff_id), gzips it to
    *path* and hashes the compressed bytes (the blob digest)."""

    def __init__(self, path: Path, level: int) -> None:
        self._f = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._comp = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self._diff = hashlib.sha256()
        self._blob = hashlib.sha256()
        self.usize = 0
        self.size = 0

    def write(self, data) -> int:
        self._diff.update(data)
        self.usize += len(data)
        self._emit(self._comp.compress(data))
        return len(data)

    def _emit(self, data: bytes) -> None:
        if data:
            self._blob.update(data)
            self.size += len(data)
            self._f.write(data)

    def close(self) -> None:
        self._emit(self._comp.flush())
        self._f.close()

    @property
    def diff_id(self) -> str:
        return "sha256:" + self._diff.hexdigest()

    @property
    def digest(self) -> str:
        return "sha256:" + self._blob.hexdigest()


@dataclass
class Pools:
    """Byte pools the files are sliced from (fast to build, realistic to compress).

    Slices of a random pool are incompressible for gzip (its window is 32 KiB);
    the text pool compresses about as well as source code or docs do."""

    random: bytes
    text: bytes

    @classmethod
    def make(cls, rng: random.Random) -> Pools:
        rnd = rng.randbytes(16 << 20)
        lines, size = [], 0
        while size < (8 << 20):
            line = " ".join(rng.choices(WORDS, k=rng.randint(3, 14))) + "\n"
            lines.append(line)
            size += len(line)
        return cls(rnd, "".join(lines).encode())

    def take(self, pool: bytes, n: int, rng: random.Random) -> bytes:
        if n <= len(pool):
            start = rng.randrange(0, len(pool) - n + 1)
            return pool[start:start + n]
        reps = n // len(pool) + 1
        return (pool * reps)[:n]


def _dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = MTIME
    tar.addfile(info)


def _file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = MTIME
    tar.addfile(info, io.BytesIO(data))


def _write_layer(blob_dir: Path, level: int, fill) -> dict:
    """Write one gzip layer blob with *fill(tar)*; returns its descriptor + diff_id."""
    tmp = blob_dir / "layer.tmp"
    sink = _LayerSink(tmp, level)
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        fill(tar)
    sink.close()
    os.replace(tmp, blob_dir / sink.digest.partition(":")[2])
    return {"digest": sink.digest, "size": sink.size, "diff_id": sink.diff_id, "usize": sink.usize}


def _data_fill(total: int, pools: Pools, rng: random.Random, n: int, incompressible: float):
    """A layer of ~*total* bytes: many small/medium files, a few big ones;
    *incompressible* of the bytes are random (binaries, images, archives)."""

    def fill(tar: tarfile.TarFile) -> None:
        root = f"opt/data{n}"
        _dir(tar, "opt")
        _dir(tar, root)
        written, i = 0, 0
        while written < total:
            if i % 50 == 0:
                _dir(tar, f"{root}/d{i // 50:03d}")
            r = rng.random()
            size = (rng.randint(1 << 20, 16 << 20) if r < 0.08
                    else rng.randint(64 << 10, 1 << 20) if r < 0.4
                    else rng.randint(1 << 10, 64 << 10))
            size = min(size, max(1, total - written))
            if rng.random() < incompressible:
                data, name, mode = pools.take(pools.random, size, rng), f"lib{i}.so", 0o755
            else:
                data, name, mode = pools.take(pools.text, size, rng), f"file{i}.txt", 0o644
            _file(tar, f"{root}/d{i // 50:03d}/{name}", data, mode)
            written += size
            i += 1

    return fill


def _small_files_fill(count: int, pools: Pools, rng: random.Random):
    """*count* small text files (50 B – 4 KiB) in directories of 100, plus some symlinks."""

    def fill(tar: tarfile.TarFile) -> None:
        for d in ("usr", "usr/share", "usr/share/bench"):
            _dir(tar, d)
        for i in range(count):
            sub = f"usr/share/bench/m{i // 100:04d}"
            if i % 100 == 0:
                _dir(tar, sub)
            if i % 97 == 96:
                info = tarfile.TarInfo(f"{sub}/link{i}")
                info.type = tarfile.SYMTYPE
                info.linkname = f"f{i - 1}.txt"
                info.mtime = MTIME
                tar.addfile(info)
                continue
            _file(tar, f"{sub}/f{i}.txt", pools.take(pools.text, rng.randint(50, 4096), rng))

    return fill


def _arch() -> str:
    m = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(m, m)


def _put_json(blob_dir: Path, obj) -> tuple[str, int]:
    data = json.dumps(obj, separators=(",", ":")).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (blob_dir / digest.partition(":")[2]).write_bytes(data)
    return digest, len(data)


def build_oci_layout(dest: Path, fills: list, level: int = 6) -> dict:
    """Write an OCI image layout at *dest* with one gzip layer per *fills* entry."""
    blob_dir = dest / "blobs" / "sha256"
    blob_dir.mkdir(parents=True)
    layers = []
    for fill in fills:
        t0 = time.perf_counter()
        layers.append(_write_layer(blob_dir, level, fill))
        l = layers[-1]
        print(f"  layer {len(layers)}: {l['usize'] / 1e6:7.1f} MB -> {l['size'] / 1e6:7.1f} MB gzip"
              f"  ({time.perf_counter() - t0:.1f}s)", flush=True)
    config = {
        "created": "2024-01-01T00:00:00Z",
        "architecture": _arch(),
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"/bin/sh -c #(nop) ADD layer {i}"}
                    for i in range(len(layers))],
    }
    config_digest, config_size = _put_json(blob_dir, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": l["digest"], "size": l["size"]} for l in layers],
    }
    manifest_digest, manifest_size = _put_json(blob_dir, manifest)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": manifest_size,
                       "annotations": {"org.opencontainers.image.ref.name": TAG}}],
    }
    (dest / "index.json").write_text(json.dumps(index))
    (dest / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return {"layers": layers, "usize": sum(l["usize"] for l in layers),
            "size": sum(l["size"] for l in layers)}


# -- running and measuring -------------------------------------------------------------


@dataclass
class Result:
    seconds: float
    rss_mb: float


class Runner:
    def __init__(self, work: Path, strata: list[str], skopeo: list[str], env: dict | None = None) -> None:
        self.work = work
        self.env = env
        self.strata = strata
        self.skopeo = skopeo
        self.log = work / "child.log"
        self._n = 0

    def run(self, cmd: list[str]) -> Result:
        """Run *cmd*, return its wall time and its own peak RSS.

        ``ru_maxrss`` from ``os.wait4`` on a child spawned from this (big) Python
        process is useless: Linux carries the parent's high-water mark over fork/vfork
        and exec, so every child would report at least this process's RSS.  GNU time
        (a small C process) forks the command itself and reports its real peak; without
        it, ``os.wait4`` is used and the RSS column is only an upper bound."""
        rss_file = self.work / "rss.txt"
        full = [TIME, "-f", "%M", "-o", str(rss_file), *cmd] if TIME else cmd
        with open(self.log, "wb") as log:
            t0 = time.perf_counter()
            proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    env=self.env)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            out = self.log.read_text(errors="replace")[-2000:]
            raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{out}")
        if TIME:
            kib = int(rss_file.read_text().split()[-1])
        else:
            kib = usage.ru_maxrss  # Linux reports KiB
        return Result(seconds, kib / 1024)

    def fresh(self, what: str) -> Path:
        self._n += 1
        return self.work / f"{what}-{self._n}"


def _rm(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@dataclass
class Case:
    """One operation: how to run it with each tool on a fresh destination."""

    name: str
    strata: object  # callable(dest: Path) -> list[str]
    skopeo: object
    strata_runs: list[Result] = field(default_factory=list)
    skopeo_runs: list[Result] = field(default_factory=list)


def measure(runner: Runner, case: Case, runs: int, warmup: bool = True) -> None:
    """Warm up each side once, then *runs* runs alternating which tool goes first."""

    def one(tool: str) -> Result:
        dest = runner.fresh(tool)
        cmd = (case.strata if tool == "strata" else case.skopeo)(dest)
        try:
            return runner.run(cmd)
        finally:
            _rm(dest)

    if warmup:
        one("strata")
        one("skopeo")
    for i in range(runs):
        order = ("strata", "skopeo") if i % 2 == 0 else ("skopeo", "strata")
        for tool in order:
            res = one(tool)
            (case.strata_runs if tool == "strata" else case.skopeo_runs).append(res)
        print(f"  {case.name:<24} run {i + 1}/{runs}: strata {case.strata_runs[-1].seconds:6.2f}s"
              f"  skopeo {case.skopeo_runs[-1].seconds:6.2f}s", flush=True)


def _med(results: list[Result], attr: str) -> float:
    return statistics.median(getattr(r, attr) for r in results)


def print_table(title: str, cases: list[Case]) -> None:
    head = ("operation", "strata s", "skopeo s", "ratio", "strata RSS MB", "skopeo RSS MB")
    rows = []
    for c in cases:
        s, k = _med(c.strata_runs, "seconds"), _med(c.skopeo_runs, "seconds")
        rows.append((c.name, f"{s:.2f}", f"{k:.2f}", f"{s / k:.2f}" if k else "-",
                     f"{max(r.rss_mb for r in c.strata_runs):.0f}",
                     f"{max(r.rss_mb for r in c.skopeo_runs):.0f}"))
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print(f"\n{title}")
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths)))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
    print("(times: median of runs; RSS: max over runs of the child's own peak RSS)")


def _strata_command(override: str | None) -> list[str]:
    if override:
        return override.split()
    # the console script next to this interpreter: no pyenv shim (bash) in the timing
    script = Path(sys.executable).with_name("strata")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "cli.main"]


def _child_env(work: Path, keep: bool) -> tuple[dict, str]:
    """The children's environment: with a bytecode cache, as an installed strata has.

    With PYTHONDONTWRITEBYTECODE set (as in some sandboxes) every strata run would
    recompile its ~300 modules from source, which is not what users pay.  The cache
    goes to a prefix inside the work dir, so nothing is written to the source tree;
    the warm-up runs fill it."""
    env = dict(os.environ)
    if keep:
        return env, "environment as is" + (" (PYTHONDONTWRITEBYTECODE set: strata recompiles every run)"
                                            if env.get("PYTHONDONTWRITEBYTECODE") else "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env, f"bytecode cache in {work / 'pycache'}"


def _load_note() -> str:
    load1 = os.getloadavg()[0]
    warn = "  <-- WARNING: machine busy, timings unreliable" if load1 > 0.7 else ""
    return f"load average {load1:.2f}{warn}"


def _skopeo_command() -> list[str]:
    cmd = [SKOPEO]
    if not Path("/etc/containers/policy.json").exists() and not (
            Path.home() / ".config/containers/policy.json").exists():
        cmd.append("--insecure-policy")
    return cmd


def _layer_media_types(oci_dir: Path) -> str:
    """The layer media types skopeo wrote into an OCI dir (shows whether it compressed)."""
    try:
        index = json.loads((oci_dir / "index.json").read_text())
        digest = index["manifests"][0]["digest"].partition(":")[2]
        manifest = json.loads((oci_dir / "blobs/sha256" / digest).read_text())
        return ", ".join(sorted({l["mediaType"].rpartition(".")[2] for l in manifest["layers"]}))
    except (OSError, ValueError, KeyError, IndexError):
        return "?"


def _mb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
    return path.stat().st_size / 1e6


# -- the benchmark ---------------------------------------------------------------------


def prepare_archives(runner: Runner, label: str, fills: list, level: int) -> dict:
    base = runner.work / label
    base.mkdir()
    print(f"\nbuilding {label} OCI layout ...", flush=True)
    info = build_oci_layout(base / "oci", fills, level)
    docker_tar, oci_tar = base / "image.tar", base / "image-oci.tar"
    runner.run(runner.skopeo + ["copy", "-q", f"oci:{base / 'oci'}:{TAG}", f"docker-archive:{docker_tar}:{REF}"])
    runner.run(runner.skopeo + ["copy", "-q", f"oci:{base / 'oci'}:{TAG}", f"oci-archive:{oci_tar}:{REF}"])
    print(f"  {len(info['layers'])} layers, {info['usize'] / 1e6:.0f} MB uncompressed, {info['size'] / 1e6:.0f} MB gzip;"
          f" docker-archive {_mb(docker_tar):.0f} MB, oci-archive {_mb(oci_tar):.0f} MB", flush=True)
    return {"base": base, "docker": docker_tar, "oci": oci_tar, **info}


KEEP_TAR = "--dest-oci-accept-uncompressed-layers"
FOOTNOTE = (f"* skopeo run with {KEEP_TAR}: its oci: destination keeps the docker-archive's\n"
            "  uncompressed layers as they are (as strata's store does) instead of gzipping them, and the\n"
            "  save from that directory needs no gunzip either: the like-for-like rows.\n"
            "  Rows without * use skopeo's defaults (load gzips every layer, save gunzips it again).")


def archive_cases(runner: Runner, arch: dict, with_oci: bool,
                  startup: bool = True) -> tuple[list[Case], Path, Path]:
    """The load and save cases; loads once per tool to have something to save from."""
    base = arch["base"]
    S, K = runner.strata, runner.skopeo
    docker = arch["docker"]
    store = base / "store"  # strata's store, loaded once, to save from
    runner.run(S + ["--store", str(store), "load", "-i", str(docker)])
    oci_gz = base / "skopeo-oci"  # skopeo's default destination (layers gzipped), to save from
    runner.run(K + ["copy", "-q", f"docker-archive:{docker}", f"oci:{oci_gz}:{TAG}"])
    oci_tar = base / "skopeo-oci-tar"  # skopeo keeping the layers uncompressed, to save from
    runner.run(K + ["copy", "-q", KEEP_TAR, f"docker-archive:{docker}", f"oci:{oci_tar}:{TAG}"])

    def strata_load(path):
        return lambda d: S + ["--store", str(d), "load", "-i", str(path)]

    def strata_save(*fmt):
        return lambda d: S + ["--store", str(store), "save", *fmt, "-o", str(d), REF]

    cases = [Case("startup (no-op)", lambda d: S + ["--store", str(d), "images", "-q"],
                  lambda d: K + ["--version"])] if startup else []
    cases += [
        Case("load docker-archive", strata_load(docker),
             lambda d: K + ["copy", "-q", f"docker-archive:{docker}", f"oci:{d}:{TAG}"]),
        Case("load docker-archive*", strata_load(docker),
             lambda d: K + ["copy", "-q", KEEP_TAR, f"docker-archive:{docker}", f"oci:{d}:{TAG}"]),
    ]
    if with_oci:
        cases.append(Case("load oci-archive", strata_load(arch["oci"]),
                          lambda d: K + ["copy", "-q", f"oci-archive:{arch['oci']}", f"oci:{d}:{TAG}"]))
    cases += [
        Case("save docker-archive", strata_save(),
             lambda d: K + ["copy", "-q", f"oci:{oci_gz}:{TAG}", f"docker-archive:{d}:{REF}"]),
        Case("save docker-archive*", strata_save(),
             lambda d: K + ["copy", "-q", f"oci:{oci_tar}:{TAG}", f"docker-archive:{d}:{REF}"]),
    ]
    if with_oci:
        cases.append(Case("save oci-archive*", strata_save("--format", "oci"),
                          lambda d: K + ["copy", "-q", f"oci:{oci_tar}:{TAG}", f"oci-archive:{d}:{REF}"]))
    return cases, store, oci_gz


def profile(runner: Runner, arch: dict, store: Path, top: int) -> None:
    """Run one strata load and one save under cProfile; print the top functions."""
    for what, args in (("load", ["load", "-i", str(arch["docker"])]),
                       ("save", ["save", "-o", str(runner.work / "profile-out.tar"), REF])):
        out = runner.work / f"{what}.pstats"
        st = store if what == "save" else runner.fresh("profile-store")
        runner.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "cli.main",
                    "--store", str(st), *args])
        for key in ("cumulative", "tottime"):
            print(f"\n=== cProfile: strata {what}, top {top} by {key} ===")
            pstats.Stats(str(out)).strip_dirs().sort_stats(key).print_stats(top)
        if what == "load":
            _rm(st)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--layer-mb", type=int, default=50, help="uncompressed MB per data layer (default 50)")
    ap.add_argument("--data-layers", type=int, default=4, help="number of data layers (default 4)")
    ap.add_argument("--small-files", type=int, default=20000, help="files in the small-files layer (default 20000)")
    ap.add_argument("--incompressible", type=float, default=0.5,
                    help="share of data-layer files that are random bytes (default 0.5)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per operation (default 3)")
    ap.add_argument("--big-layer-gb", type=float, default=0, help="also test an image of one layer of G GB")
    ap.add_argument("--no-oci", action="store_true", help="skip the oci-archive rows")
    ap.add_argument("--gzip-level", type=int, default=6, help="gzip level of the layers (default 6, as Go's)")
    ap.add_argument("--profile", action="store_true", help="also profile one strata load and save (cProfile)")
    ap.add_argument("--strata", help="strata command to run (default: the console script of this Python)")
    ap.add_argument("--workdir", help="parent of the temp dir (default: the system temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--no-bytecode-cache", action="store_true",
                    help="run strata with the environment as is (default: a bytecode cache in the work dir)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    if not Path(SKOPEO).exists():
        print(f"{SKOPEO} not found", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="strata-bench-", dir=args.workdir))
    env, env_note = _child_env(work, args.no_bytecode_cache)
    runner = Runner(work, _strata_command(args.strata), _skopeo_command(), env)
    skopeo_version = subprocess.run([SKOPEO, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"strata: {' '.join(runner.strata)}\nskopeo: {skopeo_version}\n"
          f"python: {sys.version.split()[0]}, {os.cpu_count()} CPUs, work dir {work}\n"
          f"peak RSS via: {TIME + ' -f %M' if TIME else 'os.wait4 (upper bound: includes this process)'}\n"
          f"python children: {env_note}\n{_load_note()}")
    try:
        rng = random.Random(args.seed)
        pools = Pools.make(rng)
        total = args.layer_mb << 20
        fills = [_data_fill(total, pools, rng, n, args.incompressible) for n in range(args.data_layers)]
        fills.append(_small_files_fill(args.small_files, pools, rng))
        arch = prepare_archives(runner, "main", fills, args.gzip_level)
        cases, store, oci_out = archive_cases(runner, arch, not args.no_oci)
        print(f"  skopeo's oci: from docker-archive holds layers as: {_layer_media_types(oci_out)}"
              f" ({_mb(oci_out):.0f} MB); strata's store: {_mb(store / 'blobs'):.0f} MB of blobs"
              if (store / "blobs").is_dir() else "", flush=True)
        print(f"\ntiming: {args.runs} runs each after one warm-up, order alternating; {_load_note()}", flush=True)
        for case in cases:
            measure(runner, case, args.runs)
        print_table(f"Image: {args.data_layers} x {args.layer_mb} MB data layers + {args.small_files} small files"
                    f" ({arch['usize'] / 1e6:.0f} MB uncompressed, {arch['size'] / 1e6:.0f} MB gzip)", cases)
        print(FOOTNOTE)
        print(f"after timing: {_load_note()}")
        print(f"target: ratio <= {TARGET_RATIO}, strata RSS < {TARGET_RSS_MB} MB")
        if args.profile:
            profile(runner, arch, store, 30)
        _rm(arch["base"])

        if args.big_layer_gb:
            big_total = int(args.big_layer_gb * (1 << 30))
            big = prepare_archives(runner, "big", [_data_fill(big_total, pools, rng, 9, args.incompressible)],
                                   args.gzip_level)
            big_cases, _, _ = archive_cases(runner, big, with_oci=False, startup=False)
            print(f"\ntiming: 1 run each, no warm-up; {_load_note()}", flush=True)
            for case in big_cases:
                measure(runner, case, 1, warmup=False)
            print_table(f"Big image: one {args.big_layer_gb:g} GB layer"
                        f" ({big['usize'] / 1e6:.0f} MB uncompressed, {big['size'] / 1e6:.0f} MB gzip)", big_cases)
            print(FOOTNOTE)
            print(f"after timing: {_load_note()}")
            worst = max(r.rss_mb for c in big_cases for r in c.strata_runs)
            print(f"flat memory check: strata peak RSS {worst:.0f} MB with a {big['usize'] / 1e6:.0f} MB layer"
                  f" -> {'OK' if worst < TARGET_RSS_MB else 'FAIL'} (< {TARGET_RSS_MB} MB)")
            _rm(big["base"])
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
