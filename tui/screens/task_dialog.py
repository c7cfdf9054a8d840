"""Base of the dialogs that run one engine task in a worker, with progress."""

from __future__ import annotations

import threading
from typing import Any, Callable

from textual import work
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.worker import get_current_worker

from engine import Cancelled, Progress, Status
from engine.events import ProgressCallback

from ..messages import TaskDone, TaskFailed, TaskProgress, TaskStatus

#: What a dialog runs: called in a worker thread with a progress callback and a cancel event.
Task = Callable[[ProgressCallback, threading.Event], Any]


class TaskDialog(ModalScreen[Any]):
    """A modal form whose action runs in a worker: Escape cancels it, or closes the dialog.

    Subclasses call :meth:`start_task` and handle :class:`TaskDone`,
    :class:`TaskProgress` and :class:`TaskStatus`; a :class:`TaskFailed`
    goes on to the App, which shows it.
    """

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel / close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self.running = False
        self._cancel = threading.Event()

    def start_task(self, task: Task, what: str) -> None:
        """Run *task* in a worker; *what* names it in an unexpected error."""
        if self.running:
            self.notify("Already running: press Escape to cancel it", severity="warning")
            return
        self.running = True
        self._cancel = threading.Event()
        self.set_class(True, "-running")
        self._run(task, what, self._cancel)

    @work(thread=True, exclusive=True, group="task", exit_on_error=False)
    def _run(self, task: Task, what: str, cancel: threading.Event) -> None:
        worker = get_current_worker()
        thread = threading.current_thread()

        def progress(event) -> None:
            if worker.is_cancelled or cancel.is_set():
                cancel.set()
                if threading.current_thread() is thread:
                    raise Cancelled(f"{what}: cancelled")
            if isinstance(event, Progress):
                self.post_message(TaskProgress(event.item, event.action, event.current, event.total))
            elif isinstance(event, Status):
                self.post_message(TaskStatus(event.text))

        try:
            result = task(progress, cancel)
        except Cancelled:
            self.post_message(TaskFailed("Cancelled", f"{what}: cancelled", modal=False))
        except Exception as exc:  # every failure is shown, never a traceback
            self.post_message(TaskFailed.of(exc, what))
        else:
            self.post_message(TaskDone(result))

    def on_task_done(self, message: TaskDone) -> None:
        self._finished()

    def on_task_failed(self, message: TaskFailed) -> None:
        self._finished()  # the App shows the error

    def _finished(self) -> None:
        self.running = False
        self.set_class(False, "-running")

    def action_cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.workers.cancel_group(self, "task")
            self.notify("Cancelling…")
        else:
            self.dismiss(None)
