"""Benchmark the layer indexer, the file tree and the efficiency analysis.

Run as ``python benchmarks/bench_index.py``.  In a temporary directory it

1. writes a layer tar of ~100,000 small files (plain and gzip) and times
   TarIndexer (fed from the file, and from a zlib decompressor), Python's
   tarfile listing, and ``tar -tf`` / ``tar -tzf``;
2. builds a synthetic 500,000-file, 5-layer image (LayerIndex objects saved
   to index files) and, in a fresh process so the peak RSS is its own, times
   loading the indexes, building a TreeView, opening the root, expanding a
   50,000-entry directory and the efficiency analysis.

Options: ``--files N`` (tar members), ``--image-files N``, ``--skip-tar``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.efficiency import analyze
from engine.filetree import ImageTree, TreeView
from engine.tarindex import DIR, FILE, LayerIndex, TarIndexer, index_stream

CHUNK = 1 << 20


def peak_rss_mb() -> float:
    """This process's peak RSS.  VmHWM starts afresh at exec; ru_maxrss would
    carry over the parent's peak into a child process."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def write_layer_tar(path: Path, files: int) -> int:
    """A layer-like tar: directories of 100 small files each; returns the member count."""
    members = 0
    with open(path, "wb") as out:
        for d in range(0, files, 100):
            info = tarfile.TarInfo(f"usr/share/pkg{d // 100:05d}/")
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = 1_700_000_000
            out.write(info.tobuf(tarfile.GNU_FORMAT))
            members += 1
            for i in range(d, min(d + 100, files)):
                data = b"x" * (i % 700)
                info = tarfile.TarInfo(f"usr/share/pkg{d // 100:05d}/file-{i:06d}.txt")
                info.size = len(data)
                info.mode = 0o644
                info.mtime = 1_700_000_000 + i % 1000
                out.write(info.tobuf(tarfile.GNU_FORMAT))
                out.write(data + bytes(-len(data) % 512))
                members += 1
        out.write(bytes(1024))
    return members


def bench_tar(workdir: Path, files: int) -> list[tuple[str, float, int]]:
    plain = workdir / "layer.tar"
    packed = workdir / "layer.tar.gz"
    members = write_layer_tar(plain, files)
    with open(plain, "rb") as src, gzip.open(packed, "wb", compresslevel=1) as dst:
        shutil.copyfileobj(src, dst, CHUNK)

    rows = []

    def indexer_plain():
        with open(plain, "rb") as f:
            return index_stream(f).member_count

    def indexer_gzip():
        indexer = TarIndexer()
        decompressor = zlib.decompressobj(wbits=31)
        with open(packed, "rb") as f:
            while chunk := f.read(CHUNK):
                indexer.feed(decompressor.decompress(chunk))
        indexer.feed(decompressor.flush())
        return indexer.finish().member_count

    def tarfile_list():
        with tarfile.open(plain) as t:
            return sum(1 for _ in t)

    def gzip_only():
        decompressor = zlib.decompressobj(wbits=31)
        with open(packed, "rb") as f:
            while chunk := f.read(CHUNK):
                decompressor.decompress(chunk)
        return members

    def gnu_tar(flags):
        def run():
            out = subprocess.run(["tar", flags, str(plain if "z" not in flags else packed)],
                                 check=True, capture_output=True).stdout
            return out.count(b"\n")
        return run

    cases = [
        ("TarIndexer (plain tar)", indexer_plain),
        ("TarIndexer (gzip, zlib feed)", indexer_gzip),
        ("  zlib decompression alone", gzip_only),
        ("tarfile listing (plain)", tarfile_list),
    ]
    if shutil.which("tar"):
        cases += [("tar -tf (plain)", gnu_tar("-tf")), ("tar -tzf (gzip)", gnu_tar("-tzf"))]
    for label, fn in cases:
        seconds, count = min((timed(fn) for _ in range(2)), key=lambda r: r[0])
        assert count == members, (label, count, members)
        rows.append((label, seconds, count))
    print(f"\nlayer tar: {members:,} members, {plain.stat().st_size / 1e6:.1f} MB plain, "
          f"{packed.stat().st_size / 1e6:.1f} MB gzip")
    base = next(s for label, s, _ in rows if label.startswith("tarfile"))
    print(f"{'reader':32} {'seconds':>8} {'members/s':>11} {'vs tarfile':>10}")
    for label, seconds, count in rows:
        print(f"{label:32} {seconds:8.3f} {count / seconds:11,.0f} {base / seconds:9.1f}x")
    return rows


# -- synthetic image ------------------------------------------------------------

def synthetic_layers(total_files: int, layers: int = 5, big_dir: int = 50_000):
    """Layers of an image: a 50k-entry directory, per-layer trees, edits and whiteouts."""
    per_layer = total_files // layers
    result = []
    for k in range(layers):
        records = []
        files = per_layer
        if k == 0:
            records.append(("srv/big", DIR, 0o755, 0, 0, 0, 0, ""))
            records.append(("srv", DIR, 0o755, 0, 0, 0, 0, ""))
            for i in range(big_dir):
                records.append((f"srv/big/item-{i:06d}.dat", FILE, 0o644, 0, 0, 100 + i % 4096,
                                1_700_000_000, ""))
            files -= big_dir
        for i in range(files):
            d = f"opt/layer{k}/dir{i // 100:05d}"
            if i % 100 == 0:
                records.append((d, DIR, 0o755, 0, 0, 0, 0, ""))
            records.append((f"{d}/file-{i:06d}.py", FILE, 0o644, 1000, 1000, 500 + i % 3000,
                            1_700_000_000, ""))
        whiteouts = set()
        if k:
            for i in range(k, big_dir, 97):  # rewrite ~1% of the big directory
                records.append((f"srv/big/item-{i:06d}.dat", FILE, 0o644, 0, 0, 7, 1_700_000_001, ""))
            for i in range(0, per_layer - 1000, 211):  # delete ~0.5% of the layer below
                whiteouts.add(f"opt/layer{k - 1}/dir{i // 100:05d}/file-{i:06d}.py")
            whiteouts.add(f"opt/layer{k - 1}/dir00001")  # and one whole directory
        result.append(LayerIndex._from_records(records, {}, whiteouts, set(), len(records)))
    return result


def image_part(workdir: Path) -> None:
    """Runs in its own process: load the indexes, build views, query, analyse."""
    paths = sorted(workdir.glob("layer-*.idx"))
    rows = []
    seconds, layers = timed(lambda: [LayerIndex.read(p) for p in paths])
    rows.append(("load 5 layer indexes", seconds, f"{sum(len(x) for x in layers):,} entries"))
    seconds, tree = timed(lambda: ImageTree(layers))
    rows.append(("ImageTree (universe + states)", seconds, f"{tree.size:,} paths"))
    seconds, view = timed(lambda: TreeView(tree, 3))
    rows.append(("TreeView(layer 3)", seconds, ""))
    build = rows[-2][1] + rows[-1][1]
    rows.append(("  = build view total", build, "target < 2 s"))
    seconds, root = timed(lambda: view.children(""))
    rows.append(("open root", seconds, f"{len(root)} children"))
    seconds, _ = timed(lambda: view.children("srv/big", limit=200))
    rows.append(("expand 50k dir, first 200", seconds, f"count={view.count('srv/big'):,}"))
    seconds, _ = timed(lambda: view.children("srv/big", sort="size", limit=200))
    rows.append(("  same, sorted by size", seconds, ""))
    seconds, everything = timed(lambda: view.children("srv/big"))
    rows.append(("  all 50k Node records", seconds, f"{len(everything):,} nodes"))
    seconds, _ = timed(lambda: TreeView(tree, statuses={"added", "removed"}, base=0))
    rows.append(("TreeView(merged, filtered)", seconds, ""))
    seconds, result = timed(lambda: analyze(layers, tree=tree))
    rows.append(("analyze (efficiency)", seconds,
                 f"score={result.efficiency:.4f}, {len(result.files):,} wasted paths"))
    rows.append(("peak RSS (this process)", peak_rss_mb(), "MB, target < 300"))
    print(f"\nsynthetic image: {len(layers)} layers, "
          f"{sum(len(x) for x in layers):,} layer entries")
    print(f"{'step':32} {'seconds':>8}  note")
    for label, value, note in rows:
        print(f"{label:32} {value:8.3f}  {note}")


def bench_image(workdir: Path, files: int) -> None:
    layers = synthetic_layers(files)
    for k, ix in enumerate(layers):
        ix.write(workdir / f"layer-{k}.idx")
    big = LayerIndex._from_records(
        [(f"d{i // 1000:04d}/f{i:07d}", FILE, 0o644, 0, 0, i, 1_700_000_000, "")
         for i in range(500_000)], {}, set(), set(), 500_000)
    big.write(workdir / "one-500k.idx")
    del layers, big
    size = (workdir / "one-500k.idx").stat().st_size
    seconds, loaded = timed(lambda: LayerIndex.read(workdir / "one-500k.idx"))
    print(f"\none 500,000-entry LayerIndex: {size / 1e6:.2f} MB on disk, loads in {seconds:.3f} s")
    del loaded
    (workdir / "one-500k.idx").unlink()
    subprocess.run([sys.executable, __file__, "--image-part", str(workdir)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--image-files", type=int, default=500_000)
    parser.add_argument("--skip-tar", action="store_true")
    parser.add_argument("--image-part", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.image_part:
        image_part(Path(args.image_part))
        return
    with tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp:
        workdir = Path(tmp)
        print(f"python {sys.version.split()[0]} on {os.uname().machine}, {os.cpu_count()} CPUs")
        if not args.skip_tar:
            bench_tar(workdir, args.files)
        bench_image(workdir, args.image_files)


if __name__ == "__main__":
    main()
