"""Regenerate the README screenshots from the demo images.

    python screenshots/make_screenshots.py          # SVGs into screenshots/
    python screenshots/make_screenshots.py --png    # also PNGs (needs rsvg-convert)
    python screenshots/make_screenshots.py tree     # only the scenarios named

Each scenario runs the real app headless on a throwaway store holding the
demo images (made with the synthetic busybox, so IDs never change), with the
clock frozen, and saves what the terminal shows.  The pull screenshot feeds
the pull dialog synthetic progress through the same messages a real pull
posts (no registry needed).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import Engine  # noqa: E402
from engine.demo import create_demo_images  # noqa: E402
from tui.app import StrataApp  # noqa: E402
from tui.messages import TaskProgress, TaskStatus  # noqa: E402
from tui.screens.pull import PullDialog  # noqa: E402
from tui.testing import frozen_clock, settle, steady_cursor  # noqa: E402
from tui.widgets.file_tree import FileTreePane  # noqa: E402

OUT = Path(__file__).resolve().parent
SIZE = (120, 36)


async def main_screen(pilot) -> None:
    await settle(pilot)


async def layer_tree(pilot) -> None:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    pilot.app.screen.query_one(FileTreePane).reveal(3, "app/static/css")
    await settle(pilot)
    await pilot.press("right")
    await settle(pilot)


async def efficiency(pilot) -> None:
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    await pilot.press("tab", "tab")
    await settle(pilot)


async def file_viewer(pilot) -> None:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    pilot.app.screen.query_one(FileTreePane).reveal(3, "app/server.py")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def prune_preview(pilot) -> None:
    await settle(pilot)
    await pilot.press("p")
    await settle(pilot)
    await pilot.click("#all")
    await settle(pilot)


async def pull_progress(pilot) -> None:
    await settle(pilot)
    await pilot.press("P")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, PullDialog)
    dialog.query_one("#reference").value = "registry.example.com/demo/webapp:1.0"
    dialog.running = True
    dialog.set_class(True, "-running")
    events = [
        TaskStatus("1.0: Pulling from demo/webapp"),
        TaskProgress("total", "Downloading", 2_900_000, 5_220_000),
        TaskProgress("b2e4e705c578", "Pull complete", 2_010_000, 2_010_000),
        TaskProgress("b7914bd4b624", "Downloading", 640_000, 1_520_000),
        TaskProgress("82202ccf0c3e", "Verifying Checksum", 10_240, 10_240),
        TaskProgress("6c4427fbdc0d", "Downloading", 250_000, 1_690_000),
        TaskStatus("Digest: sha256:41c2243018e161c55a59c5e066364c68cb1665c529919dbbf6adfc4ba3b4f9c5"),
    ]
    for message in events:
        dialog.post_message(message)
    await settle(pilot)


SCENARIOS = {
    "main": main_screen,
    "tree": layer_tree,
    "efficiency": efficiency,
    "file-viewer": file_viewer,
    "prune": prune_preview,
    "pull": pull_progress,
}


def demo_store(work: Path) -> Path:
    store = work / "store"
    create_demo_images(Engine(store), busybox=None)
    return store


async def shoot(name: str, store: Path, size: tuple[int, int], out: Path) -> Path:
    app = StrataApp(store, store_label="~/.local/share/strata")
    async with app.run_test(size=size) as pilot:
        await SCENARIOS[name](pilot)
        svg = app.export_screenshot(title=f"strata — {name}")
    path = out / f"{name}.svg"
    path.write_text(svg)
    return path


def to_png(svg: Path) -> Path | None:
    if not shutil.which("rsvg-convert"):
        print("rsvg-convert not found (apt install librsvg2-bin): no PNG", file=sys.stderr)
        return None
    png = svg.with_suffix(".png")
    subprocess.run(["rsvg-convert", "-o", str(png), str(svg)], check=True)
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"scenarios (default: all of {', '.join(SCENARIOS)})")
    parser.add_argument("--png", action="store_true", help="also write PNGs with rsvg-convert")
    parser.add_argument("--size", default=f"{SIZE[0]}x{SIZE[1]}", help="terminal COLSxROWS")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    names = args.names or list(SCENARIOS)
    with tempfile.TemporaryDirectory() as tmp, frozen_clock(), steady_cursor():
        store = demo_store(Path(tmp))
        for name in names:
            svg = asyncio.run(shoot(name, store, size, args.out))
            print(svg)
            if args.png:
                to_png(svg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
