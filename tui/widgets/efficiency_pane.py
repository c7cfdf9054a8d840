"""The Efficiency pane: dive's score, the wasted bytes and the files that waste them."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from ..format import human_size, one_line
from ..messages import TaskFailed
from .row_table import RowTable
from .file_tree import TREE_LOCK
from .image_pane import ImagePane


class EfficiencyPane(ImagePane):
    """Enter on a wasted file shows it in the tree of the layer that wasted it."""

    @dataclass
    class Loaded(Message):
        """The analysis of *ref* arrived."""

        ref: str
        analysis: object
        layers: list

    @dataclass
    class ShowInTree(Message):
        """Show *path* in layer *layer*'s tree."""

        layer: int
        path: str

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.analysis = None
        self.infos: list = []

    def compose(self) -> ComposeResult:
        yield Static("", id="efficiency-summary")
        yield RowTable(id="waste-table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("count", "COUNT"), ("size", "TOTAL SPACE"), ("path", "PATH"),
                           ("by", "WASTED BY")):
            table.add_column(label, key=key)

    def load(self, ref: str) -> None:
        self.query_one("#efficiency-summary", Static).update(Text("analysing…", style="italic dim"))
        self.query_one(DataTable).clear()
        self._load(ref)

    def clear(self) -> None:
        self.analysis = None
        self.query_one("#efficiency-summary", Static).update("")
        self.query_one(DataTable).clear()

    @work(thread=True, exclusive=True, group="efficiency", exit_on_error=False)
    def _load(self, ref: str) -> None:
        engine = self.app.engine
        try:
            with TREE_LOCK:
                analysis = engine.analyze(ref)
            layers = engine.layers(ref)
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, "analysing the image", modal=False))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(ref, analysis, layers))

    def on_efficiency_pane_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.ref != self.ref:
            return
        self.analysis, self.infos = message.analysis, message.layers
        a = self.analysis
        score = a.efficiency * 100
        style = "green" if score >= 95 else "yellow" if score >= 85 else "red"
        summary = Text()
        summary.append("Efficiency ", style="bold")
        summary.append(f"{score:.1f} %", style=f"bold {style}")
        summary.append("   Wasted ", style="bold")
        summary.append(human_size(a.wasted_bytes))
        summary.append(f" ({a.wasted_user_percent * 100:.1f} % of user bytes)", style="dim")
        summary.append("   Reclaimable ", style="bold")
        summary.append(human_size(a.reclaimable_bytes))
        summary.append("   Image ", style="bold")
        summary.append(human_size(a.size_bytes))
        if not a.files:
            summary.append("\nNo file is stored twice: nothing wasted.", style="italic")
        self.query_one("#efficiency-summary", Static).update(summary)
        table = self.query_one(DataTable)
        table.clear()
        for i, f in enumerate(a.files):
            step = self.infos[f.wasted_by].created_by if f.wasted_by < len(self.infos) else ""
            verb = "removed by" if f.removed else "overwritten by"
            table.add_row(Text(str(f.count), justify="right"), Text(human_size(f.size), justify="right"),
                          "/" + f.path,
                          Text(f"{verb} layer {f.wasted_by}: {one_line(step, 40)}", no_wrap=True),
                          key=str(i))

    @on(DataTable.RowSelected, "#waste-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.analysis is not None and 0 <= event.cursor_row < len(self.analysis.files):
            f = self.analysis.files[event.cursor_row]
            self.post_message(self.ShowInTree(f.wasted_by, f.path))
