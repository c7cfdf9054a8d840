"""Pull an image: reference (with history), platform picker for indexes, per-layer progress."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ..history import read_history, remember
from ..messages import TaskDone, TaskFailed, TaskProgress, TaskStatus
from ..widgets.progress_panel import ProgressPanel
from .task_dialog import TaskDialog

AUTO = "auto"


def result_lines(result) -> list[str]:
    results = result if isinstance(result, list) else [result]
    return [r.status for r in results]


class PullDialog(TaskDialog):
    """Dismisses with True once something was pulled."""

    BINDINGS = [
        Binding("ctrl+l", "list_platforms", "List platforms"),
        Binding("up", "history(1)", "Older reference", show=False),
        Binding("down", "history(-1)", "Newer reference", show=False),
    ]

    @dataclass
    class PlatformsFound(Message):
        """What the reference names: its platforms when it is an index."""

        reference: str
        platforms: list[str]

    def __init__(self, reference: str = "") -> None:
        super().__init__()
        self.reference = reference
        self.history: list[str] = []
        self._history_pos = -1
        self._lines: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog"):
            yield Label("Pull an image", classes="dialog-title")
            with Horizontal(classes="form-row"):
                yield Label("Image: ", classes="form-label")
                yield Input(self.reference, placeholder="docker.io/library/busybox:latest", id="reference",
                            compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Platform: ", classes="form-label")
                yield Select([("this machine's", AUTO)], value=AUTO, allow_blank=False, id="platform",
                             compact=True)
                yield Button("List platforms", id="platforms", compact=True)
            yield Checkbox("Insecure registry (http / unverified TLS)", id="insecure", compact=True)
            yield ProgressPanel()
            yield Static("", id="pull-log", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Pull", id="ok", variant="primary", compact=True)
                yield Button("Close", id="cancel", compact=True)
            yield Label("↑↓ history · ctrl+l platforms · Enter pulls · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.history = read_history("pull")
        field = self.query_one("#reference", Input)
        field.suggester = SuggestFromList(self.history, case_sensitive=False)
        field.focus()

    def action_history(self, step: int) -> None:
        field = self.query_one("#reference", Input)
        if not field.has_focus or not self.history:
            return
        self._history_pos = max(-1, min(len(self.history) - 1, self._history_pos + step))
        field.value = self.history[self._history_pos] if self._history_pos >= 0 else ""
        field.cursor_position = len(field.value)

    def _insecure(self) -> bool:
        return self.query_one("#insecure", Checkbox).value

    # -- platforms ---------------------------------------------------------------------

    @on(Button.Pressed, "#platforms")
    def _platforms_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_list_platforms()

    def action_list_platforms(self) -> None:
        reference = self.query_one("#reference", Input).value.strip()
        if reference:
            self.query_one("#pull-log", Static).update(f"Looking up {reference}…")
            self._inspect(reference, self._insecure())

    @work(thread=True, exclusive=True, group="inspect", exit_on_error=False)
    def _inspect(self, reference: str, insecure: bool) -> None:
        try:
            summary = self.app.engine.manifest_inspect(reference, insecure=insecure)
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, f"inspecting {reference}", modal=False))
            return
        platforms = [m.get("platform") or "" for m in summary.get("Manifests", [])]
        if not platforms and summary.get("Descriptor", {}).get("platform"):
            platforms = [summary["Descriptor"]["platform"]]
        self.post_message(self.PlatformsFound(reference, [p for p in platforms if p and "unknown" not in p]))

    def on_pull_dialog_platforms_found(self, message: PlatformsFound) -> None:
        message.stop()
        select = self.query_one("#platform", Select)
        select.set_options([("this machine's", AUTO)] + [(p, p) for p in message.platforms])
        select.value = AUTO
        kind = "an index of" if len(message.platforms) > 1 else "an image for"
        self.query_one("#pull-log", Static).update(
            f"{message.reference} is {kind} {len(message.platforms)} platform(s): choose one or keep this machine's")

    # -- pull ----------------------------------------------------------------------------

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#reference")
    def _pull(self, event) -> None:
        event.stop()
        reference = self.query_one("#reference", Input).value.strip()
        if not reference:
            self.notify("Give an image reference", severity="warning")
            return
        platform = self.query_one("#platform", Select).value
        platform = None if platform == AUTO else platform
        insecure = self._insecure()
        engine = self.app.engine
        self.query_one(ProgressPanel).reset()
        self._lines = []
        self.reference = reference
        self.start_task(lambda progress, cancel: engine.pull(reference, platform=platform, progress=progress,
                                                             insecure=insecure, cancel=cancel),
                        f"pulling {reference}")

    def on_task_progress(self, message: TaskProgress) -> None:
        self.query_one(ProgressPanel).update_item(message.item, message.action, message.current, message.total)

    def on_task_status(self, message: TaskStatus) -> None:
        self._lines = (self._lines + [message.text])[-3:]
        self.query_one("#pull-log", Static).update("\n".join(self._lines))

    def on_task_done(self, message: TaskDone) -> None:
        self.history = remember("pull", self.reference)
        lines = result_lines(message.result) if message.result is not None else ["Pulled"]
        self.notify("\n".join(lines), title="Pulled")
        self.dismiss(True)
