"""Progress events that long engine operations report through a callback.

The engine never prints: the CLI draws these with rich, the TUI turns them
into messages for its widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Progress:
    """Bytes done for one item (a layer, a blob, a whole archive)."""

    item: str
    action: str
    current: int
    total: int | None = None


@dataclass(frozen=True)
class Status:
    """A line of status, e.g. ``Loaded image: busybox:latest``."""

    text: str


Event = Progress | Status
ProgressCallback = Callable[[Event], None]


def emit(callback: ProgressCallback | None, event: Event) -> None:
    if callback is not None:
        callback(event)


class ByteCounter:
    """Turns byte counts into throttled Progress events for one item."""

    def __init__(self, callback: ProgressCallback | None, item: str, action: str,
                 total: int | None = None, step: int = 4 << 20) -> None:
        self.callback = callback
        self.item = item
        self.action = action
        self.total = total
        self.current = 0
        self._next = 0
        self._step = step

    def __call__(self, n: int) -> None:
        self.current += n
        if self.callback is not None and (self.current >= self._next or self.current == self.total):
            self._next = self.current + self._step
            self.callback(Progress(self.item, self.action, self.current, self.total))

    def done(self) -> None:
        if self.callback is not None:
            self.callback(Progress(self.item, self.action, self.current, self.total or self.current))
