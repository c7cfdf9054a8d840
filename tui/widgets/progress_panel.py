"""Per-item progress bars (one per layer or archive) for a running task."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, ProgressBar

from ..format import human_size


class ProgressRow(Horizontal):
    """One item: its name, a bar and what is happening to it."""

    DEFAULT_CSS = """
    ProgressRow { height: 1; }
    ProgressRow > .item { width: 14; }
    ProgressRow > ProgressBar { width: 30; }
    ProgressRow > ProgressBar > Bar { width: 20; }
    ProgressRow > .action { width: 1fr; padding-left: 1; color: $text-muted; }
    """

    def __init__(self, item: str, action: str, current: int, total: int | None) -> None:
        super().__init__()
        self.item = item
        self._state = (action, current, total)
        self._ready = False

    def compose(self) -> ComposeResult:
        yield Label(self.item[:13], classes="item")
        yield ProgressBar(total=None, show_eta=False)
        yield Label("", classes="action")

    def on_mount(self) -> None:
        self._ready = True
        self.show(*self._state)

    def show(self, action: str, current: int, total: int | None) -> None:
        self._state = (action, current, total)
        if not self._ready:
            return
        bar = self.query_one(ProgressBar)
        if total:
            bar.update(total=total, progress=min(current, total))
        amount = f"{human_size(current)}/{human_size(total)}" if total else human_size(current)
        self.query_one(".action", Label).update(f"{action} {amount}" if current or total else action)


class ProgressPanel(VerticalScroll):
    """Rows of :class:`ProgressRow`, in the order items first report."""

    DEFAULT_CSS = """
    ProgressPanel { height: auto; max-height: 12; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._rows: dict[str, ProgressRow] = {}

    def update_item(self, item: str, action: str, current: int, total: int | None) -> None:
        row = self._rows.get(item)
        if row is not None:
            row.show(action, current, total)
            return
        row = self._rows[item] = ProgressRow(item, action, current, total)
        if item == "total" and self.children:
            self.mount(row, before=0)
        else:
            self.mount(row)

    def reset(self) -> None:
        self._rows.clear()
        self.remove_children()
