"""Give the selected image another name (``docker tag``)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from engine.listing import ImageRow

from ..format import short_id
from ..messages import TaskDone
from ..widgets.image_list import row_name
from .task_dialog import TaskDialog


class TagDialog(TaskDialog):
    """Dismisses with True once the tag exists."""

    def __init__(self, row: ImageRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        source = row_name(self.row)
        suggestion = f"{self.row.repository}:" if self.row.repository != "<none>" else ""
        with Vertical(classes="dialog"):
            yield Label(f"Tag {source} ({short_id(self.row.id)})", classes="dialog-title")
            yield Label("New name (REPOSITORY[:TAG]):")
            yield Input(suggestion, placeholder="registry.example.com/team/app:1.0", id="target")
            with Horizontal(classes="buttons"):
                yield Button("Tag", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield Label("Enter tags · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#target").focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#target")
    def _tag(self, event) -> None:
        event.stop()
        target = self.query_one("#target", Input).value.strip()
        if not target:
            self.notify("Give the new name", severity="warning")
            return
        engine, source = self.app.engine, self.row.id
        self.start_task(lambda progress, cancel: engine.tag(source, target), "tagging")

    def on_task_done(self, message: TaskDone) -> None:
        self.notify(f"Tagged {short_id(self.row.id)} as {message.result.familiar()}", title="Tagged")
        self.dismiss(True)

    def on_task_failed(self, message) -> None:
        message.modal = False  # a typo: say so and let the user fix it here
