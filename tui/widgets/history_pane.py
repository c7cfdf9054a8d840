"""The History pane: docker's history columns; Enter shows a step's full command."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import get_current_worker

from ..format import age, human_size, one_line, short_id
from ..messages import TaskFailed
from .row_table import RowTable
from .image_pane import ImagePane


class HistoryPane(ImagePane):
    """``docker history``: IMAGE, CREATED, CREATED BY, SIZE, COMMENT."""

    BINDINGS = [
        Binding("enter", "show_command", "Full command", show=False),
        Binding("y", "copy_command", "Copy command", show=False),
    ]

    @dataclass
    class Loaded(Message):
        """The history rows of *ref* arrived."""

        ref: str
        rows: list[dict]

    @dataclass
    class ShowCommand(Message):
        """Show a step's whole ``created_by``."""

        title: str
        command: str

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield RowTable(id="history-table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("id", "IMAGE"), ("created", "CREATED"), ("created_by", "CREATED BY"),
                           ("size", "SIZE"), ("comment", "COMMENT")):
            table.add_column(label, key=key)

    def load(self, ref: str) -> None:
        self._load(ref)

    def clear(self) -> None:
        self.rows = []
        self.query_one(DataTable).clear()

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _load(self, ref: str) -> None:
        try:
            rows = self.app.engine.history(ref)
        except Exception as exc:
            self.post_message(TaskFailed.of(exc, "reading the history", modal=False))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(ref, rows))

    def on_history_pane_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.ref != self.ref:
            return
        self.rows = message.rows
        table = self.query_one(DataTable)
        table.clear()
        for i, row in enumerate(self.rows):
            image = short_id(row["id"]) if row["id"] != "<missing>" else "<missing>"
            table.add_row(image, age(row.get("created")),
                          Text(one_line(row.get("created_by", ""), 38), no_wrap=True),
                          Text(human_size(row.get("size", 0)), justify="right"),
                          Text(one_line(row.get("comment", ""), 20), no_wrap=True), key=str(i))

    def _current(self) -> dict | None:
        table = self.query_one(DataTable)
        return self.rows[table.cursor_row] if 0 <= table.cursor_row < len(self.rows) else None

    @on(DataTable.RowSelected, "#history-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show_command()

    def action_show_command(self) -> None:
        row = self._current()
        if row is not None:
            title = f"Step {len(self.rows) - self.rows.index(row)} of {len(self.rows)} · {age(row.get('created'))}"
            self.post_message(self.ShowCommand(title, row.get("created_by", "")))

    def action_copy_command(self) -> None:
        row = self._current()
        if row is not None:
            self.app.copy_to_clipboard(row.get("created_by", ""))
            self.notify("Copied the command")
