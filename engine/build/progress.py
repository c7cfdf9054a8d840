"""BuildKit's plain progress, as engine events.

Every vertex (an internal step or a Dockerfile step) gets a number; its lines
are sent as :class:`engine.events.Status` text exactly as ``--progress=plain``
prints them (``#5 [2/3] RUN echo hi``, ``#5 0.123 hi``, ``#5 DONE 0.2s``,
``#5 CACHED``), and its start and end as :class:`engine.events.Progress`
(``action`` is ``running``, ``done``, ``cached`` or ``error``) so a UI can
keep a step list without parsing text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from engine.events import Progress, ProgressCallback, Status, emit


@dataclass
class StepRecord:
    """One vertex of a finished (or failed) build."""

    number: int
    name: str
    status: str = "running"  # running, done, cached, error
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)


class Reporter:
    """Numbers vertices and turns their events into Status/Progress events."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.steps: list[StepRecord] = []
        self._count = 0

    def vertex(self, name: str) -> "Vertex":
        self._count += 1
        if self._count > 1:
            emit(self.callback, Status(""))
        record = StepRecord(self._count, name)
        self.steps.append(record)
        return Vertex(self, record)

    def status(self, text: str) -> None:
        emit(self.callback, Status(text))


class Vertex:
    """A step being reported."""

    def __init__(self, reporter: Reporter, record: StepRecord) -> None:
        self.reporter = reporter
        self.record = record
        self.started = time.monotonic()
        self._emit(Status(f"#{record.number} {record.name}"))
        self._progress("running")

    def _emit(self, event) -> None:
        emit(self.reporter.callback, event)

    def _progress(self, action: str) -> None:
        self._emit(Progress(f"#{self.record.number} {self.record.name}", action,
                            self.record.number, None))

    def log(self, line: str) -> None:
        """A line of the step's output, stamped with the seconds since it started."""
        self.record.lines.append(line)
        self._emit(Status(f"#{self.record.number} {time.monotonic() - self.started:.3f} {line}"))

    def detail(self, text: str) -> None:
        self._emit(Status(f"#{self.record.number} {text}"))

    def done(self) -> None:
        self.record.status = "done"
        self.record.seconds = time.monotonic() - self.started
        self._emit(Status(f"#{self.record.number} DONE {self.record.seconds:.1f}s"))
        self._progress("done")

    def cached(self) -> None:
        self.record.status = "cached"
        self._emit(Status(f"#{self.record.number} CACHED"))
        self._progress("cached")

    def error(self, message: str) -> None:
        self.record.status = "error"
        self.record.seconds = time.monotonic() - self.started
        self._emit(Status(f"#{self.record.number} ERROR: {message}"))
        self._progress("error")


__all__ = ["Reporter", "StepRecord", "Vertex"]
