"""Pilot helpers for the TUI tests."""

from __future__ import annotations

import shutil

import pytest

from tui.testing import settle

#: Terminal sizes the TUI tests and snapshots use.
SMALL = (80, 24)
LARGE = (120, 40)


async def press(pilot, *keys: str) -> None:
    """Press keys, letting the app settle after each."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)
    await settle(pilot)


def screen_text(app) -> str:
    """What the terminal shows, as plain text (one line per row)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def require(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"needs {tool} (apt install {tool})")
    return path
