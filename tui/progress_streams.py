"""File wrappers that report bytes through an engine progress callback.

The callback is the dialog's (see :class:`~tui.screens.task_dialog.TaskDialog`):
it raises :class:`engine.Cancelled` once the user cancelled, so a read or a
write is where a load, an import or an export stops.
"""

from __future__ import annotations

from typing import BinaryIO

from engine.events import Progress, ProgressCallback

STEP = 1 << 20


class _Counting:
    def __init__(self, stream: BinaryIO, progress: ProgressCallback, item: str, action: str,
                 total: int | None) -> None:
        self._stream = stream
        self._progress = progress
        self._item, self._action, self._total = item, action, total
        self.done = 0
        self._next = 0

    def _count(self, n: int) -> None:
        self.done += n
        if self.done >= self._next or (self._total is not None and self.done >= self._total):
            self._next = self.done + STEP
            self._progress(Progress(self._item, self._action, self.done, self._total))


class ProgressReader(_Counting):
    """Reads *stream*, reporting every MiB."""

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        self._count(len(data))
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()


class ProgressWriter(_Counting):
    """Writes to *stream*, reporting every MiB."""

    def write(self, data) -> int:
        n = self._stream.write(data)
        self._count(len(data))
        return n

    def flush(self) -> None:
        self._stream.flush()

    def writable(self) -> bool:
        return True
