"""Messages shared by several screens: a task's progress, its end, and failures.

Workers only ever post these (or a widget's own nested messages); handlers on
the UI thread update widgets.  Messages a single widget owns are nested in it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from textual.message import Message

log = logging.getLogger("strata.tui")


@dataclass
class TaskFailed(Message):
    """A worker's engine call failed: a modal when it stops the user, else a toast."""

    title: str
    message: str
    modal: bool = True

    @classmethod
    def of(cls, exc: BaseException, what: str = "", modal: bool = True) -> "TaskFailed":
        """The message for *exc*: engine errors keep their title; anything else is a bug."""
        from engine.errors import StrataError  # not at the top: the first frame does not wait for the engine

        if isinstance(exc, StrataError):
            return cls(exc.title, exc.message, modal)
        log.exception("unexpected error %s", what, exc_info=exc)
        text = f"{what}: {exc}" if what else str(exc) or type(exc).__name__
        return cls("Unexpected error", f"{type(exc).__name__}: {text}", modal)


@dataclass
class TaskProgress(Message):
    """Bytes done for one item of a running task (a layer, an archive)."""

    item: str
    action: str
    current: int
    total: int | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TaskProgress) and message.item == self.item


@dataclass
class TaskStatus(Message):
    """A line of status from a running task (``Loaded image: …``, build output)."""

    text: str


@dataclass
class TaskDone(Message):
    """A task finished; *result* is what the engine call returned."""

    result: Any = None
