"""Benchmark the TUI: start-up with 1,000 images, the tree of a 500,000-file image, key latency.

Run as ``python benchmarks/bench_tui.py``.  In a temporary directory (or
``--keep DIR``, reused on the next run) it

1. makes a store with ``--images`` (1,000) small images and another with one
   5-layer image of ``--files`` (500,000) files, a 50,000-entry directory,
   rewrites and whiteouts, both loaded through ``Engine.load``;
2. times, in fresh processes (``--runs`` each, median), a minimal Textual
   app's start-up to its first painted frame, and Strata's start-up on the
   1,000-image store to its first frame and to the painted image list;
3. in one process, times opening the Tree tab of the 500,000-file image
   (cold: layer indexes read and the image tree built; warm: another view of
   the cached tree), expanding the 50,000-entry directory, and how long each
   key takes to be handled (press → the screen has processed it; work the
   key starts in a worker is not waited for — that is the point).

All runs are headless (Textual renders every frame, the driver writes
nothing), at 120x40.  Compare the figures with the minimal app's start-up
from the same run: the machine's speed cancels out.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import io
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import Engine  # noqa: E402
from engine.demo import ArchiveBuilder, LayerBuilder  # noqa: E402

SIZE = (120, 40)
MTIME = 1_700_000_000

CHILD = r"""
import sys, time
T0 = float(sys.argv[2])
sys.path.insert(0, sys.argv[4])
mode, store = sys.argv[1], sys.argv[3]
marks = {}

def mark(name):
    marks.setdefault(name, time.time() - T0)

if mode == "minimal":
    from textual.app import App
    from textual.widgets import Label

    class Minimal(App):
        def compose(self):
            yield Label("hello")

        def on_mount(self):
            self.call_after_refresh(self.done)

        def done(self):
            mark("first_frame")
            self.exit()

    Minimal().run(headless=True, size=(120, 40))
else:
    from pathlib import Path
    import tui.app
    from tui.app import StrataApp
    from tui.widgets import image_list

    class Timed(StrataApp):
        CSS_PATH = str(Path(tui.app.__file__).with_name("app.tcss"))

        def on_mount(self):  # Textual calls StrataApp.on_mount too
            self.call_after_refresh(mark, "first_frame")

    listed = image_list.ImageList.on_image_list_loaded

    def on_loaded(self, message):
        listed(self, message)
        self.call_after_refresh(lambda: (mark("list_painted"), self.app.exit()))

    image_list.ImageList.on_image_list_loaded = on_loaded
    Timed(Path(store)).run(headless=True, size=(120, 40))
print(repr(marks))
"""


# -- stores -------------------------------------------------------------------------------


def many_images_store(path: Path, count: int) -> None:
    """*count* images: a shared base layer plus one small layer each."""
    if (path / "meta.db").exists() and len(Engine(path).images()) >= count:
        return
    base = LayerBuilder()
    for i in range(50):
        base.file(f"usr/lib/base-{i:03d}.so", b"\x7fELF" + bytes(200))
    base_tar = base.finish()
    archive = ArchiveBuilder(architecture="amd64")
    for i in range(count):
        layer = LayerBuilder().file(f"app/build-{i:05d}.txt", f"build {i}\n" * (i % 50 + 1)).finish()
        day = 1 + i % 28
        archive.add([f"bench/app-{i % 100:03d}:v{i // 100}"], [(base_tar, "ADD base"), (layer, f"COPY build {i}")],
                    created=f"2025-{1 + i % 12:02d}-{day:02d}T12:00:00Z")
    buf = io.BytesIO()
    archive.write(buf)
    buf.seek(0)
    Engine(path).load(buf)


def write_layer(path: Path, k: int, files: int, big_dir: int) -> str:
    """One layer tar of the big image; returns its diff_id."""
    digest = hashlib.sha256()

    def put(data: bytes) -> None:
        out.write(data)
        digest.update(data)

    def header(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE, mode: int = 0o644) -> bytes:
        info = tarfile.TarInfo(name)
        info.type, info.size, info.mode, info.mtime = kind, size, mode, MTIME
        return info.tobuf(tarfile.GNU_FORMAT)

    def file(name: str, size: int) -> None:
        put(header(name, size))
        put(bytes(size + (-size % 512)))

    with open(path, "wb") as out:
        count = files
        if k == 0:
            put(header("srv", kind=tarfile.DIRTYPE, mode=0o755))
            put(header("srv/big", kind=tarfile.DIRTYPE, mode=0o755))
            for i in range(big_dir):
                file(f"srv/big/item-{i:06d}.dat", 100 + i % 400)
            count -= big_dir
        else:
            for i in range(k, big_dir, 97):  # rewrite ~1% of the big directory
                file(f"srv/big/item-{i:06d}.dat", 7)
            for i in range(0, files - 1000, 211):  # delete ~0.5% of the layer below
                put(header(f"opt/layer{k - 1}/dir{i // 100:05d}/.wh.file-{i:06d}.py"))
        for i in range(count):
            d = f"opt/layer{k}/dir{i // 100:05d}"
            if i % 100 == 0:
                put(header(d, kind=tarfile.DIRTYPE, mode=0o755))
            file(f"{d}/file-{i:06d}.py", 50 + i % 450)
        put(bytes(1024))
    return "sha256:" + digest.hexdigest()


def big_image_store(path: Path, work: Path, files: int, layers: int = 5, big_dir: int = 50_000) -> None:
    """One image of *files* files in *layers* layers, loaded from a docker-archive on disk."""
    if (path / "meta.db").exists() and Engine(path).images():
        return
    per_layer = files // layers
    layer_paths, diff_ids = [], []
    for k in range(layers):
        layer = work / f"layer{k}.tar"
        diff_ids.append(write_layer(layer, k, per_layer, big_dir))
        layer_paths.append(layer)
    config = {"architecture": "amd64", "os": "linux", "created": "2025-06-01T12:00:00Z", "config": {},
              "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created": "2025-06-01T12:00:00Z", "created_by": f"RUN make layer {k}"}
                          for k in range(layers)]}
    config_bytes = json.dumps(config).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    archive = work / "big.tar"
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        names = []
        for layer, diff_id in zip(layer_paths, diff_ids):
            name = diff_id[7:] + "/layer.tar"
            tar.add(layer, arcname=name)
            names.append(name)
        for member, data in ((config_name, config_bytes),
                             ("manifest.json", json.dumps([{"Config": config_name, "RepoTags": ["bench/big:500k"],
                                                            "Layers": names}]).encode())):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    for layer in layer_paths:
        layer.unlink()
    with open(archive, "rb") as f:
        Engine(path).load(f)
    archive.unlink()


# -- start-up --------------------------------------------------------------------------------


def startup(mode: str, store: Path) -> dict[str, float]:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, mode, repr(t0), str(store), str(ROOT)],
                         capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 - our own child's repr


def median_marks(mode: str, store: Path, runs: int) -> dict[str, float]:
    samples = [startup(mode, store) for _ in range(runs)]
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


# -- the tree and the keys ---------------------------------------------------------------------


async def until(pilot, condition, timeout: float = 120.0) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the UI did not get there in time")
        await asyncio.sleep(0.002)
    await pilot._wait_for_screen()
    return time.perf_counter() - start


class LagMonitor:
    """The longest time the event loop went without running us: how long a key could wait."""

    def __init__(self, tick: float = 0.002) -> None:
        self.tick = tick
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.worst = max(self.worst, time.perf_counter() - start - self.tick)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def take(self) -> float:
        """The worst stall since the last take."""
        worst, self.worst = self.worst, 0.0
        return worst

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


LAG = LagMonitor()


CHARACTERS = {"slash": "/", "left_square_bracket": "[", "right_square_bracket": "]", "space": " "}


async def key_time(pilot, key: str) -> tuple[float, float]:
    """(key sent → handled and the next frame painted, the event loop's worst stall meanwhile).

    The key goes in as the terminal driver sends it; then a marker follows it
    through the App's queue, the focused widget's queue and the next refresh.
    Work the key hands to a worker is not waited for: the UI is free then.
    """
    from textual import events

    app = pilot.app
    done = asyncio.Event()
    char = CHARACTERS.get(key, key if len(key) == 1 else None)
    event = events.Key(key, char)
    event.set_sender(app)
    LAG.take()
    start = time.perf_counter()
    app._driver.send_message(event)

    def after_app() -> None:
        target = app.focused or app.screen
        target.call_later(lambda: app.screen.call_after_refresh(done.set))

    app.call_later(after_app)
    await done.wait()
    elapsed = time.perf_counter() - start
    await asyncio.sleep(0.05)  # let the key's follow-ups run before the next key, as a typist would
    return elapsed, LAG.take()


async def tree_and_keys(big_store: Path, many_store: Path) -> dict:
    results: dict = {"keys": {}}
    LAG.start()
    await big_tree(big_store, results)
    gc.collect()  # the first app's 500,000-path tree is garbage now: not the second app's stall
    await list_keys(many_store, results)
    LAG.stop()
    return results


def record(results: dict, name: str, values: list[tuple[float, float]]) -> None:
    results["keys"].setdefault(name, []).extend(values)


async def big_tree(big_store: Path, results: dict) -> None:
    from tui.app import StrataApp
    from tui.testing import settle
    from tui.widgets.file_tree import FileTree, FileTreePane

    def keys(name: str, values: list[tuple[float, float]]) -> None:
        record(results, name, values)

    app = StrataApp(big_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(FileTreePane)
        tree = pane.query_one(FileTree)
        start = time.perf_counter()
        keys("2 (open Tree tab)", [await key_time(pilot, "2")])
        results["tree_cold"] = time.perf_counter() - start + await until(
            pilot, lambda: pane.view is not None and len(tree.root.children) > 1)
        tree.focus()
        await settle(pilot)
        start = time.perf_counter()
        keys("m (merged/layer)", [await key_time(pilot, "m")])
        results["tree_warm"] = time.perf_counter() - start + await until(
            pilot, lambda: pane.view is not None and pane.layer_index is None and len(tree.root.children) > 1)
        await settle(pilot)
        srv = next(c for c in tree.root.children if c.data is not None and c.data.name == "srv")
        tree.move_cursor(srv)
        await settle(pilot)
        keys("→ (expand)", [await key_time(pilot, "right")])
        await settle(pilot)
        big = next(c for c in srv.children if c.data is not None and c.data.name == "big")
        tree.move_cursor(big)
        await settle(pilot)
        start = time.perf_counter()
        keys("→ (expand 50,000-entry dir)", [await key_time(pilot, "right")])
        results["expand_big_dir"] = time.perf_counter() - start + await until(pilot, lambda: len(big.children) > 1)
        results["big_dir_children_shown"] = len(big.children)
        keys("↓ (tree)", [await key_time(pilot, "down") for _ in range(30)])
        keys("pagedown (tree)", [await key_time(pilot, "pagedown") for _ in range(5)])
        keys("[ (previous layer)", [await key_time(pilot, "left_square_bracket")])
        await settle(pilot)
        keys("] (next layer)", [await key_time(pilot, "right_square_bracket")])
        await settle(pilot)


async def list_keys(many_store: Path, results: dict) -> None:
    from tui.app import StrataApp
    from tui.testing import settle
    from tui.widgets.image_list import ImageList

    def keys(name: str, values: list[tuple[float, float]]) -> None:
        record(results, name, values)

    app = StrataApp(many_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        image_list = app.screen.query_one(ImageList)
        results["images_listed"] = len(image_list.shown)
        keys("↓ (1,000-image list)", [await key_time(pilot, "down") for _ in range(30)])
        keys("pagedown (list)", [await key_time(pilot, "pagedown") for _ in range(5)])
        keys("/ (filter)", [await key_time(pilot, "slash")])
        keys("typing a filter", [await key_time(pilot, c) for c in "app-04"])
        keys("Esc (clear filter)", [await key_time(pilot, "escape")])
        keys("o (sort)", [await key_time(pilot, "o") for _ in range(5)])
        keys("1-5 (tabs)", [await key_time(pilot, k) for k in "34512"])
        await settle(pilot)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--files", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the stores in this directory")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="strata-bench-tui-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        many, big = work / "many", work / "big"
        t = time.perf_counter()
        many_images_store(many, args.images)
        print(f"store with {args.images} images ready in {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        big_image_store(big, work, args.files)
        print(f"store with a {args.files:,}-file image ready in {time.perf_counter() - t:.1f}s")

        minimal = median_marks("minimal", many, args.runs)
        strata = median_marks("strata", many, args.runs)
        base = minimal["first_frame"]
        print(f"\nstart-up, headless {SIZE[0]}x{SIZE[1]}, median of {args.runs} fresh processes")
        print(f"  minimal Textual app, first frame      {base * 1000:7.0f} ms   1.00x")
        for key, label in (("first_frame", "Strata, first frame"),
                           ("list_painted", f"Strata, {args.images} images listed")):
            print(f"  {label:<37} {strata[key] * 1000:7.0f} ms   {strata[key] / base:.2f}x")

        results = asyncio.run(tree_and_keys(big, many))
        print(f"\n{args.files:,}-file image (in-process, after start-up)")
        for key, label in (("tree_cold", "open the Tree tab (cold: build tree)"),
                           ("tree_warm", "switch to the merged view (warm)"),
                           ("expand_big_dir", "expand the 50,000-entry directory")):
            print(f"  {label:<37} {results[key] * 1000:7.0f} ms   {results[key] / base:.2f}x")
        print(f"  (first page shows {results['big_dir_children_shown'] - 1} entries + '… more')")
        print("\nkeys (ms)                          key→frame painted    loop stall     n")
        print("                                         median     max    median   max")
        worst = 0.0
        for name, values in results["keys"].items():
            handled = [v[0] for v in values]
            stalls = [v[1] for v in values]
            worst = max(worst, max(stalls))
            print(f"  {name:<37} {statistics.median(handled) * 1000:7.1f} {max(handled) * 1000:7.1f}"
                  f" {statistics.median(stalls) * 1000:7.1f} {max(stalls) * 1000:6.1f} {len(values):5d}")
        print(f"  longest event-loop stall: {worst * 1000:.0f} ms ({'under' if worst < 0.1 else 'OVER'} 100 ms)")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
