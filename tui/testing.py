"""Helpers for driving the TUI headless: tests, screenshots and benchmarks share them."""

from __future__ import annotations

import asyncio
import time
from contextlib import contextmanager

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from . import clock

#: Worker groups that run for a widget's whole life (DirectoryTree's loader).
LONG_LIVED = {"_loader"}

#: The "now" of tests and screenshots: ages of the demo images never drift.
FROZEN_NOW = 1_768_478_400.0  # 2026-01-15T12:00:00Z


@contextmanager
def frozen_clock(now: float = FROZEN_NOW):
    """Ages are computed against *now* while inside."""
    original = clock.now
    clock.now = lambda: now
    try:
        yield
    finally:
        clock.now = original


@contextmanager
def steady_cursor():
    """Input cursors stay on instead of blinking (stable screenshots)."""
    original = Input._toggle_cursor
    Input._toggle_cursor = lambda self: None
    try:
        yield
    finally:
        Input._toggle_cursor = original


def _tables_pending(app) -> bool:
    """A DataTable still has to measure new rows (it does so when idle)."""
    return any(t._require_update_dimensions or t._updated_cells for t in app.screen.query(DataTable))


async def _finished(worker) -> None:
    try:
        await worker.wait()
    except Exception:  # cancelled or failed: the app reports it, not the wait
        pass


async def settle(pilot: Pilot, timeout: float = 20.0) -> None:
    """Wait until the app has no running workers and no pending debounced selection."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        await pilot._wait_for_screen()
        await asyncio.sleep(0.01)
        busy = [w for w in app.workers if not w.is_finished and w.group not in LONG_LIVED]
        if busy:
            await asyncio.wait([asyncio.ensure_future(_finished(w)) for w in busy],
                               timeout=max(0.01, deadline - time.monotonic()))
            quiet = 0
        elif (getattr(app.screen, "_timer", None) is not None or _tables_pending(app)
              or any(getattr(screen, "panes_ready", True) is False for screen in app.screen_stack)):
            quiet = 0
        else:
            quiet += 1
    await pilot.pause()
