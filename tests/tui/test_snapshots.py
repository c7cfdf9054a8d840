"""SVG snapshots of every screen at 80x24 and 120x40, on the demo images, clock frozen.

Update after looking at the diff: ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pytest

from tui.messages import TaskProgress, TaskStatus
from tui.screens.compare import CompareScreen
from tui.testing import settle
from tui.widgets.file_tree import FileTreePane
from tui_helpers import press

from tui_helpers import LARGE, SMALL

WEBAPP = "sha256:6de7006a8740b698f5bc4a01c080adbd9bc7bd5eb9d97ed22a61b5b50c656069"
TOOLS = "sha256:f790a7e939908e62a57964e83fd7966e94bfacfd2d84f4259cbb7bd158cefabf"

SIZES = pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "120x40"])


def keys(*names: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await press(pilot, *names)

    return run_before


async def tree(pilot) -> None:
    await settle(pilot)
    await press(pilot, "2")
    pilot.app.screen.query_one(FileTreePane).reveal(3, "app/static/css")
    await settle(pilot)
    await press(pilot, "right")


async def viewer(pilot) -> None:
    await settle(pilot)
    await press(pilot, "2")
    pilot.app.screen.query_one(FileTreePane).reveal(3, "app/server.py")
    await settle(pilot)
    await press(pilot, "enter")


async def compare(pilot) -> None:
    await settle(pilot)
    pilot.app.push_screen(CompareScreen(WEBAPP, "demo/webapp:1.0", TOOLS, "demo/tools:2.3"))
    await settle(pilot)


async def pull(pilot) -> None:
    await settle(pilot)
    await press(pilot, "P")
    dialog = pilot.app.screen
    dialog.query_one("#reference").value = "registry.example.com/demo/webapp:1.0"
    for message in (TaskStatus("1.0: Pulling from demo/webapp"),
                    TaskProgress("total", "Downloading", 2_900_000, 5_220_000),
                    TaskProgress("b2e4e705c578", "Pull complete", 2_010_000, 2_010_000),
                    TaskProgress("b7914bd4b624", "Downloading", 640_000, 1_520_000)):
        dialog.post_message(message)
    await settle(pilot)


SCREENS = {
    "main": keys(),
    "tree": tree,
    "history": keys("3"),
    "config": keys("4"),
    "efficiency": keys("5"),
    "viewer": viewer,
    "remove": keys("d"),
    "prune": keys("p"),
    "help": keys("question_mark"),
    "compare": compare,
    "pull": pull,
}


@SIZES
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, app, screen, size):
    assert snap_compare(app, terminal_size=size, run_before=SCREENS[screen])


@SIZES
def test_first_run(snap_compare, empty_app, size):
    assert snap_compare(empty_app, terminal_size=size, run_before=keys())
