"""Push an image to a registry, with per-layer progress."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ..messages import TaskDone, TaskProgress, TaskStatus
from ..widgets.progress_panel import ProgressPanel
from .task_dialog import TaskDialog


class PushDialog(TaskDialog):
    """Pushes a tag (tag the image first to name the registry)."""

    def __init__(self, reference: str = "") -> None:
        super().__init__()
        self.reference = reference
        self._lines: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog"):
            yield Label("Push an image", classes="dialog-title")
            with Horizontal(classes="form-row"):
                yield Label("Image: ", classes="form-label")
                yield Input(self.reference, placeholder="registry.example.com/team/app:1.0", id="reference",
                            compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Layers: ", classes="form-label")
                yield Select([("gzip", "gzip"), ("zstd", "zstd")], value="gzip", allow_blank=False,
                             id="compression", compact=True)
            yield Checkbox("Insecure registry (http / unverified TLS)", id="insecure", compact=True)
            yield ProgressPanel()
            yield Static("", id="push-log", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Push", id="ok", variant="primary", compact=True)
                yield Button("Close", id="cancel", compact=True)
            yield Label("Enter pushes · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#reference").focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#reference")
    def _push(self, event) -> None:
        event.stop()
        reference = self.query_one("#reference", Input).value.strip()
        if not reference:
            self.notify("Give the name to push", severity="warning")
            return
        compression = self.query_one("#compression", Select).value
        insecure = self.query_one("#insecure", Checkbox).value
        engine = self.app.engine
        self.query_one(ProgressPanel).reset()
        self._lines = []
        self.start_task(lambda progress, cancel: engine.push(reference, compression=compression, progress=progress,
                                                             insecure=insecure, cancel=cancel),
                        f"pushing {reference}")

    def on_task_progress(self, message: TaskProgress) -> None:
        self.query_one(ProgressPanel).update_item(message.item, message.action, message.current, message.total)

    def on_task_status(self, message: TaskStatus) -> None:
        self._lines = (self._lines + [message.text])[-3:]
        self.query_one("#push-log", Static).update("\n".join(self._lines))

    def on_task_done(self, message: TaskDone) -> None:
        results = message.result if isinstance(message.result, list) else [message.result]
        self.notify("\n".join(f"{r.reference.familiar()}: digest {r.digest} size {r.size}" for r in results),
                    title="Pushed")
        self.dismiss(True)
