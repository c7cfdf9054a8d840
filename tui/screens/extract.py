"""Copy a file or directory out of an image (``strata cp``), modes kept."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from ..messages import TaskDone
from ..widgets.file_tree import TREE_LOCK
from ..widgets.path_input import PathInput
from .task_dialog import TaskDialog


class ExtractDialog(TaskDialog):
    """Asks where to; an existing directory receives the item under its own name."""

    def __init__(self, ref: str, path: str) -> None:
        super().__init__()
        self.ref = ref
        self.path = path

    def compose(self) -> ComposeResult:
        name = Path(self.path).name or "rootfs"
        with Vertical(classes="dialog"):
            yield Label(f"Extract /{self.path}", classes="dialog-title")
            yield Label("Destination (an existing directory receives it under its own name):")
            yield PathInput(str(Path.cwd() / name), id="dest")
            with Horizontal(classes="buttons"):
                yield Button("Extract", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield Label("Enter extracts · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#dest").focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#dest")
    def _extract(self, event) -> None:
        event.stop()
        dest = self.query_one(PathInput).path
        if dest is None:
            self.notify("Give a destination path", severity="warning")
            return
        engine, ref, path = self.app.engine, self.ref, self.path

        def task(progress, cancel):
            with TREE_LOCK:
                return engine.extract(ref, path, dest)

        self.start_task(task, f"extracting /{path}")

    def on_task_done(self, message: TaskDone) -> None:
        written = message.result or []
        dest = self.query_one(PathInput).path
        self.notify(f"Copied /{self.path} to {dest} ({len(written)} files)", title="Extracted")
        self.dismiss(True)
