"""Prune: preview every image that would go and the space each frees, then confirm."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Label, Switch
from textual.worker import get_current_worker

from engine import StrataError, parse_reference

from ..format import age, human_size, short_id
from ..messages import TaskDone, TaskFailed
from ..widgets.row_table import RowTable
from .task_dialog import TaskDialog


@dataclass
class PruneItem:
    """One image the prune removes."""

    image_id: str
    names: list[str]
    created: str | None
    frees: int


class PruneDialog(TaskDialog):
    """``docker image prune`` (``-a`` with the switch); dismisses with True after pruning."""

    @dataclass
    class PreviewReady(Message):
        """The dry run's result."""

        all: bool
        items: list[PruneItem]
        total: int

    def __init__(self) -> None:
        super().__init__()
        self.items: list[PruneItem] = []
        self.total = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide-dialog"):
            yield Label("Prune images", classes="dialog-title")
            with Horizontal(classes="switch-row"):
                yield Switch(False, id="all")
                yield Label("all unused images, not only dangling ones")
            table = RowTable(id="prune-table")
            yield table
            yield Label("", id="prune-total")
            with Horizontal(classes="buttons"):
                yield Button("Prune", id="ok", variant="error", compact=True, disabled=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield Label("Enter prunes · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("id", "IMAGE ID"), ("names", "NAMES"), ("created", "CREATED"), ("frees", "FREES")):
            table.add_column(label, key=key)
        self._preview(False)

    @on(Switch.Changed, "#all")
    def _all_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self._preview(event.value)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _preview(self, all_: bool) -> None:
        engine = self.app.engine
        try:
            report = engine.prune(all=all_, dry_run=True)
            usage = {u["record"].id: u for u in engine.disk_usage().per_image}
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, "previewing the prune"))
            return
        items = []
        for image_id in report.deleted:
            u = usage.get(image_id)
            rec = u["record"] if u else None
            items.append(PruneItem(image_id, list(rec.tags) if rec else [], rec.created if rec else None,
                                   u["unique"] if u else 0))
        if not get_current_worker().is_cancelled:
            self.post_message(self.PreviewReady(all_, items, report.reclaimed))

    def on_prune_dialog_preview_ready(self, message: PreviewReady) -> None:
        message.stop()
        self.items, self.total = message.items, message.total
        table = self.query_one(DataTable)
        table.clear()
        for item in self.items:
            names = ", ".join(_familiar(n) for n in item.names) or "<none>"
            table.add_row(short_id(item.image_id), Text(names, no_wrap=True, overflow="ellipsis"),
                          age(item.created), Text(human_size(item.frees), justify="right"))
        what = "unused" if message.all else "dangling"
        total = self.query_one("#prune-total", Label)
        if self.items:
            total.update(f"{len(self.items)} {what} image(s); frees {human_size(self.total)} in all "
                         "(blobs other images use stay)")
        else:
            total.update(f"No {what} images: nothing to prune.")
        ok = self.query_one("#ok", Button)
        ok.disabled = not self.items
        if self.items:
            ok.focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#ok")
    def _prune(self, event: Button.Pressed) -> None:
        event.stop()
        engine, all_ = self.app.engine, self.query_one(Switch).value
        self.start_task(lambda progress, cancel: engine.prune(all=all_), "pruning images")

    def on_task_done(self, message: TaskDone) -> None:
        report = message.result
        self.notify(f"Deleted {len(report.deleted)} image(s), reclaimed {human_size(report.reclaimed)}",
                    title="Pruned")
        self.dismiss(True)


def _familiar(name: str) -> str:
    try:
        return parse_reference(name).familiar()
    except StrataError:
        return name
