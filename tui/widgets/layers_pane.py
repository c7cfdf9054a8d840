"""The Layers pane: each layer with its size and the history step that made it."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from ..format import human_size, short_id
from ..messages import TaskFailed
from .row_table import RowTable
from .image_pane import ImagePane


class LayersPane(ImagePane):
    """Highlighting a layer posts :class:`LayerHighlighted`; Enter opens its tree."""

    BINDINGS = [
        Binding("y", "copy_digest", "Copy digest", show=False),
    ]

    @dataclass
    class Loaded(Message):
        """The layers of *ref* arrived."""

        ref: str
        layers: list

    @dataclass
    class LayerHighlighted(Message):
        """The cursor is on layer *index* of *ref*."""

        ref: str
        index: int
        count: int

    @dataclass
    class LayerChosen(Message):
        """Enter on layer *index*: show its tree."""

        ref: str
        index: int

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.infos: list = []
        self._wanted: int | None = None

    def compose(self) -> ComposeResult:
        yield RowTable(id="layer-table")
        yield Static("", id="layer-detail", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("#", key="index")
        table.add_column("SIZE", key="size")
        table.add_column("DIGEST", key="digest")
        table.add_column("CREATED BY", key="created_by")

    def load(self, ref: str) -> None:
        self._load(ref)

    def clear(self) -> None:
        self.infos = []
        self.query_one(DataTable).clear()
        self.query_one("#layer-detail", Static).update("")

    @work(thread=True, exclusive=True, group="layers", exit_on_error=False)
    def _load(self, ref: str) -> None:
        try:
            layers = self.app.engine.layers(ref)
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, "listing layers", modal=False))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(ref, layers))

    def on_layers_pane_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.ref != self.ref:
            return
        self.infos = message.layers
        table = self.query_one(DataTable)
        table.clear()
        for info in self.infos:
            step = " ".join((info.created_by or "").split()) or "(no history)"
            table.add_row(str(info.index), Text(human_size(info.size), justify="right"),
                          short_id(info.digest), Text(step, no_wrap=True, overflow="ellipsis"),
                          key=str(info.index))
        if self.infos:
            index = self._wanted if self._wanted is not None else len(self.infos) - 1
            self.select_layer(min(index, len(self.infos) - 1))

    def select_layer(self, index: int | None) -> None:
        """Put the cursor on layer *index* (None: the top layer)."""
        self._wanted = index
        if not self.infos:
            return
        index = len(self.infos) - 1 if index is None else index
        table = self.query_one(DataTable)
        if table.cursor_row != index:
            table.move_cursor(row=index, animate=False)
        self._show_detail(index)

    def _show_detail(self, index: int) -> None:
        info = self.infos[index]
        compressed = f" ({human_size(info.compressed_size)} as stored)" if info.compressed_size != info.size else ""
        self.query_one("#layer-detail", Static).update(
            f"layer {info.index}: {human_size(info.size)}{compressed}  {info.diff_id}\n"
            f"{' '.join((info.created_by or '').split())}")

    @on(DataTable.RowHighlighted, "#layer-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        index = event.cursor_row
        if self.ref is None or not 0 <= index < len(self.infos):
            return
        self._wanted = index
        self._show_detail(index)
        self.post_message(self.LayerHighlighted(self.ref, index, len(self.infos)))

    @on(DataTable.RowSelected, "#layer-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.ref is not None and 0 <= event.cursor_row < len(self.infos):
            self.post_message(self.LayerChosen(self.ref, event.cursor_row))

    def action_copy_digest(self) -> None:
        table = self.query_one(DataTable)
        if 0 <= table.cursor_row < len(self.infos):
            self.app.copy_to_clipboard(self.infos[table.cursor_row].digest)
            self.notify("Copied the layer digest")

    def show_image(self, ref: str | None) -> None:
        if ref != self.ref:
            self._wanted = None
        super().show_image(ref)
